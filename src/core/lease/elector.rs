//! One contender, client-go's algorithm: try to acquire every retry period (jittered); once
//! leader, renew every retry period; step down when no renewal succeeded within the renew
//! deadline; release the Lease when cancelled while leading.
//!
//! Expiry of another holder's Lease is judged by this process's monotonic clock: the record is
//! expired `leaseDurationSeconds` after the moment it was last *seen to change* here, never by
//! comparing `renewTime` with the local wall clock, so skew between nodes does not matter.
//! Every write is a PUT of the object as read (its `resourceVersion` makes it conditional): of
//! two contenders writing the same version, one gets 409 and loses that round.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use serde_json::Value;

use crate::core::api::request::Request;
use crate::core::cancel::CancelHandle;
use crate::core::client::Client;
use crate::core::error::{EXIT_LEASE_LOST, EXIT_LEASE_WAIT_TIMEOUT, Error, ErrorClass, Result};
use crate::core::http::interrupt;
use crate::core::lease::config::{ElectionConfig, JITTER_FACTOR, random_bytes, show};
use crate::core::lease::election::Shared;
use crate::core::lease::record::{LeaderRecord, explain_forbidden, lease_path, micro_time};

/// What a contender reports while it runs (to the callbacks of every front).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeaseEvent {
    /// The Lease was seen held by this identity (this contender's own included), the first
    /// time and whenever the holder changes.
    NewLeader(String),
    /// This contender became the leader.
    Started,
    /// This contender stopped leading; why (released, renew deadline passed, taken over).
    Stopped(String),
    /// A failure the loop retries (the server unreachable, a 5xx, a conflict while leading).
    Retrying(String),
}

/// How an election ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// It led, was cancelled, and gave the Lease up (or tried to: see the `Stopped` event).
    Released,
    /// It led and then lost leadership; why.
    Lost(String),
    /// It was cancelled before it became the leader.
    Cancelled,
    /// The wait timeout ran out before it became the leader.
    WaitTimedOut,
}

impl Outcome {
    /// The `incluster lease run` exit code when the command did not finish by itself:
    /// [`EXIT_LEASE_LOST`] for a lost leadership, [`EXIT_LEASE_WAIT_TIMEOUT`] for a wait that
    /// timed out, 0 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            Outcome::Lost(_) => EXIT_LEASE_LOST,
            Outcome::WaitTimedOut => EXIT_LEASE_WAIT_TIMEOUT,
            Outcome::Released | Outcome::Cancelled => 0,
        }
    }
}

/// The Lease as last seen to change.
struct Observed {
    record: LeaderRecord,
    /// When this process saw it change (the base of expiry).
    at: Instant,
    /// The whole object as read or written (its `resourceVersion` conditions the next PUT).
    lease: Value,
}

/// The loop's state.
pub(crate) struct Elector {
    client: Client,
    namespace: String,
    identity: String,
    cfg: ElectionConfig,
    observed: Option<Observed>,
    reported: Option<String>,
    cancel: CancelHandle,
    shared: Arc<Shared>,
}

/// Errors no retry can fix: the loop ends with them (while waiting) or steps down (leading).
/// A refusal (401, 403) is one only before this contender has ever read the Lease: then it
/// is a misconfiguration (no RBAC on leases, a bad token) and said at once. Once the Lease
/// has been read, a refusal is transient and retried as client-go retries every error: an
/// API server that has just restarted answers 403 until its RBAC caches are filled.
fn is_fatal(e: &Error, lease_was_read: bool) -> bool {
    use ErrorClass as C;
    match e.class() {
        C::InvalidArgument | C::Config | C::Tls | C::Invalid | C::OtherStatus => true,
        C::Unauthorized | C::Forbidden => !lease_was_read,
        _ => false,
    }
}

impl Elector {
    pub(crate) fn new(
        client: Client,
        namespace: String,
        identity: String,
        cfg: ElectionConfig,
        cancel: CancelHandle,
        shared: Arc<Shared>,
    ) -> Self {
        Elector {
            client,
            namespace,
            identity,
            cfg,
            observed: None,
            reported: None,
            cancel,
            shared,
        }
    }

