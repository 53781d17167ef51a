//! Staging in memory, for browsers that give the page no Origin Private File System: Firefox's
//! private windows and Tor Browser (`getDirectory()` answers `SecurityError`), or a browser
//! without `createSyncAccessHandle` in workers.
//!
//! A staged file is a list of `Blob` parts, each made from up to [`PART_BYTES`] written bytes
//! (the browser keeps a blob's bytes outside the Wasm memory, and may move large ones to disk).
//! The worker keeps them while it downloads; once a download is verified it hands the whole blob
//! to the page ([`take`] there, [`hold`] on the page), which saves it like a staged OPFS file.
//! Nothing survives the tab, so a download resumes only within it, and one file may not grow
//! beyond [`MEMORY_CEILING`] (the page says so before any byte is fetched).

use std::cell::RefCell;
use std::collections::BTreeMap;

use crate::net::{js, IoError};

/// The largest file staged in memory: 1 GiB.
pub const MEMORY_CEILING: u64 = 1 << 30;

/// Written bytes are gathered in Wasm memory up to this many, then become one `Blob` part.
const PART_BYTES: usize = 8 << 20;

enum Slot {
    /// Closed: the staged bytes.
    Held(web_sys::Blob),
    /// A [`MemFile`] has it open (a second open fails, as a locked OPFS file does).
    Open,
}

thread_local! {
    static FILES: RefCell<BTreeMap<String, Slot>> = const { RefCell::new(BTreeMap::new()) };
}

fn blob_error(operation: &str, e: &wasm_bindgen::JsValue) -> IoError {
    js::storage(operation, e)
}

/// Opens `name` for writing, creating it empty if needed; writes continue at its end.
pub fn open(name: &str) -> Result<MemFile, IoError> {
    FILES.with(|files| {
        let mut files = files.borrow_mut();
        let parts = match files.insert(name.to_owned(), Slot::Open) {
            Some(Slot::Open) => {
                return Err(IoError::Storage {
                    operation: "lock a staged file".into(),
                    message: format!(
                        "{name} is open elsewhere (another download of the same blob?)"
                    ),
                })
            }
            Some(Slot::Held(blob)) => vec![blob],
            None => Vec::new(),
        };
        let committed = parts.iter().map(|p| p.size() as u64).sum();
        Ok(MemFile {
            name: name.to_owned(),
            parts,
            committed,
            pending: Vec::new(),
            closed: false,
        })
    })
}

/// The staged bytes of a closed file.
pub fn blob(name: &str) -> Option<web_sys::Blob> {
    FILES.with(|files| match files.borrow().get(name) {
        Some(Slot::Held(blob)) => Some(blob.clone()),
        _ => None,
    })
}

/// Keeps `blob` under `name` (on the page: a verified file the worker handed over).
pub fn hold(name: &str, blob: web_sys::Blob) {
    FILES.with(|files| files.borrow_mut().insert(name.to_owned(), Slot::Held(blob)));
}

/// Removes a closed file and returns its bytes (the worker, handing a verified file over).
pub fn take(name: &str) -> Option<web_sys::Blob> {
    let blob = blob(name)?;
    FILES.with(|files| files.borrow_mut().remove(name));
    Some(blob)
}

/// Removes a closed file; an open one stays (as a locked OPFS file does). True if it is gone.
pub fn remove(name: &str) -> bool {
    FILES.with(|files| {
        let mut files = files.borrow_mut();
        match files.get(name) {
            Some(Slot::Open) => false,
            Some(Slot::Held(_)) => files.remove(name).is_some(),
            None => true,
        }
    })
}

/// The names of the files staged in memory.
pub fn names() -> Vec<String> {
    FILES.with(|files| files.borrow().keys().cloned().collect())
}

/// The error for a file that would grow beyond [`MEMORY_CEILING`].
fn too_large(size: u64) -> IoError {
    IoError::TooLargeForMemory {
        size,
        ceiling: MEMORY_CEILING,
    }
}

/// A file staged in memory, open for writing (see the module docs). Closed on drop.
pub struct MemFile {
    name: String,
    /// What was written before the bytes in `pending`, as blob parts.
    parts: Vec<web_sys::Blob>,
    /// The bytes in `parts`.
    committed: u64,
    pending: Vec<u8>,
    closed: bool,
}

