use http::header::AUTHORIZATION;

use super::*;

const HUB: &str = r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull""#;
const HUB_PING: &str =
    r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io""#;
const HUB_TOKEN_URL: &str = "https://auth.docker.io/token?service=registry.docker.io&scope=repository%3Alibrary%2Falpine%3Apull";
const BASIC: &str = r#"Basic realm="test-basic""#;
const ALICE: &str = "Basic YWxpY2U6czNjcmV0"; // alice:s3cret

enum Expect {
    Fetch {
        url: &'static str,
        authorization: Option<&'static str>,
        scopes: &'static [&'static str],
    },
    Basic(&'static str),
    Bearer(&'static str),
    Need(AuthScheme, Option<&'static str>),
    Fails(fn(&Error) -> bool),
}

const HUB_ANONYMOUS: Expect = Expect::Fetch {
    url: HUB_TOKEN_URL,
    authorization: None,
    scopes: &["repository:library/alpine:pull"],
};
const HUB_AS_ALICE: Expect = Expect::Fetch {
    url: HUB_TOKEN_URL,
    authorization: Some(ALICE),
    scopes: &["repository:library/alpine:pull"],
};

/// (name, WWW-Authenticate values, credentials, wanted scopes, expected action)
type Case = (
    &'static str,
    Vec<String>,
    Option<Credentials>,
    Vec<Scope>,
    Expect,
);

fn user() -> Option<Credentials> {
    Some(Credentials::user_password("alice", "s3cret").unwrap())
}

fn token() -> Option<Credentials> {
    Some(Credentials::token("QQ==").unwrap())
}

fn pull(name: &str) -> Vec<Scope> {
    vec![Scope::pull(name).unwrap()]
}

#[test]
fn next_action_table() {
    let alpine = pull("library/alpine");
    let with_error = |e: &str| format!("{HUB},error=\"{e}\"");
    let cases: Vec<Case> = vec![
        (
            "anonymous token flow",
            vec![HUB.into()],
            None,
            alpine.clone(),
            HUB_ANONYMOUS,
        ),
        (
            "ping challenge: the wanted scope is used",
            vec![HUB_PING.into()],
            None,
            alpine.clone(),
            HUB_ANONYMOUS,
        ),
        (
            "challenge scopes are added to the wanted ones",
            vec![r#"Bearer realm="https://r.example/t",scope="repository:b:pull repository:a:pull,push""#.into()],
            None,
            pull("c"),
            Expect::Fetch {
                url: "https://r.example/t?scope=repository%3Aa%3Apull%2Cpush&scope=repository%3Ab%3Apull&scope=repository%3Ac%3Apull",
                authorization: None,
                scopes: &["repository:a:pull,push", "repository:b:pull", "repository:c:pull"],
            },
        ),
        (
            "user and password go to the token endpoint",
            vec![HUB.into()],
            user(),
            alpine.clone(),
            HUB_AS_ALICE,
        ),
        (
            "Bearer preferred over Basic (Basic first)",
            vec![BASIC.into(), HUB.into()],
            user(),
            alpine.clone(),
            HUB_AS_ALICE,
        ),
        (
            "Bearer preferred over Basic (one value)",
            vec![format!("{HUB}, {BASIC}")],
            None,
            alpine.clone(),
            HUB_ANONYMOUS,
        ),
        (
            "expired anonymous token: fetch again",
            vec![with_error("invalid_token")],
            None,
            alpine.clone(),
            HUB_ANONYMOUS,
        ),
        (
            "insufficient scope with a password: fetch with it",
            vec![with_error("insufficient_scope")],
            user(),
            alpine.clone(),
            HUB_AS_ALICE,
        ),
        (
            "insufficient scope anonymously: ask",
            vec![with_error("insufficient_scope")],
            None,
            alpine.clone(),
            Expect::Need(AuthScheme::Bearer, Some("https://auth.docker.io/token")),
        ),
        ("registry token: send it", vec![HUB.into()], token(), alpine.clone(), Expect::Bearer("Bearer QQ==")),
        (
            "registry token refused: ask",
            vec![with_error("invalid_token")],
            token(),
            alpine.clone(),
            Expect::Need(AuthScheme::Bearer, Some("https://auth.docker.io/token")),
        ),
        ("htpasswd registry with a password", vec![BASIC.into()], user(), alpine.clone(), Expect::Basic(ALICE)),
        (
            "htpasswd registry, anonymous",
            vec![BASIC.into()],
            None,
            alpine.clone(),
            Expect::Need(AuthScheme::Basic, Some("test-basic")),
        ),
        (
            "htpasswd registry with a registry token",
            vec!["Basic".into()],
            token(),
            alpine.clone(),
            Expect::Need(AuthScheme::Basic, None),
        ),
        (
            "only unknown schemes",
            vec![r#"Digest realm="x", nonce="n""#.into(), "Negotiate".into()],
            user(),
            alpine.clone(),
            Expect::Fails(|e| *e == Error::UnsupportedAuthScheme { schemes: vec!["Digest".into(), "Negotiate".into()] }),
        ),
        ("no header", vec![], None, alpine.clone(), Expect::Fails(|e| *e == Error::MissingChallenge)),
        ("empty header", vec![" , ".into()], None, alpine.clone(), Expect::Fails(|e| *e == Error::MissingChallenge)),
        (
            "broken header",
            vec![r#"Bearer realm="https://a"#.into()],
            None,
            alpine.clone(),
            Expect::Fails(|e| matches!(e, Error::InvalidChallenge { .. })),
        ),
        (
            "malformed scope from the registry",
            vec![r#"Bearer realm="https://r.example/t",scope="nonsense""#.into()],
            None,
            alpine.clone(),
            Expect::Fails(|e| matches!(e, Error::InvalidScope { input, .. } if input == "nonsense")),
        ),
    ];
    for (name, headers, credentials, wanted, expect) in cases {
        let got = next_action(&headers, credentials.as_ref(), &wanted);
        match (expect, got) {
            (
                Expect::Fetch {
                    url,
                    authorization,
                    scopes,
                },
                Ok(NextAction::FetchToken {
                    request,
                    scopes: got,
                }),
            ) => {
                assert_eq!(request.method, http::Method::GET, "{name}");
                assert_eq!(request.url.as_str(), url, "{name}");
                let auth = request
                    .headers
                    .get(AUTHORIZATION)
                    .map(|v| v.to_str().unwrap());
                assert_eq!(auth, authorization, "{name}");
                assert_eq!(
                    got.iter().map(Scope::as_str).collect::<Vec<_>>(),
                    scopes,
                    "{name}"
                );
            }
            (Expect::Basic(want), Ok(NextAction::UseBasic(v)))
            | (Expect::Bearer(want), Ok(NextAction::UseBearer(v))) => {
                assert_eq!(v, want, "{name}");
                assert!(v.is_sensitive(), "{name}");
            }
            (
                Expect::Need(scheme, realm),
                Ok(NextAction::NeedCredentials {
                    scheme: s,
                    realm: r,
                }),
            ) => {
                assert_eq!((s, r.as_deref()), (scheme, realm), "{name}");
            }
            (Expect::Fails(check), Err(e)) => assert!(check(&e), "{name}: {e:?}"),
            (_, got) => panic!("{name}: unexpected {got:?}"),
        }
    }
}

#[test]
fn actions_never_show_secrets() {
    let alpine = pull("library/alpine");
    let cases = [(HUB, user()), (BASIC, user()), (HUB, token())];
    for (header, credentials) in cases {
        let action = next_action(&[header], credentials.as_ref(), &alpine).unwrap();
        let shown = format!("{action:?} {action:#?}");
        for secret in ["s3cret", "YWxpY2U6czNjcmV0", "QQ=="] {
            assert!(!shown.contains(secret), "{shown}");
        }
    }
}
