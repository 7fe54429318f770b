//! The native half of `incluster.aio`: running the client's calls for asyncio.
//!
//! Requests (one request, one answer: `request`, `get`, `post`, ..., `whoami`, `can_i`) run in
//! three steps, and only the middle one leaves the loop's thread:
//! 1. on the loop's thread, with the GIL, the Python arguments become the core's request (the
//!    sync client's own conversion, `client::Call`), and the future is filed in the loop's
//!    [`AioLoop`] under a number;
//! 2. on a worker of a small fixed pool ([`pool`]), **without the GIL**, the core sends it
//!    with the client's policy, and the worker pushes the answer (pure Rust) on the loop's
//!    completion queue and writes the loop's eventfd;
//! 3. on the loop's thread, when the eventfd is readable, `incluster.aio`'s pacer (one per
//!    loop, python/incluster/aio.py) takes a bounded batch of answers from the queue, as many
//!    as fit the round's share of the loop's time; each one's Python result or exception is
//!    made with the sync client's code, and the futures are settled.
//!
//! Why: a worker that needs the GIL must win it from the loop's thread, which holds it until it
//! next waits in `select`, and a waiting thread forces a switch only after Python's switch
//! interval; four workers doing so also stall the loop. Here the GIL never leaves the loop's
//! thread for a request, and the only wake-up of the loop is one eventfd write for any number
//! of answers queued meanwhile.
//!
//! The other calls (opening a stream, a stream's resume, the workflows) still go through
//! [`aio_submit`]: a worker calls a bound sync method with the GIL, and settles the future
//! through `loop.call_soon_threadsafe`.
//!
//! Cancelling the awaiting task cancels the call's [`CancelHandle`]: a call still queued never
//! starts, and one under way is woken out of its socket wait at once (the worker's wake fd,
//! which `CancelHandle::cancel` writes; see `interrupt::with_wake_fd`), which drops the
//! connection instead of returning it to the pool half-read, and frees the worker. The same
//! holds for a stream's resume running on a worker when the stream is closed.

pub mod pool;

use std::collections::{HashMap, VecDeque};
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

use crate::core::cancel::CancelHandle;
use crate::core::client::Client as CoreClient;
use crate::core::http::interrupt;
use crate::py::client::{Answer, Call};
use crate::py::errors::to_py;

/// A call queued or running on the worker pool, as the awaiting coroutine holds it.
#[pyclass(frozen, name = "_AioCall", module = "incluster._native")]
pub struct AioCall {
    cancel: CancelHandle,
}

#[pymethods]
impl AioCall {
    /// Stop the call: if still queued it never starts; if under way, its socket wait ends
    /// at once and the connection is closed. Its future is left alone (the caller cancelled
    /// it). Idempotent, and harmless after the call finished.
    fn cancel(&self) {
        self.cancel.cancel();
    }

    /// Whether `cancel()` was called.
    #[getter]
    fn cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }
}

/// How many answers one call of `drain` settles by default. Settling runs Python (JSON into
/// objects, the futures' callbacks scheduled): a burst of a thousand answers at once must not
/// be one long step of the loop, so the rest wait for the loop's next round, after its timers
/// and the other ready callbacks. Small enough for one batch to be a short step, large enough
/// that a burst needs few rounds.
const BATCH: usize = 64;

/// How a request on a worker ended.
enum Outcome {
    /// Cancelled before it started, or while under way: nobody awaits the future.
    Cancelled,
    /// The core's answer, or its error.
    Done(crate::core::error::Result<Answer>),
    /// The core panicked (a bug); the future gets a RuntimeError rather than hang.
    Panicked,
}

/// An answer waiting in a loop's queue for the loop's thread.
struct Completion {
    id: u64,
    call: Call,
    outcome: Outcome,
}

/// What a loop's [`AioLoop`] shares with the workers running its requests: pure Rust, so a
/// worker never needs the GIL to hand an answer over.
struct Shared {
    queue: Mutex<VecDeque<Completion>>,
    /// Readable while `queue` holds answers; registered with the loop's `add_reader`.
    /// Closed when the last holder (the `AioLoop`, or a worker still running one of its
    /// requests) lets go, so a worker never writes to a number reused for something else.
    fd: i32,
}

