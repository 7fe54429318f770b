//! An election on its own thread, and the handle every front holds: is-leader, wait for
//! leadership, cancel (from any thread), the outcome. The loop itself is [`super::elector`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{JoinHandle, ThreadId};
use std::time::{Duration, Instant};

use crate::core::cancel::CancelHandle;
use crate::core::client::Client;
use crate::core::error::{Error, Result};
use crate::core::http::interrupt;
use crate::core::lease::config::{ElectionConfig, default_identity};
use crate::core::lease::elector::{Elector, LeaseEvent, Outcome};

/// What the loop and the handle share.
#[derive(Default)]
pub(crate) struct Shared {
    state: Mutex<State>,
    changed: Condvar,
    rounds: AtomicU64,
}

#[derive(Default)]
struct State {
    /// While leading: the instant by which a renewal must succeed.
    leading_until: Option<Instant>,
    /// Leading, and the `Started` event delivered: what waiters for leadership wait for, so
    /// that `on_started` has run when they return.
    announced: bool,
    /// Set once, when the loop ends.
    outcome: Option<Result<Outcome>>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn set_leading(&self, until: Option<Instant>) {
        let mut s = self.lock();
        s.leading_until = until;
        if until.is_none() {
            s.announced = false;
        }
        drop(s);
        self.changed.notify_all();
    }

    /// The `Started` event has been delivered.
    pub(crate) fn announce(&self) {
        self.lock().announced = true;
        self.changed.notify_all();
    }

    /// Leading, and the renew deadline not passed: false from the deadline on even if the
    /// loop has not noticed yet.
    pub(crate) fn is_leader(&self) -> bool {
        self.lock()
            .leading_until
            .is_some_and(|u| Instant::now() < u)
    }

    pub(crate) fn count_round(&self) {
        self.rounds.fetch_add(1, Ordering::Relaxed);
    }

    fn finish(&self, outcome: Result<Outcome>) {
        let mut s = self.lock();
        s.leading_until = None;
        s.announced = false;
        s.outcome = Some(outcome);
        drop(s);
        self.changed.notify_all();
    }

    /// Wait until `done` says so or `timeout` passes (`Ok(false)`). Wakes every
    /// [`interrupt::SLICE`] to honour the calling thread's interrupt check (Ctrl-C in Python):
    /// an interrupt is [`Error::Cancelled`].
    fn wait_for(&self, timeout: Option<Duration>, done: impl Fn(&State) -> bool) -> Result<bool> {
        let end = timeout.map(|t| Instant::now() + t);
        let mut s = self.lock();
        loop {
            if done(&s) {
                return Ok(true);
            }
            let left = match end {
                Some(e) => e.saturating_duration_since(Instant::now()),
                None => interrupt::SLICE,
            };
            if left.is_zero() {
                return Ok(false);
            }
            if interrupt::active() {
                drop(s);
                if interrupt::interrupted() {
                    return Err(Error::Cancelled);
                }
                s = self.lock();
            }
            s = self
                .changed
                .wait_timeout(s, left.min(interrupt::SLICE))
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }
}

/// A running leader election: one contender for one Lease, its loop on a thread of its own.
/// Thread-safe: any thread may ask [`Election::is_leader`], wait, or [`Election::cancel`].
/// Dropping it cancels the election and waits for the loop (and so the release) to finish.
pub struct Election {
    shared: Arc<Shared>,
    cancel: CancelHandle,
    identity: String,
    namespace: String,
    thread: Mutex<Option<JoinHandle<()>>>,
    thread_id: Option<ThreadId>,
}

impl std::fmt::Debug for Election {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Election")
            .field("identity", &self.identity)
            .field("namespace", &self.namespace)
            .field("leader", &self.is_leader())
            .finish()
    }
}

