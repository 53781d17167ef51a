use super::*;
use crate::view::Remedy;

fn digest(byte: u8) -> Digest {
    Digest::sha256_of(&[byte])
}

fn started(state: State, name: &str, d: &Digest) -> State {
    state.apply(Action::DownloadStarted {
        file_name: name.into(),
        digest: d.clone(),
        size: 10,
        through: None,
    })
}

#[test]
fn a_check_through_another_relay_is_no_download_and_ends_checked() {
    let a = digest(1);
    let s = State::default().apply(Action::DownloadStarted {
        file_name: "a through r2".into(),
        digest: a.clone(),
        size: 10,
        through: Some("https://r2/{url}".into()),
    });
    assert!(!s.is_downloading(&a), "the Download button stays usable");
    let s = s.apply(Action::Checked { id: 0 });
    assert_eq!(s.downloads[&0].status, DownloadStatus::Checked);
    assert_eq!(s.downloads[&0].through.as_deref(), Some("https://r2/{url}"));
}

fn problem() -> Rc<Problem> {
    Rc::new(Problem {
        title: "t".into(),
        detail: "d".into(),
        remedy: Remedy::Tags,
    })
}

#[test]
fn downloads_get_increasing_ids_and_progress() {
    let a = digest(1);
    let s = started(State::default(), "a.tar.gz", &a);
    let s = started(s, "b.tar.gz", &digest(2));
    assert_eq!(s.downloads.keys().copied().collect::<Vec<_>>(), vec![0, 1]);
    assert!(s.is_downloading(&a));
    let s = s.apply(Action::Progress {
        id: 0,
        bytes: 5,
        rate: Some(1.0),
        note: None,
    });
    assert!(matches!(
        s.downloads[&0].status,
        DownloadStatus::Running { bytes: 5, .. }
    ));
    let s = s.apply(Action::Saved { id: 0 });
    assert_eq!(s.downloads[&0].status, DownloadStatus::Saved);
    assert!(!s.is_downloading(&a));
}

#[test]
fn late_progress_does_not_revive_finished_download() {
    let s = started(State::default(), "a", &digest(1)).apply(Action::Saved { id: 0 });
    let s = s.apply(Action::Progress {
        id: 0,
        bytes: 3,
        rate: None,
        note: None,
    });
    assert_eq!(s.downloads[&0].status, DownloadStatus::Saved);
    let s = s.apply(Action::Cancelled { id: 0 });
    assert_eq!(s.downloads[&0].status, DownloadStatus::Cancelled);
}

#[test]
fn unknown_download_ids_are_ignored() {
    let s = State::default().apply(Action::Saved { id: 7 });
    assert!(s.downloads.is_empty());
}

#[test]
fn failure_leaves_loading_and_keeps_input() {
    let r: Reference = "alpine".parse().unwrap();
    let s = State::default().apply(Action::Loading(r));
    assert!(matches!(s.view, View::Loading { .. }));
    assert_eq!(s.input, "docker.io/library/alpine:latest");
    let s = s.apply(Action::Failed(problem()));
    assert_eq!(s.view, View::Start);
    assert_eq!(s.input, "docker.io/library/alpine:latest");
    assert!(s.error.is_some());
    assert!(s.apply(Action::DismissError).error.is_none());
}

#[test]
fn tags_accumulate_over_pages() {
    let r: Reference = "alpine".parse().unwrap();
    let s = State::default().apply(Action::TagsStarted(r));
    let s = s.apply(Action::TagsLoaded {
        tags: vec!["a".into(), "b".into()],
        more: true,
    });
    let tags = |s: &State| match &s.view {
        View::Tags(view) => std::rc::Rc::clone(view),
        other => panic!("not tags: {other:?}"),
    };
    assert!(tags(&s).more, "More tags is offered");
    let s = s.apply(Action::TagsLoadingMore);
    assert!(
        !tags(&s).more && tags(&s).loading,
        "not twice while loading"
    );
    let s = s.apply(Action::TagsLoaded {
        tags: vec!["c".into()],
        more: false,
    });
    let view = tags(&s);
    assert_eq!(view.tags, ["a", "b", "c"]);
    assert!(!view.more);
    assert!(!view.loading);
}

