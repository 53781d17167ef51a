use super::*;

use ReferenceProblem as P;

const ALPINE: &str = "sha256:14b55f5bb845c7b810283290ce057f175de87838be56f49060e941580032c60c";
const HUB: &str = "docker.io";
const HUB_API: &str = "registry-1.docker.io";
const HTTPS: Scheme = Scheme::Https;
const HTTP: Scheme = Scheme::Http;

/// input, registry, api host, scheme, repository, tag, digest, normalised display.
type Valid = (
    &'static str,
    &'static str,
    &'static str,
    Scheme,
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
    &'static str,
);

fn valid_cases() -> Vec<Valid> {
    vec![
        // The eight references of the issue (the manual-download guides).
        ("hello-world", HUB, HUB_API, HTTPS, "library/hello-world", Some("latest"), None,
            "docker.io/library/hello-world:latest"),
        ("library/hello-world", HUB, HUB_API, HTTPS, "library/hello-world", Some("latest"), None,
            "docker.io/library/hello-world:latest"),
        ("docker.io/library/hello-world", HUB, HUB_API, HTTPS, "library/hello-world",
            Some("latest"), None, "docker.io/library/hello-world:latest"),
        ("myregistry.com/hello-world", "myregistry.com", "myregistry.com", HTTPS, "hello-world",
            Some("latest"), None, "myregistry.com/hello-world:latest"),
        ("localhost:5000/hello-world", "localhost:5000", "localhost:5000", HTTP, "hello-world",
            Some("latest"), None, "localhost:5000/hello-world:latest"),
        ("library/hitch:1.8.0-1", HUB, HUB_API, HTTPS, "library/hitch", Some("1.8.0-1"), None,
            "docker.io/library/hitch:1.8.0-1"),
        ("ghcr.io/homebrew/core/vim:9.0.1900", "ghcr.io", "ghcr.io", HTTPS, "homebrew/core/vim",
            Some("9.0.1900"), None, "ghcr.io/homebrew/core/vim:9.0.1900"),
        ("localhost:5000/library/alpine@sha256:14b55f5bb845c7b810283290ce057f175de87838be56f49060e941580032c60c",
            "localhost:5000", "localhost:5000", HTTP, "library/alpine", None, Some(ALPINE),
            "localhost:5000/library/alpine@sha256:14b55f5bb845c7b810283290ce057f175de87838be56f49060e941580032c60c"),
        // Docker Hub normalisation.
        ("alpine:3.19", HUB, HUB_API, HTTPS, "library/alpine", Some("3.19"), None,
            "docker.io/library/alpine:3.19"),
        ("Docker.IO/alpine", HUB, HUB_API, HTTPS, "library/alpine", Some("latest"), None,
            "docker.io/library/alpine:latest"),
        ("INDEX.docker.io/user/app", HUB, HUB_API, HTTPS, "user/app", Some("latest"), None,
            "docker.io/user/app:latest"),
        ("docker.io/alpine", HUB, HUB_API, HTTPS, "library/alpine", Some("latest"), None,
            "docker.io/library/alpine:latest"),
        ("index.docker.io/alpine", HUB, HUB_API, HTTPS, "library/alpine", Some("latest"), None,
            "docker.io/library/alpine:latest"),
        ("index.docker.io/library/alpine:edge", HUB, HUB_API, HTTPS, "library/alpine",
            Some("edge"), None, "docker.io/library/alpine:edge"),
        ("user/app", HUB, HUB_API, HTTPS, "user/app", Some("latest"), None,
            "docker.io/user/app:latest"),
        ("docker.io/user/app:1.0", HUB, HUB_API, HTTPS, "user/app", Some("1.0"), None,
            "docker.io/user/app:1.0"),
        ("user/team/app:v2", HUB, HUB_API, HTTPS, "user/team/app", Some("v2"), None,
            "docker.io/user/team/app:v2"),
        ("123/456", HUB, HUB_API, HTTPS, "123/456", Some("latest"), None,
            "docker.io/123/456:latest"),
        ("a__b/c.d/e---f", HUB, HUB_API, HTTPS, "a__b/c.d/e---f", Some("latest"), None,
            "docker.io/a__b/c.d/e---f:latest"),
        ("foo_bar", HUB, HUB_API, HTTPS, "library/foo_bar", Some("latest"), None,
            "docker.io/library/foo_bar:latest"),
        // Tag and digest together: both kept, the digest pins.
        ("alpine:3.19@sha256:14b55f5bb845c7b810283290ce057f175de87838be56f49060e941580032c60c",
            HUB, HUB_API, HTTPS, "library/alpine", Some("3.19"), Some(ALPINE),
            "docker.io/library/alpine:3.19@sha256:14b55f5bb845c7b810283290ce057f175de87838be56f49060e941580032c60c"),
        ("alpine@sha256:14b55f5bb845c7b810283290ce057f175de87838be56f49060e941580032c60c",
            HUB, HUB_API, HTTPS, "library/alpine", None, Some(ALPINE),
            "docker.io/library/alpine@sha256:14b55f5bb845c7b810283290ce057f175de87838be56f49060e941580032c60c"),
        // Tags at the edges of the grammar.
        ("alpine:_x", HUB, HUB_API, HTTPS, "library/alpine", Some("_x"), None,
            "docker.io/library/alpine:_x"),
        ("alpine:LATEST", HUB, HUB_API, HTTPS, "library/alpine", Some("LATEST"), None,
            "docker.io/library/alpine:LATEST"),
        ("alpine:1.0-rc.1_b", HUB, HUB_API, HTTPS, "library/alpine", Some("1.0-rc.1_b"), None,
            "docker.io/library/alpine:1.0-rc.1_b"),
        // Registries with ports, loopback (http) and IP addresses.
        ("localhost/foo", "localhost", "localhost", HTTP, "foo", Some("latest"), None,
            "localhost/foo:latest"),
        ("LOCALHOST:5000/foo", "localhost:5000", "localhost:5000", HTTP, "foo", Some("latest"),
            None, "localhost:5000/foo:latest"),
        ("127.0.0.1:5000/test:1", "127.0.0.1:5000", "127.0.0.1:5000", HTTP, "test", Some("1"),
            None, "127.0.0.1:5000/test:1"),
        ("127.8.9.10/test", "127.8.9.10", "127.8.9.10", HTTP, "test", Some("latest"), None,
            "127.8.9.10/test:latest"),
        ("10.0.0.1:5000/test", "10.0.0.1:5000", "10.0.0.1:5000", HTTPS, "test", Some("latest"),
            None, "10.0.0.1:5000/test:latest"),
        ("[::1]:5000/test", "[::1]:5000", "[::1]:5000", HTTP, "test", Some("latest"), None,
            "[::1]:5000/test:latest"),
        ("[0:0:0:0:0:0:0:1]:5000/test", "[::1]:5000", "[::1]:5000", HTTP, "test", Some("latest"),
            None, "[::1]:5000/test:latest"),
        ("[2001:db8::1]/test:2", "[2001:db8::1]", "[2001:db8::1]", HTTPS, "test", Some("2"), None,
            "[2001:db8::1]/test:2"),
        ("MyRegistry.COM/foo", "myregistry.com", "myregistry.com", HTTPS, "foo", Some("latest"),
            None, "myregistry.com/foo:latest"),
        ("registry.example.com:443/a/b/c/d:tag", "registry.example.com:443",
            "registry.example.com:443", HTTPS, "a/b/c/d", Some("tag"), None,
            "registry.example.com:443/a/b/c/d:tag"),
        ("example.com:8080/x:1@sha256:14b55f5bb845c7b810283290ce057f175de87838be56f49060e941580032c60c",
            "example.com:8080", "example.com:8080", HTTPS, "x", Some("1"), Some(ALPINE),
            "example.com:8080/x:1@sha256:14b55f5bb845c7b810283290ce057f175de87838be56f49060e941580032c60c"),
        // Public registries.
        ("quay.io/prometheus/node-exporter:v1.7.0", "quay.io", "quay.io", HTTPS,
            "prometheus/node-exporter", Some("v1.7.0"), None,
            "quay.io/prometheus/node-exporter:v1.7.0"),
        ("gcr.io/distroless/static-debian12:nonroot", "gcr.io", "gcr.io", HTTPS,
            "distroless/static-debian12", Some("nonroot"), None,
            "gcr.io/distroless/static-debian12:nonroot"),
        ("mcr.microsoft.com/dotnet/runtime:8.0", "mcr.microsoft.com", "mcr.microsoft.com", HTTPS,
            "dotnet/runtime", Some("8.0"), None, "mcr.microsoft.com/dotnet/runtime:8.0"),
        ("ghcr.io/homebrew/core/openssl/3:3.3.0", "ghcr.io", "ghcr.io", HTTPS,
            "homebrew/core/openssl/3", Some("3.3.0"), None,
            "ghcr.io/homebrew/core/openssl/3:3.3.0"),
        // Decisions: the API host named directly is not Docker Hub (as in Docker), and a bare
        // `localhost:5000` is the Hub image `library/localhost` at tag `5000` (as in Docker).
        ("registry-1.docker.io/library/alpine", "registry-1.docker.io", "registry-1.docker.io",
            HTTPS, "library/alpine", Some("latest"), None,
            "registry-1.docker.io/library/alpine:latest"),
        ("localhost:5000", HUB, HUB_API, HTTPS, "library/localhost", Some("5000"), None,
            "docker.io/library/localhost:5000"),
        ("sub.localhost/x", "sub.localhost", "sub.localhost", HTTPS, "x", Some("latest"), None,
            "sub.localhost/x:latest"),
    ]
}

