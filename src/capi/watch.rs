//! Watches from C: a callback form, a pull form, and a thread-safe cancel.

use std::ffi::{CString, c_char, c_int, c_void};
use std::sync::Mutex;

use crate::capi::client::incluster_client;
use crate::capi::error::incluster_error;
use crate::capi::guard::{
    Failure, cstring_lossy, exclusive, guard, guard_value, read_pairs, req_str,
};
use crate::capi::handle::{Handle, Out};
use crate::capi::result::{incluster_callback_action, incluster_result};
use crate::capi::strings::owned_string;
use crate::core::cancel::CancelHandle;
use crate::core::error::Result;
use crate::core::watch::{Event, Watch, WatchOptions};

/// A watch event, borrowed: valid during the callback, or until the next
/// `incluster_watch_next` / `incluster_watch_free` on the same watch.
#[repr(C)]
pub struct incluster_watch_event {
    /// `"ADDED"`, `"MODIFIED"`, `"DELETED"`, `"BOOKMARK"` (only if asked for),
    /// `"RESYNC_START"` or `"RESYNC_END"` (around the differences found by a relist after a
    /// 410). Static string.
    pub type_: *const c_char,
    /// The object's JSON (not NUL-terminated).
    pub object: *const u8,
    /// Its length in bytes.
    pub object_len: usize,
    /// `metadata.resourceVersion` (NUL-terminated).
    pub resource_version: *const c_char,
}

/// The callback of `incluster_watch` and `incluster_watch_run`: return
/// `INCLUSTER_CONTINUE` (0) to go on, anything else (`INCLUSTER_STOP`) to stop (the call then
/// returns `INCLUSTER_STOPPED`). `userdata` is passed through untouched.
pub type incluster_watch_callback = Option<
    unsafe extern "C" fn(userdata: *mut c_void, event: *const incluster_watch_event) -> c_int,
>;

/// A running watch. Owned by one thread at a time, except `incluster_watch_cancel`, which any
/// thread may call while the watch is alive; a second call while one is running (from another
/// thread, or from the watch's own callback) is refused with `INCLUSTER_ERR_INVALID_ARGUMENT`,
/// never a wait. (Not named `incluster_watch`: C gives types and functions one namespace, and
/// `incluster_watch()` is the callback form.)
pub struct incluster_watch_handle {
    cancel: CancelHandle,
    state: Mutex<WatchState>,
}

impl Handle for incluster_watch_handle {
    const PARAM: &'static str = "watch";
}

/// What one call at a time works on.
struct WatchState {
    inner: Watch,
    /// Storage behind the last event handed out.
    current: Option<(Event, CString)>,
    view: incluster_watch_event,
}

/// Build options from a NULL-terminated `{"key", "value", ..., NULL}` array.
///
/// # Safety
/// `options` is NULL or a NULL-terminated array of NUL-terminated strings.
unsafe fn read_options(
    options: *const *const c_char,
) -> std::result::Result<WatchOptions, Failure> {
    let mut o = WatchOptions::default();
    // SAFETY: forwarded contract.
    for (k, v) in unsafe { read_pairs(options, "options") }? {
        o.set(k, v)?;
    }
    Ok(o)
}

fn empty_view() -> incluster_watch_event {
    incluster_watch_event {
        type_: c"".as_ptr(),
        object: c"".as_ptr().cast(),
        object_len: 0,
        resource_version: c"".as_ptr(),
    }
}

fn type_name(e: &Event) -> *const c_char {
    use crate::core::watch::EventType as T;
    match e.kind {
        T::Added => c"ADDED",
        T::Modified => c"MODIFIED",
        T::Deleted => c"DELETED",
        T::Bookmark => c"BOOKMARK",
        T::ResyncStart => c"RESYNC_START",
        T::ResyncEnd => c"RESYNC_END",
    }
    .as_ptr()
}

impl WatchState {
    /// Fetch the next event into `current`/`view`. `Ok(false)` when the watch ended.
    fn advance(&mut self) -> Result<bool> {
        self.current = None;
        self.view = empty_view();
        match self.inner.next_event()? {
            None => Ok(false),
            Some(ev) => {
                let rv = cstring_lossy(&ev.resource_version);
                self.view = incluster_watch_event {
                    type_: type_name(&ev),
                    object: ev.object.as_ptr(),
                    object_len: ev.object.len(),
                    resource_version: rv.as_ptr(),
                };
                // Moving the Vec and CString keeps their heap buffers where `view` points.
                self.current = Some((ev, rv));
                Ok(true)
            }
        }
    }

