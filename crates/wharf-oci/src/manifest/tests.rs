use super::*;
use crate::Algorithm;

pub(crate) const ALPINE_LIST: &str = include_str!("../../tests/fixtures/alpine-manifest-list.json");
pub(crate) const ALPINE_AMD64: &str =
    include_str!("../../tests/fixtures/alpine-amd64-manifest.json");
pub(crate) const ALPINE_CONFIG: &str =
    include_str!("../../tests/fixtures/alpine-amd64-config.json");
pub(crate) const HITCH: &str = include_str!("../../tests/fixtures/hitch-schema1.json");
pub(crate) const VIM_INDEX: &str =
    include_str!("../../tests/fixtures/homebrew-vim-9.0.1900-index.json");

const D1: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
const D2: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";

fn digest(s: &str) -> Digest {
    s.parse().unwrap()
}

fn ok(content_type: Option<&str>, body: &str) -> Fetched {
    decode(content_type, body.as_bytes(), &Expected::default())
        .unwrap_or_else(|e| panic!("{content_type:?}: {e}"))
}

fn err(content_type: Option<&str>, body: &str) -> Error {
    decode(content_type, body.as_bytes(), &Expected::default()).unwrap_err()
}

fn image(body: &str) -> ImageManifest {
    match ok(None, body).manifest {
        Manifest::Image(m) => *m,
        other => panic!("not an image manifest: {other:?}"),
    }
}

fn index(body: &str) -> Index {
    match ok(None, body).manifest {
        Manifest::Index(i) => *i,
        other => panic!("not an index: {other:?}"),
    }
}

#[test]
fn fixtures_decode_by_header_and_by_body() {
    use MediaKind::*;
    let cases: &[(&str, Option<&str>, &str, MediaKind)] = &[
        (
            "alpine list, header",
            Some(DOCKER_LIST),
            ALPINE_LIST,
            DockerManifestList,
        ),
        (
            "alpine list, no header",
            None,
            ALPINE_LIST,
            DockerManifestList,
        ),
        (
            "alpine list, json",
            Some("application/json; charset=utf-8"),
            ALPINE_LIST,
            DockerManifestList,
        ),
        (
            "alpine list, header case",
            Some("Application/VND.docker.distribution.manifest.list.v2+json"),
            ALPINE_LIST,
            DockerManifestList,
        ),
        (
            "alpine amd64, header",
            Some(DOCKER_V2),
            ALPINE_AMD64,
            DockerManifest,
        ),
        (
            "alpine amd64, no header",
            None,
            ALPINE_AMD64,
            DockerManifest,
        ),
        ("vim index, header", Some(OCI_INDEX), VIM_INDEX, OciIndex),
        (
            "vim index, octet-stream",
            Some("application/octet-stream"),
            VIM_INDEX,
            OciIndex,
        ),
        ("hitch, no header", None, HITCH, DockerSchema1),
        ("hitch, v1 header", Some(DOCKER_V1), HITCH, DockerSchema1),
        (
            "hitch, json",
            Some("application/json"),
            HITCH,
            DockerSchema1,
        ),
        (
            "hitch, prettyjws header, unsigned",
            Some(DOCKER_V1_SIGNED),
            HITCH,
            DockerSchema1Signed,
        ),
    ];
    for (name, content_type, body, kind) in cases {
        let fetched = ok(*content_type, body);
        assert_eq!(fetched.kind, *kind, "{name}");
        assert_eq!(fetched.media_type(), kind.media_type(), "{name}");
        assert_eq!(fetched.digest, Digest::sha256_of(body.as_bytes()), "{name}");
        assert_eq!(fetched.bytes, body.as_bytes(), "{name}");
    }
}

#[test]
fn alpine_list_has_seven_platform_entries() {
    let list = index(ALPINE_LIST);
    assert_eq!(list.manifests.len(), 7);
    let first = &list.manifests[0];
    assert_eq!(
        first.digest,
        digest("sha256:14b55f5bb845c7b810283290ce057f175de87838be56f49060e941580032c60c")
    );
    assert_eq!(first.size, 528);
    assert_eq!(first.media_type.as_deref(), Some(DOCKER_V2));
    let arm = list.manifests[1].platform.as_ref().unwrap();
    assert_eq!(
        (arm.os.as_str(), arm.architecture.as_str()),
        ("linux", "arm")
    );
    assert_eq!(arm.variant.as_deref(), Some("v6"));
}

