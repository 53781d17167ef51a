//! Staging in the Origin Private File System.
//!
//! Downloads are written into `wharf-staging/` of the origin's private file system, named by
//! digest (`sha256-<hex>.part`), so that a download interrupted by closing the tab finds its
//! bytes again. The worker writes through a `FileSystemSyncAccessHandle` (synchronous, no
//! promise per write, only in dedicated workers); the page reads a finished file with
//! `getFile()` to hand it to the browser.
//!
//! Where the browser has no such file system (see [`staging_path`]), the same [`Staging`] and
//! [`SyncFile`] keep the bytes in memory instead ([`super::memory`]).

use std::cell::RefCell;

use js_sys::Promise;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use super::memory::{self, MemFile};
use super::protocol::StagingPath;
use crate::net::{js, IoError};

/// The staging folder, at the top of the origin's private file system.
pub const STAGING_DIR: &str = "wharf-staging";

/// Where a sequence of bytes is written: one blob, or an archive of many (issue 5).
pub trait Sink {
    /// The offset the next write lands at.
    fn position(&self) -> u64;
    /// Appends `bytes` at [`position`](Sink::position).
    fn write(&mut self, bytes: &[u8]) -> Result<(), IoError>;
    /// Cuts the content to `len` bytes and continues writing there (to restart a blob).
    fn truncate(&mut self, len: u64) -> Result<(), IoError>;
}

thread_local! {
    static PATH: RefCell<Option<StagingPath>> = const { RefCell::new(None) };
}

/// Where this page (or worker) stages downloads: found out once, by trying the file system.
pub async fn staging_path() -> StagingPath {
    if let Some(path) = PATH.with(|p| p.borrow().clone()) {
        return path;
    }
    let path = match detect().await {
        Ok(()) => StagingPath::Opfs,
        Err(reason) => StagingPath::Memory {
            reason,
            ceiling: memory::MEMORY_CEILING,
        },
    };
    choose_staging_path(path.clone());
    path
}

/// Stages by `path` from now on in this page or worker (tests force the other branch with it).
pub fn choose_staging_path(path: StagingPath) {
    PATH.with(|p| *p.borrow_mut() = Some(path));
}

/// Whether the origin private file system opens here, and (in a worker) has sync access
/// handles; the error is the reason it cannot be used, in words.
async fn detect() -> Result<(), String> {
    let storage = js::storage_manager().map_err(|e| e.to_string())?;
    JsFuture::from(storage.get_directory())
        .await
        .map_err(|e| js::error_text(&e))?;
    let global = js_sys::global();
    let has =
        |name: &str| js_sys::Reflect::get(&global, &name.into()).is_ok_and(|v| !v.is_undefined());
    if has("importScripts") && !has("FileSystemSyncAccessHandle") {
        return Err("this browser has no FileSystemSyncAccessHandle in workers".into());
    }
    Ok(())
}

/// The staging folder (`None`: staged in memory).
#[derive(Debug, Clone)]
pub struct Staging {
    dir: Option<web_sys::FileSystemDirectoryHandle>,
}

async fn settle(promise: Promise, operation: &str) -> Result<wasm_bindgen::JsValue, IoError> {
    JsFuture::from(promise)
        .await
        .map_err(|e| js::storage(operation, &e))
}

impl Staging {
    /// Opens (creating it if needed) the staging folder, or the memory store where the
    /// browser has no file system for it ([`staging_path`]).
    pub async fn open() -> Result<Staging, IoError> {
        if let StagingPath::Memory { .. } = staging_path().await {
            return Ok(Staging { dir: None });
        }
        let storage = js::storage_manager()?;
        let root = settle(storage.get_directory(), "open the private file system").await?;
        let root: web_sys::FileSystemDirectoryHandle = root.unchecked_into();
        let options = web_sys::FileSystemGetDirectoryOptions::new();
        options.set_create(true);
        let dir = settle(
            root.get_directory_handle_with_options(STAGING_DIR, &options),
            "open the staging folder",
        )
        .await?;
        Ok(Staging {
            dir: Some(dir.unchecked_into()),
        })
    }

    /// Whether files are kept in memory, not in the file system.
    pub fn in_memory(&self) -> bool {
        self.dir.is_none()
    }

    async fn file_handle(
        &self,
        name: &str,
        create: bool,
    ) -> Result<web_sys::FileSystemFileHandle, IoError> {
        check_name(name)?;
        let Some(dir) = &self.dir else {
            return Err(not_staged(name));
        };
        let options = web_sys::FileSystemGetFileOptions::new();
        options.set_create(create);
        let handle = settle(
            dir.get_file_handle_with_options(name, &options),
            "open a staged file",
        )
        .await?;
        Ok(handle.unchecked_into())
    }

