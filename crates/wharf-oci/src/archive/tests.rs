//! Tests of the archive writers. Outputs are read back with the `tar` crate's reader.

mod image;
mod index;
mod legacy;
mod tarball;

use std::collections::HashMap;
use std::io::Read;

use super::*;

/// One entry of a tar as read back.
#[derive(Debug, Clone)]
struct Entry {
    path: String,
    kind: tar::EntryType,
    mode: u32,
    mtime: u64,
    uid: u64,
    gid: u64,
    link: Option<String>,
    content: Vec<u8>,
}

/// Reads every entry of `tar_bytes` (PAX paths applied, checksums checked by the reader).
fn read_entries(tar_bytes: &[u8]) -> Vec<Entry> {
    let mut archive = tar::Archive::new(tar_bytes);
    let mut entries = Vec::new();
    for entry in archive.entries().expect("entries") {
        let mut entry = entry.expect("entry");
        let header = entry.header().clone();
        let path = String::from_utf8(entry.path_bytes().into_owned()).expect("utf-8 path");
        let link = entry
            .link_name_bytes()
            .map(|l| String::from_utf8(l.into_owned()).expect("utf-8 link"));
        let mut content = Vec::new();
        entry.read_to_end(&mut content).expect("content");
        entries.push(Entry {
            path,
            kind: header.entry_type(),
            mode: header.mode().expect("mode"),
            mtime: header.mtime().expect("mtime"),
            uid: header.uid().expect("uid"),
            gid: header.gid().expect("gid"),
            link,
            content,
        });
    }
    entries
}

fn paths(entries: &[Entry]) -> Vec<&str> {
    entries.iter().map(|e| e.path.as_str()).collect()
}

fn content<'a>(entries: &'a [Entry], path: &str) -> &'a [u8] {
    &entries
        .iter()
        .find(|e| e.path == path)
        .unwrap_or_else(|| panic!("no entry {path}"))
        .content
}

fn json(bytes: &[u8]) -> serde_json::Value {
    serde_json::from_slice(bytes).expect("JSON")
}

fn name(reference: &str) -> ImageName {
    ImageName::from_reference(&reference.parse().expect("reference"))
}

/// A blob store for `write_to_vec`.
fn store(blobs: &[Vec<u8>]) -> HashMap<Digest, Vec<u8>> {
    blobs
        .iter()
        .map(|b| (Digest::sha256_of(b), b.clone()))
        .collect()
}

fn fetch_from(store: &HashMap<Digest, Vec<u8>>) -> impl FnMut(&Digest) -> Vec<u8> + '_ {
    |digest| store.get(digest).cloned().unwrap_or_default()
}

/// Checks what every writer promises about its output.
fn assert_well_formed(archive: &Archive, bytes: &[u8], entries: &[Entry]) {
    assert_eq!(archive.total_size(), bytes.len() as u64);
    let from_segments: u64 = archive.segments().iter().map(Segment::len).sum();
    assert_eq!(from_segments, bytes.len() as u64);
    assert_eq!(bytes.len() % 512, 0);
    assert!(bytes.len() >= 1024);
    assert!(bytes[bytes.len() - 1024..].iter().all(|&b| b == 0));
    for entry in entries {
        let dir = entry.kind == tar::EntryType::Directory;
        assert_eq!(
            entry.mode,
            if dir { 0o755 } else { 0o644 },
            "{}",
            entry.path
        );
        assert_eq!(
            (entry.mtime, entry.uid, entry.gid),
            (0, 0, 0),
            "{}",
            entry.path
        );
    }
}

#[test]
fn image_names_follow_docker() {
    let cases = [
        (
            "alpine",
            "alpine",
            "docker.io/library/alpine",
            Some("latest"),
        ),
        (
            "alpine:3.20",
            "alpine",
            "docker.io/library/alpine",
            Some("3.20"),
        ),
        ("user/app:1", "user/app", "docker.io/user/app", Some("1")),
        (
            "library/a/b:1",
            "library/a/b",
            "docker.io/library/a/b",
            Some("1"),
        ),
        (
            "localhost:5000/test:1",
            "localhost:5000/test",
            "localhost:5000/test",
            Some("1"),
        ),
        ("ghcr.io/x/y:2", "ghcr.io/x/y", "ghcr.io/x/y", Some("2")),
    ];
    for (input, familiar, canonical, tag) in cases {
        let n = name(input);
        assert_eq!(n.familiar(), familiar, "{input}");
        assert_eq!(n.canonical(), canonical, "{input}");
        assert_eq!(n.tag(), tag, "{input}");
        assert_eq!(
            n.repo_tag(),
            tag.map(|t| format!("{familiar}:{t}")),
            "{input}"
        );
    }
    let pinned = format!("alpine@sha256:{}", "a".repeat(64));
    assert_eq!(name(&pinned).tag(), None);
    assert_eq!(name(&pinned).repo_tag(), None);
}

#[test]
fn segment_lengths() {
    let digest = Digest::sha256_of(b"x");
    assert_eq!(Segment::Bytes(vec![0; 7]).len(), 7);
    assert!(Segment::Bytes(Vec::new()).is_empty());
    assert_eq!(
        Segment::Blob {
            digest,
            size: 1 << 40
        }
        .len(),
        1 << 40
    );
}
