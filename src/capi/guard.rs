//! The panic boundary and the argument helpers every extern function uses.

use std::ffi::{CStr, CString, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Mutex, TryLockError};

use crate::capi::error::incluster_error;
use crate::capi::handle::{Handle, Out};
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

/// Run `f` inside the panic boundary and turn its outcome into a result code, writing the
/// details to `*err` (when `err` is not NULL) on failure. `*err` is set to NULL on success so a
/// caller can always free it.
///
/// `f` returns `Ok(())` for `INCLUSTER_OK`, or `Ok(code)` for the codes that are outcomes
/// rather than failures (`INCLUSTER_END`, `INCLUSTER_STOPPED`, `INCLUSTER_ABSENT`), which
/// carry no error; every failure goes through `Err`, so it always has its details.
pub(crate) fn guard<T, F>(err: *mut *mut incluster_error, f: F) -> incluster_result
where
    T: Into<incluster_result>,
    F: FnOnce() -> Result<T, Failure>,
{
    // SAFETY: the caller passed NULL or a writable `incluster_error **`.
    let err = unsafe { Out::optional(err) };
    if let Some(err) = &err {
        err.write(std::ptr::null_mut());
    }
    let outcome = catch_unwind(AssertUnwindSafe(f));
    let e = match outcome {
        Ok(Ok(outcome)) => return outcome.into(),
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
    if let Some(err) = err {
        err.write(e.into_raw());
    }
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

/// Run `f` with the state of a stream handle, or fail at once if another call is using it
/// (a callback calling `_next` or `_run` on its own stream, or a second thread): refusing is
/// the only answer that neither aliases the state nor deadlocks. A lock poisoned by a panic
/// (already reported as `INCLUSTER_ERR_PANIC`) is taken over: the stream state is rebuilt by
/// the next call (`advance` starts by clearing what the last one handed out).
pub(crate) fn exclusive<T, R>(
    state: &Mutex<T>,
    what: &'static str,
    f: impl FnOnce(&mut T) -> Result<R, Failure>,
) -> Result<R, Failure> {
    let mut guard = match state.try_lock() {
        Ok(g) => g,
        Err(TryLockError::Poisoned(p)) => p.into_inner(),
        Err(TryLockError::WouldBlock) => {
            return Err(Error::invalid(format!(
                "the {what} is already in use (a callback may not call _next or _run on its \
                 own {what}, and two threads may not use one {what} at once)"
            ))
            .into());
        }
    };
    f(&mut guard)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_a_result_code_not_an_unwind() {
        let mut err: *mut incluster_error = std::ptr::null_mut();
        let rc = guard(&mut err, || -> Result<(), Failure> { panic!("boom") });
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
        // An outcome that is not a failure comes back as it is, with no error.
        err = std::ptr::dangling_mut();
        assert_eq!(
            guard(&mut err, || Ok(incluster_result::INCLUSTER_END)),
            incluster_result::INCLUSTER_END
        );
        assert!(err.is_null());
    }

    #[test]
    fn a_busy_stream_state_is_refused_not_waited_for() {
        let state = Mutex::new(1);
        let inner = exclusive(&state, "watch", |_| {
            // A re-entrant call, as from a callback: refused at once.
            match exclusive(&state, "watch", |_| Ok(())) {
                Err(Failure::Core(e)) => Ok(e.to_string()),
                _ => Ok(String::new()),
            }
        });
        match inner {
            Ok(msg) => assert!(msg.contains("watch is already in use"), "{msg}"),
            Err(_) => panic!("the outer call failed"),
        }
        // Free again afterwards.
        assert!(exclusive(&state, "watch", |v| Ok(*v)).is_ok_and(|v| v == 1));
    }
}