#[test]
fn alpine_amd64_manifest_parts() {
    let fetched = ok(Some(DOCKER_V2), ALPINE_AMD64);
    let m = &fetched.manifest;
    let config = m.config().unwrap();
    assert_eq!(config.media_type.as_deref(), Some(DOCKER_CONFIG));
    assert_eq!(config.size, 1472);
    assert_eq!(m.layers().len(), 1);
    assert_eq!(m.layers()[0].size, 2_812_636);
    assert_eq!(
        m.layers()[0].digest,
        digest("sha256:3d243047344378e9b7136d552d48feb7ea8b6fe14ce0990e0cc011d5e369626a")
    );
    assert_eq!(m.total_size(), Some(2_812_636 + 1472));
    assert_eq!(m.descriptors().len(), 2);
    assert!(m.annotations().unwrap().is_empty());
    let Manifest::Image(image) = m else { panic!() };
    assert!(!image.is_artifact());
    let own = fetched.descriptor().unwrap();
    assert_eq!(own.digest, Digest::sha256_of(ALPINE_AMD64.as_bytes()));
    assert_eq!(own.size, ALPINE_AMD64.len() as u64);
    assert_eq!(own.media_type.as_deref(), Some(DOCKER_V2));
}

#[test]
fn vim_index_keeps_annotations() {
    let i = index(VIM_INDEX);
    assert_eq!(
        i.annotations
            .get("org.opencontainers.image.title")
            .map(String::as_str),
        Some("vim")
    );
    let entry = &i.manifests[0];
    assert_eq!(entry.annotation("sh.brew.bottle.size"), Some("13598246"));
    assert_eq!(
        entry.platform.as_ref().unwrap().os_version.as_deref(),
        Some("macOS 11.7")
    );
    let m = ok(None, VIM_INDEX).manifest;
    assert_eq!(m.descriptors().len(), 1);
    assert!(m.layers().is_empty() && m.config().is_none() && m.total_size().is_none());
}

#[test]
fn digests_are_checked_with_the_expected_algorithm() {
    let body = ALPINE_AMD64.as_bytes();
    let sha256 = Digest::sha256_of(body);
    let sha512 = Digest::of(Algorithm::Sha512, body);
    let wrong = digest(D1);
    type Case<'a> = (&'a str, Option<Digest>, Option<Digest>, Option<&'a Digest>);
    let cases: Vec<Case> = vec![
        ("nothing expected", None, None, None),
        ("requested sha256", Some(sha256.clone()), None, None),
        ("header sha256", None, Some(sha256.clone()), None),
        ("both", Some(sha256.clone()), Some(sha256.clone()), None),
        (
            "requested sha512",
            Some(sha512.clone()),
            Some(sha256.clone()),
            None,
        ),
        (
            "requested wrong",
            Some(wrong.clone()),
            Some(sha256.clone()),
            Some(&wrong),
        ),
        (
            "header wrong",
            Some(sha256.clone()),
            Some(wrong.clone()),
            Some(&wrong),
        ),
    ];
    for (name, requested, header, mismatch) in cases {
        let expected = Expected {
            requested,
            docker_content_digest: header,
        };
        match (decode(Some(DOCKER_V2), body, &expected), mismatch) {
            (Ok(f), None) => assert_eq!(f.digest, sha256, "{name}"),
            (Err(Error::DigestMismatch { expected, actual }), Some(want)) => {
                assert_eq!(&expected, want, "{name}");
                assert_eq!(actual, sha256, "{name}");
            }
            (other, _) => panic!("{name}: {other:?}"),
        }
    }
}

#[test]
fn size_limit_applies_before_parsing() {
    let limit = MAX_MANIFEST_BYTES as usize;
    let too_big = vec![b'x'; limit + 1];
    assert_eq!(
        decode(Some(DOCKER_V2), &too_big, &Expected::default()),
        Err(Error::ManifestTooLarge {
            size: limit as u64 + 1,
            limit: MAX_MANIFEST_BYTES
        })
    );
    let mut at_limit = ALPINE_AMD64.as_bytes().to_vec();
    at_limit.resize(limit, b' ');
    assert!(decode(Some(DOCKER_V2), &at_limit, &Expected::default()).is_ok());
}

