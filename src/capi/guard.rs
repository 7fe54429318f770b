//! The panic boundary and the argument helpers every extern function uses.

use std::ffi::{CStr, CString, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::capi::error::incluster_error;
use crate::capi::result::incluster_result;
use crate::core::error::Error;

/// Why a C call failed before or inside the core.
pub(crate) enum Failure {
    /// A required pointer was NULL; names the parameter.
    Null(&'static str),
    /// A string was not UTF-8; names the parameter.
    Utf8(&'static str),
    /// The core failed.
    Core(Error),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Core(e)
    }
}

fn store(err: *mut *mut incluster_error, e: incluster_error) {
    if !err.is_null() {
        // SAFETY: the caller passed NULL or a writable `incluster_error **`.
        unsafe { *err = Box::into_raw(Box::new(e)) };
    }
}

/// Run `f` inside the panic boundary and turn its outcome into a result code, writing the
/// details to `*err` (when `err` is not NULL) on failure. `*err` is set to NULL on success so a
/// caller can always free it.
pub(crate) fn guard<F>(err: *mut *mut incluster_error, f: F) -> incluster_result
where
    F: FnOnce() -> Result<(), Failure>,
{
    if !err.is_null() {
        // SAFETY: as in `store`.
        unsafe { *err = std::ptr::null_mut() };
    }
    let outcome = catch_unwind(AssertUnwindSafe(f));
    let e = match outcome {
        Ok(Ok(())) => return incluster_result::INCLUSTER_OK,
        Ok(Err(Failure::Null(name))) => incluster_error::plain(
            incluster_result::INCLUSTER_ERR_NULL_ARGUMENT,
            &format!("argument `{name}` must not be NULL"),
        ),
        Ok(Err(Failure::Utf8(name))) => incluster_error::plain(
            incluster_result::INCLUSTER_ERR_INVALID_UTF8,
            &format!("argument `{name}` is not valid UTF-8"),
        ),
        Ok(Err(Failure::Core(e))) => incluster_error::from_core(&e),
        Err(_) => incluster_error::plain(
            incluster_result::INCLUSTER_ERR_PANIC,
            "internal error: a panic was caught at the C boundary (please report this bug)",
        ),
    };
    let code = e.code;
    store(err, e);
    code
}

/// Run an infallible accessor inside the panic boundary; `fallback` if it panics.
pub(crate) fn guard_value<T, F: FnOnce() -> T>(fallback: T, f: F) -> T {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(fallback)
}

/// A required NUL-terminated UTF-8 string argument.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string that outlives `'a`.
pub(crate) unsafe fn req_str<'a>(p: *const c_char, name: &'static str) -> Result<&'a str, Failure> {
    if p.is_null() {
        return Err(Failure::Null(name));
    }
    // SAFETY: non-NULL and NUL-terminated per the caller's contract.
    unsafe { CStr::from_ptr(p) }
        .to_str()
        .map_err(|_| Failure::Utf8(name))
}

/// An optional string argument: NULL gives `None`.
///
/// # Safety
/// As for [`req_str`].
pub(crate) unsafe fn opt_str<'a>(
    p: *const c_char,
    name: &'static str,
) -> Result<Option<&'a str>, Failure> {
    if p.is_null() {
        Ok(None)
    } else {
        // SAFETY: forwarded contract.
        unsafe { req_str(p, name) }.map(Some)
    }
}

/// A required out-pointer.
pub(crate) fn req_out<T>(p: *mut *mut T, name: &'static str) -> Result<(), Failure> {
    if p.is_null() {
        Err(Failure::Null(name))
    } else {
        Ok(())
    }
}

/// A byte buffer argument: NULL is allowed only with length 0.
///
/// # Safety
/// `p` is NULL or points to `len` readable bytes that outlive `'a`.
pub(crate) unsafe fn bytes<'a>(
    p: *const u8,
    len: usize,
    name: &'static str,
) -> Result<&'a [u8], Failure> {
    if p.is_null() {
        return if len == 0 {
            Ok(&[])
        } else {
            Err(Failure::Null(name))
        };
    }
    if len > isize::MAX as usize {
        return Err(Failure::Core(Error::invalid(format!(
            "argument `{name}` has an impossible length {len}"
        ))));
    }
    // SAFETY: non-NULL, `len` readable bytes per the caller's contract.
    Ok(unsafe { std::slice::from_raw_parts(p, len) })
}