impl std::fmt::Debug for MemFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemFile")
            .field("name", &self.name)
            .field("size", &self.size())
            .finish()
    }
}

impl MemFile {
    pub fn size(&self) -> u64 {
        self.committed + self.pending.len() as u64
    }

    /// Appends `bytes`; fails, keeping what is there, when the file would outgrow the ceiling.
    pub fn append(&mut self, bytes: &[u8]) -> Result<(), IoError> {
        let size = self.size() + bytes.len() as u64;
        if size > MEMORY_CEILING {
            return Err(too_large(size));
        }
        self.pending.extend_from_slice(bytes);
        if self.pending.len() >= PART_BYTES {
            self.commit()?;
        }
        Ok(())
    }

    /// Turns the pending bytes into a blob part.
    fn commit(&mut self) -> Result<(), IoError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        // The view is read by the Blob constructor, which copies it, before any allocation.
        let view = unsafe { js_sys::Uint8Array::view(&self.pending) };
        let part = web_sys::Blob::new_with_u8_array_sequence(&js_sys::Array::of1(&view))
            .map_err(|e| blob_error("keep downloaded bytes in memory", &e))?;
        self.parts.push(part);
        self.committed += self.pending.len() as u64;
        self.pending.clear();
        Ok(())
    }

    /// Everything written, as one blob.
    fn whole(&mut self) -> Result<web_sys::Blob, IoError> {
        self.commit()?;
        let parts: js_sys::Array = self.parts.iter().collect();
        web_sys::Blob::new_with_blob_sequence(&parts)
            .map_err(|e| blob_error("join downloaded bytes", &e))
    }

    /// Reads up to `buf.len()` bytes at `offset` (workers only: `FileReaderSync`); returns how
    /// many were read (0 at the end).
    pub fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<usize, IoError> {
        let end = self.size().min(offset.saturating_add(buf.len() as u64));
        if offset >= end {
            return Ok(0);
        }
        let slice = self
            .whole()?
            .slice_with_f64_and_f64(offset as f64, end as f64)
            .map_err(|e| blob_error("read staged bytes", &e))?;
        let reader =
            web_sys::FileReaderSync::new().map_err(|e| blob_error("read staged bytes", &e))?;
        let bytes = reader
            .read_as_array_buffer(&slice)
            .map_err(|e| blob_error("read staged bytes", &e))?;
        let bytes = js_sys::Uint8Array::new(&bytes);
        let n = (bytes.length() as usize).min(buf.len());
        bytes.subarray(0, n as u32).copy_to(&mut buf[..n]);
        Ok(n)
    }

    /// Cuts the file to `len` bytes. Growing it only checks the ceiling (nothing is reserved:
    /// memory is not asked for ahead of the bytes).
    pub fn set_len(&mut self, len: u64) -> Result<(), IoError> {
        if len > MEMORY_CEILING {
            return Err(too_large(len));
        }
        if len >= self.size() {
            return Ok(());
        }
        let cut = self
            .whole()?
            .slice_with_f64_and_f64(0.0, len as f64)
            .map_err(|e| blob_error("cut staged bytes", &e))?;
        self.parts = vec![cut];
        self.committed = len;
        Ok(())
    }

    /// Ends writing: the bytes are held under the file's name.
    pub fn close(mut self) -> Result<(), IoError> {
        self.closed = true;
        self.release()
    }

    /// Holds what was written under the file's name (what could not become a blob is lost, and
    /// the error says so); an empty file is not kept.
    fn release(&mut self) -> Result<(), IoError> {
        let committed = self.commit();
        let parts: js_sys::Array = self.parts.iter().collect();
        match web_sys::Blob::new_with_blob_sequence(&parts) {
            // An empty file is no earlier run worth keeping (e.g. one refused by the ceiling).
            Ok(blob) if blob.size() > 0.0 => hold(&self.name, blob),
            _ => {
                FILES.with(|files| files.borrow_mut().remove(&self.name));
            }
        }
        committed
    }
}

impl Drop for MemFile {
    fn drop(&mut self) {
        if !self.closed {
            // Best effort, as dropping an OPFS handle keeps what was flushed.
            let _ = self.release();
        }
    }
}