    /// Call `cb` for each event: `INCLUSTER_STOPPED` when it asks to stop, `INCLUSTER_END`
    /// when the watch ends.
    fn run(
        &mut self,
        cb: unsafe extern "C" fn(*mut c_void, *const incluster_watch_event) -> c_int,
        userdata: *mut c_void,
    ) -> std::result::Result<incluster_result, Failure> {
        while self.advance()? {
            // SAFETY: the caller's callback, given a pointer valid for this call.
            let rc = unsafe { cb(userdata, &self.view) };
            if rc != incluster_callback_action::INCLUSTER_CONTINUE as c_int {
                return Ok(incluster_result::INCLUSTER_STOPPED);
            }
        }
        Ok(incluster_result::INCLUSTER_END)
    }
}

/// Start a watch on a collection path (`/api/v1/namespaces/NS/configmaps`), or a resource by
/// name resolved in the client's namespace as `incluster_resolve` does (`configmaps`, `cm/x`,
/// `deploy/web`: an object name watches that object). The first request is made now: a watch that cannot start returns its error here (401, 403, 404, TLS).
///
/// `options` is NULL or a NULL-terminated `{"key", "value", ..., NULL}` array:
/// - the API's own: `labelSelector`, `fieldSelector`, `resourceVersion`,
///   `resourceVersionMatch`, `timeoutSeconds`, `allowWatchBookmarks` (default `true`),
///   `sendInitialEvents`;
/// - incluster's: `incluster.deliverBookmarks` (`false`), `incluster.resume` (`true`: resume
///   from the last resourceVersion when the stream ends or breaks), `incluster.onGone`
///   (`relist`: on 410 list again and deliver the differences between `RESYNC_START` and
///   `RESYNC_END` events; or `error`), `incluster.maxEventBytes` (64 MiB),
///   `incluster.idleTimeoutMs`, `incluster.backoffInitialMs` (800), `incluster.backoffMaxMs`
///   (30000);
/// - any other key is sent as a query parameter.
///
/// On success writes the watch to `*out` (free with `incluster_watch_free`). A NULL `client`,
/// `path` or `out` is `INCLUSTER_ERR_NULL_ARGUMENT`; `options` may be NULL. Blocks until the
/// first answer. Thread-safe (the client may be shared); the watch it makes belongs to one
/// thread at a time.
///
/// # Safety
/// `client` is a live client (it may be freed before the watch: the watch keeps what it
/// needs); `path` a NUL-terminated string; `options` NULL or as above; `out` writable; `err`
/// NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_watch_open(
    client: *const incluster_client,
    path: *const c_char,
    options: *const *const c_char,
    out: *mut *mut incluster_watch_handle,
    err: *mut *mut incluster_error,
) -> incluster_result {
    guard(err, || {
        // SAFETY: caller contract for every pointer.
        let (c, out, path, opts) = unsafe {
            (
                incluster_client::arg(client)?,
                Out::new(out, "out")?,
                req_str(path, "path")?,
                read_options(options)?,
            )
        };
        let path = &c.inner.target_path(path, None, false)?;
        let inner = Watch::new(&c.inner, path, opts)?;
        let handle = incluster_watch_handle {
            cancel: inner.cancel_handle(),
            state: Mutex::new(WatchState {
                inner,
                current: None,
                view: empty_view(),
            }),
        };
        out.write(handle.into_raw());
        Ok(())
    })
}

/// Wait for the next event and point `*event` at it (borrowed: valid until the next call on
/// this watch or its free). Returns `INCLUSTER_OK` with an event; `INCLUSTER_END` when the
/// stream ended and resuming is off; `INCLUSTER_ERR_CANCELLED` after `incluster_watch_cancel`;
/// another error code (with `*err`) when the watch failed — it is over then. A NULL `watch`
/// or `event` is `INCLUSTER_ERR_NULL_ARGUMENT`. Call it from the thread that owns the watch; a
/// call while another `_next`/`_run` on it is running is refused at once with
/// `INCLUSTER_ERR_INVALID_ARGUMENT`.
///
/// # Safety
/// `watch` is a live watch used by no other call at the same time (except
/// `incluster_watch_cancel`); `event` writable; `err` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_watch_next(
    watch: *mut incluster_watch_handle,
    event: *mut *const incluster_watch_event,
    err: *mut *mut incluster_error,
) -> incluster_result {
    guard(err, || {
        // SAFETY: caller contract; shared access only (the state is behind a lock).
        let (w, event) = unsafe {
            (
                incluster_watch_handle::arg(watch)?,
                Out::new(event, "event")?,
            )
        };
        exclusive(&w.state, "watch", |w| {
            if !w.advance()? {
                return Ok(incluster_result::INCLUSTER_END);
            }
            // The view lives in the boxed handle, so the pointer stays valid after the lock
            // is released, until the next call on this watch or its free.
            event.write(&w.view);
            Ok(incluster_result::INCLUSTER_OK)
        })
    })
}

