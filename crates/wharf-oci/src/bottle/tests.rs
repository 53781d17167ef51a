use super::*;
use crate::manifest::tests::{ALPINE_LIST, VIM_INDEX};
use crate::manifest::{decode, Expected, Manifest};
use crate::platform::{self, Platform};

fn index(body: &str) -> Index {
    match decode(None, body.as_bytes(), &Expected::default())
        .unwrap()
        .manifest
    {
        Manifest::Index(i) => *i,
        other => panic!("{other:?}"),
    }
}

fn bottles(body: &str, repository: &str) -> BottleIndex {
    BottleIndex::from_index(&index(body), repository)
        .unwrap()
        .unwrap()
}

#[test]
fn vim_fixture() {
    let i = index(VIM_INDEX);
    assert!(i.is_bottle_index());
    let b = bottles(VIM_INDEX, "homebrew/core/vim");
    assert_eq!(b.formula, "vim");
    assert_eq!(b.bottles.len(), 1);
    let vim = &b.bottles[0];
    assert_eq!(vim.tag, "big_sur");
    assert_eq!(vim.version, "9.0.1900");
    assert_eq!(vim.ref_name, "9.0.1900.big_sur");
    assert_eq!(vim.rebuild, 0);
    assert_eq!(vim.os, BottleOs::MacOs(MacOs::from_tag("big_sur")));
    assert_eq!(vim.os.to_string(), "macOS Big Sur (11)");
    assert_eq!(vim.os_version.as_deref(), Some("macOS 11.7"));
    assert_eq!(vim.cpu, Cpu::X86_64);
    assert_eq!(
        vim.blob.to_string(),
        "sha256:6cbad503034158806227128743d2acc08773c90890cea12efee25c4a53399d02"
    );
    assert_eq!(vim.size, 13_598_246);
    assert_eq!(vim.file_name, "vim--9.0.1900.big_sur.bottle.tar.gz");
    assert!(vim
        .manifest
        .digest
        .to_string()
        .starts_with("sha256:5b538ff9"));
    assert_eq!(vim.manifest.size, 5357);
    let blob = vim.blob_descriptor();
    assert_eq!(
        (blob.digest.clone(), blob.size),
        (vim.blob.clone(), vim.size)
    );
    assert_eq!(blob.media_type.as_deref(), Some(BOTTLE_LAYER));
    assert_eq!(b.select("big_sur").unwrap().position, 0);
    assert_eq!(b.select("9.0.1900.big_sur").unwrap().position, 0);
}

#[test]
fn ordinary_index_is_not_a_bottle_index() {
    assert!(!index(ALPINE_LIST).is_bottle_index());
    assert_eq!(
        BottleIndex::from_index(&index(ALPINE_LIST), "library/alpine"),
        Ok(None)
    );
}

fn entry(n: char, ref_name: &str, os: &str, arch: &str, os_version: &str) -> String {
    format!(
        r#"{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:{}","size":100{n},
        "platform":{{"architecture":"{arch}","os":"{os}","os.version":"{os_version}"}},
        "annotations":{{"org.opencontainers.image.ref.name":"{ref_name}","sh.brew.bottle.digest":"{}",
        "sh.brew.bottle.size":"200{n}"}}}}"#,
        n.to_string().repeat(64),
        n.to_string().repeat(64).replace('0', "f")
    )
}

fn bottle_index(title: &str, entries: &[String]) -> String {
    format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{}],
        "annotations":{{"org.opencontainers.image.title":"{title}","org.opencontainers.image.ref.name":"9.1"}}}}"#,
        entries.join(",")
    )
}

fn two_arm64_macs() -> String {
    bottle_index(
        "vim",
        &[
            entry('1', "9.1.arm64_tahoe", "darwin", "arm64", "macOS 26"),
            entry('2', "9.1.arm64_sonoma", "darwin", "arm64", "macOS 14"),
            entry('3', "9.1.x86_64_linux", "linux", "amd64", "Ubuntu 22.04"),
            entry('4', "9.1.arm64_linux", "linux", "arm64", "Ubuntu 22.04"),
            entry('5', "9.1.sonoma", "darwin", "amd64", "macOS 14.6"),
        ],
    )
}

