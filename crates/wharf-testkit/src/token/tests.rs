use super::*;

fn users() -> Vec<User> {
    vec![
        User::new("alice", "s3cret").pull("*"),
        User::new("bob", "hunter2").pull("bob/*"),
        User::new("admin", "pw").push("*"),
    ]
}

#[test]
fn grants_are_the_intersection_of_request_and_rights() {
    let users = users();
    let public = vec!["public/*".to_owned()];
    let alice = users.first();
    let bob = users.get(1);
    let admin = users.get(2);
    let scopes = |s: &[&str]| s.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
    let cases: Vec<(Option<&User>, Vec<String>, Vec<Access>)> = vec![
        (
            alice,
            scopes(&["repository:a/b:pull"]),
            vec![Access::repository("a/b", &["pull"])],
        ),
        (
            alice,
            scopes(&["repository:a/b:pull,push"]),
            vec![Access::repository("a/b", &["pull"])],
        ),
        (bob, scopes(&["repository:a/b:pull"]), vec![]),
        (
            bob,
            scopes(&["repository:bob/x:pull"]),
            vec![Access::repository("bob/x", &["pull"])],
        ),
        (None, scopes(&["repository:a/b:pull"]), vec![]),
        (
            None,
            scopes(&["repository:public/x:pull"]),
            vec![Access::repository("public/x", &["pull"])],
        ),
        (None, scopes(&["repository:public/x:push"]), vec![]),
        (
            admin,
            scopes(&["repository:a:pull,push"]),
            vec![Access::repository("a", &["pull", "push"])],
        ),
        (alice, scopes(&["registry:catalog:*"]), vec![]),
        (alice, scopes(&["garbage"]), vec![]),
        (
            alice,
            scopes(&["repository:x:pull", "repository:y:pull"]),
            vec![
                Access::repository("x", &["pull"]),
                Access::repository("y", &["pull"]),
            ],
        ),
    ];
    for (user, scopes, want) in cases {
        assert_eq!(grant(user, &public, &scopes), want, "{user:?} {scopes:?}");
    }
}

#[test]
fn scopes_may_repeat_and_hold_several_values() {
    let params = Params::parse(
        "service=s&scope=repository%3Aa%3Apull+repository%3Ab%3Apull&scope=repository:c:pull",
    );
    assert_eq!(params.service.as_deref(), Some("s"));
    assert_eq!(
        params.scopes,
        vec![
            "repository:a:pull",
            "repository:b:pull",
            "repository:c:pull"
        ]
    );
}

#[test]
fn wrong_passwords_and_unknown_users_are_refused() {
    let users = users();
    let with = |value: &str| {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, value.parse().unwrap());
        headers
    };
    let basic = |u: &str, p: &str| {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))
        )
    };
    assert!(
        matches!(authenticate(&users, &with(&basic("alice", "s3cret"))), Caller::User(u) if u.name() == "alice")
    );
    assert!(matches!(
        authenticate(&users, &with(&basic("alice", "nope"))),
        Caller::Refused
    ));
    assert!(matches!(
        authenticate(&users, &with(&basic("mallory", "x"))),
        Caller::Refused
    ));
    assert!(matches!(
        authenticate(&users, &with("Bearer QQ==")),
        Caller::Anonymous
    ));
    assert!(matches!(
        authenticate(&users, &HeaderMap::new()),
        Caller::Anonymous
    ));
}

#[test]
fn tokens_carry_x5c_and_string_audience() {
    let shared = Shared {
        config: TokenConfig::default(),
        signer: make_signer().unwrap(),
        realm: Url::parse("http://127.0.0.1:1/token").unwrap(),
        log: RequestLog::default(),
        grants: Mutex::new(Vec::new()),
    };
    let token = sign(&shared, "alice", &[Access::repository("a", &["pull"])]).unwrap();
    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!(header.alg, Algorithm::ES256);
    assert_eq!(header.x5c.as_ref().map(Vec::len), Some(1));
    let payload = token.split('.').nth(1).unwrap();
    let claims: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(claims["aud"], "loopback-registry");
    assert_eq!(claims["iss"], "loopback-issuer");
    assert_eq!(claims["access"][0]["name"], "a");
    assert!(claims["exp"].as_u64().unwrap() > claims["iat"].as_u64().unwrap());
}
