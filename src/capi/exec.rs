//! exec and attach from C: open, then a pull form (`_next`) or a callback form (`_run`);
//! stdin, stdin close and resize from any thread; cancel from any thread.

use std::ffi::{c_char, c_int, c_void};
use std::sync::Mutex;

use crate::capi::client::incluster_client;
use crate::capi::error::incluster_error;
use crate::capi::guard::{
    Failure, bytes, exclusive, guard, guard_value, opt_str, read_pairs, req_str,
};
use crate::capi::handle::{Handle, Out};
use crate::capi::result::{incluster_callback_action, incluster_result};
use crate::core::error::{Error, Result};
use crate::core::exec::{
    AttachOptions, ExecOptions, ExecSession, ExecWriter, Output, SessionCancel,
};

/// The callback of `incluster_exec_run`: `channel` is 1 (stdout) or 2 (stderr); `data`/`len`
/// the bytes (not NUL-terminated), borrowed for the duration of the call. Return
/// `INCLUSTER_CONTINUE` (0) to go on, anything else to stop (the call then returns
/// `INCLUSTER_STOPPED`).
pub type incluster_exec_callback = Option<
    unsafe extern "C" fn(
        userdata: *mut c_void,
        channel: c_int,
        data: *const u8,
        len: usize,
    ) -> c_int,
>;

/// A running exec or attach session. Reading (`_next`, `_run`, `_exit_code`) belongs to one
/// thread at a time; `incluster_exec_write`, `_close_stdin`, `_resize` and `_cancel` may be
/// called from any thread while the session is alive (writing stdin from one thread while
/// another reads the output is the intended use).
pub struct incluster_exec_handle {
    cancel: SessionCancel,
    writer: ExecWriter,
    state: Mutex<ExecState>,
}

impl Handle for incluster_exec_handle {
    const PARAM: &'static str = "exec";
}

struct ExecState {
    inner: ExecSession,
    /// Storage behind the last output handed out.
    current: Vec<u8>,
    channel: c_int,
}

impl ExecState {
    /// The next output into `current`; false at the end.
    fn advance(&mut self) -> Result<bool> {
        match self.inner.next(None)? {
            Some(Output::Stdout(b)) => {
                self.current = b;
                self.channel = 1;
                Ok(true)
            }
            Some(Output::Stderr(b)) => {
                self.current = b;
                self.channel = 2;
                Ok(true)
            }
            None => Ok(false),
        }
    }
}

fn flag(key: &str, v: &str) -> std::result::Result<bool, Failure> {
    match v {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(Error::invalid(format!("option {key}: {v:?} is not true or false")).into()),
    }
}

/// Read `{"container", C, "stdin", "true", "tty", "true", NULL}`.
///
/// # Safety
/// `options` is NULL or a NULL-terminated array of NUL-terminated strings.
unsafe fn read_options(
    options: *const *const c_char,
) -> std::result::Result<(Option<String>, bool, bool), Failure> {
    let (mut container, mut stdin, mut tty) = (None, false, false);
    // SAFETY: forwarded contract.
    for (k, v) in unsafe { read_pairs(options, "options") }? {
        match k {
            "container" => container = Some(v.to_owned()),
            "stdin" => stdin = flag(k, v)?,
            "tty" => tty = flag(k, v)?,
            other => {
                return Err(Error::invalid(format!(
                    "unknown exec option {other:?} (container, stdin, tty)"
                ))
                .into());
            }
        }
    }
    Ok((container, stdin, tty))
}

/// Read a NULL-terminated array of strings.
///
/// # Safety
/// `list` is NULL or a NULL-terminated array of NUL-terminated strings.
unsafe fn read_list(list: *const *const c_char) -> std::result::Result<Vec<String>, Failure> {
    if list.is_null() {
        return Err(Failure::Null("command"));
    }
    let mut out = Vec::new();
    for i in 0.. {
        // SAFETY: the array is NULL-terminated, so every index up to the NULL is readable.
        let p = unsafe { *list.add(i) };
        if p.is_null() {
            break;
        }
        // SAFETY: each element is a NUL-terminated string.
        out.push(unsafe { req_str(p, "command") }?.to_owned());
    }
    Ok(out)
}

