//! The tar layer: headers, padding, PAX records, big sizes, links.

use super::super::tarball::{padding, pax_record, TarBuilder};
use super::*;

#[test]
fn padding_fills_to_the_next_block() {
    let cases = [
        (0, 0),
        (1, 511),
        (511, 1),
        (512, 0),
        (513, 511),
        (1 << 33, 0),
        (1025, 511),
    ];
    for (size, expected) in cases {
        assert_eq!(padding(size), expected, "size {size}");
    }
}

#[test]
fn a_file_is_a_header_its_bytes_and_padding() {
    let mut tar = TarBuilder::new();
    tar.file("oci-layout", b"hello").unwrap();
    let archive = tar.finish();
    let [Segment::Bytes(bytes)] = archive.segments() else {
        panic!("expected one Bytes segment: {:?}", archive.segments());
    };
    assert_eq!(bytes.len(), 512 + 512 + 1024);
    assert_eq!(archive.total_size(), 2048);
    assert_eq!(&bytes[0..10], b"oci-layout");
    assert_eq!(&bytes[257..263], b"ustar\0", "ustar magic");
    assert_eq!(&bytes[263..265], b"00", "ustar version");
    assert_eq!(&bytes[512..517], b"hello");
    assert!(bytes[517..].iter().all(|&b| b == 0));
    // The checksum field holds the sum of the header bytes with the field itself as spaces.
    let sum: u32 = bytes[..512]
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            if (148..156).contains(&i) {
                32
            } else {
                u32::from(b)
            }
        })
        .sum();
    let field = std::str::from_utf8(&bytes[148..156]).unwrap();
    let digits = field.trim_end_matches(['\0', ' ']);
    assert_eq!(u32::from_str_radix(digits, 8).unwrap(), sum, "{field:?}");
    let entries = read_entries(bytes);
    assert_eq!(paths(&entries), ["oci-layout"]);
    assert_eq!(entries[0].content, b"hello");
    assert_well_formed(&archive, bytes, &entries);
}

#[test]
fn a_blob_is_a_placeholder_between_header_and_padding() {
    let digest = Digest::sha256_of(b"layer bytes");
    let mut tar = TarBuilder::new();
    tar.dir("blobs/").unwrap();
    tar.blob("blobs/sha256/x", &digest, 11).unwrap();
    tar.file("after", b"z").unwrap();
    let archive = tar.finish();
    let segments = archive.segments();
    assert_eq!(segments.len(), 3, "{segments:?}");
    assert_eq!(segments[0].len(), 1024, "dir header + blob header");
    assert_eq!(
        segments[1],
        Segment::Blob {
            digest: digest.clone(),
            size: 11
        }
    );
    assert_eq!(
        segments[2].len(),
        501 + 512 + 512 + 1024,
        "padding, file, end"
    );
    assert_eq!(archive.total_size(), 1024 + 11 + 501 + 1024 + 1024);
    assert_eq!(archive.blobs(), [(&digest, 11)]);
    let bytes = archive.write_to_vec(|_| b"layer bytes".to_vec()).unwrap();
    let entries = read_entries(&bytes);
    assert_eq!(paths(&entries), ["blobs/", "blobs/sha256/x", "after"]);
    assert_eq!(entries[0].kind, tar::EntryType::Directory);
    assert_eq!(entries[1].content, b"layer bytes");
    assert_well_formed(&archive, &bytes, &entries);
}

#[test]
fn long_paths_get_a_pax_record() {
    let long = format!("blobs/sha512/{}", "ab".repeat(64));
    assert!(long.len() > 100);
    let mut tar = TarBuilder::new();
    tar.file(&long, b"data").unwrap();
    tar.file("short", b"s").unwrap();
    let archive = tar.finish();
    let bytes = archive.write_to_vec(|_| Vec::new()).unwrap();
    let entries = read_entries(&bytes);
    assert_eq!(paths(&entries), [long.as_str(), "short"]);
    assert_eq!(entries[0].content, b"data");
    assert_eq!(archive.total_size(), bytes.len() as u64);
}

#[test]
fn pax_records_count_their_own_length() {
    for value_len in 0..1100 {
        let value = "v".repeat(value_len);
        let record = pax_record("path", &value);
        let text = String::from_utf8(record.clone()).unwrap();
        let (len, rest) = text.split_once(' ').unwrap();
        assert_eq!(
            len.parse::<usize>().unwrap(),
            record.len(),
            "value length {value_len}"
        );
        assert_eq!(rest, format!("path={value}\n"));
    }
}

#[test]
fn sizes_beyond_ustar_octal_use_base_256() {
    let size = 9 << 30; // 9 GiB: over ustar's 8 GiB octal limit
    let digest = Digest::sha256_of(b"big");
    let mut tar = TarBuilder::new();
    tar.blob("big", &digest, size).unwrap();
    let archive = tar.finish();
    let Segment::Bytes(header) = &archive.segments()[0] else {
        panic!("header first");
    };
    let header = tar::Header::from_byte_slice(&header[..512]);
    assert_eq!(header.entry_size().unwrap(), size);
    assert_eq!(header.as_old().size[0] & 0x80, 0x80, "base-256 marker");
    assert_eq!(archive.total_size(), 512 + size + padding(size) + 1024);
}

#[test]
fn hard_links_point_at_an_earlier_entry() {
    let mut tar = TarBuilder::new();
    tar.file("a/layer.tar", b"abc").unwrap();
    tar.hard_link("b/layer.tar", "a/layer.tar").unwrap();
    let archive = tar.finish();
    let bytes = archive.write_to_vec(|_| Vec::new()).unwrap();
    let entries = read_entries(&bytes);
    assert_eq!(entries[1].kind, tar::EntryType::Link);
    assert_eq!(entries[1].link.as_deref(), Some("a/layer.tar"));
    assert_eq!(entries[1].content, b"");
    assert_well_formed(&archive, &bytes, &entries);
}