fn manifest_with(config_size: &str, layer_digest: &str) -> String {
    format!(
        r#"{{"schemaVersion":2,"mediaType":"{OCI_MANIFEST}",
        "config":{{"mediaType":"{OCI_CONFIG}","digest":"{D1}","size":{config_size}}},
        "layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"{layer_digest}","size":3}}]}}"#
    )
}

#[test]
fn rejections() {
    type Check = fn(&Error) -> bool;
    type Case<'a> = (&'a str, Option<&'a str>, String, Check);
    fn invalid(e: &Error, needle: &str) -> bool {
        matches!(e, Error::InvalidManifest { reason, .. } if reason.contains(needle))
    }
    let index_with_config = format!(
        r#"{{"schemaVersion":2,"mediaType":"{OCI_INDEX}","manifests":[],"config":{{"mediaType":"x","digest":"{D1}","size":1}}}}"#
    );
    let sha1 = "sha1:da39a3ee5e6b4b0d3255bfef95601890afd80709";
    let cases: Vec<Case> = vec![
        ("negative config size", None, manifest_with("-1", D2), |e| {
            invalid(e, "negative size -1")
        }),
        ("fractional size", None, manifest_with("1.5", D2), |e| {
            invalid(e, "floating point")
        }),
        ("string size", None, manifest_with("\"1\"", D2), |e| {
            invalid(e, "invalid type")
        }),
        (
            "malformed digest",
            None,
            manifest_with("1", "sha256:xyz"),
            |e| invalid(e, "invalid digest"),
        ),
        (
            "uppercase digest",
            None,
            manifest_with("1", &format!("sha256:{}", "A".repeat(64))),
            |e| invalid(e, "lowercase"),
        ),
        ("unknown algorithm", None, manifest_with("1", sha1), |e| {
            invalid(e, "unsupported digest algorithm")
        }),
        (
            "schemaVersion 3",
            Some(OCI_MANIFEST),
            manifest_with("1", D2).replace("\"schemaVersion\":2", "\"schemaVersion\":3"),
            |e| {
                matches!(
                    e,
                    Error::UnsupportedSchemaVersion {
                        found: Some(3),
                        expected: 2,
                        ..
                    }
                )
            },
        ),
        (
            "schemaVersion 1 as v2",
            Some(DOCKER_V2),
            HITCH.to_owned(),
            |e| {
                matches!(
                    e,
                    Error::UnsupportedSchemaVersion {
                        found: Some(1),
                        expected: 2,
                        ..
                    }
                )
            },
        ),
        (
            "schemaVersion missing",
            None,
            manifest_with("1", D2).replace("\"schemaVersion\":2,", ""),
            |e| matches!(e, Error::UnsupportedSchemaVersion { found: None, .. }),
        ),
        (
            "schemaVersion string",
            None,
            manifest_with("1", D2).replace("\"schemaVersion\":2", "\"schemaVersion\":\"2\""),
            |e| invalid(e, "invalid type"),
        ),
        (
            "schema 1 header, v2 body",
            Some(DOCKER_V1),
            manifest_with("1", D2).replace(&format!("\"mediaType\":\"{OCI_MANIFEST}\","), ""),
            |e| {
                matches!(
                    e,
                    Error::UnsupportedSchemaVersion {
                        found: Some(2),
                        expected: 1,
                        ..
                    }
                )
            },
        ),
        (
            "header disagrees with body",
            Some(OCI_INDEX),
            ALPINE_LIST.to_owned(),
            |e| invalid(e, "served as"),
        ),
        (
            "artifact manifest type",
            Some("application/vnd.oci.artifact.manifest.v1+json"),
            manifest_with("1", D2),
            |e| matches!(e, Error::UnsupportedMediaType { media_type } if media_type == "application/vnd.oci.artifact.manifest.v1+json"),
        ),
        (
            "unknown body mediaType",
            None,
            r#"{"schemaVersion":2,"mediaType":"application/x-thing"}"#.to_owned(),
            |e| matches!(e, Error::UnsupportedMediaType { media_type } if media_type == "application/x-thing"),
        ),
        (
            "nothing to go by",
            None,
            r#"{"schemaVersion":2}"#.to_owned(),
            |e| invalid(e, "no mediaType"),
        ),
        ("index with config", None, index_with_config, |e| {
            invalid(e, "another manifest kind")
        }),
        (
            "manifest without config",
            Some(OCI_MANIFEST),
            r#"{"schemaVersion":2,"layers":[]}"#.to_owned(),
            |e| invalid(e, "missing field `config`"),
        ),
        (
            "index without manifests",
            Some(OCI_INDEX),
            r#"{"schemaVersion":2}"#.to_owned(),
            |e| invalid(e, "missing field `manifests`"),
        ),
        (
            "duplicate key",
            None,
            manifest_with("1", D2).replace("\"layers\"", "\"config\""),
            |e| invalid(e, "duplicate field"),
        ),
        ("not json", None, "<html>".to_owned(), |e| {
            invalid(e, "not a JSON object")
        }),
        ("json array", None, "[2, null]".to_owned(), |e| {
            invalid(e, "not a JSON object")
        }),
        ("empty body", None, String::new(), |e| {
            invalid(e, "not a JSON object")
        }),
        ("truncated", None, ALPINE_AMD64[..100].to_owned(), |e| {
            invalid(e, "EOF")
        }),
        ("trailing garbage", None, format!("{ALPINE_AMD64}}}"), |e| {
            invalid(e, "trailing characters")
        }),
    ];
    for (name, content_type, body, check) in cases {
        let e = err(content_type, &body);
        assert!(check(&e), "{name}: got {e:?}");
    }
}

