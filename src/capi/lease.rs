//! Leader election from C: start a contender with callbacks, ask whether it leads, wait,
//! cancel from any thread, free. The election is the core's ([`crate::core::lease`]).

use std::ffi::{CString, c_char, c_void};
use std::time::Duration;

use crate::capi::client::incluster_client;
use crate::capi::error::incluster_error;
use crate::capi::guard::{Failure, cstring_lossy, guard, guard_value, opt_str, req_str};
use crate::capi::handle::{Handle, Out};
use crate::capi::result::incluster_result;
use crate::core::error::Error;
use crate::core::lease::{Election, ElectionConfig, LeaseEvent, Outcome};

/// The settings of `incluster_lease_start`. A zero duration means client-go's default
/// (15000 / 10000 / 2000 ms); `wait_timeout_ms` 0 waits for leadership until cancelled.
#[repr(C)]
pub struct incluster_lease_params {
    /// The Lease's name (required).
    pub name: *const c_char,
    /// The Lease's namespace; NULL is the client's.
    pub lease_namespace: *const c_char,
    /// This contender's identity; NULL is the hostname plus `_` and a random suffix.
    pub identity: *const c_char,
    /// `leaseDurationSeconds`, in milliseconds (rounded up to seconds in the Lease).
    pub lease_duration_ms: u64,
    /// How long the leader keeps trying to renew before it steps down.
    pub renew_deadline_ms: u64,
    /// How often to try to acquire or renew.
    pub retry_period_ms: u64,
    /// Give up waiting for leadership after this long (0: never).
    pub wait_timeout_ms: u64,
}

/// The callbacks of `incluster_lease_start`, each optional (NULL), all called on the
/// election's own thread with `userdata`. Strings passed to them are borrowed for the call.
/// They may call any incluster function except `incluster_lease_free` on their own lease.
#[repr(C)]
pub struct incluster_lease_callbacks {
    /// This contender became the leader.
    pub on_started: Option<unsafe extern "C" fn(userdata: *mut c_void)>,
    /// This contender stopped leading; `reason` says why (released, renew deadline passed,
    /// taken over).
    pub on_stopped: Option<unsafe extern "C" fn(userdata: *mut c_void, reason: *const c_char)>,
    /// The Lease was seen held by `identity` (this contender's own included), first and on
    /// each change.
    pub on_new_leader: Option<unsafe extern "C" fn(userdata: *mut c_void, identity: *const c_char)>,
    /// Passed to every callback untouched.
    pub userdata: *mut c_void,
}

/// How an election ended (`incluster_lease_wait`).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum incluster_lease_outcome {
    /// It led, was cancelled, and released the Lease.
    INCLUSTER_LEASE_RELEASED = 1,
    /// It led and lost leadership (renew deadline passed, or taken over).
    INCLUSTER_LEASE_LOST = 2,
    /// It was cancelled before it led.
    INCLUSTER_LEASE_CANCELLED = 3,
    /// The wait timeout passed before it led.
    INCLUSTER_LEASE_WAIT_TIMED_OUT = 4,
}

/// A running contender. Thread-safe: any thread may call `_is_leader`, `_identity`,
/// `_wait_leader`, `_wait` and `_cancel` on it; `_free` once, when no other call is running.
pub struct incluster_lease {
    election: Election,
    identity: CString,
}

impl Handle for incluster_lease {
    const PARAM: &'static str = "lease";
}

/// The callbacks, moved to the election's thread.
struct Callbacks {
    on_started: Option<unsafe extern "C" fn(*mut c_void)>,
    on_stopped: Option<unsafe extern "C" fn(*mut c_void, *const c_char)>,
    on_new_leader: Option<unsafe extern "C" fn(*mut c_void, *const c_char)>,
    userdata: *mut c_void,
}

// SAFETY: the caller of `incluster_lease_start` promises that the callbacks and `userdata` may
// be used from the election's thread (documented there); nothing else touches them.
unsafe impl Send for Callbacks {}

