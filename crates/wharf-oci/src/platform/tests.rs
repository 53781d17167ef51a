use super::*;
use crate::manifest::tests::{ALPINE_LIST, VIM_INDEX};
use crate::manifest::{decode, Expected, Manifest, OCI_INDEX};

fn index(body: &str) -> Index {
    match decode(None, body.as_bytes(), &Expected::default())
        .unwrap()
        .manifest
    {
        Manifest::Index(i) => *i,
        other => panic!("{other:?}"),
    }
}

fn p(s: &str) -> Platform {
    s.parse().unwrap()
}

#[test]
fn parse_and_print() {
    let valid: &[(&str, &str, &str, Option<&str>, &str)] = &[
        ("linux/amd64", "linux", "amd64", None, "linux/amd64"),
        (
            "linux/arm64/v8",
            "linux",
            "arm64",
            Some("v8"),
            "linux/arm64/v8",
        ),
        ("linux/arm/v6", "linux", "arm", Some("v6"), "linux/arm/v6"),
        ("Linux/AMD64", "linux", "amd64", None, "linux/amd64"),
        ("darwin/arm64", "darwin", "arm64", None, "darwin/arm64"),
        ("windows/amd64", "windows", "amd64", None, "windows/amd64"),
        ("linux/x86_64", "linux", "x86_64", None, "linux/x86_64"),
        ("linux/ppc64le", "linux", "ppc64le", None, "linux/ppc64le"),
        (
            "linux/arm64/v8.0",
            "linux",
            "arm64",
            Some("v8.0"),
            "linux/arm64/v8.0",
        ),
        (
            "unknown/unknown",
            "unknown",
            "unknown",
            None,
            "unknown/unknown",
        ),
    ];
    for (input, os, arch, variant, printed) in valid {
        assert_eq!(p(input).os_version, None, "{input}");
        let parsed = p(input);
        assert_eq!(parsed.os, *os, "{input}");
        assert_eq!(parsed.architecture, *arch, "{input}");
        assert_eq!(parsed.variant.as_deref(), *variant, "{input}");
        assert_eq!(parsed.to_string(), *printed, "{input}");
        assert_eq!(p(printed), parsed, "{input} round trip");
    }
}

#[test]
fn os_version_in_the_text_form() {
    let cases: &[(&str, &str, &str, &str)] = &[
        (
            "windows(10.0.17763.5936)/amd64",
            "windows",
            "10.0.17763.5936",
            "windows(10.0.17763.5936)/amd64",
        ),
        (
            "Windows(10.0.20348.2527)/AMD64",
            "windows",
            "10.0.20348.2527",
            "windows(10.0.20348.2527)/amd64",
        ),
        (
            "darwin(14.1-Beta_2)/arm64/v8",
            "darwin",
            "14.1-Beta_2",
            "darwin(14.1-Beta_2)/arm64/v8",
        ),
    ];
    for (input, os, version, printed) in cases {
        let parsed = p(input);
        assert_eq!(parsed.os, *os, "{input}");
        assert_eq!(parsed.os_version.as_deref(), Some(*version), "{input}");
        assert_eq!(parsed.to_string(), *printed, "{input}");
        assert_eq!(p(printed), parsed, "{input} round trip");
    }
}

#[test]
fn parse_rejections() {
    let invalid: &[(&str, &str)] = &[
        ("", "expected os/arch"),
        ("linux", "expected os/arch"),
        ("linux/amd64/v8/x", "expected os/arch"),
        ("linux/", "architecture is empty"),
        ("/amd64", "os is empty"),
        ("linux/arm/", "variant is empty"),
        ("linux//v7", "architecture is empty"),
        ("linux/amd 64", "' ' is not allowed"),
        ("linux/amd64\n", "'\\n' is not allowed"),
        ("lin:ux/amd64", "':' is not allowed in the os"),
        ("linux/arm64/v8+", "'+' is not allowed in the variant"),
        ("windows(10.0/amd64", "closed by ')'"),
        ("windows()/amd64", "os.version is empty"),
        (
            "windows(10 0)/amd64",
            "' ' is not allowed in the os.version",
        ),
        (
            "windows(1)(2)/amd64",
            "')' is not allowed in the os.version",
        ),
        ("(10.0)/amd64", "os is empty"),
    ];
    for (input, needle) in invalid {
        match input.parse::<Platform>() {
            Err(Error::InvalidPlatform { input: got, reason }) => {
                assert_eq!(got, *input);
                assert!(reason.contains(needle), "{input:?}: {reason}");
            }
            other => panic!("{input:?}: {other:?}"),
        }
    }
}

