//! Reading response bodies with flat memory.
//!
//! A BYOB ("bring your own buffer") reader fills one JS `ArrayBuffer` again and again: each read
//! transfers the buffer to the stream and hands it back filled, so no chunk is left for the
//! garbage collector (with a default reader Chromium's tab grew by hundreds of MiB per GiB, see
//! docs/environment.md section 5). The filled bytes are copied once into a reused Wasm buffer, where they are
//! hashed and written to storage. `read(view, {min})` asks the stream to fill the whole buffer
//! before answering, which keeps the per-chunk overhead low; browsers that ignore `min` just
//! answer with smaller chunks. Streams that are not byte streams fall back to a default reader.

use js_sys::{Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use super::js;
use super::IoError;

#[wasm_bindgen]
extern "C" {
    /// The same object as `web_sys::ReadableStreamByobReader`, for the `read(view, options)`
    /// overload (options: `{min}`) that web-sys lacks.
    #[wasm_bindgen(js_name = ReadableStreamBYOBReader)]
    type ByobReadWithOptions;

    #[wasm_bindgen(method, js_name = read)]
    fn read_with_options(
        this: &ByobReadWithOptions,
        view: &Uint8Array,
        options: &Object,
    ) -> Promise;
}

/// Default chunk size; see the throughput notes in the report of `download`.
pub const DEFAULT_CHUNK: usize = 1 << 20;

/// One JS buffer (lent to BYOB reads) and one Wasm buffer of the same capacity, reused for every
/// chunk of every body of a job.
pub struct ChunkBuffer {
    js: Option<js_sys::ArrayBuffer>,
    wasm: Vec<u8>,
}

impl ChunkBuffer {
    pub fn new(capacity: usize) -> Self {
        ChunkBuffer {
            js: None,
            wasm: vec![0; capacity.max(1)],
        }
    }

    pub fn capacity(&self) -> usize {
        self.wasm.len()
    }

    /// The Wasm side, e.g. to read a staged file back in chunks.
    pub fn wasm_mut(&mut self) -> &mut [u8] {
        &mut self.wasm
    }

    fn take_js(&mut self) -> js_sys::ArrayBuffer {
        match self.js.take() {
            Some(buffer) if buffer.byte_length() as usize == self.wasm.len() => buffer,
            _ => js_sys::ArrayBuffer::new(self.wasm.len() as u32),
        }
    }
}

enum Reader {
    Byob(web_sys::ReadableStreamByobReader),
    Default {
        reader: web_sys::ReadableStreamDefaultReader,
        /// The rest of a default-reader chunk larger than the buffer.
        pending: Option<(Uint8Array, u32)>,
    },
}

/// Reads one body into a [`ChunkBuffer`], chunk by chunk.
pub struct BodyReader<'b> {
    reader: Reader,
    buffer: &'b mut ChunkBuffer,
}

impl<'b> BodyReader<'b> {
    /// Locks `body` for reading: BYOB when it is a byte stream, else a default reader.
    pub fn new(
        body: &web_sys::ReadableStream,
        buffer: &'b mut ChunkBuffer,
    ) -> Result<Self, IoError> {
        let reader = match web_sys::ReadableStreamByobReader::new(body) {
            Ok(reader) => Reader::Byob(reader),
            Err(_) => Reader::Default {
                reader: web_sys::ReadableStreamDefaultReader::new(body)
                    .map_err(|e| js::browser("reading the response body", &e))?,
                pending: None,
            },
        };
        Ok(BodyReader { reader, buffer })
    }

    /// Whether the zero-garbage BYOB path is in use.
    pub fn is_byob(&self) -> bool {
        matches!(self.reader, Reader::Byob(_))
    }

    /// Reads the next chunk; `Ok(None)` at the end of the body. A rejection (network error,
    /// abort) is returned as the JS value.
    pub async fn next(&mut self) -> Result<Option<&[u8]>, JsValue> {
        let filled = match &mut self.reader {
            Reader::Byob(reader) => read_byob(reader, self.buffer).await?,
            Reader::Default { reader, pending } => {
                read_default(reader, pending, self.buffer).await?
            }
        };
        Ok(filled.and_then(|n| self.buffer.wasm.get(..n)))
    }