    /// Run until leadership ends, the wait times out or the election is cancelled. A fatal
    /// error before leadership (403, 401, ...) is returned; one while leading is a loss.
    pub(crate) fn run(&mut self, emit: &mut dyn FnMut(LeaseEvent)) -> Result<Outcome> {
        let give_up = self.cfg.wait_timeout.map(|w| Instant::now() + w);
        let retry = self.cfg.retry_period;
        let mut since = loop {
            if self.cancel.is_cancelled() {
                return Ok(Outcome::Cancelled);
            }
            if give_up.is_some_and(|g| Instant::now() >= g) {
                return Ok(Outcome::WaitTimedOut);
            }
            let round = Instant::now();
            match self.round(None, emit) {
                Ok(true) => break round,
                Ok(false) => {}
                Err(_) if self.cancel.is_cancelled() => return Ok(Outcome::Cancelled),
                Err(e) if is_fatal(&e, self.observed.is_some()) => return Err(e),
                Err(e) => emit(LeaseEvent::Retrying(format!(
                    "could not acquire the Lease (trying again): {e}"
                ))),
            }
            // client-go's JitterUntil: between 1 and 1 + JITTER_FACTOR retry periods, so that
            // followers do not all ask at once.
            let r = random_bytes::<2>();
            let frac = f64::from(u16::from_le_bytes(r)) / f64::from(u16::MAX);
            let mut wait = retry.mul_f64(1.0 + JITTER_FACTOR * frac);
            if let Some(g) = give_up {
                wait = wait.min(g.saturating_duration_since(Instant::now()));
            }
            if self.cancel.sleep(wait).is_err() {
                return Ok(Outcome::Cancelled);
            }
        };
        self.shared
            .set_leading(Some(since + self.cfg.renew_deadline));
        emit(LeaseEvent::Started);
        self.shared.announce();
        loop {
            let deadline = since + self.cfg.renew_deadline;
            let pause = retry.min(deadline.saturating_duration_since(Instant::now()));
            if self.cancel.sleep(pause).is_err() {
                return Ok(self.release(emit));
            }
            if Instant::now() >= deadline {
                return Ok(self.lose(
                    format!(
                        "stepped down: the Lease could not be renewed within the renew deadline \
                         ({}), so another contender may take it over once it expires",
                        show(self.cfg.renew_deadline)
                    ),
                    emit,
                ));
            }
            let round = Instant::now();
            match self.round(Some(deadline), emit) {
                Ok(true) => {
                    since = round;
                    self.shared
                        .set_leading(Some(since + self.cfg.renew_deadline));
                }
                Ok(false) => {
                    let holder = self
                        .observed
                        .as_ref()
                        .map(|o| o.record.holder.clone())
                        .unwrap_or_default();
                    return Ok(self.lose(format!("the Lease was taken over by {holder:?}"), emit));
                }
                Err(_) if self.cancel.is_cancelled() => return Ok(self.release(emit)),
                Err(e) if is_fatal(&e, self.observed.is_some()) => {
                    return Ok(self.lose(format!("stepped down: {e}"), emit));
                }
                Err(e) => emit(LeaseEvent::Retrying(format!(
                    "could not renew the Lease (trying again until the renew deadline): {e}"
                ))),
            }
        }
    }

    /// Leadership ended without a release.
    fn lose(&mut self, reason: String, emit: &mut dyn FnMut(LeaseEvent)) -> Outcome {
        self.shared.set_leading(None);
        emit(LeaseEvent::Stopped(reason.clone()));
        Outcome::Lost(reason)
    }

    /// Cancelled while leading: stop leading, then hand the Lease back as client-go's
    /// `ReleaseOnCancel` does (no holder, a one-second duration, transitions kept), so the
    /// others take over at their next try instead of waiting out the Lease.
    fn release(&mut self, emit: &mut dyn FnMut(LeaseEvent)) -> Outcome {
        self.shared.set_leading(None);
        let Some(obs) = self
            .observed
            .as_ref()
            .filter(|o| o.record.holder == self.identity)
        else {
            emit(LeaseEvent::Stopped("stopped leading".into()));
            return Outcome::Released;
        };
        let stamp = micro_time(SystemTime::now());
        let rec = LeaderRecord {
            holder: String::new(),
            lease_duration_seconds: 1,
            acquire_time: Some(stamp.clone()),
            renew_time: Some(stamp),
            transitions: obs.record.transitions,
        };
        let lease = obs.lease.clone();
        match self.update(&lease, &rec) {
            Ok(_) => emit(LeaseEvent::Stopped("released the Lease".into())),
            Err(e) => emit(LeaseEvent::Stopped(format!(
                "stopped leading, but could not release the Lease (the others take over when \
                 it expires): {e}"
            ))),
        }
        Outcome::Released
    }

    /// client-go's `tryAcquireOrRenew`: `Ok(true)` when this contender holds the Lease now.
    /// `deadline` (while leading) stops a request blocked past it.
    fn round(
        &mut self,
        deadline: Option<Instant>,
        emit: &mut dyn FnMut(LeaseEvent),
    ) -> Result<bool> {
        self.shared.count_round();
        let cancel = self.cancel.clone();
        let stop = move || cancel.is_cancelled() || deadline.is_some_and(|d| Instant::now() >= d);
        interrupt::with_check(stop, || self.try_acquire_or_renew(emit))
    }

