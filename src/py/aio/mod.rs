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
        cancel.guard(|| {
            Python::attach(|py| {
                if cancel.is_cancelled() {
                    return;
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
                    return;
                }
                let (ok, value) = match outcome {
                    Ok(v) => (true, v.unbind()),
                    Err(e) => (false, e.into_value(py).into_any()),
                };
                let scheduled = self.event_loop.bind(py).call_method1(
                    "call_soon_threadsafe",
                    (&self.settle, &self.future, ok, value),
                );
                // The loop was closed meanwhile: nobody is left to tell.
                drop(scheduled);
            });
        });
    }
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
    m.setattr("_aio_threads", wrap_pyfunction!(aio_threads, m)?)?;
    Ok(())
}