/// Run the watch, calling `callback(userdata, event)` for each event until the callback
/// returns non-zero (`INCLUSTER_STOPPED`), the watch is cancelled (`INCLUSTER_ERR_CANCELLED`),
/// the stream ends with resuming off (`INCLUSTER_END`) or it fails (that error, in `*err`).
/// The callback may call any other incluster function, but not `_next`/`_run` on this watch
/// (refused with `INCLUSTER_ERR_INVALID_ARGUMENT`). A NULL `watch` or `callback` is
/// `INCLUSTER_ERR_NULL_ARGUMENT`; `userdata` may be NULL. Runs the callback on the calling
/// thread, which must own the watch; a call while another `_next`/`_run` on it is running is
/// refused at once with `INCLUSTER_ERR_INVALID_ARGUMENT`.
///
/// # Safety
/// `watch` is a live watch used by no other call at the same time (except
/// `incluster_watch_cancel`); `callback` a valid function; `err` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_watch_run(
    watch: *mut incluster_watch_handle,
    callback: incluster_watch_callback,
    userdata: *mut c_void,
    err: *mut *mut incluster_error,
) -> incluster_result {
    guard(err, || {
        // SAFETY: caller contract; shared access only (the state is behind a lock).
        let w = unsafe { incluster_watch_handle::arg(watch) }?;
        let cb = callback.ok_or(Failure::Null("callback"))?;
        exclusive(&w.state, "watch", |s| s.run(cb, userdata))
    })
}

/// Open a watch and run it with `callback` (`incluster_watch_open` + `incluster_watch_run` +
/// `incluster_watch_free`). Stop it by returning non-zero from the callback; to stop it from
/// another thread, use the open/run form and `incluster_watch_cancel`. NULL arguments as for
/// those two. Thread-safe (the client may be shared); the callback runs on the calling thread.
///
/// # Safety
/// As for `incluster_watch_open` and `incluster_watch_run`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_watch(
    client: *const incluster_client,
    path: *const c_char,
    options: *const *const c_char,
    callback: incluster_watch_callback,
    userdata: *mut c_void,
    err: *mut *mut incluster_error,
) -> incluster_result {
    if callback.is_none() {
        return guard(err, || Err::<(), _>(Failure::Null("callback")));
    }
    let mut w: *mut incluster_watch_handle = std::ptr::null_mut();
    // SAFETY: forwarded contract; `w` is a local out-pointer.
    let rc = unsafe { incluster_watch_open(client, path, options, &mut w, err) };
    if rc != incluster_result::INCLUSTER_OK {
        return rc;
    }
    // SAFETY: `w` was just opened; freed right after.
    let rc = unsafe { incluster_watch_run(w, callback, userdata, err) };
    // SAFETY: opened above, freed once.
    unsafe { incluster_watch_free(w) };
    rc
}

/// Stop the watch from any thread (the one call on a watch that other threads may make): a
/// blocked `_next`/`_run` returns `INCLUSTER_ERR_CANCELLED` within about 100 ms. Idempotent;
/// NULL is a no-op.
///
/// # Safety
/// `watch` is NULL or a live watch (not being freed concurrently).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_watch_cancel(watch: *const incluster_watch_handle) {
    guard_value((), || {
        // SAFETY: caller contract; only the atomic cancel flag is touched.
        if let Some(w) = unsafe { incluster_watch_handle::opt(watch) } {
            w.cancel.cancel();
        }
    })
}

/// The resourceVersion the watch would resume from (`""` if none yet). Owned by the caller:
/// free with `incluster_string_free`. NULL `watch` gives NULL, and so does a watch that
/// another call is using at the moment (such as `_run` of this watch, asked from its own
/// callback: keep the event's `resource_version` there instead). Call it from the thread that
/// owns the watch.
///
/// # Safety
/// `watch` is NULL or a live watch.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_watch_resource_version(
    watch: *const incluster_watch_handle,
) -> *mut c_char {
    guard_value(std::ptr::null_mut(), || {
        // SAFETY: caller contract.
        let Some(w) = (unsafe { incluster_watch_handle::opt(watch) }) else {
            return std::ptr::null_mut();
        };
        exclusive(&w.state, "watch", |s| {
            Ok(owned_string(s.inner.resource_version().unwrap_or_default()))
        })
        .unwrap_or(std::ptr::null_mut())
    })
}

/// Close the watch's connection and free it, with the last event handed out. NULL is a no-op.
/// No other thread may be using it (not even `incluster_watch_cancel`).
///
/// # Safety
/// `watch` is NULL or a watch from `incluster_watch_open`, freed once, with no call using it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_watch_free(watch: *mut incluster_watch_handle) {
    // SAFETY: made by `Handle::into_raw`; freed once per the contract.
    unsafe { incluster_watch_handle::free(watch) }
}
