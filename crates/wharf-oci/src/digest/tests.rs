use super::*;

const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

#[test]
fn parse_table() {
    let long = "a".repeat(128);
    let cases: &[(String, std::result::Result<&str, &str>)] = &[
        (format!("sha256:{EMPTY_SHA256}"), Ok("sha256")),
        (format!("sha512:{long}"), Ok("sha512")),
        (
            format!("sha256:{}", &EMPTY_SHA256[1..]),
            Err("InvalidDigest"),
        ),
        (format!("sha256:{EMPTY_SHA256}0"), Err("InvalidDigest")),
        (
            format!("sha256:{}", EMPTY_SHA256.to_uppercase()),
            Err("InvalidDigest"),
        ),
        (
            format!("sha256:{}g", &EMPTY_SHA256[1..]),
            Err("InvalidDigest"),
        ),
        (format!("sha512:{EMPTY_SHA256}"), Err("InvalidDigest")),
        (
            format!("md5:{}", "a".repeat(32)),
            Err("UnsupportedAlgorithm"),
        ),
        (
            format!("blake3:{EMPTY_SHA256}"),
            Err("UnsupportedAlgorithm"),
        ),
        (format!("SHA256:{EMPTY_SHA256}"), Err("InvalidDigest")),
        (EMPTY_SHA256.to_owned(), Err("InvalidDigest")),
        (format!(":{EMPTY_SHA256}"), Err("InvalidDigest")),
        ("sha256:".to_owned(), Err("InvalidDigest")),
        (String::new(), Err("InvalidDigest")),
    ];
    for (input, want) in cases {
        let got = input.parse::<Digest>();
        match (want, &got) {
            (Ok(alg), Ok(d)) => {
                assert_eq!(d.algorithm().name(), *alg, "{input}");
                assert_eq!(d.to_string(), *input, "round trip {input}");
            }
            (Err("InvalidDigest"), Err(Error::InvalidDigest { .. })) => {}
            (Err("UnsupportedAlgorithm"), Err(Error::UnsupportedAlgorithm { .. })) => {}
            _ => panic!("{input:?}: want {want:?}, got {got:?}"),
        }
    }
}

#[test]
fn error_messages_say_what_is_wrong() {
    let e = "sha256:ABC".parse::<Digest>().unwrap_err().to_string();
    assert!(e.contains("64 hex digits"), "{e}");
    let e = format!("sha256:{}", EMPTY_SHA256.to_uppercase())
        .parse::<Digest>()
        .unwrap_err()
        .to_string();
    assert!(e.contains("lowercase"), "{e}");
    let e = "md5:00".parse::<Digest>().unwrap_err().to_string();
    assert!(e.contains("md5"), "{e}");
}

#[test]
fn sha256_of_known_values() {
    assert_eq!(Digest::sha256_of(b"").hex(), EMPTY_SHA256);
    assert_eq!(
        Digest::sha256_of(b"abc").hex(),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert_eq!(
        Digest::of(Algorithm::Sha512, b"abc").hex(),
        "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a\
         2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"
    );
}

#[test]
fn serde_round_trip_and_rejects_bad() {
    let d: Digest = serde_json::from_str(&format!("\"sha256:{EMPTY_SHA256}\"")).unwrap();
    assert_eq!(
        serde_json::to_string(&d).unwrap(),
        format!("\"sha256:{EMPTY_SHA256}\"")
    );
    assert!(serde_json::from_str::<Digest>("\"sha256:zz\"").is_err());
}

#[test]
fn verifier_accepts_in_chunks() {
    let data: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
    let expected = Digest::sha256_of(&data);
    for chunk in [1, 7, 64, 1000, 10_000] {
        let mut v = Verifier::new(expected.clone(), data.len() as u64);
        for part in data.chunks(chunk) {
            v.update(part).unwrap();
        }
        let ok = v.finish().unwrap();
        assert_eq!(ok.digest, expected);
        assert_eq!(ok.size, 10_000);
    }
}

#[test]
fn verifier_rejects_short_long_and_wrong() {
    let data = b"hello world";
    let d = Digest::sha256_of(data);
    let mut short = Verifier::new(d.clone(), 12);
    short.update(data).unwrap();
    assert_eq!(
        short.finish(),
        Err(Error::SizeMismatch {
            expected: 12,
            actual: 11
        })
    );
    let mut long = Verifier::new(d.clone(), 5);
    assert!(matches!(
        long.update(data),
        Err(Error::SizeMismatch {
            expected: 5,
            actual: 11
        })
    ));
    let mut wrong = Verifier::new(d.clone(), 11);
    wrong.update(b"hello_world").unwrap();
    match wrong.finish() {
        Err(Error::DigestMismatch { expected, actual }) => {
            assert_eq!(expected, d);
            assert_eq!(actual, Digest::sha256_of(b"hello_world"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn verifier_sha512() {
    let d = Digest::of(Algorithm::Sha512, b"abc");
    let mut v = Verifier::new(d.clone(), 3);
    v.update(b"a").unwrap();
    v.update(b"bc").unwrap();
    assert_eq!(v.finish().unwrap().digest, d);
}
