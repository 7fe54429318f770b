//! Port-forward from C: one connection (pull `_read` or callback `_run`, `_write` from any
//! thread, cancel from any thread), and a local listener.

use std::ffi::{c_char, c_int, c_void};
use std::sync::Mutex;

use crate::capi::client::incluster_client;
use crate::capi::error::incluster_error;
use crate::capi::guard::{Failure, bytes, exclusive, guard, guard_value, opt_str, req_str};
use crate::capi::handle::{Handle, Out};
use crate::capi::result::{incluster_callback_action, incluster_result};
use crate::core::exec::SessionCancel;
use crate::core::portforward::{Forwarder, PortForward, PortForwardWriter};

/// The callback of `incluster_port_forward_run`: `data`/`len` are bytes from the Pod's port,
/// borrowed for the duration of the call. Return `INCLUSTER_CONTINUE` (0) to go on, anything
/// else to stop (`INCLUSTER_STOPPED`).
pub type incluster_port_forward_callback =
    Option<unsafe extern "C" fn(userdata: *mut c_void, data: *const u8, len: usize) -> c_int>;

/// One forwarded connection to a Pod's port. Reading (`_read`, `_run`) belongs to one thread
/// at a time; `incluster_port_forward_write` and `_cancel` may be called from any thread while
/// it is alive.
pub struct incluster_port_forward {
    cancel: SessionCancel,
    writer: PortForwardWriter,
    state: Mutex<PfState>,
}

struct PfState {
    inner: PortForward,
    buf: Vec<u8>,
}

impl Handle for incluster_port_forward {
    const PARAM: &'static str = "pf";
}

/// A local listener (127.0.0.1) forwarding each connection to a Pod's port. Thread-safe to
/// query; freed by one thread when no other uses it.
pub struct incluster_forwarder {
    inner: Forwarder,
}

impl Handle for incluster_forwarder {
    const PARAM: &'static str = "forwarder";
}

/// Connect to `port` of `pod` in `namespace` (NULL: the client's namespace) over a WebSocket
/// (the kubelet's port-forward protocol, `v4.channel.k8s.io`). On success writes the
/// connection to `*out` (free with `incluster_port_forward_free`). A refused upgrade is
/// `INCLUSTER_ERR_FORBIDDEN` (`create` on `pods/portforward`), `INCLUSTER_ERR_NOT_FOUND`, ...;
/// port 0 is `INCLUSTER_ERR_INVALID_ARGUMENT`. A NULL `client`, `pod` or `out` is
/// `INCLUSTER_ERR_NULL_ARGUMENT`; `namespace` may be NULL. Thread-safe (the client may be
/// shared); the connection is read by one thread.
///
/// # Safety
/// `client` is a live client; `namespace` NULL or NUL-terminated; `pod` NUL-terminated;
/// `out` writable; `err` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_port_forward_open(
    client: *const incluster_client,
    namespace: *const c_char,
    pod: *const c_char,
    port: u16,
    out: *mut *mut incluster_port_forward,
    err: *mut *mut incluster_error,
) -> incluster_result {
    guard(err, || {
        // SAFETY: caller contract for every pointer.
        let (c, out, ns, pod) = unsafe {
            (
                incluster_client::arg(client)?,
                Out::new(out, "out")?,
                opt_str(namespace, "namespace")?,
                req_str(pod, "pod")?,
            )
        };
        let inner = PortForward::open(&c.inner, pod, ns, port)?;
        let h = incluster_port_forward {
            cancel: inner.cancel_handle(),
            writer: inner.writer(),
            state: Mutex::new(PfState {
                inner,
                buf: vec![0; 64 * 1024],
            }),
        };
        out.write(h.into_raw());
        Ok(())
    })
}

/// Read up to `cap` bytes into `buf`; on `INCLUSTER_OK` writes the count (> 0) to `*n`.
/// `INCLUSTER_END` once the Pod closed the connection; `INCLUSTER_ERR_TRANSPORT` with the
/// kubelet's message (nothing listens on the port, ...); `INCLUSTER_ERR_CANCELLED` after
/// `_cancel`. A NULL `pf`, `buf` or `n` is `INCLUSTER_ERR_NULL_ARGUMENT`; `cap` 0 is
/// `INCLUSTER_ERR_INVALID_ARGUMENT`. From the reading thread.
///
/// # Safety
/// `pf` is a live connection; `buf` writable for `cap` bytes; `n` writable; `err` NULL or
/// writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_port_forward_read(
    pf: *mut incluster_port_forward,
    buf: *mut u8,
    cap: usize,
    n: *mut usize,
    err: *mut *mut incluster_error,
) -> incluster_result {
    guard(err, || {
        // SAFETY: caller contract.
        let (p, n) = unsafe { (incluster_port_forward::arg(pf)?, Out::new(n, "n")?) };
        if buf.is_null() {
            return Err(Failure::Null("buf"));
        }
        if cap == 0 {
            return Err(crate::core::error::Error::invalid("cap must be at least 1").into());
        }
        // SAFETY: non-NULL and writable for `cap` bytes per the contract.
        let out = unsafe { std::slice::from_raw_parts_mut(buf, cap) };
        exclusive(&p.state, "port-forward connection", |s| {
            let got = s.inner.read(out)?;
            if got == 0 {
                return Ok(incluster_result::INCLUSTER_END);
            }
            n.write(got);
            Ok(incluster_result::INCLUSTER_OK)
        })
    })
}

