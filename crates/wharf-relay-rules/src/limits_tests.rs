use super::*;
use std::time::Duration;

fn rule(max_concurrent: u32, rate: f64, burst: u32) -> Rule {
    Rule {
        max_concurrent,
        rate,
        burst,
    }
}

fn client(ip: &str) -> Key {
    Key::Client(ip.parse().unwrap())
}

fn at(start: Instant, ms: u64) -> Instant {
    start + Duration::from_millis(ms)
}

#[test]
fn concurrency_is_per_key_and_given_back() {
    let mut table = Table::new(rule(2, 0.0, 0), Rule::OFF, 100);
    let t0 = Instant::now();
    let a1 = table.admit(vec![client("10.0.0.1")], t0).unwrap();
    let _a2 = table.admit(vec![client("10.0.0.1")], t0).unwrap();
    assert_eq!(
        table.admit(vec![client("10.0.0.1")], t0),
        Err(Limited {
            scope: Scope::Client,
            retry_after: 1
        })
    );
    // Another client is not affected.
    table.admit(vec![client("10.0.0.2")], t0).unwrap();
    table.release(&a1);
    table.admit(vec![client("10.0.0.1")], t0).unwrap();
}

#[test]
fn rate_refills_over_time_and_says_when() {
    // 2 per second, bursts of 3.
    let mut table = Table::new(rule(0, 2.0, 3), Rule::OFF, 100);
    let t0 = Instant::now();
    for _ in 0..3 {
        let ticket = table.admit(vec![client("10.0.0.1")], t0).unwrap();
        table.release(&ticket);
    }
    let refused = table.admit(vec![client("10.0.0.1")], t0).unwrap_err();
    assert_eq!(refused.retry_after, 1);
    // Half a second later one token is back, and only one.
    table.admit(vec![client("10.0.0.1")], at(t0, 500)).unwrap();
    assert!(table.admit(vec![client("10.0.0.1")], at(t0, 500)).is_err());
    // Never more than the burst, however long the quiet time.
    let later = at(t0, 60_000);
    for _ in 0..3 {
        table.admit(vec![client("10.0.0.1")], later).unwrap();
    }
    assert!(table.admit(vec![client("10.0.0.1")], later).is_err());
}

#[test]
fn slow_rates_ask_for_a_longer_wait() {
    // One request per 10 s.
    let mut table = Table::new(rule(0, 0.1, 1), Rule::OFF, 100);
    let t0 = Instant::now();
    table.admit(vec![client("10.0.0.1")], t0).unwrap();
    let refused = table
        .admit(vec![client("10.0.0.1")], at(t0, 2_500))
        .unwrap_err();
    assert_eq!(refused.retry_after, 8);
}

#[test]
fn all_keys_or_none() {
    let mut table = Table::new(rule(0, 1.0, 5), rule(1, 0.0, 0), 100);
    let t0 = Instant::now();
    let origin = || Key::Origin("https://page.example".into());
    let held = table.admit(vec![client("10.0.0.1"), origin()], t0).unwrap();
    // Same origin, another client: the origin refuses, and the client's token is not spent.
    let refused = table.admit(vec![client("10.0.0.2"), origin()], t0);
    assert_eq!(refused.unwrap_err().scope, Scope::Origin);
    table.release(&held);
    for _ in 0..5 {
        let t = table.admit(vec![client("10.0.0.2"), origin()], t0).unwrap();
        table.release(&t);
    }
    assert_eq!(
        table.admit(vec![client("10.0.0.2")], t0).unwrap_err().scope,
        Scope::Client
    );
}

#[test]
fn rules_that_are_off_track_nothing() {
    let mut table = Table::new(Rule::OFF, Rule::OFF, 100);
    let t0 = Instant::now();
    for i in 0..1000 {
        let ticket = table
            .admit(vec![Key::Client(IpAddr::from([10, 0, 0, i as u8]))], t0)
            .unwrap();
        assert_eq!(ticket, Ticket::default());
    }
    assert!(table.is_empty());
}

#[test]
fn idle_keys_are_pruned_and_busy_ones_kept() {
    let mut table = Table::new(rule(4, 10.0, 10), Rule::OFF, 100);
    let t0 = Instant::now();
    let busy = table.admit(vec![client("10.0.0.1")], t0).unwrap();
    let idle = table.admit(vec![client("10.0.0.2")], t0).unwrap();
    table.release(&idle);
    // 10.0.0.2's bucket is full again after 100 ms.
    table.prune(at(t0, 50));
    assert_eq!(table.len(), 2);
    table.prune(at(t0, 200));
    assert_eq!(table.len(), 1);
    table.release(&busy);
    table.prune(at(t0, 400));
    assert!(table.is_empty());
}

#[test]
fn a_full_table_shares_one_overflow_entry() {
    let mut table = Table::new(rule(2, 0.0, 0), Rule::OFF, 3);
    let t0 = Instant::now();
    let _held: Vec<Ticket> = (1..=3)
        .map(|i| {
            table
                .admit(vec![Key::Client(IpAddr::from([10, 0, 0, i]))], t0)
                .unwrap()
        })
        .collect();
    assert_eq!(table.len(), 3);
    // New clients now count together, and the table does not grow past capacity + overflow.
    let _o1 = table.admit(vec![client("10.9.0.1")], t0).unwrap();
    let _o2 = table.admit(vec![client("10.9.0.2")], t0).unwrap();
    assert!(table.admit(vec![client("10.9.0.3")], t0).is_err());
    assert_eq!(table.len(), 4);
    // Known clients keep their own entry.
    table.admit(vec![client("10.0.0.1")], t0).unwrap();
}

#[test]
fn client_keys() {
    let none = HeaderMap::new();
    let xff = HeaderName::from_static("x-forwarded-for");
    let mut forwarded = HeaderMap::new();
    forwarded.append(&xff, "203.0.113.9, 198.51.100.1".parse().unwrap());
    forwarded.append(&xff, "spoofed, 192.0.2.44".parse().unwrap());
    let mut garbage = HeaderMap::new();
    garbage.insert(&xff, "not an address".parse().unwrap());
    let cases: &[(&str, &HeaderMap, Option<&HeaderName>, &str)] = &[
        ("192.0.2.1", &none, None, "192.0.2.1"),
        ("2001:db8:1:2:3:4:5:6", &none, None, "2001:db8:1:2::"),
        ("::ffff:192.0.2.7", &none, None, "192.0.2.7"),
        // Forwarded addresses count only when the operator named the header.
        ("127.0.0.1", &forwarded, None, "127.0.0.1"),
        ("127.0.0.1", &forwarded, Some(&xff), "192.0.2.44"),
        ("127.0.0.1", &garbage, Some(&xff), "127.0.0.1"),
    ];
    for (peer_text, headers, header, expected) in cases {
        let peer_ip: IpAddr = peer_text.parse().unwrap();
        let got = client_key(peer_ip, headers, *header);
        assert_eq!(got, expected.parse::<IpAddr>().unwrap(), "{peer_text}");
    }
}