impl Callbacks {
    fn call(&self, ev: LeaseEvent) {
        match ev {
            LeaseEvent::Started => {
                if let Some(f) = self.on_started {
                    // SAFETY: the caller's callback with its own userdata.
                    unsafe { f(self.userdata) };
                }
            }
            LeaseEvent::Stopped(why) => {
                if let Some(f) = self.on_stopped {
                    let s = cstring_lossy(&why);
                    // SAFETY: as above; `s` outlives the call.
                    unsafe { f(self.userdata, s.as_ptr()) };
                }
            }
            LeaseEvent::NewLeader(id) => {
                if let Some(f) = self.on_new_leader {
                    let s = cstring_lossy(&id);
                    // SAFETY: as above; `s` outlives the call.
                    unsafe { f(self.userdata, s.as_ptr()) };
                }
            }
            LeaseEvent::Retrying(_) => {}
        }
    }
}

fn ms_or(v: u64, default: Duration) -> Duration {
    if v == 0 {
        default
    } else {
        Duration::from_millis(v)
    }
}

/// A timeout argument in milliseconds: negative waits forever.
fn timeout(ms: i64) -> Option<Duration> {
    u64::try_from(ms).ok().map(Duration::from_millis)
}

/// Start contending for a Lease with client-go's algorithm (so C, Python, shell and Go
/// contenders can share one Lease). Returns at once: the election runs on its own thread,
/// calling `callbacks` (NULL: none) there. Invalid settings fail here with
/// `INCLUSTER_ERR_INVALID_ARGUMENT` naming the value (client-go's rule: lease duration >
/// renew deadline > 1.2 × retry period > 0). A 403 (no RBAC on leases) arrives through
/// `incluster_lease_wait_leader`/`incluster_lease_wait`, naming the verb and namespace.
///
/// On success writes the lease to `*out` (free with `incluster_lease_free`, which releases the
/// Lease if leading). NULL `client`, `params`, `params->name` or `out` is
/// `INCLUSTER_ERR_NULL_ARGUMENT`. Thread-safe (the client may be shared; it may be freed
/// before the lease).
///
/// # Safety
/// `client` is a live client; `params` points to a valid struct whose strings are NULL or
/// NUL-terminated (read during the call only); `callbacks` is NULL or valid, and its functions
/// and `userdata` may be used from another thread until `incluster_lease_free` returns; `out`
/// writable; `err` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_lease_start(
    client: *const incluster_client,
    params: *const incluster_lease_params,
    callbacks: *const incluster_lease_callbacks,
    out: *mut *mut incluster_lease,
    err: *mut *mut incluster_error,
) -> incluster_result {
    guard(err, || {
        // SAFETY: caller contract for every pointer.
        let (c, out, p) = unsafe {
            (
                incluster_client::arg(client)?,
                Out::new(out, "out")?,
                params.as_ref().ok_or(Failure::Null("params"))?,
            )
        };
        // SAFETY: caller contract: the strings are NULL or NUL-terminated.
        let (name, ns, identity) = unsafe {
            (
                req_str(p.name, "params->name")?,
                opt_str(p.lease_namespace, "params->lease_namespace")?,
                opt_str(p.identity, "params->identity")?,
            )
        };
        let mut cfg = ElectionConfig::new(name);
        cfg.namespace = ns.map(str::to_owned);
        cfg.identity = identity.map(str::to_owned);
        cfg.lease_duration = ms_or(p.lease_duration_ms, cfg.lease_duration);
        cfg.renew_deadline = ms_or(p.renew_deadline_ms, cfg.renew_deadline);
        cfg.retry_period = ms_or(p.retry_period_ms, cfg.retry_period);
        cfg.wait_timeout =
            (p.wait_timeout_ms > 0).then(|| Duration::from_millis(p.wait_timeout_ms));
        // SAFETY: caller contract: NULL or valid.
        let cb = match unsafe { callbacks.as_ref() } {
            Some(cb) => Callbacks {
                on_started: cb.on_started,
                on_stopped: cb.on_stopped,
                on_new_leader: cb.on_new_leader,
                userdata: cb.userdata,
            },
            None => Callbacks {
                on_started: None,
                on_stopped: None,
                on_new_leader: None,
                userdata: std::ptr::null_mut(),
            },
        };
        let election = Election::start(&c.inner, cfg, move |ev| cb.call(ev))?;
        let identity = cstring_lossy(election.identity());
        out.write(incluster_lease { election, identity }.into_raw());
        Ok(())
    })
}