    /// Stops reading and releases the network connection.
    pub fn cancel(&self) {
        let promise = match &self.reader {
            Reader::Byob(r) => r.cancel(),
            Reader::Default { reader, .. } => reader.cancel(),
        };
        // Fire and forget: the outcome of a cancel is of no interest.
        drop(JsFuture::from(promise));
    }
}

async fn read_byob(
    reader: &web_sys::ReadableStreamByobReader,
    buffer: &mut ChunkBuffer,
) -> Result<Option<usize>, JsValue> {
    let js_buffer = buffer.take_js();
    let capacity = js_buffer.byte_length();
    let view = Uint8Array::new(&js_buffer);
    let options = Object::new();
    Reflect::set(
        &options,
        &JsValue::from_str("min"),
        &JsValue::from(capacity),
    )?;
    let reader: &ByobReadWithOptions = reader.unchecked_ref();
    let result = JsFuture::from(reader.read_with_options(&view, &options)).await?;
    let done = Reflect::get(&result, &JsValue::from_str("done"))?.is_truthy();
    let value = Reflect::get(&result, &JsValue::from_str("value"))?;
    let Some(filled) = value.dyn_ref::<Uint8Array>() else {
        // Cancelled streams answer `{value: undefined, done: true}`; the buffer is gone.
        return Ok(None);
    };
    // The stream hands the (transferred) buffer back inside `value`: keep it for the next read.
    buffer.js = Some(filled.buffer());
    let n = filled.length() as usize;
    if n > 0 {
        let target = buffer
            .wasm
            .get_mut(..n)
            .ok_or_else(|| JsValue::from_str("a BYOB read returned more than its buffer"))?;
        filled.copy_to(target);
    }
    if done && n == 0 {
        return Ok(None);
    }
    Ok(Some(n))
}

async fn read_default(
    reader: &web_sys::ReadableStreamDefaultReader,
    pending: &mut Option<(Uint8Array, u32)>,
    buffer: &mut ChunkBuffer,
) -> Result<Option<usize>, JsValue> {
    loop {
        if let Some((chunk, offset)) = pending.take() {
            let total = chunk.length();
            let n = (total - offset).min(buffer.wasm.len() as u32);
            let target = buffer
                .wasm
                .get_mut(..n as usize)
                .ok_or_else(|| JsValue::from_str("chunk buffer too small"))?;
            chunk.subarray(offset, offset + n).copy_to(target);
            if offset + n < total {
                *pending = Some((chunk, offset + n));
            }
            return Ok(Some(n as usize));
        }
        let result = JsFuture::from(reader.read()).await?;
        if Reflect::get(&result, &JsValue::from_str("done"))?.is_truthy() {
            return Ok(None);
        }
        let value = Reflect::get(&result, &JsValue::from_str("value"))?;
        let chunk: Uint8Array = value
            .dyn_into()
            .map_err(|_| JsValue::from_str("a body chunk that is not a Uint8Array"))?;
        if chunk.length() > 0 {
            *pending = Some((chunk, 0));
        }
    }
}

/// Reads a whole small body (manifest, tag list, token, error document), refusing more than
/// `limit` bytes.
pub async fn read_limited(response: &web_sys::Response, limit: u64) -> Result<Vec<u8>, IoError> {
    let unreadable = |e: &JsValue| IoError::Stream {
        message: js::error_text(e),
    };
    let Some(body) = response.body() else {
        return Ok(Vec::new());
    };
    let mut buffer = ChunkBuffer::new(64 * 1024);
    let mut reader = BodyReader::new(&body, &mut buffer)?;
    let mut out = Vec::new();
    while let Some(chunk) = reader.next().await.map_err(|e| unreadable(&e))? {
        if out.len() as u64 + chunk.len() as u64 > limit {
            reader.cancel();
            return Err(IoError::Stream {
                message: format!("the answer is larger than {limit} bytes"),
            });
        }
        out.extend_from_slice(chunk);
    }
    Ok(out)
}
