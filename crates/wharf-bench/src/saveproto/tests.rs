use super::Mode;

/// A parsed mode: (name, chunk bytes, window).
type Parsed = (&'static str, u64, u32);

#[test]
fn mode_specs() {
    // (spec, Some((name, chunk bytes, window)) or None for a rejected spec)
    let cases: [(&str, Option<Parsed>); 10] = [
        ("sw", Some(("sw:1024", 1 << 20, 8))),
        ("opfs:256", Some(("opfs:256", 256 << 10, 8))),
        ("sw:1024:copy", Some(("sw:1024:copy", 1 << 20, 8))),
        (
            "sw:4096:recycle+w2",
            Some(("sw:4096:recycle+w2", 4 << 20, 2)),
        ),
        ("synth:1024:bytes", Some(("synth:1024:bytes", 1 << 20, 8))),
        ("nope", None),
        ("sw:0", None),
        ("sw:x", None),
        ("sw:1024:fast", None),
        ("sw:1024:w0", None),
    ];
    for (spec, want) in cases {
        let got = Mode::parse(spec)
            .ok()
            .map(|m| (m.name(), m.chunk, m.window()));
        let want = want.map(|(n, c, w)| (n.to_owned(), c, w));
        assert_eq!(got, want, "{spec}");
    }
}

#[test]
fn flags_are_looked_up_by_name() {
    let mode = Mode::parse("sw:1024:copy+nofetch").expect("valid");
    assert!(mode.has("copy") && mode.has("nofetch"));
    assert!(!mode.has("recycle"));
}
