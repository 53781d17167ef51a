use super::*;

fn digest() -> Digest {
    Digest::sha256_of(b"layer")
}

fn start() -> StartDownload {
    StartDownload {
        id: 7,
        reference: "ghcr.io/homebrew/core/vim:9.0.1900"
            .parse()
            .expect("reference"),
        digest: digest(),
        size: 3_000_000_000,
        file_name: "vim--9.0.1900.big_sur.bottle.tar.gz".into(),
        relay: "/relay/{url}".parse().expect("relay"),
        credentials: Some(WireCredentials::UserPassword {
            username: "alice".into(),
            password: "s3cret".into(),
        }),
        check_only: false,
    }
}

#[test]
fn commands_round_trip() {
    let cases = [
        Command::Start(Box::new(start())),
        Command::Start(Box::new(StartDownload {
            credentials: Some(WireCredentials::Token {
                token: "t0k".into(),
            }),
            relay: RelayTemplate::Direct,
            ..start()
        })),
        Command::Start(Box::new(StartDownload {
            credentials: None,
            ..start()
        })),
        Command::Start(Box::new(StartDownload {
            check_only: true,
            ..start()
        })),
        Command::Cancel { id: u64::MAX },
    ];
    for command in cases {
        let json = command.to_json();
        assert_eq!(
            Command::from_json(&json).expect("decode"),
            command,
            "{json}"
        );
    }
}

#[test]
fn start_has_a_readable_shape() {
    let json = Command::Start(Box::new(start())).to_json();
    let value: serde_json::Value = serde_json::from_str(&json).expect("json");
    let value = &value["start"];
    assert_eq!(value["reference"], "ghcr.io/homebrew/core/vim:9.0.1900");
    assert_eq!(value["digest"], digest().to_string());
    assert_eq!(value["size"], 3_000_000_000u64);
    assert_eq!(value["relay"], "/relay/{url}");
    assert!(value["credentials"]["user_password"].is_object());
}

#[test]
fn events_round_trip() {
    let other = Digest::sha256_of(b"tampered");
    let cases = [
        WorkerMessage::Ready {
            staging: StagingPath::Opfs,
        },
        WorkerMessage::Ready {
            staging: StagingPath::Memory {
                reason: "SecurityError: private window".into(),
                ceiling: 1 << 30,
            },
        },
        WorkerMessage::Crashed {
            message: "panicked at x".into(),
        },
        WorkerMessage::Event {
            event: DownloadEvent::Progress {
                id: 1,
                bytes: 5 << 30,
                total: 8 << 30,
            },
        },
        WorkerMessage::Event {
            event: DownloadEvent::Retrying {
                id: 1,
                attempt: 2,
                after_ms: 3_000,
                reason: "HTTP 503".into(),
            },
        },
        WorkerMessage::Event {
            event: DownloadEvent::Verified {
                id: 1,
                digest: digest(),
                size: 5,
                staged_name: staged_name(&digest()),
                file_name: "layer.tar.gz".into(),
            },
        },
        WorkerMessage::Event {
            event: DownloadEvent::Failed {
                id: 1,
                error: IoError::DigestMismatch {
                    expected: digest(),
                    actual: other,
                },
            },
        },
        WorkerMessage::Event {
            event: DownloadEvent::Cancelled { id: 1 },
        },
    ];
    for message in cases {
        let json = message.to_json();
        assert_eq!(
            WorkerMessage::from_json(&json).expect("decode"),
            message,
            "{json}"
        );
    }
}

#[test]
fn bad_messages_are_errors() {
    for json in [
        "",
        "{}",
        r#"{"start":{}}"#,
        r#"{"cancel":{"id":-1}}"#,
        r#"{"launch":{}}"#,
    ] {
        assert!(
            matches!(Command::from_json(json), Err(IoError::Browser { .. })),
            "{json}"
        );
    }
    let bad_digest = Command::Start(Box::new(start()))
        .to_json()
        .replace(&digest().to_string(), "sha256:abc");
    assert!(Command::from_json(&bad_digest).is_err());
    assert!(matches!(
        WorkerMessage::from_json("[1]"),
        Err(IoError::Browser { .. })
    ));
}