/// Call `callback(userdata, data, len)` for the bytes from the Pod's port until it returns
/// non-zero (`INCLUSTER_STOPPED`), the Pod closes the connection (`INCLUSTER_END`), it is
/// cancelled (`INCLUSTER_ERR_CANCELLED`) or fails. A NULL `pf` or `callback` is
/// `INCLUSTER_ERR_NULL_ARGUMENT`; `userdata` may be NULL. On the reading thread; the callback
/// may call `incluster_port_forward_write`.
///
/// # Safety
/// `pf` is a live connection; `callback` valid; `err` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_port_forward_run(
    pf: *mut incluster_port_forward,
    callback: incluster_port_forward_callback,
    userdata: *mut c_void,
    err: *mut *mut incluster_error,
) -> incluster_result {
    guard(err, || {
        let cb = callback.ok_or(Failure::Null("callback"))?;
        // SAFETY: caller contract.
        let p = unsafe { incluster_port_forward::arg(pf) }?;
        exclusive(&p.state, "port-forward connection", |s| {
            loop {
                let PfState { inner, buf } = s;
                let got = inner.read(buf)?;
                if got == 0 {
                    return Ok(incluster_result::INCLUSTER_END);
                }
                // SAFETY: the caller's callback, with a pointer valid for the call.
                let rc = unsafe { cb(userdata, buf.as_ptr(), got) };
                if rc != incluster_callback_action::INCLUSTER_CONTINUE as c_int {
                    return Ok(incluster_result::INCLUSTER_STOPPED);
                }
            }
        })
    })
}

/// Send `len` bytes of `data` to the Pod's port (waits while it is not taking them). A NULL
/// `pf` (or NULL `data` with `len` > 0) is `INCLUSTER_ERR_NULL_ARGUMENT`. Any thread.
///
/// # Safety
/// `pf` is a live connection; `data` readable for `len` bytes; `err` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_port_forward_write(
    pf: *const incluster_port_forward,
    data: *const u8,
    len: usize,
    err: *mut *mut incluster_error,
) -> incluster_result {
    guard(err, || {
        // SAFETY: caller contract.
        let (p, data) = unsafe { (incluster_port_forward::arg(pf)?, bytes(data, len, "data")?) };
        p.writer.write(data)?;
        Ok(())
    })
}

/// Close the connection from any thread: a blocked `_read`/`_run`/`_write` returns
/// `INCLUSTER_ERR_CANCELLED` promptly. Idempotent; NULL is a no-op.
///
/// # Safety
/// `pf` is NULL or a live connection (not being freed concurrently).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_port_forward_cancel(pf: *const incluster_port_forward) {
    guard_value((), || {
        // SAFETY: caller contract; only thread-safe handles are touched.
        if let Some(p) = unsafe { incluster_port_forward::opt(pf) } {
            p.cancel.cancel();
        }
    })
}

/// Close and free the connection. NULL is a no-op. No other thread may be using it.
///
/// # Safety
/// `pf` is NULL or a connection from `incluster_port_forward_open`, freed once.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_port_forward_free(pf: *mut incluster_port_forward) {
    // SAFETY: made by `Handle::into_raw`; freed once per the contract.
    unsafe { incluster_port_forward::free(pf) }
}

/// Listen on `127.0.0.1:local_port` (0: a free port; see `incluster_forwarder_local_port`)
/// and forward each accepted connection to `remote_port` of `pod`, on background threads:
/// every connection is a stream pair on one SPDY tunnel (one WebSocket) when the API server
/// tunnels SPDY, else each has its own WebSocket; the tunnel is opened again if it ends. On success writes the listener to `*out` (free with
/// `incluster_forwarder_free`, which stops it). A NULL `client`, `pod` or `out` is
/// `INCLUSTER_ERR_NULL_ARGUMENT`; `namespace` may be NULL. Thread-safe.
///
/// # Safety
/// `client` is a live client; `namespace` NULL or NUL-terminated; `pod` NUL-terminated;
/// `out` writable; `err` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_port_forward_listen(
    client: *const incluster_client,
    namespace: *const c_char,
    pod: *const c_char,
    local_port: u16,
    remote_port: u16,
    out: *mut *mut incluster_forwarder,
    err: *mut *mut incluster_error,
) -> incluster_result {
    guard(err, || {
        // SAFETY: caller contract for every pointer.
        let (c, out, ns, pod) = unsafe {
            (
                incluster_client::arg(client)?,
                Out::new(out, "out")?,
                opt_str(namespace, "namespace")?,
                req_str(pod, "pod")?,
            )
        };
        let inner = Forwarder::start(&c.inner, pod, ns, local_port, remote_port, None)?;
        out.write(incluster_forwarder { inner }.into_raw());
        Ok(())
    })
}

/// The local port a listener accepts on; 0 for NULL. Any thread.
///
/// # Safety
/// `forwarder` is NULL or a live listener.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_forwarder_local_port(
    forwarder: *const incluster_forwarder,
) -> u16 {
    guard_value(0, || {
        // SAFETY: caller contract.
        unsafe { incluster_forwarder::opt(forwarder) }.map_or(0, |f| f.inner.local_addr().port())
    })
}

/// Stop the listener (its forwarded connections end) and free it. NULL is a no-op. No
/// other thread may be using it.
///
/// # Safety
/// `forwarder` is NULL or a listener from `incluster_port_forward_listen`, freed once.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_forwarder_free(forwarder: *mut incluster_forwarder) {
    // SAFETY: made by `Handle::into_raw`; freed once per the contract.
    unsafe { incluster_forwarder::free(forwarder) }
}
