//! The redirector and the standalone servers.

mod common;

use common::http;
use wharf_testkit::{Redirector, TokenConfig, TokenServer, User};

#[tokio::test]
async fn redirector_answers_each_status_and_records_headers() {
    let a = Redirector::start().await.unwrap();
    let target = a.url("/final");
    a.serve("/final", b"payload".to_vec(), "application/octet-stream");
    for status in [301u16, 302, 303, 307, 308] {
        let path = format!("/hop/{status}");
        a.redirect(&path, status, target.as_str()).unwrap();
        let response = http()
            .get(a.url(&path))
            .bearer_auth("tok")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), status);
        assert_eq!(response.headers()["location"], target.as_str());
    }
    assert!(a.redirect("/bad", 200, "http://x/").is_err());
    let seen = a.requests();
    assert_eq!(seen.len(), 5);
    assert!(seen.iter().all(|r| r.authorization));
    assert!(seen
        .iter()
        .all(|r| r.header_values("authorization") == ["<redacted>"]));
    assert_eq!(seen[0].path, "/hop/301");
}

#[tokio::test]
async fn redirect_chains_across_hosts_are_followed_by_a_client() {
    let a = Redirector::start().await.unwrap();
    let b = Redirector::start().await.unwrap();
    // A -> B -> A (other host name, then back), then served.
    a.redirect("/start", 302, b.url_localhost("/middle").as_str())
        .unwrap();
    b.redirect("/middle", 307, a.url("/end").as_str()).unwrap();
    a.serve("/end", b"done".to_vec(), "text/plain");
    // The stateless form too.
    let hop = a.stateless_url(308, &a.url("/start"));
    let client = reqwest::Client::new();
    let body = client
        .get(hop)
        .header("accept", "x/1")
        .header("accept", "x/2")
        .send()
        .await
        .unwrap();
    assert_eq!(body.status(), 200);
    assert_eq!(body.text().await.unwrap(), "done");
    let paths: Vec<String> = a.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(paths, ["/r/308", "/start", "/end"]);
    let middle = b.requests();
    assert_eq!(middle.len(), 1);
    assert_eq!(middle[0].header_values("accept"), ["x/1", "x/2"]);
    assert_eq!(
        middle[0].header_values("host"),
        [format!("localhost:{}", b.port())]
    );
    assert_eq!(
        http().get(a.url("/unknown")).send().await.unwrap().status(),
        404
    );
}

#[tokio::test]
async fn token_server_runs_standalone() {
    let server = TokenServer::start(TokenConfig {
        users: vec![User::new("carol", "pw").pull("team/*")],
        ..TokenConfig::default()
    })
    .await
    .unwrap();
    let mut url = server.realm().clone();
    url.query_pairs_mut()
        .append_pair("service", "loopback-registry")
        .append_pair("scope", "repository:team/a:pull repository:other/b:pull");
    let ok = http()
        .get(url.clone())
        .basic_auth("carol", Some("pw"))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let wrong_service = {
        let mut u = server.realm().clone();
        u.query_pairs_mut().append_pair("service", "elsewhere");
        http().get(u).send().await.unwrap()
    };
    assert_eq!(wrong_service.status(), 400);
    let grants = server.grants();
    assert_eq!(grants[0].granted.len(), 1);
    assert_eq!(grants[0].granted[0].name, "team/a");
    assert!(server
        .root_cert_pem()
        .starts_with("-----BEGIN CERTIFICATE-----"));
}