#[test]
fn expected_digest_comparison() {
    let d = digest(9);
    let s = started(State::default(), "f", &d).apply(Action::Saved { id: 0 });
    let check = |s: &State, text: &str| {
        let s = s.clone().apply(Action::ExpectedDigest {
            id: 0,
            text: text.into(),
        });
        s.downloads[&0].expected_check()
    };
    assert_eq!(check(&s, ""), ExpectedCheck::Nothing);
    assert_eq!(check(&s, &d.to_string()), ExpectedCheck::Matches);
    assert_eq!(
        check(&s, &format!("  {}  ", d.hex().to_uppercase())),
        ExpectedCheck::Matches
    );
    assert_eq!(check(&s, &digest(8).to_string()), ExpectedCheck::Differs);
    assert!(matches!(check(&s, "sha256:xyz"), ExpectedCheck::Invalid(_)));
}

#[test]
fn expected_digest_waits_for_verification() {
    let d = digest(9);
    let s = started(State::default(), "f", &d).apply(Action::ExpectedDigest {
        id: 0,
        text: d.to_string(),
    });
    assert_eq!(s.downloads[&0].expected_check(), ExpectedCheck::Nothing);
}

#[test]
fn sha256sum_line_has_two_spaces() {
    let d = digest(1);
    let s = started(State::default(), "vim--9.0.1900.big_sur.bottle.tar.gz", &d);
    assert_eq!(
        s.downloads[&0].sha256sum_line(),
        format!("{}  vim--9.0.1900.big_sur.bottle.tar.gz", d.hex())
    );
}

#[test]
fn clear_finished_keeps_running() {
    let s = started(State::default(), "a", &digest(1));
    let s = started(s, "b", &digest(2)).apply(Action::Saved { id: 1 });
    let s = s.apply(Action::ClearFinished);
    assert_eq!(s.downloads.keys().copied().collect::<Vec<_>>(), vec![0]);
}

#[test]
fn reset_returns_to_the_start_view_and_keeps_downloads() {
    let r: Reference = "alpine".parse().unwrap();
    let s = started(State::default(), "a", &digest(1)).apply(Action::Loading(r));
    let s = s
        .apply(Action::Failed(problem()))
        .apply(Action::InputError("bad".into()));
    let s = s.apply(Action::Reset);
    assert_eq!(s.view, View::Start);
    assert_eq!(s.input, "");
    assert!(s.error.is_none() && s.input_error.is_none());
    assert_eq!(s.downloads.len(), 1, "downloads stay listed");
}

#[test]
fn an_export_tracks_layers_then_takes_the_tars_digest() {
    let manifest = digest(7);
    let s = started(State::default(), "blob.tar.gz", &digest(1));
    let s = s.apply(Action::ExportStarted {
        file_name: "app_1_linux-amd64.tar".into(),
        manifest: manifest.clone(),
    });
    assert!(s.is_exporting(&manifest));
    assert!(
        !s.is_downloading(&manifest),
        "an export is not a blob download"
    );
    assert_eq!(s.downloads[&1].size, 0, "size unknown until planned");
    let layer = LayerProgress {
        layer: 3,
        layers: 8,
        bytes: 40,
        size: 100,
    };
    let s = s.apply(Action::ExportProgress {
        id: 1,
        bytes: 500,
        total: 2_000,
        layer,
        rate: None,
    });
    let d = &s.downloads[&1];
    assert_eq!(d.size, 2_000);
    assert_eq!(d.export.as_ref().map(|e| e.layer), Some(layer));
    assert!(matches!(
        d.status,
        DownloadStatus::Running { bytes: 500, .. }
    ));
    // A blob download ignores export progress and verified digests.
    let s = s.apply(Action::ExportProgress {
        id: 0,
        bytes: 9,
        total: 9,
        layer,
        rate: None,
    });
    let s = s.apply(Action::ExportVerified {
        id: 0,
        digest: digest(9),
        size: 1,
    });
    assert_eq!(s.downloads[&0].digest, digest(1));
    assert_eq!(s.downloads[&0].size, 10);

    let tar = digest(8);
    let s = s.apply(Action::ExportVerified {
        id: 1,
        digest: tar.clone(),
        size: 2_000,
    });
    let s = s.apply(Action::Saved { id: 1 });
    assert_eq!(s.downloads[&1].digest, tar);
    assert!(!s.is_exporting(&manifest), "done");
    let s = s.apply(Action::ExpectedDigest {
        id: 1,
        text: tar.hex().to_owned(),
    });
    assert_eq!(s.downloads[&1].expected_check(), ExpectedCheck::Matches);
}

