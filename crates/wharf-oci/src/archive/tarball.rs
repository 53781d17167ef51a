//! Builds a tar as segments: headers and small files in memory, blobs as placeholders.
//!
//! Headers come from the `tar` crate's `Header` (pure in-memory formatting; it builds for
//! wasm32-unknown-unknown). Its `Builder` is not used: it wants the entry's body as a reader,
//! while our bodies are streamed later by the driver. Two things are written by hand here:
//! the POSIX PAX `path` record for paths longer than ustar's 100-byte name (only
//! `blobs/sha512/<128 hex>` needs one), and the zero padding.
//!
//! Every entry: mtime 0, uid/gid 0, no user/group names, mode 0644 (files) or 0755 (dirs).
//! Sizes of 8 GiB and more use the base-256 size field (read by Go's archive/tar, GNU tar,
//! libarchive and the `tar` crate).

use tar::{EntryType, Header};

use super::{Archive, Segment};
use crate::digest::Digest;
use crate::error::{Error, Result};

const BLOCK: u64 = 512;
const FILE_MODE: u32 = 0o644;
const DIR_MODE: u32 = 0o755;
/// The ustar `name` field; longer paths get a PAX `path` record.
const NAME_LEN: usize = 100;

/// Bytes of zero padding after `size` bytes of content, up to the next 512-byte block.
pub(super) fn padding(size: u64) -> u64 {
    (BLOCK - size % BLOCK) % BLOCK
}

/// Appends entries; [`TarBuilder::finish`] adds the two zero blocks that end a tar.
#[derive(Debug, Default)]
pub(super) struct TarBuilder {
    segments: Vec<Segment>,
    total: u64,
}

impl TarBuilder {
    pub(super) fn new() -> Self {
        Self::default()
    }

    /// A directory entry (`path` ends with `/`).
    pub(super) fn dir(&mut self, path: &str) -> Result<()> {
        let header = self.header(path, EntryType::Directory, DIR_MODE, 0)?;
        self.push_bytes(header.as_bytes());
        Ok(())
    }

    /// A regular file whose bytes are known now.
    pub(super) fn file(&mut self, path: &str, content: &[u8]) -> Result<()> {
        let size = content.len() as u64;
        let header = self.header(path, EntryType::Regular, FILE_MODE, size)?;
        self.push_bytes(header.as_bytes());
        self.push_bytes(content);
        self.pad(size);
        Ok(())
    }

    /// A regular file whose bytes are the blob `digest`, streamed by the driver.
    pub(super) fn blob(&mut self, path: &str, digest: &Digest, size: u64) -> Result<()> {
        let header = self.header(path, EntryType::Regular, FILE_MODE, size)?;
        self.push_bytes(header.as_bytes());
        self.total = self.total.checked_add(size).ok_or_else(too_large)?;
        self.segments.push(Segment::Blob {
            digest: digest.clone(),
            size,
        });
        self.pad(size);
        Ok(())
    }

    /// A hard link to an entry written earlier in this archive.
    pub(super) fn hard_link(&mut self, path: &str, target: &str) -> Result<()> {
        let mut header = self.header(path, EntryType::Link, FILE_MODE, 0)?;
        header
            .set_link_name(target)
            .map_err(|e| bad_path(target, &e))?;
        header.set_cksum();
        self.push_bytes(header.as_bytes());
        Ok(())
    }

    pub(super) fn finish(mut self) -> Archive {
        self.push_bytes(&[0; 2 * BLOCK as usize]);
        Archive {
            segments: self.segments,
            total_size: self.total,
        }
    }

    /// A header for `path`, preceded (in the output) by a PAX header when `path` is long.
    fn header(&mut self, path: &str, kind: EntryType, mode: u32, size: u64) -> Result<Header> {
        let mut header = Header::new_ustar();
        if path.len() > NAME_LEN {
            self.pax_path(path)?;
            // Readers that know PAX use the record; the ustar name is a truncated fallback.
            let name = &mut header.as_old_mut().name;
            let bytes = path.as_bytes();
            name.copy_from_slice(bytes.get(..NAME_LEN).unwrap_or(bytes));
        } else {
            header.set_path(path).map_err(|e| bad_path(path, &e))?;
        }
        header.set_entry_type(kind);
        header.set_mode(mode);
        header.set_size(size);
        header.set_mtime(0);
        header.set_uid(0);
        header.set_gid(0);
        header.set_cksum();
        Ok(header)
    }

    /// A PAX extended header (`x`) carrying `path=<path>` for the next entry.
    fn pax_path(&mut self, path: &str) -> Result<()> {
        let record = pax_record("path", path);
        let size = record.len() as u64;
        let mut header = Header::new_ustar();
        header
            .set_path("PaxHeader")
            .map_err(|e| bad_path(path, &e))?;
        header.set_entry_type(EntryType::XHeader);
        header.set_mode(FILE_MODE);
        header.set_size(size);
        header.set_mtime(0);
        header.set_uid(0);
        header.set_gid(0);
        header.set_cksum();
        self.push_bytes(header.as_bytes());
        self.push_bytes(&record);
        self.pad(size);
        Ok(())
    }

    fn pad(&mut self, size: u64) {
        let zeros = [0u8; BLOCK as usize];
        let len = usize::try_from(padding(size)).unwrap_or(0);
        self.push_bytes(zeros.get(..len).unwrap_or(&[]));
    }

    /// Appends to the last `Bytes` segment, so that small entries coalesce.
    fn push_bytes(&mut self, bytes: &[u8]) {
        self.total = self.total.saturating_add(bytes.len() as u64);
        match self.segments.last_mut() {
            Some(Segment::Bytes(last)) => last.extend_from_slice(bytes),
            _ => self.segments.push(Segment::Bytes(bytes.to_vec())),
        }
    }
}

/// `"<len> <key>=<value>\n"`, where `<len>` counts the whole record including itself.
pub(super) fn pax_record(key: &str, value: &str) -> Vec<u8> {
    let body = format!(" {key}={value}\n");
    let mut len = body.len() + 1;
    while len.to_string().len() + body.len() != len {
        len = len.to_string().len() + body.len();
    }
    format!("{len}{body}").into_bytes()
}

fn bad_path(path: &str, error: &std::io::Error) -> Error {
    Error::InvalidArchivePlan {
        reason: format!("cannot store path {path:?} in a tar header: {error}"),
    }
}

fn too_large() -> Error {
    Error::InvalidArchivePlan {
        reason: "the archive would be larger than 2^64 bytes".to_owned(),
    }
}
