//! A cache of recent short Python strings for the JSON decoder.
//!
//! Dict keys repeat endlessly in Kubernetes objects (`metadata`, `name`, `labels`, ...), and so
//! do short values (`"True"`, `"Running"`, image names, policies). A new string costs an
//! allocation and a UTF-8 decode, and later a deallocation; a cached one costs a reference
//! count, and a key keeps its hash (computed by its first dict insert) for every later insert.
//! Sharing one `str` among many dicts is safe: a `str` is immutable.
//!
//! The cache is direct-mapped (as orjson's key cache is) and each slot is one 64-byte cache
//! line holding the string's bytes and the object, so a lookup touches one line of the table
//! and no other memory until the hit's reference count. (A first version kept the bytes in a
//! separate allocation per slot: in a 100,000-event watch, the pointer chase and the `memcmp`
//! behind it took 23% of the consumer's time by `perf`.)

use pyo3::prelude::*;
use pyo3::types::PyString;

use crate::py::text::str_of;

/// Bytes stored in a slot: longer strings are never cached (they rarely repeat).
pub const MAX_CACHED: usize = 55;

/// Slots in the table: a power of two (see [`slot_of`]); 128 KiB per decoding thread. (512
/// slots, 32 KiB, measured slower: more strings evict each other.)
const SLOTS: usize = 2048;

/// One cache line: the string (if any) and its UTF-8 bytes (the first `len`).
#[repr(C, align(64))]
struct Slot {
    obj: Option<Py<PyString>>,
    len: u8,
    bytes: [u8; MAX_CACHED],
}

// One slot, one cache line.
const _: () = assert!(std::mem::size_of::<Slot>() == 64);

/// The recent short strings of one thread.
pub struct StrCache {
    slots: Box<[Slot]>,
}

impl Default for StrCache {
    fn default() -> Self {
        StrCache {
            slots: (0..SLOTS)
                .map(|_| Slot {
                    obj: None,
                    len: 0,
                    bytes: [0; MAX_CACHED],
                })
                .collect(),
        }
    }
}

/// Two integers that, with the length, identify a string of up to 16 bytes and summarise a
/// longer one: its first and last 8 bytes (overlapping below 16), its first and last 4 below
/// 8, its first, middle and last byte below 4. Loads only, no `memcpy` call for short strings
/// (as wyhash reads its input).
#[inline]
fn ends(b: &[u8]) -> (u64, u64) {
    let n = b.len();
    let word = |i: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&b[i..i + 8]);
        u64::from_le_bytes(w)
    };
    let half = |i: usize| {
        let mut w = [0u8; 4];
        w.copy_from_slice(&b[i..i + 4]);
        u64::from(u32::from_le_bytes(w))
    };
    match n {
        8.. => (word(0), word(n - 8)),
        4..=7 => (half(0), half(n - 4)),
        1..=3 => {
            let (first, mid, last) = (b[0], b[n / 2], b[n - 1]);
            (
                u64::from(first) | u64::from(mid) << 8 | u64::from(last) << 16,
                0,
            )
        }
        0 => (0, 0),
    }
}

/// The slot of a string: a multiplicative hash of its length and its [`ends`] (the first and
/// last 8 bytes from 8 bytes up; a dozen instructions, where hashing every byte cost ~4 per
/// byte). Strings that differ only
/// in the middle share a slot and evict each other, which costs a miss, never a wrong string:
/// a hit compares all the bytes.
#[inline]
fn slot_of(n: usize, (head, tail): (u64, u64)) -> usize {
    let h = (head ^ tail.rotate_left(29) ^ (n as u64)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    // The top bits are the best mixed.
    (h >> (64 - SLOTS.trailing_zeros())) as usize
}

impl StrCache {
    /// The Python string for `s`: the cached one when `s` was seen recently, else a new one
    /// (cached when short).
    pub fn get<'py>(&mut self, py: Python<'py>, s: &str) -> Bound<'py, PyString> {
        let b = s.as_bytes();
        let n = b.len();
        if n > MAX_CACHED {
            return str_of(py, s);
        }
        let e = ends(b);
        let slot = &mut self.slots[slot_of(n, e)];
        if let Some(obj) = &slot.obj {
            let stored = &slot.bytes[..n];
            // The ends identify strings of up to 16 bytes; longer ones compare their middle too.
            if usize::from(slot.len) == n
                && ends(stored) == e
                && (n <= 16 || stored[8..n - 8] == b[8..n - 8])
            {
                return obj.bind(py).clone();
            }
        }
        let new = str_of(py, s);
        slot.obj = Some(new.clone().unbind());
        slot.len = n as u8;
        slot.bytes[..n].copy_from_slice(b);
        new
    }
}