fn check_valid(case: &Valid) {
    let (input, registry, api_host, scheme, repository, tag, digest, display) = *case;
    let r: Reference = input
        .parse()
        .unwrap_or_else(|e| panic!("{input:?} should parse: {e}"));
    assert_eq!(r.registry(), registry, "registry of {input:?}");
    assert_eq!(r.api_host(), api_host, "api host of {input:?}");
    assert_eq!(r.scheme(), scheme, "scheme of {input:?}");
    // (The URL drops a default port: `registry.example.com:443` gives `https://registry.example.com/`.)
    let base = Url::parse(&format!("{scheme}://{api_host}/")).unwrap();
    assert_eq!(r.base_url(), base, "base URL of {input:?}");
    assert_eq!(r.base_url().path(), "/");
    assert_eq!(r.repository(), repository, "repository of {input:?}");
    assert_eq!(r.tag(), tag, "tag of {input:?}");
    assert_eq!(
        r.digest().map(|d| d.to_string()).as_deref(),
        digest,
        "digest of {input:?}"
    );
    assert_eq!(r.to_string(), display, "display of {input:?}");
    // Round trip: the printed form parses back to the same reference.
    let again: Reference = display.parse().expect("display form parses");
    assert_eq!(again, r, "round trip of {input:?}");
    let target = match (r.digest(), r.tag()) {
        (Some(d), _) => d.to_string(),
        (None, Some(t)) => t.to_owned(),
        (None, None) => panic!("{input:?} has neither tag nor digest"),
    };
    assert_eq!(
        r.manifest_target().to_string(),
        target,
        "target of {input:?}"
    );
}