fn into_handle(inner: ExecSession) -> incluster_exec_handle {
    incluster_exec_handle {
        cancel: inner.cancel_handle(),
        writer: inner.writer(),
        state: Mutex::new(ExecState {
            inner,
            current: Vec::new(),
            channel: 0,
        }),
    }
}

/// Start `command` (a NULL-terminated array: program and arguments, not run through a shell)
/// in `pod` of `namespace` (NULL: the client's namespace), over a WebSocket
/// (`v5.channel.k8s.io`, else v4). `options` is NULL or a NULL-terminated
/// `{"key", "value", ..., NULL}` array: `container`, `stdin` (`"true"`: the command gets a
/// stdin, fed with `incluster_exec_write`), `tty` (`"true"`: a terminal; stderr merges into
/// stdout).
///
/// On success writes the session to `*out` (free with `incluster_exec_free`). A refused
/// upgrade is `INCLUSTER_ERR_FORBIDDEN` (since Kubernetes 1.35 exec needs `create` on
/// `pods/exec`; the message says so), `INCLUSTER_ERR_NOT_FOUND`, ... A NULL `client`, `pod`,
/// `command` or `out` is `INCLUSTER_ERR_NULL_ARGUMENT`; `namespace` and `options` may be NULL.
/// Thread-safe (the client may be shared); the session belongs to one reading thread.
///
/// # Safety
/// `client` is a live client; `namespace` NULL or NUL-terminated; `pod` NUL-terminated;
/// `command` and `options` as above; `out` writable; `err` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_exec_open(
    client: *const incluster_client,
    namespace: *const c_char,
    pod: *const c_char,
    command: *const *const c_char,
    options: *const *const c_char,
    out: *mut *mut incluster_exec_handle,
    err: *mut *mut incluster_error,
) -> incluster_result {
    guard(err, || {
        // SAFETY: caller contract for every pointer.
        let (c, out, ns, pod, command, (container, stdin, tty)) = unsafe {
            (
                incluster_client::arg(client)?,
                Out::new(out, "out")?,
                opt_str(namespace, "namespace")?,
                req_str(pod, "pod")?,
                read_list(command)?,
                read_options(options)?,
            )
        };
        let opts = ExecOptions {
            pod: pod.to_owned(),
            container,
            namespace: ns.map(str::to_owned),
            command,
            stdin,
            tty,
        };
        let inner = ExecSession::exec(&c.inner, &opts)?;
        out.write(into_handle(inner).into_raw());
        Ok(())
    })
}

/// Attach to the main process of `pod`'s container; `options` as for `incluster_exec_open`.
/// Results, NULL handling and thread behaviour as for `incluster_exec_open` (403 names
/// `create` on `pods/attach`).
///
/// # Safety
/// As for `incluster_exec_open`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_attach_open(
    client: *const incluster_client,
    namespace: *const c_char,
    pod: *const c_char,
    options: *const *const c_char,
    out: *mut *mut incluster_exec_handle,
    err: *mut *mut incluster_error,
) -> incluster_result {
    guard(err, || {
        // SAFETY: caller contract for every pointer.
        let (c, out, ns, pod, (container, stdin, tty)) = unsafe {
            (
                incluster_client::arg(client)?,
                Out::new(out, "out")?,
                opt_str(namespace, "namespace")?,
                req_str(pod, "pod")?,
                read_options(options)?,
            )
        };
        let opts = AttachOptions {
            pod: pod.to_owned(),
            container,
            namespace: ns.map(str::to_owned),
            stdin,
            tty,
        };
        let inner = ExecSession::attach(&c.inner, &opts)?;
        out.write(into_handle(inner).into_raw());
        Ok(())
    })
}

