//! Pod logs from C: a callback form, a pull form, and a thread-safe cancel.

use std::ffi::{c_char, c_int, c_void};
use std::sync::Mutex;

use crate::capi::client::incluster_client;
use crate::capi::error::incluster_error;
use crate::capi::guard::{Failure, exclusive, guard, guard_value, opt_str, read_pairs, req_str};
use crate::capi::handle::{Handle, Out};
use crate::capi::result::{incluster_callback_action, incluster_result};
use crate::core::cancel::CancelHandle;
use crate::core::error::Result;
use crate::core::logs::{LogOptions, LogStream};

/// The callback of `incluster_logs` and `incluster_logs_run`: `line`/`len` is one log line
/// without its newline (not NUL-terminated; may hold any bytes), borrowed for the duration of
/// the call. Return `INCLUSTER_CONTINUE` (0) to go on, anything else to stop (the call then
/// returns `INCLUSTER_STOPPED`).
pub type incluster_logs_callback =
    Option<unsafe extern "C" fn(userdata: *mut c_void, line: *const u8, len: usize) -> c_int>;

/// A running log read. Owned by one thread at a time, except `incluster_logs_cancel`, which
/// any thread may call while the stream is alive; a second call while one is running (from
/// another thread, or from the stream's own callback) is refused with
/// `INCLUSTER_ERR_INVALID_ARGUMENT`, never a wait.
pub struct incluster_logs_handle {
    cancel: CancelHandle,
    state: Mutex<LogsState>,
}

impl Handle for incluster_logs_handle {
    const PARAM: &'static str = "logs";
}

/// What one call at a time works on.
struct LogsState {
    inner: LogStream,
    /// Storage behind the last line handed out.
    current: Vec<u8>,
}

/// Build options from a NULL-terminated `{"key", "value", ..., NULL}` array.
///
/// # Safety
/// `options` is NULL or a NULL-terminated array of NUL-terminated strings.
unsafe fn read_options(options: *const *const c_char) -> std::result::Result<LogOptions, Failure> {
    let mut o = LogOptions::default();
    // SAFETY: forwarded contract.
    for (k, v) in unsafe { read_pairs(options, "options") }? {
        o.set(k, v)?;
    }
    Ok(o)
}

impl LogsState {
    fn advance(&mut self) -> Result<bool> {
        self.inner.next_line_into(&mut self.current)
    }
}

/// Start reading the log of `pod` in `namespace` (NULL: the client's namespace). The first
/// request is made now: a missing pod (`INCLUSTER_ERR_NOT_FOUND`), a wrong container
/// (`INCLUSTER_ERR_API` 400, the message naming the pod's containers) or a 403 fails here.
///
/// `options` is NULL or a NULL-terminated `{"key", "value", ..., NULL}` array: `container`,
/// `follow`, `previous`, `sinceSeconds`, `sinceTime`, `timestamps`, `tailLines`, `limitBytes`,
/// `insecureSkipTLSVerifyBackend`, and `incluster.resume` (a follow that breaks or ends while
/// the container runs resumes without losing or repeating lines; on by default, as in Python
/// and the CLI: `"false"` stops instead), `incluster.maxLineBytes` (longer lines are split;
/// default 1 MiB), `incluster.idleCheckMs`, `incluster.backoffInitialMs`,
/// `incluster.backoffMaxMs`.
///
/// On success writes the stream to `*out` (free with `incluster_logs_free`). A NULL `client`,
/// `pod` or `out` is `INCLUSTER_ERR_NULL_ARGUMENT`; `namespace` and `options` may be NULL.
/// Blocks until the first answer. Thread-safe (the client may be shared); the stream it makes
/// belongs to one thread at a time.
///
/// # Safety
/// `client` is a live client; `namespace` NULL or NUL-terminated; `pod` NUL-terminated;
/// `options` NULL or as above; `out` writable; `err` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_logs_open(
    client: *const incluster_client,
    namespace: *const c_char,
    pod: *const c_char,
    options: *const *const c_char,
    out: *mut *mut incluster_logs_handle,
    err: *mut *mut incluster_error,
) -> incluster_result {
    guard(err, || {
        // SAFETY: caller contract for every pointer.
        let (c, out, ns, pod, opts) = unsafe {
            (
                incluster_client::arg(client)?,
                Out::new(out, "out")?,
                opt_str(namespace, "namespace")?,
                req_str(pod, "pod")?,
                read_options(options)?,
            )
        };
        let ns = ns.unwrap_or(c.inner.namespace());
        let inner = LogStream::open(&c.inner, ns, pod, opts)?;
        let handle = incluster_logs_handle {
            cancel: inner.cancel_handle(),
            state: Mutex::new(LogsState {
                inner,
                current: Vec::new(),
            }),
        };
        out.write(handle.into_raw());
        Ok(())
    })
}

