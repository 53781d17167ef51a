use super::*;

/// (median, min, max, runs)
type Expected = Option<(f64, f64, f64, usize)>;

#[test]
fn stats_take_median_min_and_max() {
    let cases: &[(&[f64], Expected)] = &[
        (&[], None),
        (&[f64::NAN, 1.0], None),
        (&[f64::INFINITY], None),
        (&[3.0], Some((3.0, 3.0, 3.0, 1))),
        (&[5.0, 1.0, 3.0], Some((3.0, 1.0, 5.0, 3))),
        (&[4.0, 1.0, 3.0, 2.0], Some((2.5, 1.0, 4.0, 4))),
        (&[2.0, 9.0, 2.0, 2.0, 7.0], Some((2.0, 2.0, 9.0, 5))),
    ];
    for (samples, want) in cases {
        let got = Stats::of(samples).map(|s| (s.median, s.min, s.max, s.runs));
        assert_eq!(got, *want, "samples {samples:?}");
    }
}

#[test]
fn map_keeps_min_below_max_when_the_function_reverses_order() {
    // Seconds to MB/s: the slowest run becomes the smallest throughput.
    let secs = Stats::of(&[1.0, 2.0, 4.0]).expect("stats");
    let rate = secs.map(|s| 100.0 / s);
    assert_eq!(
        (rate.median, rate.min, rate.max, rate.runs),
        (50.0, 25.0, 100.0, 3)
    );
}

#[test]
fn ratio_and_goals() {
    let row = |ours: f64, anchor: f64, goal: Goal| {
        Row::new(1, "x", "MB/s")
            .ours(Some(Stats::exact(ours)))
            .anchor("a", Some(Stats::exact(anchor)))
            .goal(goal)
    };
    let cases = [
        (row(335.0, 231.0, Goal::RatioAtLeast(1.4)), Some(true)),
        (row(300.0, 231.0, Goal::RatioAtLeast(1.4)), Some(false)),
        (row(5.0, 5.5, Goal::RatioAtMost(1.0)), Some(true)),
        (row(6.0, 5.5, Goal::RatioAtMost(1.0)), Some(false)),
        (row(63.9, 64.0, Goal::Below(64.0)), Some(true)),
        (row(64.0, 64.0, Goal::Below(64.0)), Some(false)),
        (row(300.0, 300.0, Goal::AtMost(300.0)), Some(true)),
        (row(1.0, 0.0, Goal::AtMost(0.0)), Some(false)),
        (row(1.0, 2.0, Goal::None), None),
    ];
    for (row, want) in cases {
        assert_eq!(row.met(), want, "{row:?}");
    }
    assert_eq!(
        row(335.0, 0.0, Goal::None).ratio(),
        None,
        "no ratio against 0"
    );
    let r = row(3.0, 2.0, Goal::None).ratio().expect("ratio");
    assert!((r - 1.5).abs() < 1e-12);
}

#[test]
fn a_row_that_was_not_measured_fails_its_goal() {
    let row = Row::new(5, "save", "s")
        .anchor("skopeo", Some(Stats::exact(10.0)))
        .goal(Goal::RatioAtMost(1.0))
        .note("not measured: control missing");
    assert_eq!(row.ratio(), None);
    assert_eq!(row.met(), Some(false));
    let json = row.to_json();
    assert_eq!(json["ours"], Value::Null);
    assert_eq!(json["met"], Value::Bool(false));
}

#[test]
fn json_rows_have_exactly_the_agreed_keys() {
    let rows = [Row::new(1, "hash", "MB/s")
        .ours(Stats::of(&[300.0, 310.0, 320.0]))
        .anchor("hash-wasm", Stats::of(&[200.0, 210.0, 220.0]))
        .goal(Goal::RatioAtLeast(1.4))];
    let Value::Array(list) = json(&rows) else {
        panic!("a list")
    };
    let Value::Object(row) = &list[0] else {
        panic!("an object")
    };
    let mut keys: Vec<&str> = row.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "anchor",
            "anchor_name",
            "goal",
            "met",
            "name",
            "ours",
            "ratio",
            "unit"
        ]
    );
    assert_eq!(row["ours"], json!(310.0));
    assert_eq!(row["ratio"], json!(1.476));
    assert_eq!(row["goal"], json!(">= 1.4x"));
    assert_eq!(row["met"], json!(true));
}

#[test]
fn markdown_shows_spread_ratio_and_verdict() {
    let rows = [
        Row::new(2, "download", "s")
            .ours(Stats::of(&[6.0, 5.0, 7.0]))
            .anchor("curl | sha256sum", Stats::of(&[4.0, 5.0, 6.0]))
            .goal(Goal::RatioAtMost(1.0)),
        Row::new(4, "brotli", "KB").ours(Some(Stats::exact(280.0))),
    ];
    let md = markdown(&rows);
    let lines: Vec<&str> = md.lines().collect();
    assert_eq!(lines.len(), 4, "{md}");
    assert_eq!(
        lines[2],
        "| 2 | download | s | 6.00 (5.00–7.00) | curl \\| sha256sum | 5.00 (4.00–6.00) | 1.20x | <= 1.0x | **no** | 3 |"
    );
    assert_eq!(lines[3], "| 4 | brotli | KB | 280 |  | — | — | — | — | 1 |");
}

#[test]
fn numbers_keep_about_three_digits() {
    let cases = [
        (0.0, "0"),
        (0.01234, "0.012"),
        (1.234, "1.23"),
        (12.34, "12.3"),
        (1234.4, "1234"),
    ];
    for (x, want) in cases {
        assert_eq!(num(x), want, "{x}");
    }
}