/// Wait for the next output; on `INCLUSTER_OK` writes the channel (1 stdout, 2 stderr) to
/// `*channel` and a borrowed pointer (valid until the next call on this session or its free)
/// and length to `*data`/`*len`. `INCLUSTER_END` once the command exited (then
/// `incluster_exec_exit_code` gives its code); `INCLUSTER_ERR_CANCELLED` after
/// `incluster_exec_cancel`; `INCLUSTER_ERR_TRANSPORT` if the connection was lost before the
/// exit status (the command may still run). A NULL `exec`, `channel`, `data` or `len` is
/// `INCLUSTER_ERR_NULL_ARGUMENT`. Call it from the thread that reads the session; a call while
/// another `_next`/`_run` on it is running is refused with `INCLUSTER_ERR_INVALID_ARGUMENT`.
///
/// # Safety
/// `exec` is a live session; `channel`, `data` and `len` writable; `err` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_exec_next(
    exec: *mut incluster_exec_handle,
    channel: *mut c_int,
    data: *mut *const u8,
    len: *mut usize,
    err: *mut *mut incluster_error,
) -> incluster_result {
    guard(err, || {
        // SAFETY: caller contract; shared access only (the state is behind a lock).
        let (x, channel, data, len) = unsafe {
            (
                incluster_exec_handle::arg(exec)?,
                Out::new(channel, "channel")?,
                Out::new(data, "data")?,
                Out::new(len, "len")?,
            )
        };
        exclusive(&x.state, "exec session", |s| {
            if !s.advance()? {
                return Ok(incluster_result::INCLUSTER_END);
            }
            // The buffer lives in the boxed handle, so the pointer stays valid after the lock
            // is released, until the next call on this session or its free.
            channel.write(s.channel);
            data.write(s.current.as_ptr());
            len.write(s.current.len());
            Ok(incluster_result::INCLUSTER_OK)
        })
    })
}

/// Call `callback(userdata, channel, data, len)` for each output until it returns non-zero
/// (`INCLUSTER_STOPPED`), the command exits (`INCLUSTER_END`), the session is cancelled
/// (`INCLUSTER_ERR_CANCELLED`) or fails. A NULL `exec` or `callback` is
/// `INCLUSTER_ERR_NULL_ARGUMENT`; `userdata` may be NULL. The callback runs on the calling
/// thread and may call `incluster_exec_write` and the other any-thread functions.
///
/// # Safety
/// `exec` is a live session; `callback` valid; `err` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_exec_run(
    exec: *mut incluster_exec_handle,
    callback: incluster_exec_callback,
    userdata: *mut c_void,
    err: *mut *mut incluster_error,
) -> incluster_result {
    guard(err, || {
        let cb = callback.ok_or(Failure::Null("callback"))?;
        // SAFETY: caller contract; shared access only (the state is behind a lock).
        let x = unsafe { incluster_exec_handle::arg(exec) }?;
        exclusive(&x.state, "exec session", |s| {
            while s.advance()? {
                // SAFETY: the caller's callback, with a pointer valid for the call.
                let rc = unsafe { cb(userdata, s.channel, s.current.as_ptr(), s.current.len()) };
                if rc != incluster_callback_action::INCLUSTER_CONTINUE as c_int {
                    return Ok(incluster_result::INCLUSTER_STOPPED);
                }
            }
            Ok(incluster_result::INCLUSTER_END)
        })
    })
}

