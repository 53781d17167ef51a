//! SHA-256 for `wasm32` with SIMD128, the hot loop of every download in the browser.
//!
//! Hand-written because the in-browser hash sets the pace of a download (docs/environment.md section 4) and
//! sha2's wasm32 backend runs ~12% slower in Chromium than this one (`cargo xtask bench`, item 1:
//! ~1.29x hash-wasm for sha2 0.11 vs ~1.44x here, same run). What makes the difference is how V8
//! compiles the scalar rounds, so the shape below is deliberate:
//! - Both dependency chains are 4 operations per round: `e' = d + h + kw + ch(e) + Σ1(e)` adds the
//!   early terms first and the `e`-dependent ones last, and `a' = e' - d + Σ0(a) + maj(a, b, c)`
//!   reuses `e'` instead of a separate `t1` (LLVM would otherwise add `d` after `Σ1`).
//! - The 64 rounds are unrolled with the state in named variables (no array to rotate).
//! - The message schedule runs in SIMD, four words at a time, next to the scalar rounds; the
//!   round constants are loaded from memory rather than built in registers.
//!
//! Tested against WebCrypto in the browser (`src/download/browser_tests/sha256.rs`); everywhere
//! else `Hasher` uses sha2.

use core::arch::wasm32::*;

const BLOCK: usize = 64;

const H0: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

/// The round constants, four per vector.
static K: [v128; 16] = [
    u32x4(0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5),
    u32x4(0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5),
    u32x4(0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3),
    u32x4(0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174),
    u32x4(0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc),
    u32x4(0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da),
    u32x4(0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7),
    u32x4(0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967),
    u32x4(0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13),
    u32x4(0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85),
    u32x4(0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3),
    u32x4(0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070),
    u32x4(0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5),
    u32x4(0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3),
    u32x4(0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208),
    u32x4(0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2),
];

/// A streaming SHA-256 (the same calls as `sha2::Sha256` that `Hasher` makes).
#[derive(Clone)]
pub struct Sha256 {
    state: [u32; 8],
    /// The start of an incomplete block; `buffered < BLOCK` between calls.
    buf: [u8; BLOCK],
    buffered: usize,
    /// Bytes hashed so far (the padding encodes it in bits, modulo 2^64 as the standard says).
    len: u64,
}

impl Default for Sha256 {
    fn default() -> Self {
        Sha256::new()
    }
}

impl Sha256 {
    pub fn new() -> Self {
        Sha256 {
            state: H0,
            buf: [0; BLOCK],
            buffered: 0,
            len: 0,
        }
    }

    pub fn update(&mut self, bytes: &[u8]) {
        self.len = self.len.wrapping_add(bytes.len() as u64);
        self.absorb(bytes);
    }

    /// The digest; padding as in FIPS 180-4 section 5.1.1.
    pub fn finalize(mut self) -> [u8; 32] {
        let bits = self.len.wrapping_mul(8);
        let mut pad = [0u8; BLOCK];
        pad[0] = 0x80;
        // 0x80, zeros, then the 8-byte length end the last block: 1..=64 bytes before the length.
        let pad_len = if self.buffered < BLOCK - 8 {
            BLOCK - 8 - self.buffered
        } else {
            2 * BLOCK - 8 - self.buffered
        };
        self.absorb(pad.get(..pad_len).unwrap_or(&pad));
        self.absorb(&bits.to_be_bytes());
        let mut out = [0u8; 32];
        for (bytes, word) in out.chunks_exact_mut(4).zip(self.state) {
            bytes.copy_from_slice(&word.to_be_bytes());
        }
        out
    }

    /// Hashes whole blocks straight from `bytes`; keeps the rest for the next call.
    fn absorb(&mut self, mut bytes: &[u8]) {
        if self.buffered > 0 {
            let free = self.buf.get_mut(self.buffered..).unwrap_or_default();
            let take = free.len().min(bytes.len());
            let (head, rest) = bytes.split_at(take);
            if let Some(dst) = free.get_mut(..take) {
                dst.copy_from_slice(head);
            }
            self.buffered += take;
            bytes = rest;
            if self.buffered < BLOCK {
                return;
            }
            compress(&mut self.state, core::slice::from_ref(&self.buf));
            self.buffered = 0;
        }
        let (blocks, tail) = bytes.as_chunks::<BLOCK>();
        compress(&mut self.state, blocks);
        if let Some(dst) = self.buf.get_mut(..tail.len()) {
            dst.copy_from_slice(tail);
            self.buffered = tail.len();
        }
    }
}

