//! Bytes to Python `str`, with a fast path for ASCII.
//!
//! CPython's UTF-8 decoder checks a string for ASCII a byte at a time until the source is
//! 8-byte aligned, then copies it; log lines and JSON strings start anywhere in a read buffer.
//! [`is_ascii`] here checks a word at a time at any alignment, and an ASCII `str` is then made
//! with `PyUnicode_New` and one copy. This is why the module is built against the full CPython
//! API rather than the stable ABI (abi3): `PyUnicode_New` and the data pointer are not in it.

use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::PyString;

/// Whether every byte is below 0x80: eight bytes per load at any alignment, with no early exit
/// (the strings are short and nearly always ASCII). `<[u8]>::is_ascii` measured slower here
/// than CPython's own check (about 183 instructions for a 100-byte line under callgrind).
#[inline]
fn is_ascii(b: &[u8]) -> bool {
    let mut words = b.chunks_exact(8);
    let mut any = 0u64;
    for w in &mut words {
        let mut x = [0u8; 8];
        x.copy_from_slice(w);
        any |= u64::from_le_bytes(x);
    }
    for &x in words.remainder() {
        any |= u64::from(x);
    }
    any & 0x8080_8080_8080_8080 == 0
}

/// A new ASCII `str` holding `b` (all bytes below 0x80).
fn ascii<'py>(py: Python<'py>, b: &[u8]) -> PyResult<Bound<'py, PyString>> {
    debug_assert!(is_ascii(b));
    let len = ffi::Py_ssize_t::try_from(b.len())
        .map_err(|_| pyo3::exceptions::PyValueError::new_err("a string is too long"))?;
    // SAFETY: PyUnicode_New(len, 127) returns a new compact ASCII string with room for `len`
    // bytes at PyUnicode_1BYTE_DATA (or NULL with an exception set); the copy fills exactly
    // that room before the object is seen by anyone else.
    unsafe {
        let o = ffi::PyUnicode_New(len, 127);
        if o.is_null() {
            return Err(PyErr::fetch(py));
        }
        std::ptr::copy_nonoverlapping(b.as_ptr(), ffi::PyUnicode_1BYTE_DATA(o), b.len());
        Ok(Bound::from_owned_ptr(py, o).cast_into_unchecked())
    }
}

/// `s` as a Python `str`.
pub fn str_of<'py>(py: Python<'py>, s: &str) -> Bound<'py, PyString> {
    if is_ascii(s.as_bytes())
        && let Ok(o) = ascii(py, s.as_bytes())
    {
        return o;
    }
    PyString::new(py, s)
}

/// Bytes that should be UTF-8 as a Python `str`: invalid sequences become U+FFFD, so text
/// never fails to decode.
pub fn lossy<'py>(py: Python<'py>, b: &[u8]) -> PyResult<Bound<'py, PyAny>> {
    if is_ascii(b) {
        return ascii(py, b).map(Bound::into_any);
    }
    let len = ffi::Py_ssize_t::try_from(b.len())
        .map_err(|_| pyo3::exceptions::PyValueError::new_err("a string is too long"))?;
    // SAFETY: a valid pointer/length pair and a static NUL-terminated error handler name;
    // the result is a new reference or NULL with a Python error set.
    unsafe {
        let o = ffi::PyUnicode_DecodeUTF8(b.as_ptr().cast(), len, c"replace".as_ptr());
        Bound::from_owned_ptr_or_err(py, o)
    }
}