impl Shared {
    /// Queue an answer; wake the loop when the queue was empty (otherwise the eventfd is
    /// still readable, and the loop will come for this one too).
    fn complete(&self, c: Completion) {
        let Ok(mut q) = self.queue.lock() else { return };
        let was_empty = q.is_empty();
        q.push_back(c);
        if was_empty {
            interrupt::wake(self.fd);
        }
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        // SAFETY: the eventfd made in `AioLoop::new`, owned by this value alone, and no
        // longer written: every holder of the `Arc` is gone.
        unsafe { libc::close(self.fd) };
    }
}

/// One event loop's end of the completion queue: `incluster.aio` makes one per loop, and
/// watches `ctx.fd` through its pacer's epoll (registered with the loop once). Holds the
/// futures of the loop's requests under way; they are only touched on the loop's thread, with
/// the GIL.
///
/// The loop's reader (the pacer's, which holds it) is what keeps it alive (`incluster.aio`
/// only holds it weakly): closing the loop drops it, its futures and, once no worker runs one
/// of its requests, its eventfd.
/// The futures refer to the loop, so the garbage collector is told about them too.
#[pyclass(frozen, weakref, name = "_AioLoop", module = "incluster._native")]
pub struct AioLoop {
    shared: Arc<Shared>,
    pending: Mutex<HashMap<u64, Py<PyAny>>>,
    next: AtomicU64,
}

#[pymethods]
impl AioLoop {
    /// A new completion queue and its eventfd. Raises OSError when no eventfd can be made.
    #[new]
    fn new() -> PyResult<Self> {
        // SAFETY: creates a new descriptor; no pointers involved.
        let fd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
        if fd < 0 {
            return Err(std::io::Error::last_os_error().into());
        }
        Ok(AioLoop {
            shared: Arc::new(Shared {
                queue: Mutex::new(VecDeque::new()),
                fd,
            }),
            pending: Mutex::new(HashMap::new()),
            next: AtomicU64::new(0),
        })
    }

    /// The eventfd, readable while answers are queued.
    #[getter]
    fn fd(&self) -> i32 {
        self.shared.fd
    }

    /// Requests started and not yet settled (or dropped, when cancelled).
    #[getter]
    fn pending(&self) -> usize {
        self.pending.lock().map(|p| p.len()).unwrap_or(0)
    }

    /// Answers queued for the loop's thread and not yet taken.
    #[getter]
    fn queued(&self) -> usize {
        self.shared.queue.lock().map(|q| q.len()).unwrap_or(0)
    }

    /// Settle at most `max` (default `BATCH`) queued answers' futures; returns how many
    /// answers were taken. When more are left, the eventfd stays readable, and `incluster.aio`
    /// calls again on a later round of the loop, within that round's share of the loop's time.
    #[pyo3(signature = (max = BATCH))]
    fn drain(&self, py: Python<'_>, max: usize) -> PyResult<usize> {
        let batch: Vec<Completion> = {
            let Ok(mut q) = self.shared.queue.lock() else {
                return Ok(0);
            };
            let n = q.len().min(max);
            let batch = q.drain(..n).collect();
            if q.is_empty() {
                // Under the lock: a worker that queues after this sees an empty queue and
                // writes again, so no answer is left without a wake-up.
                interrupt::drain_wake_fd(self.shared.fd);
            }
            batch
        };
        let taken = batch.len();
        for c in batch {
            let future = self.pending.lock().ok().and_then(|mut p| p.remove(&c.id));
            let Some(future) = future else { continue };
            settle(py, future.bind(py), c.call, c.outcome);
        }
        Ok(taken)
    }

    fn __traverse__(&self, visit: pyo3::PyVisit<'_>) -> Result<(), pyo3::PyTraverseError> {
        // try_lock: the collector runs with the GIL, and the table is only locked with it, so
        // it is never held here; if it were, skipping is safe (the cycle is just not freed).
        if let Ok(p) = self.pending.try_lock() {
            for f in p.values() {
                visit.call(f)?;
            }
        }
        Ok(())
    }

    fn __clear__(&self) {
        let futures = self.pending.lock().map(|mut p| std::mem::take(&mut *p));
        drop(futures);
    }