#[test]
fn a_failed_export_is_no_longer_running() {
    let manifest = digest(7);
    let s = State::default().apply(Action::ExportStarted {
        file_name: "x.tar".into(),
        manifest: manifest.clone(),
    });
    let s = s.apply(Action::DownloadFailed {
        id: 0,
        message: "relay refused".into(),
        actual: None,
    });
    assert!(!s.is_exporting(&manifest));
    let late = s.apply(Action::ExportProgress {
        id: 0,
        bytes: 1,
        total: 2,
        layer: LayerProgress::default(),
        rate: None,
    });
    assert!(matches!(
        late.downloads[&0].status,
        DownloadStatus::Failed { .. }
    ));
}

#[test]
fn a_linked_bottle_is_kept_until_the_address_changes() {
    let s = State::default().apply(Action::BottleLinked(Some("arm64_sonoma".into())));
    assert_eq!(s.linked_bottle.as_deref(), Some("arm64_sonoma"));
    assert!(s.downloads.is_empty(), "a link starts nothing");
    let r: Reference = "ghcr.io/homebrew/core/vim:9.0".parse().unwrap();
    let s = s.apply(Action::Loading(r));
    assert_eq!(s.linked_bottle.as_deref(), Some("arm64_sonoma"));
    assert_eq!(
        s.clone().apply(Action::BottleLinked(None)).linked_bottle,
        None
    );
    assert_eq!(s.apply(Action::Reset).linked_bottle, None);
}

#[test]
fn a_relay_check_belongs_to_its_view_and_a_disagreement_stops_saving() {
    use crate::view::{CheckOutcome, Looked, LookedKind, RelayCheck};
    let looked = |d: &Digest| {
        Rc::new(Looked {
            reference: "alpine:3".parse().unwrap(),
            digest: d.clone(),
            media_type: "application/vnd.oci.image.index.v1+json".into(),
            raw: Vec::new(),
            kind: LookedKind::Platforms(Vec::new()),
        })
    };
    let check = |ours: &Digest, outcome| RelayCheck {
        relay: "https://b.example/relay/{url}".into(),
        ours: ours.clone(),
        outcome,
    };
    let (mine, other) = (digest(1), digest(2));
    let s = State::default().apply(Action::Looked(looked(&mine)));
    let s = s.apply(Action::RelayChecked(check(&mine, CheckOutcome::Agree)));
    assert!(s.relay_check.is_some() && !s.relays_disagree());
    let lied = CheckOutcome::Disagree {
        theirs: other.clone(),
    };
    let s = s.apply(Action::RelayChecked(check(&mine, lied.clone())));
    assert!(s.relays_disagree());
    // An answer for another view is dropped; a new view starts unchecked.
    let s = s.apply(Action::Looked(looked(&other)));
    assert!(!s.relays_disagree());
    let s = s.apply(Action::RelayChecked(check(&mine, lied)));
    assert_eq!(s.relay_check, None);
}