/// Wait for the next line; on `INCLUSTER_OK` writes a borrowed pointer (valid until the next
/// call on this stream or its free) and length to `*line`/`*len`. `INCLUSTER_END` when the log
/// ended; `INCLUSTER_ERR_CANCELLED` after `incluster_logs_cancel`; another code (with `*err`)
/// when it failed. A NULL `logs`, `line` or `len` is `INCLUSTER_ERR_NULL_ARGUMENT`. Call it
/// from the thread that owns the stream; a call while another `_next`/`_run` on it is running
/// is refused at once with `INCLUSTER_ERR_INVALID_ARGUMENT`.
///
/// # Safety
/// `logs` is a live stream used by no other call at the same time (except
/// `incluster_logs_cancel`); `line` and `len` writable; `err` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_logs_next(
    logs: *mut incluster_logs_handle,
    line: *mut *const u8,
    len: *mut usize,
    err: *mut *mut incluster_error,
) -> incluster_result {
    guard(err, || {
        // SAFETY: caller contract; shared access only (the state is behind a lock).
        let (l, line, len) = unsafe {
            (
                incluster_logs_handle::arg(logs)?,
                Out::new(line, "line")?,
                Out::new(len, "len")?,
            )
        };
        exclusive(&l.state, "log stream", |l| {
            if !l.advance()? {
                return Ok(incluster_result::INCLUSTER_END);
            }
            // The line buffer lives in the boxed handle, so the pointer stays valid after the
            // lock is released, until the next call on this stream or its free.
            line.write(l.current.as_ptr());
            len.write(l.current.len());
            Ok(incluster_result::INCLUSTER_OK)
        })
    })
}

/// Call `callback(userdata, line, len)` for each line until it returns non-zero
/// (`INCLUSTER_STOPPED`), the log ends (`INCLUSTER_END`), it is cancelled
/// (`INCLUSTER_ERR_CANCELLED`) or fails. The callback may call any other incluster function
/// except `_next`/`_run` on this stream. A NULL `logs` or `callback` is
/// `INCLUSTER_ERR_NULL_ARGUMENT`; `userdata` may be NULL. Runs the callback on the calling
/// thread, which must own the stream; a call while another `_next`/`_run` on it is running is
/// refused at once with `INCLUSTER_ERR_INVALID_ARGUMENT`.
///
/// # Safety
/// `logs` is a live stream used by no other call at the same time (except
/// `incluster_logs_cancel`); `callback` valid; `err` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_logs_run(
    logs: *mut incluster_logs_handle,
    callback: incluster_logs_callback,
    userdata: *mut c_void,
    err: *mut *mut incluster_error,
) -> incluster_result {
    guard(err, || {
        let cb = callback.ok_or(Failure::Null("callback"))?;
        // SAFETY: caller contract; shared access only (the state is behind a lock).
        let l = unsafe { incluster_logs_handle::arg(logs) }?;
        exclusive(&l.state, "log stream", |l| {
            while l.advance()? {
                // SAFETY: the caller's callback, with a pointer valid for the call.
                let rc = unsafe { cb(userdata, l.current.as_ptr(), l.current.len()) };
                if rc != incluster_callback_action::INCLUSTER_CONTINUE as c_int {
                    return Ok(incluster_result::INCLUSTER_STOPPED);
                }
            }
            Ok(incluster_result::INCLUSTER_END)
        })
    })
}

/// `incluster_logs_open` + `incluster_logs_run` + `incluster_logs_free`. NULL arguments as for
/// those two. Thread-safe (the client may be shared); the callback runs on the calling thread.
///
/// # Safety
/// As for `incluster_logs_open` and `incluster_logs_run`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_logs(
    client: *const incluster_client,
    namespace: *const c_char,
    pod: *const c_char,
    options: *const *const c_char,
    callback: incluster_logs_callback,
    userdata: *mut c_void,
    err: *mut *mut incluster_error,
) -> incluster_result {
    if callback.is_none() {
        return guard(err, || Err::<(), _>(Failure::Null("callback")));
    }
    let mut l: *mut incluster_logs_handle = std::ptr::null_mut();
    // SAFETY: forwarded contract; `l` is a local out-pointer.
    let rc = unsafe { incluster_logs_open(client, namespace, pod, options, &mut l, err) };
    if rc != incluster_result::INCLUSTER_OK {
        return rc;
    }
    // SAFETY: just opened; freed right after.
    let rc = unsafe { incluster_logs_run(l, callback, userdata, err) };
    // SAFETY: opened above, freed once.
    unsafe { incluster_logs_free(l) };
    rc
}

/// Stop the log read from any thread (the one call on a stream that other threads may make):
/// a blocked `_next`/`_run` returns
/// `INCLUSTER_ERR_CANCELLED` within about 100 ms. Idempotent; NULL is a no-op.
///
/// # Safety
/// `logs` is NULL or a live stream (not being freed concurrently).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_logs_cancel(logs: *const incluster_logs_handle) {
    guard_value((), || {
        // SAFETY: caller contract; only the atomic flag is touched.
        if let Some(l) = unsafe { incluster_logs_handle::opt(logs) } {
            l.cancel.cancel();
        }
    })
}

/// Close the stream and free it, with the last line handed out. NULL is a no-op. No other
/// thread may be using it (not even `incluster_logs_cancel`).
///
/// # Safety
/// `logs` is NULL or a stream from `incluster_logs_open`, freed once, with no call using it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_logs_free(logs: *mut incluster_logs_handle) {
    // SAFETY: made by `Handle::into_raw`; freed once per the contract.
    unsafe { incluster_logs_handle::free(logs) }
}