    fn __repr__(&self) -> String {
        format!(
            "<incluster._AioLoop fd={} pending={}>",
            self.shared.fd,
            self.pending()
        )
    }
}

/// Complete `future` with the call's Python result or exception, unless it is done already (the
/// awaiting task was cancelled). Errors from the future itself are ignored: it was settled or
/// cancelled meanwhile, and nobody is left to tell.
fn settle(py: Python<'_>, future: &Bound<'_, PyAny>, call: Call, outcome: Outcome) {
    if matches!(outcome, Outcome::Cancelled) {
        return;
    }
    if future
        .call_method0("done")
        .and_then(|d| d.is_truthy())
        .unwrap_or(true)
    {
        return;
    }
    let result = match outcome {
        Outcome::Done(Ok(a)) => call.finish(py, a).map(Bound::unbind),
        Outcome::Done(Err(e)) => Err(to_py(py, &e)),
        Outcome::Cancelled | Outcome::Panicked => Err(pyo3::exceptions::PyRuntimeError::new_err(
            "internal error: an incluster.aio request panicked",
        )),
    };
    let _ = match result {
        Ok(v) => future.call_method1("set_result", (v,)),
        Err(e) => future.call_method1("set_exception", (e.into_value(py),)),
    };
}

/// Start `call` for `incluster.aio`: file `future` in `ctx`, and queue the request on the
/// worker pool, where it runs without the GIL. Returns the handle that cancels it.
///
/// Raises RuntimeError when no worker thread could be started.
pub(crate) fn start(
    ctx: &Bound<'_, AioLoop>,
    future: Py<PyAny>,
    client: &CoreClient,
    call: Call,
) -> PyResult<AioCall> {
    let loop_ = ctx.get();
    let id = loop_.next.fetch_add(1, Ordering::Relaxed);
    if let Ok(mut p) = loop_.pending.lock() {
        p.insert(id, future);
    }
    let cancel = CancelHandle::new();
    let job = Request {
        shared: loop_.shared.clone(),
        id,
        client: client.clone(),
        call,
        cancel: cancel.clone(),
    };
    pool::submit(Box::new(move || job.run())).map_err(|e| {
        if let Ok(mut p) = loop_.pending.lock() {
            p.remove(&id);
        }
        no_workers(e)
    })?;
    Ok(AioCall { cancel })
}

/// Run `f` with its socket waits also watching this worker's wake fd, which a cancel writes,
/// so they end at once; then empty the fd (one read; EAGAIN when empty), so that a wake that
/// came after the wait ended (or that ended it) does not end the next call's first wait.
fn on_worker<R>(f: impl FnOnce() -> R) -> R {
    match pool::wake_fd() {
        Some(fd) => {
            let r = interrupt::with_wake_fd(fd, f);
            interrupt::drain_wake_fd(fd);
            r
        }
        None => f(),
    }
}

/// The error when the pool has no worker and none could be started.
fn no_workers(e: std::io::Error) -> PyErr {
    pyo3::exceptions::PyRuntimeError::new_err(format!(
        "could not start incluster.aio's worker threads: {e}"
    ))
}

/// A request as a worker runs it: nothing of Python in it.
struct Request {
    shared: Arc<Shared>,
    id: u64,
    client: CoreClient,
    call: Call,
    cancel: CancelHandle,
}

impl Request {
    /// Send the call (unless cancelled while queued) and queue the answer for the loop. Every
    /// request queues exactly one answer, cancelled or not, so the loop's table of futures
    /// never keeps one.
    fn run(self) {
        let Request {
            shared,
            id,
            client,
            call,
            cancel,
        } = self;
        let outcome = if cancel.is_cancelled() {
            Outcome::Cancelled
        } else {
            let send = || {
                cancel.guard(|| std::panic::catch_unwind(AssertUnwindSafe(|| call.send(&client))))
            };
            // A cancel ends its socket waits at once, and the connection is dropped rather
            // than pooled half-read.
            match on_worker(send) {
                Err(_) => Outcome::Panicked,
                Ok(_) if cancel.is_cancelled() => Outcome::Cancelled,
                Ok(answer) => Outcome::Done(answer),
            }
        };
        shared.complete(Completion { id, call, outcome });
    }
}