#[test]
fn artifacts_and_lenient_documents() {
    let helm = format!(
        r#"{{"schemaVersion":2,"config":{{"mediaType":"application/vnd.cncf.helm.config.v1+json","digest":"{D1}","size":117}},
        "layers":[{{"mediaType":"application/vnd.cncf.helm.chart.content.v1.tar+gzip","digest":"{D2}","size":3617}}],
        "annotations":{{"org.opencontainers.image.title":"mychart"}}}}"#
    );
    let m = image(&helm);
    assert_eq!(
        m.artifact_type(),
        Some("application/vnd.cncf.helm.config.v1+json")
    );
    assert_eq!(
        m.layers[0].media_type.as_deref(),
        Some("application/vnd.cncf.helm.chart.content.v1.tar+gzip")
    );

    let sbom = format!(
        r#"{{"schemaVersion":2,"mediaType":"{OCI_MANIFEST}","artifactType":"application/spdx+json",
        "config":{{"mediaType":"{OCI_EMPTY}","digest":"{D1}","size":2,"data":"e30="}},
        "layers":[{{"mediaType":"application/spdx+json","digest":"{D2}","size":10}}],
        "subject":{{"mediaType":"{OCI_MANIFEST}","digest":"{D2}","size":500}},"futureField":[1,2]}}"#
    );
    let fetched = ok(Some(OCI_MANIFEST), &sbom);
    assert_eq!(fetched.manifest.descriptors().len(), 3);
    let Manifest::Image(m) = fetched.manifest else {
        panic!()
    };
    assert_eq!(m.artifact_type(), Some("application/spdx+json"));
    assert_eq!(m.subject.as_ref().map(|s| s.size), Some(500));

    let bottle = format!(
        r#"{{"schemaVersion":2,"config":{{"mediaType":"{OCI_CONFIG}","digest":"{D1}","size":1}},
        "layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"{D2}","size":9,
        "annotations":{{"org.opencontainers.image.title":"vim--9.0.1900.big_sur.bottle.tar.gz"}}}}]}}"#
    );
    assert!(!image(&bottle).is_artifact());

    // Hand-made index: entry without mediaType, null annotations, foreign layer urls elsewhere.
    let lenient = format!(
        r#"{{"schemaVersion":2,"manifests":[{{"digest":"{D1}","size":7,"annotations":null,"urls":null}}]}}"#
    );
    let i = index(&lenient);
    assert_eq!(i.manifests[0].media_type, None);
    assert_eq!(i.manifests[0].media_type_str(), "");
}