/// Block until this contender leads (`INCLUSTER_OK`), `timeout_ms` passes
/// (`INCLUSTER_ERR_TIMEOUT`; negative waits forever), or the election ends without leading
/// (`INCLUSTER_END`: see `incluster_lease_wait` for how; or the error that ended it, such as
/// `INCLUSTER_ERR_FORBIDDEN`). NULL `lease` is `INCLUSTER_ERR_NULL_ARGUMENT`. Any thread.
///
/// # Safety
/// `lease` is a live lease; `err` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_lease_wait_leader(
    lease: *const incluster_lease,
    timeout_ms: i64,
    err: *mut *mut incluster_error,
) -> incluster_result {
    guard(err, || {
        // SAFETY: caller contract.
        let l = unsafe { incluster_lease::arg(lease) }?;
        if l.election.wait_leader(timeout(timeout_ms))? {
            return Ok(incluster_result::INCLUSTER_OK);
        }
        if l.election.is_done() {
            return Ok(incluster_result::INCLUSTER_END);
        }
        Err(Failure::Core(Error::Timeout(format!(
            "not the leader of the Lease within {timeout_ms} ms"
        ))))
    })
}

/// Block until the election ends or `timeout_ms` passes (`INCLUSTER_ERR_TIMEOUT`; negative
/// waits forever). On `INCLUSTER_OK` writes how it ended to `*outcome`; an election that
/// failed before leading (403, 401, ...) returns that error instead. NULL `lease` or `outcome`
/// is `INCLUSTER_ERR_NULL_ARGUMENT`. Any thread.
///
/// # Safety
/// `lease` is a live lease; `outcome` writable; `err` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_lease_wait(
    lease: *const incluster_lease,
    timeout_ms: i64,
    outcome: *mut incluster_lease_outcome,
    err: *mut *mut incluster_error,
) -> incluster_result {
    guard(err, || {
        // SAFETY: caller contract.
        let (l, out) = unsafe { (incluster_lease::arg(lease)?, Out::new(outcome, "outcome")?) };
        let Some(ended) = l.election.wait(timeout(timeout_ms))? else {
            return Err(Failure::Core(Error::Timeout(format!(
                "the election did not end within {timeout_ms} ms"
            ))));
        };
        use incluster_lease_outcome as O;
        out.write(match ended? {
            Outcome::Released => O::INCLUSTER_LEASE_RELEASED,
            Outcome::Lost(_) => O::INCLUSTER_LEASE_LOST,
            Outcome::Cancelled => O::INCLUSTER_LEASE_CANCELLED,
            Outcome::WaitTimedOut => O::INCLUSTER_LEASE_WAIT_TIMED_OUT,
        });
        Ok(())
    })
}

/// Whether this contender leads now: false from the renew deadline on, before the Lease can
/// expire for the others. NULL gives false. Any thread.
///
/// # Safety
/// `lease` is NULL or a live lease.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_lease_is_leader(lease: *const incluster_lease) -> bool {
    guard_value(false, || {
        // SAFETY: caller contract.
        unsafe { incluster_lease::opt(lease) }.is_some_and(|l| l.election.is_leader())
    })
}

/// This contender's identity, borrowed: valid until `incluster_lease_free`. NULL gives NULL.
/// Any thread.
///
/// # Safety
/// `lease` is NULL or a live lease.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_lease_identity(lease: *const incluster_lease) -> *const c_char {
    guard_value(std::ptr::null(), || {
        // SAFETY: caller contract.
        unsafe { incluster_lease::opt(lease) }.map_or(std::ptr::null(), |l| l.identity.as_ptr())
    })
}

/// Stop contending, from any thread (a callback included): a leader stops leading and
/// releases the Lease (on_stopped says so). Returns at once; `incluster_lease_wait` waits for
/// the end. Idempotent; NULL is a no-op.
///
/// # Safety
/// `lease` is NULL or a live lease (not being freed concurrently).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_lease_cancel(lease: *const incluster_lease) {
    guard_value((), || {
        // SAFETY: caller contract.
        if let Some(l) = unsafe { incluster_lease::opt(lease) } {
            l.election.cancel();
        }
    })
}

/// Cancel, wait for the election's thread to finish (a leader has released the Lease by
/// then; callbacks may still run until it returns), and free the lease. NULL is a no-op. Not
/// from a callback of this lease, and with no other call on it running (any other thread).
///
/// # Safety
/// `lease` is NULL or a lease from `incluster_lease_start`, freed once.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_lease_free(lease: *mut incluster_lease) {
    // SAFETY: made by `Handle::into_raw`; freed once per the contract. Dropping the election
    // cancels it and joins its thread.
    unsafe { incluster_lease::free(lease) }
}
