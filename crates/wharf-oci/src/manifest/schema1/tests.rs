use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

use super::*;
use crate::manifest::tests::HITCH;
use crate::manifest::{decode, Expected, Manifest, MediaKind, DOCKER_V1, DOCKER_V1_SIGNED};

fn schema1(content_type: Option<&str>, body: &[u8], expected: &Expected) -> Result<Schema1> {
    match decode(content_type, body, expected)?.manifest {
        Manifest::Schema1(s) => Ok(s),
        other => panic!("not schema 1: {other:?}"),
    }
}

fn hitch() -> Schema1 {
    schema1(None, HITCH.as_bytes(), &Expected::default()).unwrap()
}

#[test]
fn hitch_layers_are_bottom_first() {
    let s = hitch();
    assert_eq!(
        (s.name.as_str(), s.tag.as_str()),
        ("library/hitch", "1.8.0-1")
    );
    assert!(!s.signed);
    assert_eq!(s.layers().len(), 13);
    let bottom = &s.layers()[0];
    assert_eq!(
        bottom.v1.id,
        "e00e363f3a25341591a5a5e724e20ae3e70f0396be8483a07c0b39d25d33fecd"
    );
    assert_eq!(bottom.v1.parent, None);
    assert_eq!(
        bottom.blob_sum.to_string(),
        "sha256:728328ac3bde9b85225b1f0d60f5c149f5635a191f5d8eaeeb00e095d36ef9fd"
    );
    assert!(bottom.v1.cmd[0].contains("ADD file:9b38b383"));
    let top = s.top().unwrap();
    assert_eq!(
        top.v1.id,
        "6703605aae83084affcafb4abcc7c556f0e436c4992ae224f1f58e88242328cb"
    );
    assert!(top.v1.throwaway);
    assert_eq!(
        top.v1.created.as_deref(),
        Some("2024-05-14T05:23:11.666992342Z")
    );
    assert_eq!(top.v1.os.as_deref(), Some("linux"));
    // Each layer's parent is the one below.
    let ids: Vec<&str> = s.ids().collect();
    for (i, l) in s.layers().iter().enumerate().skip(1) {
        assert_eq!(l.v1.parent.as_deref(), Some(ids[i - 1]));
    }
    // The raw v1Compatibility is kept byte for byte (the legacy layout's `json`).
    assert!(HITCH.contains(&serde_json::to_string(&top.v1_compatibility).unwrap()));
}

#[test]
fn hitch_empty_layers_and_config() {
    let s = hitch();
    let empty = s.layers().iter().filter(|l| l.is_empty_blob()).count();
    assert_eq!(empty, 10);
    let real: Vec<String> = s
        .layers()
        .iter()
        .filter(|l| !l.is_empty_blob())
        .map(|l| l.blob_sum.to_string()[7..19].to_owned())
        .collect();
    assert_eq!(real, ["728328ac3bde", "a0e9543db8c1", "3148f4af0a81"]);
    let c = s.config().unwrap();
    assert_eq!(c.config.entrypoint, ["docker-hitch-entrypoint"]);
    assert!(c.config.cmd.is_empty());
    assert_eq!(c.config.working_dir.as_deref(), Some("/etc/hitch"));
    assert_eq!(c.config.exposed_ports, ["443/tcp"]);
    assert_eq!(s.platform().to_string(), "linux/amd64");
}

/// Signs the way libtrust lays out a prettyjws: the payload up to `formatLength`, then the
/// `signatures` section, then `formatTail`.
fn sign(payload: &str, protected_override: Option<&str>) -> String {
    let cut = payload.len() - 2;
    let tail = &payload[cut..];
    assert_eq!(tail, "\n}");
    let header = format!(
        r#"{{"formatLength":{cut},"formatTail":"{}","time":"2024-05-14T06:00:00Z"}}"#,
        URL_SAFE_NO_PAD.encode(tail)
    );
    let protected = protected_override
        .map(str::to_owned)
        .unwrap_or_else(|| URL_SAFE_NO_PAD.encode(header));
    format!(
        r#"{},
   "signatures": [{{"header": {{"alg": "ES256"}}, "signature": "c2ln", "protected": "{protected}"}}]{tail}"#,
        &payload[..cut]
    )
}