    /// Opens `name` for synchronous reading and writing (dedicated workers only), creating it
    /// empty if needed; writes continue at its end. Only one handle per file can be open at a
    /// time: a second one fails (as [`IoError::Storage`]).
    pub async fn open_sync(&self, name: &str) -> Result<SyncFile, IoError> {
        if self.in_memory() {
            check_name(name)?;
            return memory::open(name).map(SyncFile::Memory);
        }
        let handle = self.file_handle(name, true).await?;
        let sync = JsFuture::from(handle.create_sync_access_handle())
            .await
            .map_err(|e| match js::error_name(&e).as_str() {
                "NoModificationAllowedError" => IoError::Storage {
                    operation: "lock a staged file".into(),
                    message: format!(
                        "{name} is open elsewhere (another download of the same blob?)"
                    ),
                },
                _ => js::storage("open a staged file for writing", &e),
            })?;
        let handle: web_sys::FileSystemSyncAccessHandle = sync.unchecked_into();
        let size = handle
            .get_size()
            .map_err(|e| js::storage("read the size of a staged file", &e))?;
        Ok(SyncFile::Opfs(OpfsFile {
            handle,
            position: size as u64,
            closed: false,
        }))
    }

    /// The staged file (a snapshot the browser can download): held in memory (what the worker
    /// handed over, see [`memory::hold`]) or in the folder.
    pub async fn file(&self, name: &str) -> Result<web_sys::Blob, IoError> {
        if let Some(blob) = memory::blob(name) {
            return Ok(blob);
        }
        Ok(self.opfs_file(name).await?.into())
    }

    async fn opfs_file(&self, name: &str) -> Result<web_sys::File, IoError> {
        let handle = self.file_handle(name, false).await?;
        let file = settle(handle.get_file(), "read a staged file").await?;
        Ok(file.unchecked_into())
    }

    /// Removes `name`; a file that is not there is no error.
    pub async fn remove(&self, name: &str) -> Result<(), IoError> {
        check_name(name)?;
        if !memory::remove(name) {
            return Err(IoError::Storage {
                operation: "remove a staged file".into(),
                message: format!("{name} is still being written"),
            });
        }
        let Some(dir) = &self.dir else {
            return Ok(());
        };
        match JsFuture::from(dir.remove_entry(name)).await {
            Ok(_) => Ok(()),
            Err(e) if js::error_name(&e) == "NotFoundError" => Ok(()),
            Err(e) => Err(js::storage("remove a staged file", &e)),
        }
    }
}

impl Staging {
    /// The names of the files in the staging folder.
    pub async fn names(&self) -> Result<Vec<String>, IoError> {
        let mut names = memory::names();
        let Some(dir) = &self.dir else {
            return Ok(names);
        };
        let keys = dir.keys();
        loop {
            let step = keys
                .next()
                .map_err(|e| js::storage("list the staging folder", &e))?;
            let result = settle(step, "list the staging folder").await?;
            let done = js_sys::Reflect::get(&result, &"done".into())
                .map_err(|e| js::storage("list the staging folder", &e))?;
            if done.is_truthy() {
                return Ok(names);
            }
            let value = js_sys::Reflect::get(&result, &"value".into())
                .map_err(|e| js::storage("list the staging folder", &e))?;
            names.extend(value.as_string());
        }
    }

    /// Removes staged files not modified for `max_age_ms` (downloads that failed and were
    /// never tried again). Files in use are skipped. Returns how many were removed. (Files
    /// in memory go with the tab.)
    pub async fn sweep_stale(&self, max_age_ms: u64) -> Result<usize, IoError> {
        let now = js::now_ms() as f64;
        let mut removed = 0;
        for name in self.names().await? {
            let Ok(file) = self.opfs_file(&name).await else {
                continue;
            };
            if now - file.last_modified() >= max_age_ms as f64 && self.remove(&name).await.is_ok() {
                removed += 1;
            }
        }
        Ok(removed)
    }
}

/// Staged names are plain file names chosen by wharf (`sha256-<hex>.part`, `<id>.tar.part`).
fn check_name(name: &str) -> Result<(), IoError> {
    let plain =
        !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\\', '\0']);
    if plain {
        Ok(())
    } else {
        Err(IoError::Storage {
            operation: "name a staged file".into(),
            message: format!("{name:?} is not a plain file name"),
        })
    }
}

/// What a file that is not staged says.
fn not_staged(name: &str) -> IoError {
    IoError::Storage {
        operation: "read a staged file".into(),
        message: format!("{name} is not staged (held in memory, it went with its tab)"),
    }
}

