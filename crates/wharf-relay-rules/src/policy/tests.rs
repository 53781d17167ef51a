use super::*;

fn policy(entries: &[&str]) -> Policy {
    Policy::new(entries.iter().map(|e| e.parse().unwrap()).collect())
}

/// What a check should say: Ok(explicit) or the error message.
fn outcome(policy: &Policy, url: &str, hop: Hop) -> Result<bool, String> {
    let url = Url::parse(url).map_err(|e| format!("parse: {e}"))?;
    policy
        .check(&url, hop)
        .map(|c| c.explicit)
        .map_err(|e| e.to_string())
}

#[test]
fn allow_host_forms() {
    let cases: &[(&str, Result<&str, ()>)] = &[
        ("registry.example", Ok("https://registry.example:443")),
        ("Registry.Example.", Ok("https://registry.example:443")),
        ("127.0.0.1:5000", Ok("https://127.0.0.1:5000")),
        ("http://127.0.0.1:5000", Ok("http://127.0.0.1:5000")),
        ("http://127.0.0.1:5000/", Ok("http://127.0.0.1:5000")),
        ("https://localhost:8443", Ok("https://localhost:8443")),
        ("http://localhost", Ok("http://localhost:80")),
        ("[::1]:5000", Ok("https://[::1]:5000")),
        ("http://2130706433:5000", Ok("http://127.0.0.1:5000")),
        ("", Err(())),
        ("ftp://host:21", Err(())),
        ("http://user:pw@host:1", Err(())),
        ("http://host:1/path", Err(())),
        ("http://host:1/?q", Err(())),
        ("host:notaport", Err(())),
        ("host:99999", Err(())),
    ];
    for (input, expected) in cases {
        let parsed = input.parse::<AllowHost>().map(|h| h.to_string());
        match expected {
            Ok(text) => assert_eq!(parsed.as_deref(), Ok(*text), "{input}"),
            Err(()) => assert!(
                parsed.is_err(),
                "{input} should be rejected, got {parsed:?}"
            ),
        }
    }
}

#[test]
fn patterns() {
    let cases: &[(&str, &str, bool)] = &[
        ("*.gcr.io", "eu.gcr.io", true),
        ("*.gcr.io", "gcr.io", false),
        ("*.gcr.io", "a.b.gcr.io", false),
        ("*.gcr.io", "evilgcr.io", false),
        ("*.gcr.io", "eu.gcr.io.evil.com", false),
        ("cdn*.quay.io", "cdn.quay.io", true),
        ("cdn*.quay.io", "cdn01.quay.io", true),
        ("cdn*.quay.io", "xcdn.quay.io", false),
        ("ghcr.io", "ghcr.io", true),
        ("ghcr.io", "ghcr.io.evil.com", false),
        ("ghcr.io", "xghcr.io", false),
        (
            "prod-registry-k8s-io-*.s3.dualstack.*.amazonaws.com",
            "prod-registry-k8s-io-us-east-2.s3.dualstack.us-east-2.amazonaws.com",
            true,
        ),
        (
            "prod-registry-k8s-io-*.s3.dualstack.*.amazonaws.com",
            "evil.s3.dualstack.x.amazonaws.com",
            false,
        ),
        ("*.cloudfront.net", "d2glxqk2uabbnd.cloudfront.net", true),
    ];
    for (pattern, host, expected) in cases {
        assert_eq!(
            pattern_matches(pattern, host),
            *expected,
            "{pattern} vs {host}"
        );
    }
}

#[test]
fn builtin_targets() {
    let p = policy(&[]);
    let c = Hop::Client;
    let cases: &[(&str, Hop, Result<bool, &str>)] = &[
        (
            "https://registry-1.docker.io/v2/library/alpine/manifests/latest",
            c,
            Ok(false),
        ),
        ("https://REGISTRY-1.docker.io./v2/", c, Ok(false)),
        ("https://registry-1.docker.io:443/v2/", c, Ok(false)),
        ("https://auth.docker.io/token?service=x", c, Ok(false)),
        (
            "https://production.cloudflare.docker.com/registry-v2/x",
            c,
            Ok(false),
        ),
        (
            "https://ghcr.io/v2/homebrew/core/vim/manifests/9",
            c,
            Ok(false),
        ),
        (
            "https://pkg-containers.githubusercontent.com/ghcr1/blobs/x",
            c,
            Ok(false),
        ),
        ("https://cdn03.quay.io/x", c, Ok(false)),
        ("https://us-docker.pkg.dev/v2/", c, Ok(false)),
        ("https://mcr.microsoft.com/v2/", c, Ok(false)),
        ("https://westus2.data.mcr.microsoft.com/x", c, Ok(false)),
        ("https://public.ecr.aws/v2/", c, Ok(false)),
        (
            "https://d2glxqk2uabbnd.cloudfront.net/x",
            c,
            Err("host not allowed"),
        ),
        (
            "https://d2glxqk2uabbnd.cloudfront.net/x",
            Hop::Redirect,
            Ok(false),
        ),
        (
            "https://storage.googleapis.com/b/o",
            c,
            Err("host not allowed"),
        ),
        (
            "https://storage.googleapis.com/b/o",
            Hop::Redirect,
            Ok(false),
        ),
        (
            "http://registry-1.docker.io/v2/",
            c,
            Err("scheme not allowed"),
        ),
        (
            "https://registry-1.docker.io:8443/v2/",
            c,
            Err("port not allowed"),
        ),
        (
            "ftp://registry-1.docker.io/v2/",
            c,
            Err("scheme not allowed"),
        ),
        (
            "https://registry-1.docker.io@10.0.0.1/",
            c,
            Err("userinfo not allowed"),
        ),
        (
            "https://user:pw@registry-1.docker.io/",
            c,
            Err("userinfo not allowed"),
        ),
        (
            "https://registry-1.docker.io.evil.com/",
            c,
            Err("host not allowed"),
        ),
        ("https://example.com/", c, Err("host not allowed")),
        ("http://10.0.0.1/", c, Err("host not allowed")),
        (
            "http://169.254.169.254/latest/meta-data/",
            c,
            Err("host not allowed"),
        ),
        ("http://2130706433/", c, Err("host not allowed")),
        ("http://[::ffff:127.0.0.1]/", c, Err("host not allowed")),
        ("file:///etc/passwd", c, Err("scheme not allowed")),
    ];
    for (url, hop, expected) in cases {
        let got = outcome(&p, url, *hop);
        assert_eq!(got, expected.map_err(str::to_owned), "{url}");
    }
}