#[test]
fn signed_manifest_digest_is_the_canonical_payload() {
    let signed = sign(HITCH, None);
    let canonical = Digest::sha256_of(HITCH.as_bytes());
    assert_ne!(canonical, Digest::sha256_of(signed.as_bytes()));
    for content_type in [Some(DOCKER_V1_SIGNED), None, Some("application/json")] {
        let expected = Expected {
            requested: Some(canonical.clone()),
            docker_content_digest: Some(canonical.clone()),
        };
        let fetched = decode(content_type, signed.as_bytes(), &expected).unwrap();
        assert_eq!(fetched.kind, MediaKind::DockerSchema1Signed);
        assert_eq!(fetched.digest, canonical);
        assert_eq!(fetched.bytes, signed.as_bytes());
        assert!(fetched.descriptor().is_none());
        let Manifest::Schema1(s) = fetched.manifest else {
            panic!()
        };
        assert!(s.signed);
        assert_eq!(s.layers().len(), 13);
    }
    // The digest of the whole signed body is not the manifest's digest.
    let whole = Expected {
        requested: Some(Digest::sha256_of(signed.as_bytes())),
        ..Expected::default()
    };
    assert!(matches!(
        decode(Some(DOCKER_V1_SIGNED), signed.as_bytes(), &whole),
        Err(Error::DigestMismatch { .. })
    ));
}