/// What one worker needs to run a call and report back.
struct Job {
    event_loop: Py<PyAny>,
    future: Py<PyAny>,
    settle: Py<PyAny>,
    method: Py<PyAny>,
    args: Py<PyTuple>,
    kwargs: Option<Py<PyDict>>,
    cancel: CancelHandle,
}

impl Job {
    /// A job for `method(*args, **kwargs)`, and the handle that cancels it.
    fn new(
        event_loop: Py<PyAny>,
        future: Py<PyAny>,
        settle: Py<PyAny>,
        method: Py<PyAny>,
        args: Py<PyTuple>,
        kwargs: Option<Py<PyDict>>,
    ) -> (Job, CancelHandle) {
        let cancel = CancelHandle::new();
        let job = Job {
            event_loop,
            future,
            settle,
            method,
            args,
            kwargs,
            cancel: cancel.clone(),
        };
        (job, cancel)
    }

    /// Call the method, then schedule `settle(future, ok, value)` on the loop. Nothing is
    /// scheduled for a cancelled call: its waiter is gone, and an exception set on a future
    /// nobody awaits would only warn.
    fn run(self) {
        // The call's cancel (and the cancel of any stream whose I/O runs here) ends its
        // socket waits at once.
        on_worker(|| self.run_guarded());
    }

