//! The native half of `incluster.aio`: running the sync client's calls for asyncio.
//!
//! A coroutine of `incluster.aio.Client` hands the bound sync method and its arguments to
//! [`submit`], which queues them on a small fixed pool of threads ([`pool`]). A worker calls
//! the method (which releases the GIL while it waits on the socket, as it does for any thread)
//! and completes the asyncio future through `loop.call_soon_threadsafe`, so the event-loop
//! thread never waits for I/O. The argument conversion, the request and the answer's
//! conversion are the sync client's own code: every method, exception and option is the same.
//!
//! Cancelling the awaiting task cancels the call's [`CancelHandle`]: a call still queued never
//! starts, and one under way is woken out of its socket wait at once (the worker's wake fd,
//! which `CancelHandle::cancel` writes; see `interrupt::with_wake_fd`), which drops the
//! connection instead of returning it to the pool half-read, and frees the worker. The same
//! holds for a stream's resume running on a worker when the stream is closed.

pub mod pool;

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicUsize, Ordering};

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

use crate::core::cancel::CancelHandle;
use crate::core::http::interrupt;

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
    /// Call the method, then schedule `settle(future, ok, value)` on the loop. Nothing is
    /// scheduled for a cancelled call: its waiter is gone, and an exception set on a future
    /// nobody awaits would only warn.
    fn run(self) {
        // Socket waits inside watch this worker's wake fd, which the call's cancel (and the
        // cancel of any stream whose I/O runs here) writes: they end at once.
        match pool::wake_fd() {
            Some(fd) => {
                interrupt::with_wake_fd(fd, || self.run_guarded());
                // A wake that came after the socket wait ended (or that ended it) must not
                // end the next call's first wait: empty it (one read; EAGAIN when empty).
                interrupt::drain_wake_fd(fd);
            }
            None => self.run_guarded(),
        }
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
    pool::submit(Box::new(move || job.run())).map_err(|e| {
        pyo3::exceptions::PyRuntimeError::new_err(format!(
            "could not start incluster.aio's worker threads: {e}"
        ))
    })?;
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
    m.setattr("_aio_submit", wrap_pyfunction!(aio_submit, m)?)?;
    m.setattr("_aio_busy", wrap_pyfunction!(aio_busy, m)?)?;
    m.setattr("_aio_spawn", wrap_pyfunction!(aio_spawn, m)?)?;
    m.setattr("_aio_long", wrap_pyfunction!(aio_long, m)?)?;
    m.setattr("_aio_quiesce", wrap_pyfunction!(aio_quiesce, m)?)?;
    m.setattr("_AioWait", m.py().get_type::<crate::py::wait::AioWait>())?;
    m.setattr("_aio_threads", wrap_pyfunction!(aio_threads, m)?)?;
    Ok(())
}
