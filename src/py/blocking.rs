//! Running core calls from Python: the GIL released, Ctrl-C honoured.
//!
//! The call runs with the GIL released (other Python threads go on). While it waits on a
//! socket, the core's interrupt check (see `core::http::interrupt`) re-takes the GIL every
//! 50 ms to let Python run its signal handlers; if one raises (Ctrl-C gives KeyboardInterrupt)
//! the wait stops, and that very exception is raised to the caller.

use std::cell::RefCell;

use pyo3::prelude::*;

use crate::core::error::Result;
use crate::core::http::interrupt;
use crate::py::errors::to_py;

thread_local! {
    /// The exception a signal handler raised during the current call.
    static RAISED: RefCell<Option<PyErr>> = const { RefCell::new(None) };
}

/// The interrupt check: true once a signal handler raised during this call, and from then on
/// (sticky), so that a layer that took one interruption for a broken connection and went on to
/// reconnect is stopped at its next wait; the handler's exception has been taken from Python
/// and only this call can raise it.
fn signal_raised() -> bool {
    if RAISED.with(|r| r.borrow().is_some()) {
        return true;
    }
    // A daemon thread still waiting while the interpreter shuts down cannot attach (attach
    // would panic). It keeps waiting: stopping would make it take the GIL back, which at
    // shutdown ends the thread by a forced unwind that aborts the process; the process exits
    // around it instead.
    Python::try_attach(|py| match py.check_signals() {
        Ok(()) => false,
        Err(e) => {
            RAISED.with(|r| *r.borrow_mut() = Some(e));
            true
        }
    })
    .unwrap_or(false)
}

/// Run `f` without the GIL; map its error to the Python exception. What a signal handler
/// raised meanwhile (KeyboardInterrupt) is raised whatever `f` returned: the handler has run,
/// so dropping its exception would ignore the Ctrl-C.
pub fn run<T: Send>(py: Python<'_>, f: impl FnOnce() -> Result<T> + Send) -> PyResult<T> {
    RAISED.with(|r| r.borrow_mut().take());
    let r = py.detach(|| interrupt::with_check(signal_raised, f));
    if let Some(raised) = RAISED.with(|r| r.borrow_mut().take()) {
        return Err(raised);
    }
    r.map_err(|e| to_py(py, &e))
}

/// Call `callback(item)` for each item `next` gives until it returns False or raises (the
/// exception propagates unchanged), or the stream ends; `close` ends the stream in the first
/// two cases. The callback form of `Client.watch` and `Client.logs`.
pub(crate) fn feed<'py, T: IntoPyObject<'py>>(
    py: Python<'py>,
    callback: &Bound<'py, PyAny>,
    mut next: impl FnMut() -> PyResult<Option<T>>,
    close: impl Fn(),
) -> PyResult<()> {
    while let Some(item) = next()? {
        match callback.call1((item,)) {
            Ok(r) if r.is(pyo3::types::PyBool::new(py, false)) => {
                close();
                return Ok(());
            }
            Ok(_) => {}
            Err(e) => {
                close();
                return Err(e);
            }
        }
    }
    Ok(())
}