#[test]
fn event_ids_and_finality() {
    assert_eq!(DownloadEvent::Cancelled { id: 9 }.id(), 9);
    assert!(DownloadEvent::Cancelled { id: 9 }.is_final());
    let progress = DownloadEvent::Progress {
        id: 3,
        bytes: 1,
        total: 2,
    };
    assert_eq!(progress.id(), 3);
    assert!(!progress.is_final());
}

#[test]
fn credentials_never_print_and_convert_checked() {
    let wire = WireCredentials::UserPassword {
        username: "alice".into(),
        password: "s3cret".into(),
    };
    let shown = format!("{wire:?}");
    assert!(
        shown.contains("alice") && !shown.contains("s3cret"),
        "{shown}"
    );
    let token = WireCredentials::Token {
        token: "t0k".into(),
    };
    assert!(!format!("{token:?}").contains("t0k"));

    let creds = Credentials::try_from(&wire).expect("valid");
    assert_eq!(WireCredentials::from(&creds), wire);
    let bad = WireCredentials::UserPassword {
        username: "a:b".into(),
        password: "x".into(),
    };
    assert!(matches!(
        Credentials::try_from(&bad),
        Err(IoError::Protocol { .. })
    ));
}

#[test]
fn staged_names_are_plain_file_names() {
    let name = staged_name(&digest());
    assert_eq!(name, format!("sha256-{}.part", digest().hex()));
    assert!(!name.contains('/') && !name.contains(':'));
}

fn export() -> StartExport {
    StartExport {
        id: 9,
        reference: format!("localhost:5000/team/app:1@{}", digest())
            .parse()
            .expect("reference"),
        file_name: "app_1_linux-amd64.tar".into(),
        format: ExportFormat::Combined,
        staged_name: None,
        platforms: Vec::new(),
        relay: "/relay/{url}".parse().expect("relay"),
        credentials: None,
    }
}

#[test]
fn export_commands_and_events_round_trip() {
    let commands = [
        Command::Export(Box::new(export())),
        Command::Export(Box::new(StartExport {
            format: ExportFormat::Oci,
            credentials: Some(WireCredentials::Token {
                token: "t0k".into(),
            }),
            ..export()
        })),
        Command::Export(Box::new(StartExport {
            staged_name: Some("export-ab-archive-1.tar".into()),
            platforms: vec![digest(), Digest::sha256_of(b"arm64 manifest")],
            ..export()
        })),
    ];
    for command in commands {
        let json = command.to_json();
        assert_eq!(
            Command::from_json(&json).expect("decode"),
            command,
            "{json}"
        );
    }
    let value: serde_json::Value =
        serde_json::from_str(&Command::Export(Box::new(export())).to_json()).expect("json");
    let value = &value["export"];
    assert_eq!(value["format"], "combined");
    assert_eq!(
        value["reference"],
        format!("localhost:5000/team/app:1@{}", digest())
    );
    let event = WorkerMessage::Event {
        event: DownloadEvent::Exporting {
            id: 9,
            bytes: 3 << 30,
            total: 5 << 30,
            layer: 3,
            layers: 8,
            layer_bytes: 1 << 30,
            layer_size: 2 << 30,
        },
    };
    let json = event.to_json();
    assert_eq!(WorkerMessage::from_json(&json).expect("decode"), event);
    let WorkerMessage::Event { event } = event else {
        unreachable!()
    };
    assert_eq!(event.id(), 9);
    assert!(!event.is_final());
}

#[test]
fn export_staged_names_are_plain_and_unique_per_run() {
    let a = export_staged_name(&digest(), ExportFormat::Combined, 1_700_000_000_000);
    let b = export_staged_name(&digest(), ExportFormat::Combined, 1_700_000_000_001);
    let oci = export_staged_name(&digest(), ExportFormat::Oci, 1_700_000_000_000);
    assert_eq!(
        a,
        format!("export-{}-archive-1700000000000.tar", digest().hex())
    );
    assert_ne!(a, b);
    assert_ne!(a, oci);
    for name in [a, b, oci] {
        assert!(name.starts_with(EXPORT_PREFIX));
        assert!(!name.contains('/') && !name.contains(':'));
    }
}