/// After `INCLUSTER_END`, write the command's exit code (0 for success) to `*code`. Before
/// the end: `INCLUSTER_ERR_INVALID_ARGUMENT`. A NULL `exec` or `code` is
/// `INCLUSTER_ERR_NULL_ARGUMENT`. From the reading thread.
///
/// # Safety
/// `exec` is a live session; `code` writable; `err` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_exec_exit_code(
    exec: *mut incluster_exec_handle,
    code: *mut c_int,
    err: *mut *mut incluster_error,
) -> incluster_result {
    guard(err, || {
        // SAFETY: caller contract.
        let (x, code) = unsafe { (incluster_exec_handle::arg(exec)?, Out::new(code, "code")?) };
        exclusive(&x.state, "exec session", |s| {
            let st = s.inner.exit_status().ok_or_else(|| {
                Error::invalid("the command has not ended yet: read until INCLUSTER_END")
            })?;
            code.write(st.code);
            Ok(incluster_result::INCLUSTER_OK)
        })
    })
}

/// Send `len` bytes of `data` to the command's stdin (waits while the server is not taking
/// them; `len` 0 sends nothing). A NULL `exec` (or a NULL `data` with `len` > 0) is
/// `INCLUSTER_ERR_NULL_ARGUMENT`. Any thread, also while another reads the session.
///
/// # Safety
/// `exec` is a live session; `data` readable for `len` bytes; `err` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_exec_write(
    exec: *const incluster_exec_handle,
    data: *const u8,
    len: usize,
    err: *mut *mut incluster_error,
) -> incluster_result {
    guard(err, || {
        // SAFETY: caller contract.
        let (x, data) = unsafe { (incluster_exec_handle::arg(exec)?, bytes(data, len, "data")?) };
        x.writer.write(data)?;
        Ok(())
    })
}

/// Close the command's stdin (it sees end of file). `INCLUSTER_ERR_INVALID_ARGUMENT` on a
/// server that speaks only `v4.channel.k8s.io`, which cannot. A NULL `exec` is
/// `INCLUSTER_ERR_NULL_ARGUMENT`. Any thread.
///
/// # Safety
/// `exec` is a live session; `err` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_exec_close_stdin(
    exec: *const incluster_exec_handle,
    err: *mut *mut incluster_error,
) -> incluster_result {
    guard(err, || {
        // SAFETY: caller contract.
        let x = unsafe { incluster_exec_handle::arg(exec) }?;
        x.writer.close_stdin()?;
        Ok(())
    })
}

/// Tell the terminal's new size (sessions opened with `tty` only, else
/// `INCLUSTER_ERR_INVALID_ARGUMENT`). A NULL `exec` is `INCLUSTER_ERR_NULL_ARGUMENT`. Any
/// thread.
///
/// # Safety
/// `exec` is a live session; `err` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_exec_resize(
    exec: *const incluster_exec_handle,
    width: u16,
    height: u16,
    err: *mut *mut incluster_error,
) -> incluster_result {
    guard(err, || {
        // SAFETY: caller contract.
        let x = unsafe { incluster_exec_handle::arg(exec) }?;
        x.writer.resize(width, height)?;
        Ok(())
    })
}

/// Stop the session from any thread: its socket is shut down, a blocked `_next`/`_run`/
/// `_write` returns `INCLUSTER_ERR_CANCELLED` promptly. Idempotent; NULL is a no-op.
///
/// # Safety
/// `exec` is NULL or a live session (not being freed concurrently).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_exec_cancel(exec: *const incluster_exec_handle) {
    guard_value((), || {
        // SAFETY: caller contract; only thread-safe handles are touched.
        if let Some(x) = unsafe { incluster_exec_handle::opt(exec) } {
            x.cancel.cancel();
        }
    })
}

/// Close the session and free it, with the last output handed out. NULL is a no-op. No other
/// thread may be using it (not even `incluster_exec_cancel`).
///
/// # Safety
/// `exec` is NULL or a session from `incluster_exec_open`/`incluster_attach_open`, freed
/// once, with no call using it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_exec_free(exec: *mut incluster_exec_handle) {
    // SAFETY: made by `Handle::into_raw`; freed once per the contract.
    unsafe { incluster_exec_handle::free(exec) }
}