/// A staged file open for synchronous access: in the file system, or in memory.
#[derive(Debug)]
pub enum SyncFile {
    Opfs(OpfsFile),
    Memory(MemFile),
}

impl SyncFile {
    /// The file's current size (what an earlier, interrupted download left).
    pub fn size(&self) -> Result<u64, IoError> {
        match self {
            SyncFile::Opfs(f) => f.size(),
            SyncFile::Memory(f) => Ok(f.size()),
        }
    }

    /// Reads up to `buf.len()` bytes at `offset`; returns how many were read (0 at the end).
    pub fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<usize, IoError> {
        match self {
            SyncFile::Opfs(f) => f.read_at(offset, buf),
            SyncFile::Memory(f) => f.read_at(offset, buf),
        }
    }

    /// Sets the file's length (growing it sparsely, or cutting it), keeping the position. In
    /// memory, growing only checks the ceiling.
    pub fn set_len(&mut self, len: u64) -> Result<(), IoError> {
        match self {
            SyncFile::Opfs(f) => f.set_len(len),
            SyncFile::Memory(f) => f.set_len(len),
        }
    }

    /// Flushes and releases the file (so that the page can read it).
    pub fn close(self) -> Result<(), IoError> {
        match self {
            SyncFile::Opfs(f) => f.close(),
            SyncFile::Memory(f) => f.close(),
        }
    }
}

impl Sink for SyncFile {
    fn position(&self) -> u64 {
        match self {
            SyncFile::Opfs(f) => f.position,
            SyncFile::Memory(f) => f.size(),
        }
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), IoError> {
        match self {
            SyncFile::Opfs(f) => f.write(bytes),
            SyncFile::Memory(f) => f.append(bytes),
        }
    }

    fn truncate(&mut self, len: u64) -> Result<(), IoError> {
        self.set_len(len)?;
        if let SyncFile::Opfs(f) = self {
            f.position = len;
        }
        Ok(())
    }
}

/// A file in the staging folder open for synchronous access. Closed on drop.
#[derive(Debug)]
pub struct OpfsFile {
    handle: web_sys::FileSystemSyncAccessHandle,
    position: u64,
    closed: bool,
}

impl OpfsFile {
    fn size(&self) -> Result<u64, IoError> {
        self.handle
            .get_size()
            .map(|s| s as u64)
            .map_err(|e| js::storage("read the size of a staged file", &e))
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize, IoError> {
        let options = web_sys::FileSystemReadWriteOptions::new();
        options.set_at(offset as f64);
        self.handle
            .read_with_u8_array_and_options(buf, &options)
            .map(|n| n as usize)
            .map_err(|e| js::storage("read a staged file", &e))
    }

    /// Writes all of `bytes` at `offset`, without moving [`Sink::position`].
    fn write_at(&self, offset: u64, bytes: &[u8]) -> Result<(), IoError> {
        let options = web_sys::FileSystemReadWriteOptions::new();
        options.set_at(offset as f64);
        let written = self
            .handle
            .write_with_u8_array_and_options(bytes, &options)
            .map_err(|e| js::storage("write a staged file", &e))? as u64;
        if written != bytes.len() as u64 {
            return Err(IoError::Storage {
                operation: "write a staged file".into(),
                message: format!(
                    "wrote {written} of {} bytes (is the disk full?)",
                    bytes.len()
                ),
            });
        }
        Ok(())
    }

    fn set_len(&self, len: u64) -> Result<(), IoError> {
        self.handle.truncate_with_f64(len as f64).map_err(|e| {
            let mut error = js::storage("size a staged file", &e);
            if js::error_name(&e) == "QuotaExceededError" {
                error = IoError::Storage {
                    operation: "reserve space for a download".into(),
                    message: format!(
                        "the browser grants no room for {len} bytes (disk or quota full)"
                    ),
                };
            }
            error
        })
    }

    /// Persists what was written so far.
    fn flush(&self) -> Result<(), IoError> {
        self.handle
            .flush()
            .map_err(|e| js::storage("flush a staged file", &e))
    }

    fn close(mut self) -> Result<(), IoError> {
        let flushed = self.flush();
        self.handle.close();
        self.closed = true;
        flushed
    }
}

impl OpfsFile {
    fn write(&mut self, bytes: &[u8]) -> Result<(), IoError> {
        self.write_at(self.position, bytes)?;
        self.position += bytes.len() as u64;
        Ok(())
    }
}

impl Drop for OpfsFile {
    fn drop(&mut self) {
        if !self.closed {
            self.handle.close();
        }
    }
}
