//! Running core calls from Python: the GIL released, Ctrl-C honoured.
//!
//! The call runs with the GIL released (other Python threads go on). While it waits on a
//! socket, the core's interrupt check (see `core::http::interrupt`) re-takes the GIL every
//! 50 ms to let Python run its signal handlers; if one raises (Ctrl-C gives KeyboardInterrupt)
//! the wait stops, and that very exception is raised to the caller.

use std::cell::RefCell;

use pyo3::prelude::*;

use crate::core::error::{Error, Result};
use crate::core::http::interrupt;
use crate::py::errors::to_py;

thread_local! {
    /// The exception a signal handler raised during the current call.
    static RAISED: RefCell<Option<PyErr>> = const { RefCell::new(None) };
}

fn signal_raised() -> bool {
    Python::attach(|py| match py.check_signals() {
        Ok(()) => false,
        Err(e) => {
            RAISED.with(|r| *r.borrow_mut() = Some(e));
            true
        }
    })
}

/// Run `f` without the GIL; map its error to the Python exception (or re-raise what a signal
/// handler raised meanwhile).
pub fn run<T: Send>(py: Python<'_>, f: impl FnOnce() -> Result<T> + Send) -> PyResult<T> {
    match py.detach(|| interrupt::with_check(signal_raised, f)) {
        Ok(v) => Ok(v),
        Err(e) => {
            if e == Error::Cancelled
                && let Some(raised) = RAISED.with(|r| r.borrow_mut().take())
            {
                return Err(raised);
            }
            Err(to_py(py, &e))
        }
    }
}
