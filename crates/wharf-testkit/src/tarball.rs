//! Deterministic gzip tarballs for layers and bottles (same input, same bytes, same digest).

use std::io::Write as _;

use flate2::write::GzEncoder;
use flate2::Compression;
use wharf_oci::Digest;

use crate::error::{Error, Result};

/// A gzip-compressed tar of `files` (path, contents) and the sha256 of the uncompressed tar
/// (the layer's `diff_id`). Entries have mode 0644 (0755 below `bin/`), owner 0, mtime 0.
pub fn gzip_tar(files: &[(String, Vec<u8>)]) -> Result<(Vec<u8>, Digest)> {
    let mut builder = tar::Builder::new(Vec::new());
    for (path, contents) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(contents.len() as u64);
        header.set_mode(if path.contains("bin/") { 0o755 } else { 0o644 });
        header.set_mtime(0);
        header.set_uid(0);
        header.set_gid(0);
        header.set_entry_type(tar::EntryType::Regular);
        builder
            .append_data(&mut header, path, contents.as_slice())
            .map_err(Error::io(format!("adding {path} to a tar")))?;
    }
    let tar = builder.into_inner().map_err(Error::io("finishing a tar"))?;
    let diff_id = Digest::sha256_of(&tar);
    Ok((gzip(&tar)?, diff_id))
}

/// gzip with a zero mtime and no file name, so output depends on input only.
pub fn gzip(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(bytes).map_err(Error::io("gzipping"))?;
    encoder.finish().map_err(Error::io("finishing gzip"))
}

#[cfg(test)]
mod tests {
    use std::io::Read as _;

    use super::*;

    #[test]
    fn tarballs_are_deterministic_and_readable() {
        let files = vec![
            ("bin/x".to_owned(), b"hello".to_vec()),
            ("etc/y".to_owned(), vec![]),
        ];
        let (a, diff_a) = gzip_tar(&files).unwrap();
        let (b, diff_b) = gzip_tar(&files).unwrap();
        assert_eq!(a, b);
        assert_eq!(diff_a, diff_b);
        let mut tar = Vec::new();
        flate2::read::GzDecoder::new(a.as_slice())
            .read_to_end(&mut tar)
            .unwrap();
        assert_eq!(Digest::sha256_of(&tar), diff_a);
        let mut archive = tar::Archive::new(tar.as_slice());
        let names: Vec<String> = archive
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["bin/x", "etc/y"]);
    }
}