    fn run_guarded(&self) {
        let cancel = &self.cancel;
        let settling = cancel.guard(|| {
            Python::attach(|py| {
                if cancel.is_cancelled() {
                    return false;
                }
                let kwargs = self.kwargs.as_ref().map(|k| k.bind(py));
                // A panic inside is caught here, so the future is always settled: a worker
                // that died silently would leave its awaiting coroutine hanging.
                let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| {
                    self.method.bind(py).call(self.args.bind(py), kwargs)
                }))
                .unwrap_or_else(|_| {
                    Err(pyo3::exceptions::PyRuntimeError::new_err(
                        "internal error: an incluster.aio call panicked",
                    ))
                });
                if cancel.is_cancelled() {
                    return false;
                }
                let (ok, value) = match outcome {
                    Ok(v) => (true, v.unbind()),
                    Err(e) => (false, e.into_value(py).into_any()),
                };
                // Counted until this thread has let go of the interpreter: see aio_quiesce.
                SETTLING.fetch_add(1, Ordering::SeqCst);
                let scheduled = self.event_loop.bind(py).call_method1(
                    "call_soon_threadsafe",
                    (&self.settle, &self.future, ok, value),
                );
                // The loop was closed meanwhile: nobody is left to tell.
                drop(scheduled);
                true
            })
        });
        if settling {
            SETTLING.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// Calls whose answer is being handed to their loop: from just before
/// `call_soon_threadsafe` until their thread has released the interpreter.
static SETTLING: AtomicUsize = AtomicUsize::new(0);

/// Wait (the GIL released) until no call is between its answer and the end of its hand-over,
/// or `timeout` seconds pass. Registered with `atexit` by `incluster.aio`.
///
/// Why: `call_soon_threadsafe` queues the answer, then releases the GIL to wake the loop
/// through its socket. The program may get the answer, finish, and start shutting down in that
/// gap; the worker then re-takes the GIL from a finalizing interpreter, which ends a
/// non-Python thread with a forced unwind: the process aborts. `atexit` callbacks run before
/// the interpreter starts finalizing, so waiting there for the few calls in that gap (a
/// hand-over takes microseconds) closes it.
#[pyfunction]
#[pyo3(name = "_aio_quiesce", signature = (timeout=1.0))]
pub fn aio_quiesce(py: Python<'_>, timeout: f64) {
    let secs = if timeout.is_finite() && timeout > 0.0 {
        timeout.min(60.0)
    } else {
        0.0
    };
    let end = std::time::Instant::now() + std::time::Duration::from_secs_f64(secs);
    py.detach(|| {
        while SETTLING.load(Ordering::SeqCst) > 0 && std::time::Instant::now() < end {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    });
}

/// Queue `method(*args, **kwargs)` on the worker pool; when it returns or raises, schedule
/// `settle(future, ok, value)` on `event_loop` with `call_soon_threadsafe`. Returns the
/// handle that cancels the call.
///
/// Raises RuntimeError when no worker thread could be started.
#[pyfunction]
#[pyo3(name = "_aio_submit", signature = (event_loop, future, settle, method, args, kwargs=None))]
pub fn aio_submit(
    event_loop: Py<PyAny>,
    future: Py<PyAny>,
    settle: Py<PyAny>,
    method: Py<PyAny>,
    args: Py<PyTuple>,
    kwargs: Option<Py<PyDict>>,
) -> PyResult<AioCall> {
    let (job, cancel) = Job::new(event_loop, future, settle, method, args, kwargs);
    pool::submit(Box::new(move || job.run())).map_err(no_workers)?;
    Ok(AioCall { cancel })
}

/// As [`aio_submit`], but on a thread of its own that ends with the call, not on the pool:
/// for the few calls that last as long as a session (an exec to completion, the wait for
/// leadership, a read of an exec or port-forward stream), which would otherwise hold one of
/// the pool's few workers for their whole life and starve the short requests queued behind
/// them. Cancelling works as for the pool: the call stops at its next socket wait.
///
/// Raises RuntimeError when the thread could not be started.
#[pyfunction]
#[pyo3(name = "_aio_spawn", signature = (event_loop, future, settle, method, args, kwargs=None))]
pub fn aio_spawn(
    event_loop: Py<PyAny>,
    future: Py<PyAny>,
    settle: Py<PyAny>,
    method: Py<PyAny>,
    args: Py<PyTuple>,
    kwargs: Option<Py<PyDict>>,
) -> PyResult<AioCall> {
    let (job, cancel) = Job::new(event_loop, future, settle, method, args, kwargs);
    LONG.fetch_add(1, Ordering::SeqCst);
    let spawned = std::thread::Builder::new()
        .name("incluster-aio-long".to_owned())
        .spawn(move || {
            // A job settles its own future even when it panics; this only keeps the count.
            let _ = std::panic::catch_unwind(AssertUnwindSafe(|| job.run()));
            LONG.fetch_sub(1, Ordering::SeqCst);
        });
    if let Err(e) = spawned {
        LONG.fetch_sub(1, Ordering::SeqCst);
        return Err(pyo3::exceptions::PyRuntimeError::new_err(format!(
            "could not start a thread for an incluster.aio call: {e}"
        )));
    }
    Ok(AioCall { cancel })
}

/// Calls running on threads of their own ([`aio_spawn`]).
static LONG: AtomicUsize = AtomicUsize::new(0);

/// Calls running on threads of their own (for tests that check none is left behind).
#[pyfunction]
#[pyo3(name = "_aio_long")]
pub fn aio_long() -> usize {
    LONG.load(Ordering::SeqCst)
}

/// Calls queued or running on the worker pool (for tests that wait for it to drain).
#[pyfunction]
#[pyo3(name = "_aio_busy")]
pub fn aio_busy() -> usize {
    pool::busy()
}

/// The number of worker threads in the pool (started on the first call).
#[pyfunction]
#[pyo3(name = "_aio_threads")]
pub fn aio_threads() -> usize {
    pool::THREADS
}

/// Add the private names `incluster.aio` uses to the native module. `setattr`, not `add`:
/// private names stay out of the module's `__all__`.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.setattr("_AioCall", m.py().get_type::<AioCall>())?;
    m.setattr("_AioLoop", m.py().get_type::<AioLoop>())?;
    m.setattr("_aio_submit", wrap_pyfunction!(aio_submit, m)?)?;
    m.setattr("_aio_busy", wrap_pyfunction!(aio_busy, m)?)?;
    m.setattr("_aio_spawn", wrap_pyfunction!(aio_spawn, m)?)?;
    m.setattr("_aio_long", wrap_pyfunction!(aio_long, m)?)?;
    m.setattr("_aio_quiesce", wrap_pyfunction!(aio_quiesce, m)?)?;
    m.setattr("_AioWait", m.py().get_type::<crate::py::wait::AioWait>())?;
    m.setattr("_aio_threads", wrap_pyfunction!(aio_threads, m)?)?;
    Ok(())
}
