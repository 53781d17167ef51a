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

#[tokio::test]
async fn the_front_rate_limits_then_serves() {
    let registry = wharf_testkit::Registry::start(wharf_testkit::Mode::Anonymous)
        .await
        .unwrap();
    let blob = registry
        .push_blob("front/x", vec![9u8; 5000])
        .await
        .unwrap();
    let front = wharf_testkit::Front::start(registry.base_url())
        .await
        .unwrap();
    front.fail_with_429(2, "1");
    let mut url = front.base_url();
    url.set_path(&format!("/v2/front/x/blobs/{}", blob.digest));
    for _ in 0..2 {
        let response = http().get(url.clone()).send().await.unwrap();
        assert_eq!(response.status(), 429);
        assert_eq!(response.headers()["retry-after"], "1");
    }
    let response = http().get(url).send().await.unwrap();
    assert_eq!(response.status(), 200);
    common::verify_body(response, &blob.digest, blob.size)
        .await
        .unwrap();
    let statuses: Vec<u16> = front.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [429, 429, 200]);
}

#[tokio::test]
async fn the_front_cuts_blob_bodies_and_ranges_resume() {
    let registry = wharf_testkit::Registry::start(wharf_testkit::Mode::Anonymous)
        .await
        .unwrap();
    let size = 3 << 20;
    let blob = registry
        .push_blob_stream("front/big", size, 5)
        .await
        .unwrap();
    let front = wharf_testkit::Front::start(registry.base_url())
        .await
        .unwrap();
    front.cut_blobs_after(1 << 20, 1);
    let mut url = front.base_url();
    url.set_path(&format!("/v2/front/big/blobs/{}", blob.digest));

    let response = http().get(url.clone()).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.content_length(), Some(size));
    let mut received = Vec::new();
    let mut body = response.bytes_stream();
    let mut failed = false;
    while let Some(chunk) = futures_util::StreamExt::next(&mut body).await {
        match chunk {
            Ok(chunk) => received.extend_from_slice(&chunk),
            Err(_) => {
                failed = true;
                break;
            }
        }
    }
    assert!(failed, "a cut body must end in an error, not a clean end");
    assert_eq!(received.len() as u64, 1 << 20);

    let rest = http()
        .get(url)
        .header("range", format!("bytes={}-", received.len()))
        .send()
        .await
        .unwrap();
    assert_eq!(rest.status(), 206);
    received.extend_from_slice(&rest.bytes().await.unwrap());
    assert_eq!(wharf_oci::Digest::sha256_of(&received), blob.digest);
}