#[test]
fn selects_by_tag_never_by_platform() {
    let body = two_arm64_macs();
    let b = bottles(&body, "homebrew/core/vim");
    let sonoma = b.select("arm64_sonoma").unwrap();
    assert_eq!(sonoma.position, 1);
    assert_eq!(
        sonoma.blob.to_string(),
        format!("sha256:{}", "2".repeat(64))
    );
    assert_eq!(sonoma.size, 2002);
    assert_eq!(sonoma.file_name, "vim--9.1.arm64_sonoma.bottle.tar.gz");
    assert_eq!(b.select("9.1.arm64_tahoe").unwrap().position, 0);
    // A platform-only choice would have taken the first arm64 macOS entry: tahoe.
    let i = index(&body);
    let darwin_arm64: Platform = "darwin/arm64".parse().unwrap();
    assert_eq!(platform::select(&i, &darwin_arm64).unwrap().position, 0);
    match b.select("big_sur") {
        Err(Error::NoMatch { wanted, available }) => {
            assert_eq!(wanted, "big_sur");
            assert_eq!(
                available,
                [
                    "arm64_tahoe",
                    "arm64_sonoma",
                    "x86_64_linux",
                    "arm64_linux",
                    "sonoma"
                ]
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn os_and_cpu_of_each_bottle() {
    let b = bottles(&two_arm64_macs(), "homebrew/core/vim");
    let got: Vec<(String, Cpu, String)> = b
        .bottles
        .iter()
        .map(|x| (x.os.to_string(), x.cpu, x.file_name.clone()))
        .collect();
    let want = [
        (
            "macOS Tahoe (26)",
            Cpu::Arm64,
            "vim--9.1.arm64_tahoe.bottle.tar.gz",
        ),
        (
            "macOS Sonoma (14)",
            Cpu::Arm64,
            "vim--9.1.arm64_sonoma.bottle.tar.gz",
        ),
        ("Linux", Cpu::X86_64, "vim--9.1.x86_64_linux.bottle.tar.gz"),
        ("Linux", Cpu::Arm64, "vim--9.1.arm64_linux.bottle.tar.gz"),
        (
            "macOS Sonoma (14)",
            Cpu::X86_64,
            "vim--9.1.sonoma.bottle.tar.gz",
        ),
    ];
    for (g, w) in got.iter().zip(want) {
        assert_eq!((g.0.as_str(), g.1, g.2.as_str()), w);
    }
    assert_eq!(got.len(), want.len());
}

#[test]
fn macos_names_from_os_version() {
    let cases: &[(&str, Option<&str>)] = &[
        ("macOS 11.7", Some("Big Sur")),
        ("macOS 11", Some("Big Sur")),
        ("macOS 26", Some("Tahoe")),
        ("macOS 26.0.1", Some("Tahoe")),
        ("macOS 15.1", Some("Sequoia")),
        ("macOS 14", Some("Sonoma")),
        ("MACOS 13.0", Some("Ventura")),
        ("12.6.1", Some("Monterey")),
        ("macOS 10.15.7", Some("Catalina")),
        ("macOS 10.14", Some("Mojave")),
        ("macOS 10.13.6", Some("High Sierra")),
        ("macOS 10", None),
        ("macOS 10.9", None),
        ("macOS 27", None),
        ("macOS 16", None),
        ("Ubuntu 22.04", None),
        ("macOS", None),
        ("", None),
        ("macOS x.1", None),
    ];
    for (input, name) in cases {
        assert_eq!(
            MacOs::from_os_version(input).map(|m| m.name),
            *name,
            "{input:?}"
        );
    }
    assert_eq!(MacOs::from_tag("big_sur").map(|m| m.version), Some("11"));
    assert_eq!(MacOs::from_tag("arm64_big_sur"), None);
}

#[test]
fn ref_names() {
    let valid: &[(&str, &str, &str, u32)] = &[
        ("9.0.1900.big_sur", "9.0.1900", "big_sur", 0),
        ("9.0.1900.big_sur.1", "9.0.1900", "big_sur", 1),
        ("3.1.2_1.arm64_sonoma", "3.1.2_1", "arm64_sonoma", 0),
        ("1.0.x86_64_linux.12", "1.0", "x86_64_linux", 12),
        ("20240101.all", "20240101", "all", 0),
    ];
    for (input, version, tag, rebuild) in valid {
        assert_eq!(
            split_ref_name(input),
            Ok((*version, *tag, *rebuild)),
            "{input}"
        );
    }
    for input in [
        "big_sur",
        "9.0.1900.",
        ".big_sur",
        "9.0.1900.1",
        "9.0.1900.Big_Sur",
        "9.0.big sur",
        "",
        "-9.big_sur",
    ] {
        assert!(split_ref_name(input).is_err(), "{input:?}");
    }
}

#[test]
fn rebuilds_and_the_all_bottle() {
    let body = bottle_index(
        "vim",
        &[
            entry('1', "9.1.arm64_sonoma.2", "darwin", "arm64", "macOS 14"),
            r#"{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:6666666666666666666666666666666666666666666666666666666666666666","size":1,
            "annotations":{"org.opencontainers.image.ref.name":"9.1.all","sh.brew.bottle.digest":"6666666666666666666666666666666666666666666666666666666666666666","sh.brew.bottle.size":"5"}}"#.to_owned(),
            entry('7', "9.1.arm64_newcat", "darwin", "arm64", "macOS 27"),
        ],
    );
    let b = bottles(&body, "homebrew/core/vim");
    let rebuilt = b.select("arm64_sonoma").unwrap();
    assert_eq!(rebuilt.rebuild, 2);
    assert_eq!(rebuilt.file_name, "vim--9.1.arm64_sonoma.bottle.2.tar.gz");
    let all = b.select("all").unwrap();
    assert_eq!((all.os.clone(), all.cpu), (BottleOs::Any, Cpu::Any));
    let future = b.select("arm64_newcat").unwrap();
    assert_eq!(
        (future.os.clone(), future.cpu),
        (BottleOs::MacOs(None), Cpu::Arm64)
    );
}

#[test]
fn formula_names() {
    let one = |title: &str| {
        bottle_index(
            title,
            &[entry('1', "3.1.big_sur", "darwin", "amd64", "macOS 11")],
        )
    };
    let cases: &[(&str, &str, &str)] = &[
        ("homebrew/core/vim", "vim", "vim"),
        ("homebrew/core/openssl/3", "openssl@3", "openssl@3"),
        ("homebrew/core/openssl/3", "", "openssl@3"),
        ("homebrew/core/libxmlxx", "libxml++", "libxml++"),
        ("homebrew/core/libxmlxx", "", "libxmlxx"),
        ("homebrew/core/vim", "neovim", "vim"),
        ("homebrew/core/vim", "../vim", "vim"),
        ("someone/tap/foo", "someone/tap/foo", "foo"),
        ("someone/tap/foo", "", "foo"),
    ];
    for (repository, title, formula) in cases {
        let b = bottles(&one(title), repository);
        assert_eq!(b.formula, *formula, "{repository} / {title:?}");
        assert!(b.bottles[0]
            .file_name
            .starts_with(&format!("{formula}--3.1.big_sur")));
    }
    assert!(matches!(
        BottleIndex::from_index(&index(&one("")), "homebrew/core/"),
        Err(Error::InvalidBottle { .. })
    ));
}

#[test]
fn malformed_bottle_entries() {
    let good = entry('1', "9.1.big_sur", "darwin", "amd64", "macOS 11");
    let digest_hex = "1".repeat(64).replace('0', "f");
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "digest not hex",
            good.replace(&format!("\"{digest_hex}\""), "\"zz\""),
            "invalid digest",
        ),
        (
            "digest uppercase",
            good.replace(
                &format!("\"{digest_hex}\""),
                &format!("\"{}\"", "A".repeat(64)),
            ),
            "lowercase",
        ),
        (
            "digest with prefix",
            good.replace(
                &format!("\"{digest_hex}\""),
                &format!("\"sha256:{digest_hex}\""),
            ),
            "invalid digest",
        ),
        (
            "size not a number",
            good.replace("\"2001\"", "\"12 MB\""),
            "not a byte count",
        ),
        (
            "size negative",
            good.replace("\"2001\"", "\"-1\""),
            "not a byte count",
        ),
        (
            "size missing",
            good.replace(",\n        \"sh.brew.bottle.size\":\"2001\"", ""),
            "no sh.brew.bottle.size",
        ),
        (
            "ref.name missing",
            good.replace("\"org.opencontainers.image.ref.name\":\"9.1.big_sur\",", ""),
            "expected <version>",
        ),
    ];
    for (name, e, needle) in cases {
        let body = bottle_index("vim", &[e]);
        match BottleIndex::from_index(&index(&body), "homebrew/core/vim") {
            Err(Error::InvalidBottle { reason, .. }) => {
                assert!(reason.contains(needle), "{name}: {reason}")
            }
            other => panic!("{name}: {other:?}"),
        }
    }
}