/// Round constants `4 * i .. 4 * i + 4`.
#[inline(always)]
fn k(i: usize) -> v128 {
    // A volatile read so that LLVM keeps a memory load: as a constant, V8 would rebuild each
    // vector from two 64-bit immediates (4 instructions instead of 1; ~2% slower).
    // SAFETY: `&K[i]` is a valid, aligned reference to a `v128` in a static; nothing writes it.
    unsafe { core::ptr::read_volatile(&K[i]) }
}

/// Message words `4 * i .. 4 * i + 4` of `block`, big-endian.
#[inline(always)]
fn load(block: &[u8; BLOCK], i: usize) -> v128 {
    // SAFETY: `i < 4` at every call, so the 16 bytes at `16 * i` are inside the 64-byte block;
    // `v128_load` has no alignment requirement.
    let v = unsafe { v128_load(block.as_ptr().add(16 * i).cast()) };
    i8x16_shuffle::<3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12>(v, v)
}

/// σ0 on four words: rotations by 7 and 18 as shift pairs, and a shift by 3.
#[inline(always)]
fn small_sigma0(x: v128) -> v128 {
    let r7 = v128_xor(u32x4_shr(x, 7), u32x4_shl(x, 25));
    let r18 = v128_xor(u32x4_shr(x, 18), u32x4_shl(x, 14));
    v128_xor(v128_xor(r7, r18), u32x4_shr(x, 3))
}

/// σ1 of lanes 0 and 2, given each 64-bit lane holding one word twice: a 64-bit shift by 17 (19)
/// leaves the 32-bit rotation in the low half.
#[inline(always)]
fn small_sigma1_doubled(v: v128) -> v128 {
    let rotations = v128_xor(u64x2_shr(v, 17), u64x2_shr(v, 19));
    v128_xor(rotations, u32x4_shr(v, 10))
}

/// `W[t..t + 4]` from `W[t - 16..t]` (four vectors, oldest first).
#[inline(always)]
fn schedule(x0: v128, x1: v128, x2: v128, x3: v128) -> v128 {
    let zero = u32x4_splat(0);
    let w15 = u32x4_shuffle::<1, 2, 3, 4>(x0, x1);
    let w7 = u32x4_shuffle::<1, 2, 3, 4>(x2, x3);
    let partial = u32x4_add(u32x4_add(x0, w7), small_sigma0(w15));
    // σ1 of W[t - 2], W[t - 1] completes lanes 0 and 1, which lanes 2 and 3 then need.
    let older = u32x4_shuffle::<2, 2, 3, 3>(x3, x3);
    let low = u32x4_add(
        partial,
        u32x4_shuffle::<0, 2, 4, 4>(small_sigma1_doubled(older), zero),
    );
    let newer = u32x4_shuffle::<0, 0, 1, 1>(low, low);
    u32x4_add(
        low,
        u32x4_shuffle::<4, 4, 0, 2>(small_sigma1_doubled(newer), zero),
    )
}

/// One round: `d` becomes the new `e`, `h` the new `a` (the callers rename the rest).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn round(a: u32, b: u32, c: u32, d: &mut u32, e: u32, f: u32, g: u32, h: &mut u32, kw: u32) {
    let ch = g ^ (e & (f ^ g));
    let maj = (a & (b ^ c)) ^ (b & c);
    let big_sigma1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
    let big_sigma0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
    let old_d = *d;
    let new_e = old_d
        .wrapping_add(*h)
        .wrapping_add(kw)
        .wrapping_add(ch)
        .wrapping_add(big_sigma1);
    *d = new_e;
    *h = new_e
        .wrapping_sub(old_d)
        .wrapping_add(big_sigma0)
        .wrapping_add(maj);
}