#[test]
fn signed_manifest_rejections() {
    let b64 = |s: &str| URL_SAFE_NO_PAD.encode(s);
    let past_end = b64(r#"{"formatLength":999999,"formatTail":"Cn0"}"#);
    let bad_tail = b64(r#"{"formatLength":10,"formatTail":"%%%"}"#);
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "protected not base64",
            sign(HITCH, Some("!!!")),
            "not base64url",
        ),
        (
            "protected not json",
            sign(HITCH, Some(&b64("nope"))),
            "protected header",
        ),
        (
            "formatLength past end",
            sign(HITCH, Some(&past_end)),
            "past the end",
        ),
        (
            "formatTail not base64",
            sign(HITCH, Some(&bad_tail)),
            "formatTail",
        ),
        (
            "no signatures",
            HITCH.replacen('{', r#"{"signatures": [],"#, 1),
            "signatures is empty",
        ),
    ];
    for (name, body, needle) in cases {
        match decode(
            Some(DOCKER_V1_SIGNED),
            body.as_bytes(),
            &Expected::default(),
        ) {
            Err(Error::InvalidManifest { reason, .. }) if reason.contains(needle) => {}
            other => panic!("{name}: {other:?}"),
        }
    }
    // Two signatures that disagree on the format.
    let signed = sign(HITCH, None);
    let other = b64(r#"{"formatLength":5,"formatTail":"fQ"}"#);
    let two = signed.replacen(
        "\"signatures\": [",
        &format!("\"signatures\": [{{\"protected\": \"{other}\"}}, "),
        1,
    );
    match decode(None, two.as_bytes(), &Expected::default()) {
        Err(Error::InvalidManifest { reason, .. }) => assert!(reason.contains("disagree")),
        other => panic!("{other:?}"),
    }
}

fn id(n: u8) -> String {
    format!("{n:02x}").repeat(32)
}

/// A schema 1 document from `(blob hex digit, id, parent)` given top layer first.
fn doc(layers: &[(char, String, Option<String>)]) -> String {
    let fs: Vec<String> = layers
        .iter()
        .map(|(b, _, _)| format!(r#"{{"blobSum":"sha256:{}"}}"#, b.to_string().repeat(64)))
        .collect();
    let history: Vec<String> = layers
        .iter()
        .map(|(_, id, parent)| {
            let v1 = match parent {
                Some(p) => format!(r#"{{"id":"{id}","parent":"{p}","throwaway":true}}"#),
                None => format!(r#"{{"id":"{id}"}}"#),
            };
            format!(
                r#"{{"v1Compatibility":{}}}"#,
                serde_json::to_string(&v1).unwrap()
            )
        })
        .collect();
    format!(
        r#"{{"schemaVersion":1,"name":"t","tag":"1","architecture":"arm64","fsLayers":[{}],"history":[{}]}}"#,
        fs.join(","),
        history.join(",")
    )
}

#[test]
fn chain_rules() {
    let (a, b, c) = (id(1), id(2), id(3));
    let good = doc(&[
        ('c', c.clone(), Some(b.clone())),
        ('b', b.clone(), Some(a.clone())),
        ('a', a.clone(), None),
    ]);
    let s = schema1(Some(DOCKER_V1), good.as_bytes(), &Expected::default()).unwrap();
    assert_eq!(
        s.ids().collect::<Vec<_>>(),
        [a.as_str(), b.as_str(), c.as_str()]
    );
    assert_eq!(s.platform().to_string(), "linux/arm64");

    // Adjacent repeats are merged, keeping the lower entry (Docker's rule).
    let repeated = doc(&[
        ('f', b.clone(), Some(a.clone())),
        ('b', b.clone(), Some(a.clone())),
        ('a', a.clone(), None),
    ]);
    let s = schema1(None, repeated.as_bytes(), &Expected::default()).unwrap();
    assert_eq!(s.layers().len(), 2);
    assert_eq!(
        s.layers()[1].blob_sum.to_string(),
        format!("sha256:{}", "b".repeat(64))
    );

    let bad: Vec<(&str, String, &str)> = vec![
        (
            "base has parent",
            doc(&[('a', a.clone(), Some(b.clone()))]),
            "base layer has a parent",
        ),
        (
            "broken chain",
            doc(&[
                ('c', c.clone(), Some(a.clone())),
                ('b', b.clone(), Some(a.clone())),
                ('a', a.clone(), None),
            ]),
            "names parent",
        ),
        (
            "repeat not adjacent",
            doc(&[
                ('a', a.clone(), Some(b.clone())),
                ('b', b.clone(), Some(a.clone())),
                ('a', a.clone(), None),
            ]),
            "more than once",
        ),
        (
            "id not hex",
            doc(&[('a', "../../etc".into(), None)]),
            "not 64 lowercase hex",
        ),
        (
            "id uppercase",
            doc(&[('a', a.to_uppercase().replace('0', "A"), None)]),
            "not 64 lowercase hex",
        ),
        (
            "parent not hex",
            doc(&[('a', a.clone(), Some("zz".into()))]),
            "parent",
        ),
        ("no layers", doc(&[]), "fsLayers is empty"),
        (
            "length mismatch",
            doc(&[('a', a.clone(), None)])
                .replace(r#""history":["#, r#""history":[{"v1Compatibility":"{}"},"#),
            "history entries",
        ),
        (
            "v1Compatibility not json",
            doc(&[('a', a.clone(), None)]).replace(&format!(r#"{{\"id\":\"{a}\"}}"#), "nope"),
            "v1Compatibility",
        ),
        (
            "v1Compatibility without id",
            doc(&[('a', a.clone(), None)]).replace(&format!(r#"\"id\":\"{a}\""#), r#"\"x\":1"#),
            "missing field `id`",
        ),
        (
            "bad blobSum",
            doc(&[('g', a.clone(), None)]),
            "invalid digest",
        ),
    ];
    for (name, body, needle) in bad {
        match decode(Some(DOCKER_V1), body.as_bytes(), &Expected::default()) {
            Err(Error::InvalidManifest { reason, .. }) if reason.contains(needle) => {}
            other => panic!("{name}: {other:?}"),
        }
    }
}

#[test]
fn empty_layer_constant_is_a_valid_digest() {
    let d: Digest = EMPTY_LAYER.parse().unwrap();
    assert_eq!(d.algorithm(), crate::Algorithm::Sha256);
}