#[test]
fn normalisation_follows_containerd() {
    let cases: &[(&str, &str)] = &[
        ("linux/amd64", "linux/amd64"),
        ("linux/x86_64", "linux/amd64"),
        ("linux/x86-64", "linux/amd64"),
        ("linux/amd64/v1", "linux/amd64"),
        ("linux/amd64/v3", "linux/amd64/v3"),
        ("linux/aarch64", "linux/arm64"),
        ("linux/arm64/v8", "linux/arm64"),
        ("linux/aarch64/8", "linux/arm64"),
        ("linux/arm64/v8.0", "linux/arm64"),
        ("linux/arm64/v9", "linux/arm64/v9"),
        ("linux/armhf", "linux/arm/v7"),
        ("linux/armel", "linux/arm/v6"),
        ("linux/arm", "linux/arm/v7"),
        ("linux/arm/7", "linux/arm/v7"),
        ("linux/arm/6", "linux/arm/v6"),
        ("linux/arm/5", "linux/arm/v5"),
        ("linux/arm/v6", "linux/arm/v6"),
        ("linux/i386", "linux/386"),
        ("macos/arm64", "darwin/arm64"),
        ("linux/s390x", "linux/s390x"),
    ];
    for (input, normalized) in cases {
        assert_eq!(p(input).normalized().to_string(), *normalized, "{input}");
    }
    let same: &[(&str, &str, bool)] = &[
        ("linux/arm64", "linux/arm64/v8", true),
        ("linux/aarch64", "linux/arm64/v8", true),
        ("linux/arm", "linux/arm/v7", true),
        ("linux/armhf", "linux/arm/v7", true),
        ("linux/arm/v6", "linux/arm/v7", false),
        ("linux/amd64", "linux/arm64", false),
        ("linux/amd64", "windows/amd64", false),
        ("linux/amd64", "linux/amd64/v3", false),
    ];
    for (a, b, expected) in same {
        assert_eq!(p(a).same_target(&p(b)), *expected, "{a} vs {b}");
    }
}

#[test]
fn alpine_entries_and_selection() {
    let list = index(ALPINE_LIST);
    let all = entries(&list);
    assert_eq!(all.len(), 7);
    assert!(all.iter().all(Entry::is_runnable));
    let shown: Vec<String> = all
        .iter()
        .map(|e| e.platform.unwrap().to_string())
        .collect();
    assert_eq!(
        shown,
        [
            "linux/amd64",
            "linux/arm/v6",
            "linux/arm/v7",
            "linux/arm64/v8",
            "linux/386",
            "linux/ppc64le",
            "linux/s390x"
        ]
    );
    let cases: &[(&str, &str)] = &[
        ("linux/amd64", "sha256:14b55f5b"),
        ("linux/x86_64", "sha256:14b55f5b"),
        ("linux/arm64", "sha256:4fb53f12"),
        ("linux/arm64/v8", "sha256:4fb53f12"),
        ("linux/aarch64", "sha256:4fb53f12"),
        ("linux/arm", "sha256:392d9d85"),
        ("linux/arm/v7", "sha256:392d9d85"),
        ("linux/armhf", "sha256:392d9d85"),
        ("linux/arm/v6", "sha256:40f39677"),
        ("linux/i386", "sha256:e8d9cf28"),
        ("linux/s390x", "sha256:6640b198"),
    ];
    for (wanted, prefix) in cases {
        let entry = select(&list, &p(wanted)).unwrap();
        assert!(
            entry.descriptor.digest.to_string().starts_with(prefix),
            "{wanted}"
        );
    }
    for wanted in [
        "linux/riscv64",
        "windows/amd64",
        "linux/arm/v5",
        "linux/amd64/v3",
    ] {
        match select(&list, &p(wanted)) {
            Err(Error::NoMatch {
                wanted: w,
                available,
            }) => {
                assert_eq!(w, wanted);
                assert_eq!(available, shown);
            }
            other => panic!("{wanted}: {other:?}"),
        }
    }
}

const A: &str = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const B: &str = "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
const C: &str = "sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc";

fn entry(digest: &str, platform: &str, extra: &str) -> String {
    format!(
        r#"{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{digest}","size":10{platform}{extra}}}"#
    )
}