/// Four rounds with the words (plus constants) in `kw`.
macro_rules! four_rounds {
    ($kw:expr, $a:ident, $b:ident, $c:ident, $d:ident, $e:ident, $f:ident, $g:ident, $h:ident) => {
        let kw = $kw;
        let (k0, k1) = (u32x4_extract_lane::<0>(kw), u32x4_extract_lane::<1>(kw));
        let (k2, k3) = (u32x4_extract_lane::<2>(kw), u32x4_extract_lane::<3>(kw));
        round($a, $b, $c, &mut $d, $e, $f, $g, &mut $h, k0);
        round($h, $a, $b, &mut $c, $d, $e, $f, &mut $g, k1);
        round($g, $h, $a, &mut $b, $c, $d, $e, &mut $f, k2);
        round($f, $g, $h, &mut $a, $b, $c, $d, &mut $e, k3);
    };
}

/// Rounds `4 * i ..` on the words in `x0`; then `x0` becomes the words 16 rounds later (the last
/// four groups, marked `last`, need no more words).
macro_rules! group {
    (last $i:expr, $x0:ident,
     [$a:ident, $b:ident, $c:ident, $d:ident, $e:ident, $f:ident, $g:ident, $h:ident]) => {
        four_rounds!(u32x4_add($x0, k($i)), $a, $b, $c, $d, $e, $f, $g, $h);
    };
    ($i:expr, $x0:ident, $x1:ident, $x2:ident, $x3:ident,
     [$a:ident, $b:ident, $c:ident, $d:ident, $e:ident, $f:ident, $g:ident, $h:ident]) => {
        four_rounds!(u32x4_add($x0, k($i)), $a, $b, $c, $d, $e, $f, $g, $h);
        $x0 = schedule($x0, $x1, $x2, $x3);
    };
}

/// The SHA-256 compression function over consecutive blocks.
fn compress(state: &mut [u32; 8], blocks: &[[u8; BLOCK]]) {
    let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut h] = *state;
    for block in blocks {
        let start = [a, b, c, d, e, f, g, h];
        let (mut x0, mut x1, mut x2, mut x3) = (
            load(block, 0),
            load(block, 1),
            load(block, 2),
            load(block, 3),
        );
        // After four rounds the roles move by four letters: (e, f, g, h, a, b, c, d).
        group!(0, x0, x1, x2, x3, [a, b, c, d, e, f, g, h]);
        group!(1, x1, x2, x3, x0, [e, f, g, h, a, b, c, d]);
        group!(2, x2, x3, x0, x1, [a, b, c, d, e, f, g, h]);
        group!(3, x3, x0, x1, x2, [e, f, g, h, a, b, c, d]);
        group!(4, x0, x1, x2, x3, [a, b, c, d, e, f, g, h]);
        group!(5, x1, x2, x3, x0, [e, f, g, h, a, b, c, d]);
        group!(6, x2, x3, x0, x1, [a, b, c, d, e, f, g, h]);
        group!(7, x3, x0, x1, x2, [e, f, g, h, a, b, c, d]);
        group!(8, x0, x1, x2, x3, [a, b, c, d, e, f, g, h]);
        group!(9, x1, x2, x3, x0, [e, f, g, h, a, b, c, d]);
        group!(10, x2, x3, x0, x1, [a, b, c, d, e, f, g, h]);
        group!(11, x3, x0, x1, x2, [e, f, g, h, a, b, c, d]);
        group!(last 12, x0, [a, b, c, d, e, f, g, h]);
        group!(last 13, x1, [e, f, g, h, a, b, c, d]);
        group!(last 14, x2, [a, b, c, d, e, f, g, h]);
        group!(last 15, x3, [e, f, g, h, a, b, c, d]);
        let [sa, sb, sc, sd, se, sf, sg, sh] = start;
        a = a.wrapping_add(sa);
        b = b.wrapping_add(sb);
        c = c.wrapping_add(sc);
        d = d.wrapping_add(sd);
        e = e.wrapping_add(se);
        f = f.wrapping_add(sf);
        g = g.wrapping_add(sg);
        h = h.wrapping_add(sh);
    }
    *state = [a, b, c, d, e, f, g, h];
}