#[test]
fn valid_references_parse_to_their_parts() {
    let cases = valid_cases();
    assert!(cases.len() >= 40);
    for case in &cases {
        check_valid(case);
    }
}

/// What an invalid reference must give.
enum Want {
    Exact(ReferenceProblem),
    /// `InvalidDigest` for this digest text (the reason wording belongs to digest.rs).
    Digest(&'static str),
    /// `InvalidRegistry` for this registry text.
    Registry(&'static str),
}

fn invalid_cases() -> Vec<(String, Want)> {
    use Want::*;
    let s = |x: &str| x.to_owned();
    let long_repo = "a".repeat(250);
    let long_tag = "t".repeat(129);
    let image_id = ALPINE.trim_start_matches("sha256:");
    vec![
        (s(""), Exact(P::Empty)),
        (s(image_id), Exact(P::LooksLikeImageId)),
        (
            s("Alpine"),
            Exact(P::UppercaseRepository {
                repository: s("Alpine"),
            }),
        ),
        (
            s("library/Alpine"),
            Exact(P::UppercaseRepository {
                repository: s("library/Alpine"),
            }),
        ),
        (
            s("Library/alpine"),
            Exact(P::UppercaseRepository {
                repository: s("Library/alpine"),
            }),
        ),
        (
            s("ghcr.io/Homebrew/core/vim"),
            Exact(P::UppercaseRepository {
                repository: s("Homebrew/core/vim"),
            }),
        ),
        (
            s("localhost:5000/Foo:1"),
            Exact(P::UppercaseRepository {
                repository: s("Foo"),
            }),
        ),
        (s("alpine:"), Exact(P::InvalidTag { tag: s("") })),
        (s("alpine:.x"), Exact(P::InvalidTag { tag: s(".x") })),
        (s("alpine:-x"), Exact(P::InvalidTag { tag: s("-x") })),
        (s("alpine:a b"), Exact(P::InvalidTag { tag: s("a b") })),
        (s("alpine:1.0:2"), Exact(P::InvalidTag { tag: s("1.0:2") })),
        (s("alpine:v+1"), Exact(P::InvalidTag { tag: s("v+1") })),
        (
            format!("alpine:{long_tag}"),
            Exact(P::InvalidTag {
                tag: long_tag.clone(),
            }),
        ),
        (
            s("alpine@md5:abc"),
            Exact(P::UnsupportedDigestAlgorithm {
                algorithm: s("md5"),
            }),
        ),
        (
            s("alpine:1@foo:bar"),
            Exact(P::UnsupportedDigestAlgorithm {
                algorithm: s("foo"),
            }),
        ),
        // The digest is checked before anything else, even a broken name.
        (
            s("Bad Name:?@md5:x"),
            Exact(P::UnsupportedDigestAlgorithm {
                algorithm: s("md5"),
            }),
        ),
        (s("alpine@"), Digest("")),
        (s("alpine@sha256"), Digest("sha256")),
        (s("alpine@sha256:abc"), Digest("sha256:abc")),
        (
            s("alpine@sha256:14B55F5BB845C7B810283290CE057F175DE87838BE56F49060E941580032C60C"),
            Digest("sha256:14B55F5BB845C7B810283290CE057F175DE87838BE56F49060E941580032C60C"),
        ),
        (
            s("alpine@SHA256:14b55f5bb845c7b810283290ce057f175de87838be56f49060e941580032c60c"),
            Digest("SHA256:14b55f5bb845c7b810283290ce057f175de87838be56f49060e941580032c60c"),
        ),
        (s(":latest"), Exact(P::MissingRepository)),
        (format!("@{ALPINE}"), Exact(P::MissingRepository)),
        (s("ghcr.io/"), Exact(P::MissingRepository)),
        (
            s("/alpine"),
            Exact(P::EmptyComponent { name: s("/alpine") }),
        ),
        (
            s("alpine/"),
            Exact(P::EmptyComponent { name: s("alpine/") }),
        ),
        (s("a//b"), Exact(P::EmptyComponent { name: s("a//b") })),
        (
            s("-alpine"),
            Exact(P::InvalidComponent {
                component: s("-alpine"),
            }),
        ),
        (
            s("alpine-"),
            Exact(P::InvalidComponent {
                component: s("alpine-"),
            }),
        ),
        (
            s("a..b"),
            Exact(P::InvalidComponent {
                component: s("a..b"),
            }),
        ),
        (
            s("a___b"),
            Exact(P::InvalidComponent {
                component: s("a___b"),
            }),
        ),
        (
            s("a_-b"),
            Exact(P::InvalidComponent {
                component: s("a_-b"),
            }),
        ),
        (
            s("foo.com/bar_"),
            Exact(P::InvalidComponent {
                component: s("bar_"),
            }),
        ),
        (
            s("café"),
            Exact(P::InvalidComponent {
                component: s("café"),
            }),
        ),
        (
            s("a b"),
            Exact(P::InvalidComponent {
                component: s("a b"),
            }),
        ),
        (
            s("user/.hidden"),
            Exact(P::InvalidComponent {
                component: s(".hidden"),
            }),
        ),
        (long_repo.clone(), Exact(P::NameTooLong { len: 268 })),
        (
            format!("ghcr.io/{}/x", "b".repeat(246)),
            Exact(P::NameTooLong { len: 256 }),
        ),
        (s("localhost:99999/x"), Registry("localhost:99999")),
        (s("localhost:0/x"), Registry("localhost:0")),
        (s("localhost:abc/x"), Registry("localhost:abc")),
        (s("foo.com:/x"), Registry("foo.com:")),
        (s("exa_mple.com/x"), Registry("exa_mple.com")),
        (s("-bad.com/x"), Registry("-bad.com")),
        (s("bad-.com/x"), Registry("bad-.com")),
        (s("foo..com/x"), Registry("foo..com")),
        (s("[::1/x"), Registry("[::1")),
        (s("[::g]:5000/x"), Registry("[::g]:5000")),
        (s("[::1]5000/x"), Registry("[::1]5000")),
        // The URL parser would read these as other IPv4 addresses (1.2.0.3, 127.0.0.1) or refuse.
        (s("1.2.3/x"), Registry("1.2.3")),
        (s("0x7f.1/x"), Registry("0x7f.1")),
        (s("999.1.1.1/x"), Registry("999.1.1.1")),
    ]
}

#[test]
fn invalid_references_give_typed_reasons() {
    let cases = invalid_cases();
    assert!(cases.len() >= 40);
    for (input, want) in &cases {
        let err = input
            .parse::<Reference>()
            .expect_err(&format!("{input:?} should be refused"));
        let Error::InvalidReference {
            input: echoed,
            reason,
        } = &err
        else {
            panic!("{input:?} gave {err:?}");
        };
        assert_eq!(echoed, input);
        match want {
            Want::Exact(p) => assert_eq!(reason, p, "reason for {input:?}"),
            Want::Digest(d) => assert!(
                matches!(reason, P::InvalidDigest { digest, .. } if digest == d),
                "{input:?} gave {reason:?}"
            ),
            Want::Registry(r) => assert!(
                matches!(reason, P::InvalidRegistry { registry, .. } if registry == r),
                "{input:?} gave {reason:?}"
            ),
        }
        // Every reason is said in words.
        assert!(err.to_string().contains(&reason.to_string()));
        assert!(reason.to_string().len() > 10);
    }
}

#[test]
fn limits_are_inclusive() {
    let tag = "t".repeat(128);
    let r: Reference = format!("alpine:{tag}").parse().unwrap();
    assert_eq!(r.tag(), Some(tag.as_str()));
    // docker.io/library/ + 237 = 255 characters.
    let name = "a".repeat(237);
    let r: Reference = name.parse().unwrap();
    assert_eq!(r.registry().len() + 1 + r.repository().len(), 255);
}

#[test]
fn error_messages_say_what_is_wrong() {
    let msg = |s: &str| s.parse::<Reference>().unwrap_err().to_string();
    assert!(msg("Alpine").contains("must be lowercase"));
    assert!(msg("alpine@md5:00").contains("\"md5\" is not supported"));
    assert!(msg("alpine:-x").contains("tag \"-x\""));
    assert!(msg("localhost:99999/x").contains("between 1 and 65535"));
    assert!(msg("").contains("empty"));
    assert!(msg(&"a".repeat(250)).contains("268 characters"));
}

#[test]
fn with_tag_and_with_digest_give_new_references() {
    let r: Reference = "alpine:3.19".parse().unwrap();
    let d: Digest = ALPINE.parse().unwrap();
    let pinned = r.with_digest(d.clone());
    assert_eq!(pinned.tag(), Some("3.19"));
    assert_eq!(pinned.digest(), Some(&d));
    assert_eq!(pinned.manifest_target(), ManifestTarget::Digest(&d));
    assert_eq!(r.digest(), None, "the original is unchanged");

    let retagged = pinned.with_tag("edge").unwrap();
    assert_eq!(retagged.tag(), Some("edge"));
    assert_eq!(retagged.digest(), None, "a new tag drops the old pin");
    assert_eq!(retagged.to_string(), "docker.io/library/alpine:edge");

    let err = r.with_tag("-bad").unwrap_err();
    assert_eq!(
        err,
        Error::InvalidReference {
            input: "-bad".into(),
            reason: P::InvalidTag { tag: "-bad".into() }
        }
    );

    let digest_only: Reference = format!("localhost:5000/x@{ALPINE}").parse().unwrap();
    let other = Digest::sha256_of(b"x");
    let repinned = digest_only.with_digest(other.clone());
    assert_eq!(repinned.tag(), None);
    assert_eq!(repinned.digest(), Some(&other));
}

#[test]
fn familiar_form_is_the_short_one() {
    let pinned = format!("localhost:5000/x@{ALPINE}");
    let cases = [
        ("alpine", "alpine:latest".to_owned()),
        ("docker.io/library/alpine:3", "alpine:3".to_owned()),
        ("user/app", "user/app:latest".to_owned()),
        ("library/a/b", "library/a/b:latest".to_owned()),
        (
            "ghcr.io/homebrew/core/vim:9.0.1900",
            "ghcr.io/homebrew/core/vim:9.0.1900".to_owned(),
        ),
        (pinned.as_str(), pinned.clone()),
    ];
    for (input, want) in &cases {
        let r: Reference = input.parse().unwrap();
        assert_eq!(&r.familiar(), want, "familiar form of {input:?}");
        assert_eq!(
            r.is_docker_hub(),
            !input.contains(['.', ':']) || input.starts_with("docker.io")
        );
    }
}

#[test]
fn tags_parse_and_make_referrers_fallbacks() {
    let tag: Tag = "v1.0".parse().unwrap();
    assert_eq!(tag.as_str(), "v1.0");
    assert!("".parse::<Tag>().is_err());
    assert!(".x".parse::<Tag>().is_err());

    let sha256: Digest = ALPINE.parse().unwrap();
    let fallback = Tag::referrers_fallback(&sha256);
    assert_eq!(
        fallback.as_str(),
        "sha256-14b55f5bb845c7b810283290ce057f175de87838be56f49060e941580032c60c"
    );
    assert_eq!(fallback.as_str().parse::<Tag>().unwrap(), fallback);

    let sha512 = Digest::of(crate::digest::Algorithm::Sha512, b"subject");
    let fallback = Tag::referrers_fallback(&sha512);
    assert_eq!(fallback.as_str().len(), "sha512-".len() + 64);
    assert!(fallback.as_str().starts_with("sha512-"));
    assert!(sha512
        .hex()
        .starts_with(&fallback.as_str()["sha512-".len()..]));
    assert_eq!(fallback.as_str().parse::<Tag>().unwrap(), fallback);
}

#[test]
fn references_serialize_as_their_normal_form() {
    let r: Reference = "alpine".parse().unwrap();
    let json = serde_json::to_string(&r).unwrap();
    assert_eq!(json, "\"docker.io/library/alpine:latest\"");
    let back: Reference = serde_json::from_str(&json).unwrap();
    assert_eq!(back, r);
    assert!(serde_json::from_str::<Reference>("\"Alpine\"").is_err());
}