    fn try_acquire_or_renew(&mut self, emit: &mut dyn FnMut(LeaseEvent)) -> Result<bool> {
        let stamp = micro_time(SystemTime::now());
        // The leader's fast path (client-go's too): renew from the record it last wrote, with
        // one PUT and no GET. A 409 or 404 means the Lease changed: read it as a follower does.
        if let Some(obs) = &self.observed
            && obs.record.holder == self.identity
            && self.shared.is_leader()
        {
            let rec = LeaderRecord {
                renew_time: Some(stamp.clone()),
                lease_duration_seconds: self.cfg.lease_seconds(),
                ..obs.record.clone()
            };
            let lease = obs.lease.clone();
            match self.update(&lease, &rec) {
                Ok(new) => {
                    self.observe(rec, new);
                    return Ok(true);
                }
                Err(e) if matches!(e.class(), ErrorClass::Conflict | ErrorClass::NotFound) => {}
                Err(e) => return Err(e),
            }
        }
        let lease = match self.get() {
            Ok(l) => l,
            Err(e) if e.class() == ErrorClass::NotFound => {
                let rec = LeaderRecord {
                    holder: self.identity.clone(),
                    lease_duration_seconds: self.cfg.lease_seconds(),
                    acquire_time: Some(stamp.clone()),
                    renew_time: Some(stamp),
                    transitions: 0,
                };
                return match self.create(&rec) {
                    Ok(new) => {
                        self.observe(rec, new);
                        self.report(emit);
                        Ok(true)
                    }
                    Err(e)
                        if matches!(
                            e.class(),
                            ErrorClass::AlreadyExists | ErrorClass::Conflict
                        ) =>
                    {
                        Ok(false)
                    }
                    Err(e) => Err(e),
                };
            }
            Err(e) => return Err(e),
        };
        let seen = LeaderRecord::from_lease(&lease);
        match &mut self.observed {
            Some(o) if o.record == seen => o.lease = lease.clone(),
            _ => self.observe(seen.clone(), lease.clone()),
        }
        self.report(emit);
        let at = self.observed.as_ref().map_or_else(Instant::now, |o| o.at);
        let held_for = Duration::from_secs(u64::try_from(seen.lease_duration_seconds).unwrap_or(0));
        if !seen.holder.is_empty() && seen.holder != self.identity && at + held_for > Instant::now()
        {
            return Ok(false);
        }
        let mine = seen.holder == self.identity;
        let rec = LeaderRecord {
            holder: self.identity.clone(),
            lease_duration_seconds: self.cfg.lease_seconds(),
            acquire_time: if mine {
                seen.acquire_time.clone()
            } else {
                Some(stamp.clone())
            },
            renew_time: Some(stamp),
            transitions: if mine {
                seen.transitions
            } else {
                seen.transitions + 1
            },
        };
        match self.update(&lease, &rec) {
            Ok(new) => {
                self.observe(rec, new);
                self.report(emit);
                Ok(true)
            }
            // Someone else wrote first (or deleted it): this round is lost.
            Err(e) if matches!(e.class(), ErrorClass::Conflict | ErrorClass::NotFound) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Remember the record as seen changing now.
    fn observe(&mut self, record: LeaderRecord, lease: Value) {
        self.observed = Some(Observed {
            record,
            at: Instant::now(),
            lease,
        });
    }

    /// Report a holder not reported before.
    fn report(&mut self, emit: &mut dyn FnMut(LeaseEvent)) {
        let Some(holder) = self.observed.as_ref().map(|o| &o.record.holder) else {
            return;
        };
        if !holder.is_empty() && self.reported.as_ref() != Some(holder) {
            self.reported = Some(holder.clone());
            emit(LeaseEvent::NewLeader(holder.clone()));
        }
    }

    fn get(&self) -> Result<Value> {
        let req = Request::new("GET", &lease_path(&self.namespace, Some(&self.cfg.name)));
        self.send(&req, "get")
    }

    fn create(&self, rec: &LeaderRecord) -> Result<Value> {
        let lease = rec.new_lease(&self.namespace, &self.cfg.name);
        let req = Request::new("POST", &lease_path(&self.namespace, None)).with_json(&lease);
        self.send(&req, "create")
    }

    fn update(&self, lease: &Value, rec: &LeaderRecord) -> Result<Value> {
        let mut body = lease.clone();
        rec.apply(&mut body);
        let path = lease_path(&self.namespace, Some(&self.cfg.name));
        let req = Request::new("PUT", &path).with_json(&body);
        self.send(&req, "update")
    }

    fn send(&self, req: &Request, verb: &str) -> Result<Value> {
        self.client
            .request(req)
            .map_err(|e| explain_forbidden(e, verb, &self.namespace))?
            .json_for(req)
    }
}