#[test]
fn foreign_layers_and_saturating_total() {
    let body = format!(
        r#"{{"schemaVersion":2,"mediaType":"{DOCKER_V2}","config":{{"mediaType":"{DOCKER_CONFIG}","digest":"{D1}","size":10}},
        "layers":[{{"mediaType":"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip","digest":"{D2}","size":18446744073709551615,
        "urls":["https://go.microsoft.com/fwlink/?linkid=837858"]}},
        {{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","digest":"{D1}","size":5}}]}}"#
    );
    let m = image(&body);
    assert_eq!(m.total_size(), u64::MAX);
    assert_eq!(m.foreign_layers().count(), 1);
    assert_eq!(m.layers[0].urls.len(), 1);
}

#[test]
fn descriptor_converts_to_oci_spec() {
    let i = index(ALPINE_LIST);
    let d = &i.manifests[2];
    let oci = d.to_oci().unwrap();
    assert_eq!(oci.digest().to_string(), d.digest.to_string());
    assert_eq!(oci.size(), 528);
    let p = oci.platform().as_ref().unwrap();
    assert_eq!(p.variant().as_deref(), Some("v7"));
    let missing = Descriptor {
        media_type: None,
        ..d.clone()
    };
    assert!(matches!(
        missing.to_oci(),
        Err(Error::InvalidManifest { .. })
    ));
}

#[test]
fn alpine_config_summary() {
    let c = ImageConfig::from_json(ALPINE_CONFIG.as_bytes()).unwrap();
    assert_eq!((c.os.as_str(), c.architecture.as_str()), ("linux", "amd64"));
    assert_eq!(c.platform().to_string(), "linux/amd64");
    assert_eq!(c.created.as_deref(), Some("2022-03-17T04:01:59.188838147Z"));
    assert_eq!(c.config.cmd, ["/bin/sh"]);
    assert!(c.config.entrypoint.is_empty());
    assert_eq!(
        c.config.env,
        ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]
    );
    assert!(c.config.labels.is_empty());
    assert_eq!(c.config.working_dir.as_deref(), Some(""));
    assert_eq!(c.history.len(), 2);
    assert!(!c.history[0].empty_layer && c.history[1].empty_layer);
    assert!(c.history[0]
        .created_by
        .as_deref()
        .unwrap()
        .contains("ADD file:cf4b631a"));
    assert_eq!(
        c.diff_ids(),
        [digest(
            "sha256:5e03d8cae8773cb694fff1d55da34a40d23c2349087ed15ce68476395d33753c"
        )]
    );
}

#[test]
fn config_leniency_and_rejections() {
    let oci = format!(
        r#"{{"architecture":"arm64","os":"linux","variant":"v8","os.features":null,
        "config":{{"User":"1000","Entrypoint":["/app"],"Cmd":null,"Env":null,"WorkingDir":"/srv",
        "Labels":{{"org.opencontainers.image.source":"https://example.org"}},
        "ExposedPorts":{{"80/tcp":{{}},"443/tcp":{{}}}},"Volumes":{{"/data":{{}}}},"StopSignal":"SIGTERM"}},
        "history":null,"rootfs":{{"type":"layers","diff_ids":["{D1}","{D2}"]}}}}"#
    );
    let c = ImageConfig::from_json(oci.as_bytes()).unwrap();
    assert_eq!(c.platform().to_string(), "linux/arm64/v8");
    assert_eq!(c.config.entrypoint, ["/app"]);
    assert!(c.config.cmd.is_empty() && c.config.env.is_empty() && c.history.is_empty());
    assert_eq!(c.config.exposed_ports, ["443/tcp", "80/tcp"]);
    assert_eq!(c.config.volumes, ["/data"]);
    assert_eq!(c.config.labels.len(), 1);
    assert_eq!(c.diff_ids().len(), 2);

    let empty = ImageConfig::from_json(b"{}").unwrap();
    assert_eq!(empty, ImageConfig::default());
    assert!(empty.diff_ids().is_empty());

    let bad: &[&str] = &[
        r#"{"rootfs":{"type":"layers","diff_ids":["sha256:nothex"]}}"#,
        r#"{"config":{"Env":"PATH=/bin"}}"#,
        "not json",
        "[]",
    ];
    for body in bad {
        assert!(
            matches!(
                ImageConfig::from_json(body.as_bytes()),
                Err(Error::InvalidConfig { .. })
            ),
            "{body}"
        );
    }
}