impl Election {
    /// Validate `cfg` and start contending, calling `observer` on the election's thread for
    /// each [`LeaseEvent`]. Returns at once; invalid settings fail here.
    ///
    /// The election's requests use the client's settings with a request timeout of at most
    /// the renew deadline and no `Retry-After` waits: the loop's own retry period paces it.
    pub fn start(
        client: &Client,
        cfg: ElectionConfig,
        mut observer: impl FnMut(LeaseEvent) + Send + 'static,
    ) -> Result<Election> {
        cfg.validate()?;
        let identity = cfg.identity.clone().unwrap_or_else(default_identity);
        let namespace = cfg
            .namespace
            .clone()
            .unwrap_or_else(|| client.namespace().to_owned());
        let mut config = client.config().clone();
        config.request_timeout = Some(
            config
                .request_timeout
                .map_or(cfg.renew_deadline, |t| t.min(cfg.renew_deadline)),
        );
        config.max_attempts = 1;
        let own = Client::new(config)?;
        let shared = Arc::new(Shared::default());
        let cancel = CancelHandle::new();
        let mut elector = Elector::new(
            own,
            namespace.clone(),
            identity.clone(),
            cfg,
            cancel.clone(),
            shared.clone(),
        );
        let done = shared.clone();
        let thread = std::thread::Builder::new()
            .name("incluster-lease".into())
            .spawn(move || {
                let outcome = elector.run(&mut observer);
                done.finish(outcome);
            })
            .map_err(|e| Error::Transport(format!("cannot start the election thread: {e}")))?;
        let thread_id = Some(thread.thread().id());
        Ok(Election {
            shared,
            cancel,
            identity,
            namespace,
            thread: Mutex::new(Some(thread)),
            thread_id,
        })
    }

    /// This contender's identity (the given one, or the hostname plus a random suffix).
    pub fn identity(&self) -> &str {
        &self.identity
    }

    /// The Lease's namespace.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// Whether this contender leads now: it holds the Lease and its last renewal is within the
    /// renew deadline (so this turns false at the deadline, before the Lease can expire for
    /// the others, even while a renewal request is still blocked).
    pub fn is_leader(&self) -> bool {
        self.shared.is_leader()
    }

    /// Stop contending; a leader releases the Lease. Returns at once; idempotent; any thread.
    pub fn cancel(&self) {
        self.cancel.cancel();
    }

    /// Whether the election has ended.
    pub fn is_done(&self) -> bool {
        self.shared.lock().outcome.is_some()
    }

    /// How many acquire-or-renew rounds the loop has made (each is one request, except a
    /// follower's first sight of a missing Lease and a leader's renewal that met a conflict).
    pub fn rounds(&self) -> u64 {
        self.shared.rounds.load(Ordering::Relaxed)
    }

    /// Block until this contender leads (`Ok(true)`), `timeout` passes or the election ends
    /// (`Ok(false)`; [`Election::outcome`] says how), or a fatal error (`Err`, e.g. 403).
    /// Honours the calling thread's interrupt check ([`Error::Cancelled`]).
    pub fn wait_leader(&self, timeout: Option<Duration>) -> Result<bool> {
        self.shared
            .wait_for(timeout, |s| s.announced || s.outcome.is_some())?;
        if self.is_leader() {
            return Ok(true);
        }
        match self.outcome() {
            Some(Err(e)) => Err(e),
            _ => Ok(false),
        }
    }

    /// Block until the election ends or `timeout` passes (`None`); then its outcome.
    pub fn wait(&self, timeout: Option<Duration>) -> Result<Option<Result<Outcome>>> {
        self.shared.wait_for(timeout, |s| s.outcome.is_some())?;
        Ok(self.outcome())
    }

    /// Block until this contender no longer leads (it lost, or was cancelled) or `timeout`
    /// passes (`Ok(false)`).
    pub fn wait_not_leader(&self, timeout: Option<Duration>) -> Result<bool> {
        self.shared.wait_for(timeout, |s| {
            s.outcome.is_some() || s.leading_until.is_none_or(|u| Instant::now() >= u)
        })
    }

    /// The outcome, once the election has ended.
    pub fn outcome(&self) -> Option<Result<Outcome>> {
        self.shared.lock().outcome.clone()
    }

    /// Cancel and wait for the loop to finish (a leader has released the Lease then); the
    /// outcome. From the election's own thread (an observer), it only cancels.
    pub fn stop(&self) -> Option<Result<Outcome>> {
        self.cancel();
        if Some(std::thread::current().id()) != self.thread_id {
            let handle = self
                .thread
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take();
            if let Some(h) = handle {
                // A panic in an observer ended the thread; its outcome is then missing.
                let _ = h.join();
            }
        }
        self.outcome()
    }
}

impl Drop for Election {
    fn drop(&mut self) {
        self.stop();
    }
}