/// Read a NULL-terminated `{"key", "value", ..., NULL}` array of string pairs (query
/// parameters, watch and log options). `what` names the argument in errors.
///
/// # Safety
/// `pairs` is NULL (no pairs) or a NULL-terminated array of NUL-terminated strings that
/// outlive `'a`.
pub(crate) unsafe fn read_pairs<'a>(
    pairs: *const *const c_char,
    what: &'static str,
) -> Result<Vec<(&'a str, &'a str)>, Failure> {
    let mut out = Vec::new();
    if pairs.is_null() {
        return Ok(out);
    }
    let mut i = 0;
    loop {
        // SAFETY: NULL-terminated per the contract, so index i is readable.
        let k = unsafe { *pairs.add(i) };
        if k.is_null() {
            return Ok(out);
        }
        // SAFETY: a key is never the terminator, so i + 1 is in bounds.
        let v = unsafe { *pairs.add(i + 1) };
        if v.is_null() {
            return Err(Error::invalid(format!(
                "{what}: key #{} has no value before the terminating NULL",
                i / 2 + 1
            ))
            .into());
        }
        // SAFETY: NUL-terminated strings per the contract.
        out.push(unsafe { (req_str(k, what)?, req_str(v, what)?) });
        i += 2;
    }
}

/// A C string from Rust text; an interior NUL (never expected) is replaced by U+FFFD.
pub(crate) fn cstring_lossy(s: &str) -> CString {
    CString::new(s)
        .unwrap_or_else(|_| CString::new(s.replace('\0', "\u{fffd}")).unwrap_or_default())
}

/// Move `value` into a box and hand its pointer to C through `out`.
pub(crate) fn give<T>(out: *mut *mut T, value: T) {
    // SAFETY: `out` was checked non-NULL by `req_out` before the work started.
    unsafe { *out = Box::into_raw(Box::new(value)) };
}

/// State of a stream handle that one call at a time may use: a re-entrant call (a callback
/// calling `_next` on its own stream) is refused instead of aliasing the state. Calls reach
/// the handle through a shared reference, and the state only through this cell, so no second
/// `&mut` to it can ever exist.
pub(crate) struct Exclusive<T> {
    busy: std::sync::atomic::AtomicBool,
    value: std::cell::UnsafeCell<T>,
}

impl<T> Exclusive<T> {
    pub(crate) fn new(value: T) -> Self {
        Exclusive {
            busy: std::sync::atomic::AtomicBool::new(false),
            value: std::cell::UnsafeCell::new(value),
        }
    }

    /// Run `f` with the state, or fail if another call is using it.
    pub(crate) fn with<R>(
        &self,
        what: &'static str,
        f: impl FnOnce(&mut T) -> Result<R, Failure>,
    ) -> Result<R, Failure> {
        use std::sync::atomic::Ordering;
        if self.busy.swap(true, Ordering::Acquire) {
            return Err(Error::invalid(format!(
                "the {what} is already in use (a callback may not call _next or _run on its \
                 own {what})"
            ))
            .into());
        }
        /// Clears the flag however `f` ends (a panic is caught at the boundary).
        struct Release<'a>(&'a std::sync::atomic::AtomicBool);
        impl Drop for Release<'_> {
            fn drop(&mut self) {
                self.0.store(false, std::sync::atomic::Ordering::Release);
            }
        }
        let _release = Release(&self.busy);
        // SAFETY: the flag above guarantees this is the only live reference to the value.
        f(unsafe { &mut *self.value.get() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_a_result_code_not_an_unwind() {
        let mut err: *mut incluster_error = std::ptr::null_mut();
        let rc = guard(&mut err, || panic!("boom"));
        assert_eq!(rc, incluster_result::INCLUSTER_ERR_PANIC);
        // SAFETY: `guard` stored a boxed error.
        let e = unsafe { Box::from_raw(err) };
        assert_eq!(e.code, incluster_result::INCLUSTER_ERR_PANIC);
        assert_eq!(guard_value(7, || -> i32 { panic!("boom") }), 7);
    }

    #[test]
    fn success_clears_the_error_out_param() {
        let mut err: *mut incluster_error = std::ptr::dangling_mut();
        assert_eq!(guard(&mut err, || Ok(())), incluster_result::INCLUSTER_OK);
        assert!(err.is_null());
    }
}
