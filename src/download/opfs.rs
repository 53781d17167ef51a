//! Staging in the Origin Private File System.
//!
//! Downloads are written into `wharf-staging/` of the origin's private file system, named by
//! digest (`sha256-<hex>.part`), so that a download interrupted by closing the tab finds its
//! bytes again. The worker writes through a `FileSystemSyncAccessHandle` (synchronous, no
//! promise per write, only in dedicated workers); the page reads a finished file with
//! `getFile()` to hand it to the browser.

use js_sys::Promise;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

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

/// The staging folder.
#[derive(Debug, Clone)]
pub struct Staging {
    dir: web_sys::FileSystemDirectoryHandle,
}

async fn settle(promise: Promise, operation: &str) -> Result<wasm_bindgen::JsValue, IoError> {
    JsFuture::from(promise)
        .await
        .map_err(|e| js::storage(operation, &e))
}

impl Staging {
    /// Opens (creating it if needed) the staging folder.
    pub async fn open() -> Result<Staging, IoError> {
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
            dir: dir.unchecked_into(),
        })
    }

    async fn file_handle(
        &self,
        name: &str,
        create: bool,
    ) -> Result<web_sys::FileSystemFileHandle, IoError> {
        check_name(name)?;
        let options = web_sys::FileSystemGetFileOptions::new();
        options.set_create(create);
        let handle = settle(
            self.dir.get_file_handle_with_options(name, &options),
            "open a staged file",
        )
        .await?;
        Ok(handle.unchecked_into())
    }

    /// Opens `name` for synchronous reading and writing (dedicated workers only), creating it
    /// empty if needed; writes continue at its end. Only one handle per file can be open at a
    /// time: a second one fails (as [`IoError::Storage`]).
    pub async fn open_sync(&self, name: &str) -> Result<SyncFile, IoError> {
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
        Ok(SyncFile {
            handle,
            position: size as u64,
            closed: false,
        })
    }

    /// The staged file as a `File` (a snapshot the browser can download).
    pub async fn file(&self, name: &str) -> Result<web_sys::File, IoError> {
        let handle = self.file_handle(name, false).await?;
        let file = settle(handle.get_file(), "read a staged file").await?;
        Ok(file.unchecked_into())
    }

    /// Removes `name`; a file that is not there is no error.
    pub async fn remove(&self, name: &str) -> Result<(), IoError> {
        check_name(name)?;
        match JsFuture::from(self.dir.remove_entry(name)).await {
            Ok(_) => Ok(()),
            Err(e) if js::error_name(&e) == "NotFoundError" => Ok(()),
            Err(e) => Err(js::storage("remove a staged file", &e)),
        }
    }
}

impl Staging {
    /// The names of the files in the staging folder.
    pub async fn names(&self) -> Result<Vec<String>, IoError> {
        let keys = self.dir.keys();
        let mut names = Vec::new();
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
    /// never tried again). Files in use are skipped. Returns how many were removed.
    pub async fn sweep_stale(&self, max_age_ms: u64) -> Result<usize, IoError> {
        let now = js::now_ms() as f64;
        let mut removed = 0;
        for name in self.names().await? {
            let Ok(file) = self.file(&name).await else {
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

/// A staged file open for synchronous access. Closed on drop.
#[derive(Debug)]
pub struct SyncFile {
    handle: web_sys::FileSystemSyncAccessHandle,
    position: u64,
    closed: bool,
}

impl SyncFile {
    /// The file's current size (what an earlier, interrupted download left).
    pub fn size(&self) -> Result<u64, IoError> {
        self.handle
            .get_size()
            .map(|s| s as u64)
            .map_err(|e| js::storage("read the size of a staged file", &e))
    }

    /// Reads up to `buf.len()` bytes at `offset`; returns how many were read (0 at the end).
    pub fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize, IoError> {
        let options = web_sys::FileSystemReadWriteOptions::new();
        options.set_at(offset as f64);
        self.handle
            .read_with_u8_array_and_options(buf, &options)
            .map(|n| n as usize)
            .map_err(|e| js::storage("read a staged file", &e))
    }

    /// Writes all of `bytes` at `offset`, without moving [`Sink::position`].
    pub fn write_at(&self, offset: u64, bytes: &[u8]) -> Result<(), IoError> {
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

    /// Sets the file's length (growing it sparsely, or cutting it), keeping the position.
    pub fn set_len(&self, len: u64) -> Result<(), IoError> {
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
    pub fn flush(&self) -> Result<(), IoError> {
        self.handle
            .flush()
            .map_err(|e| js::storage("flush a staged file", &e))
    }

    /// Flushes and releases the file (so that the page can read it).
    pub fn close(mut self) -> Result<(), IoError> {
        let flushed = self.flush();
        self.handle.close();
        self.closed = true;
        flushed
    }
}

impl Sink for SyncFile {
    fn position(&self) -> u64 {
        self.position
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), IoError> {
        self.write_at(self.position, bytes)?;
        self.position += bytes.len() as u64;
        Ok(())
    }

    fn truncate(&mut self, len: u64) -> Result<(), IoError> {
        self.set_len(len)?;
        self.position = len;
        Ok(())
    }
}

impl Drop for SyncFile {
    fn drop(&mut self) {
        if !self.closed {
            self.handle.close();
        }
    }
}