#[test]
fn explicit_targets() {
    let p = policy(&[
        "http://127.0.0.1:5000",
        "localhost:5001",
        "http://registry.internal:80",
    ]);
    let c = Hop::Client;
    let cases: &[(&str, Result<bool, &str>)] = &[
        ("http://127.0.0.1:5000/v2/", Ok(true)),
        ("http://2130706433:5000/v2/", Ok(true)),
        ("http://0x7f.0.0.1:5000/v2/", Ok(true)),
        ("http://127.0.0.1:5001/v2/", Err("port not allowed")),
        ("http://127.0.0.2:5000/v2/", Err("host not allowed")),
        ("https://127.0.0.1:5000/v2/", Err("scheme not allowed")),
        ("http://127.0.0.1:5002/v2/", Err("port not allowed")),
        ("https://localhost:5001/v2/", Ok(true)),
        ("https://localhost.:5001/v2/", Ok(true)),
        ("http://localhost:5001/v2/", Err("scheme not allowed")),
        ("http://registry.internal/v2/", Ok(true)),
        (
            "http://user@127.0.0.1:5000/v2/",
            Err("userinfo not allowed"),
        ),
        ("http://[::1]:5000/v2/", Err("host not allowed")),
        (
            "http://[::ffff:127.0.0.1]:5000/v2/",
            Err("host not allowed"),
        ),
    ];
    for (url, expected) in cases {
        assert_eq!(
            outcome(&p, url, c),
            expected.map_err(str::to_owned),
            "{url}"
        );
    }
    assert!(p.is_explicit_name("LOCALHOST."));
    assert!(p.is_explicit_name("registry.internal"));
    assert!(!p.is_explicit_name("registry-1.docker.io"));
}

#[test]
fn refusals_name_the_normalised_host() {
    let p = policy(&[]);
    for (url, host) in [
        ("http://2130706433/", "127.0.0.1"),
        ("http://0x7f.1/", "127.0.0.1"),
        ("http://017700000001/", "127.0.0.1"),
        ("http://127.1/", "127.0.0.1"),
        ("http://127.0.0.1./", "127.0.0.1"),
        ("http://[0:0:0:0:0:ffff:7f00:1]/", "[::ffff:127.0.0.1]"),
    ] {
        let err = p.check(&Url::parse(url).unwrap(), Hop::Client).unwrap_err();
        assert_eq!(err.body()["host"], host, "{url}");
    }
}

#[test]
fn public_hosts_are_allowed_on_public_addresses_only() {
    let public = [
        "http://registry.example:8080",
        "registry.example",
        "http://10.0.0.9:80",
        "http://93.184.216.34:80",
    ];
    let p = policy(&["http://127.0.0.1:5000"])
        .with_public_hosts(public.iter().map(|e| e.parse().unwrap()).collect());
    let cases: &[(&str, Hop, Result<bool, &str>)] = &[
        ("http://registry.example:8080/v2/", Hop::Client, Ok(false)),
        ("https://registry.example/v2/", Hop::Redirect, Ok(false)),
        (
            "http://registry.example/v2/",
            Hop::Client,
            Err("port not allowed"),
        ),
        (
            "http://registry.example:443/v2/",
            Hop::Client,
            Err("scheme not allowed"),
        ),
        ("http://93.184.216.34/v2/", Hop::Client, Ok(false)),
        // A private literal stays refused even when named as a public host.
        (
            "http://10.0.0.9/v2/",
            Hop::Client,
            Err("address not allowed"),
        ),
        ("http://127.0.0.1:5000/v2/", Hop::Client, Ok(true)),
    ];
    for (url, hop, expected) in cases {
        assert_eq!(
            outcome(&p, url, *hop),
            expected.map_err(str::to_owned),
            "{url}"
        );
    }
    // The resolver must check their addresses.
    assert!(!p.is_explicit_name("registry.example"));
}