fn plat(os: &str, arch: &str) -> String {
    format!(r#","platform":{{"os":"{os}","architecture":"{arch}"}}"#)
}

#[test]
fn attestations_and_other_entries_are_never_selected() {
    let att = format!(
        r#","annotations":{{"{REFERENCE_TYPE}":"{ATTESTATION_MANIFEST}","vnd.docker.reference.digest":"{A}"}}"#
    );
    let manifests = [
        entry(A, &plat("linux", "amd64"), ""),
        entry(B, &plat("unknown", "unknown"), &att),
        entry(C, &plat("unknown", "unknown"), ""),
        entry(C, "", ""),
        entry(
            C,
            &plat("linux", "arm64"),
            r#","artifactType":"application/spdx+json""#,
        ),
        entry(C, &plat("linux", "arm64"), "").replace("image.manifest", "image.index"),
        entry(C, r#","platform":{"os":"linux"}"#, ""),
        entry(C, &plat("linux", "arm64"), "").replace(
            "application/vnd.oci.image.manifest.v1+json",
            "application/vnd.cncf.helm.chart.v1+json",
        ),
    ];
    let body = format!(
        r#"{{"schemaVersion":2,"mediaType":"{OCI_INDEX}","manifests":[{}]}}"#,
        manifests.join(",")
    );
    let i = index(&body);
    let kinds: Vec<EntryKind> = entries(&i).iter().map(|e| e.kind).collect();
    use EntryKind::*;
    assert_eq!(
        kinds,
        [
            Runnable,
            Attestation,
            NoPlatform,
            NoPlatform,
            Artifact,
            NestedIndex,
            NoPlatform,
            Artifact
        ]
    );
    let labels: Vec<Option<&str>> = kinds.iter().map(|k| k.label()).collect();
    assert_eq!(labels[..2], [None, Some("attestation")]);
    assert_eq!(labels[4..6], [Some("artifact"), Some("nested index")]);
    assert_eq!(entries(&i)[3].position, 3);
    assert!(select(&i, &p("linux/amd64")).is_ok());
    for wanted in ["unknown/unknown", "linux/arm64"] {
        match select(&i, &p(wanted)) {
            Err(Error::NoMatch { available, .. }) => assert_eq!(available, ["linux/amd64"]),
            other => panic!("{wanted}: {other:?}"),
        }
    }
}

#[test]
fn os_version_and_features_narrow_the_choice() {
    let windows = |digest: &str, version: &str| {
        entry(
            digest,
            &format!(
                r#","platform":{{"os":"windows","architecture":"amd64","os.version":"{version}","os.features":null}}"#
            ),
            "",
        )
    };
    let featured = entry(
        C,
        r#","platform":{"os":"windows","architecture":"amd64","os.features":["win32k"]}"#,
        "",
    );
    let body = format!(
        r#"{{"schemaVersion":2,"manifests":[{},{},{featured}]}}"#,
        windows(A, "10.0.17763.5576"),
        windows(B, "10.0.20348.2340")
    );
    let i = index(&body);
    let mut wanted = p("windows/amd64");
    assert_eq!(
        select(&i, &wanted).unwrap().descriptor.digest.to_string(),
        A
    );
    wanted.os_version = Some("10.0.20348.2340".into());
    assert_eq!(select(&i, &wanted).unwrap().position, 1);
    wanted.os_version = Some("10.0.1".into());
    assert!(matches!(select(&i, &wanted), Err(Error::NoMatch { .. })));
    wanted.os_version = None;
    wanted.os_features = vec!["win32k".into()];
    assert_eq!(select(&i, &wanted).unwrap().position, 2);
}

#[test]
fn platform_serde_uses_oci_names() {
    let i = index(VIM_INDEX);
    let platform = i.manifests[0].platform.clone().unwrap();
    assert_eq!(platform.os_version.as_deref(), Some("macOS 11.7"));
    let json = serde_json::to_string(&platform).unwrap();
    assert_eq!(
        json,
        r#"{"architecture":"amd64","os":"darwin","os.version":"macOS 11.7"}"#
    );
    let back: Platform = serde_json::from_str(&json).unwrap();
    assert_eq!(back, platform);
}

#[test]
fn entries_that_differ_only_in_os_version_are_chosen_apart() {
    let entry = |hex: char, version: &str| {
        format!(
            r#"{{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":500,
            "digest":"sha256:{}","platform":{{"architecture":"amd64","os":"windows","os.version":"{version}"}}}}"#,
            hex.to_string().repeat(64)
        )
    };
    let body = format!(
        r#"{{"schemaVersion":2,"mediaType":"{OCI_INDEX}","manifests":[{},{}]}}"#,
        entry('a', "10.0.17763.5936"),
        entry('b', "10.0.20348.2527")
    );
    let index = index(&body);
    let listed: Vec<String> = entries(&index)
        .iter()
        .map(|e| e.platform.map(ToString::to_string).unwrap_or_default())
        .collect();
    assert_eq!(
        listed,
        [
            "windows(10.0.17763.5936)/amd64",
            "windows(10.0.20348.2527)/amd64"
        ]
    );
    // Each one's text form chooses that one, not the first of the two.
    for (text, hex) in [(&listed[0], 'a'), (&listed[1], 'b')] {
        let chosen = select(&index, &p(text)).unwrap();
        assert_eq!(
            chosen.descriptor.digest.hex(),
            hex.to_string().repeat(64),
            "{text}"
        );
    }
    // Without an os.version the first matching entry is chosen.
    let first = select(&index, &p("windows/amd64")).unwrap();
    assert_eq!(first.descriptor.digest.hex(), "a".repeat(64));
    assert!(select(&index, &p("windows(10.0.1)/amd64")).is_err());
}
