//! `Client.leader_election(...)`: the core's election ([`crate::core::lease`]) as a Python
//! context manager. The loop runs on its own Rust thread without the GIL; callbacks and the
//! `lost` event are called or set on that thread with the GIL taken for them.

// The keyword arguments of `Client.leader_election` map one to one onto parameters here.
#![allow(clippy::too_many_arguments)]

use std::sync::{Arc, Mutex, PoisonError};

use pyo3::prelude::*;
use pyo3::types::{PyCFunction, PyDict, PyTuple};

use crate::core::client::Client as CoreClient;
use crate::core::error::Error;
use crate::core::lease::{Election, ElectionConfig, LeaseEvent, Outcome};
use crate::core::seconds::positive_seconds;
use crate::py::blocking::run;
use crate::py::errors::to_py;

/// The Python callbacks, called on the election's thread with the GIL.
pub(crate) struct Callbacks {
    pub on_started: Option<Py<PyAny>>,
    pub on_stopped: Option<Py<PyAny>>,
    pub on_new_leader: Option<Py<PyAny>>,
}

/// One contender for a Lease; see `Client.leader_election`.
#[pyclass(frozen, module = "incluster._native")]
pub struct LeaderElection {
    client: CoreClient,
    config: ElectionConfig,
    callbacks: Mutex<Option<Callbacks>>,
    election: Mutex<Option<Arc<Election>>>,
    /// A `threading.Event`, set when leadership ends.
    lost: Py<PyAny>,
}

/// Build the (not yet started) election: settings checked now.
pub(crate) fn new(
    py: Python<'_>,
    client: &CoreClient,
    name: &str,
    namespace: Option<String>,
    identity: Option<String>,
    durations: (f64, f64, f64),
    timeout: Option<f64>,
    callbacks: Callbacks,
) -> PyResult<LeaderElection> {
    let err = |e: Error| to_py(py, &e);
    let mut config = ElectionConfig::new(name);
    config.namespace = namespace;
    config.identity = identity;
    config.lease_duration = positive_seconds("lease_duration", durations.0).map_err(err)?;
    config.renew_deadline = positive_seconds("renew_deadline", durations.1).map_err(err)?;
    config.retry_period = positive_seconds("retry_period", durations.2).map_err(err)?;
    config.wait_timeout = timeout
        .map(|t| positive_seconds("timeout", t))
        .transpose()
        .map_err(err)?;
    config.validate().map_err(err)?;
    let lost = py.import("threading")?.call_method0("Event")?.unbind();
    Ok(LeaderElection {
        client: client.clone(),
        config,
        callbacks: Mutex::new(Some(callbacks)),
        election: Mutex::new(None),
        lost,
    })
}

/// Call `f(args)` if given; an exception in a callback cannot reach the caller (it runs on
/// the election's thread), so it is reported as unraisable, as threading does.
fn call<'py, A>(py: Python<'py>, f: &Option<Py<PyAny>>, args: A)
where
    A: pyo3::call::PyCallArgs<'py>,
{
    if let Some(f) = f
        && let Err(e) = f.call1(py, args)
    {
        e.write_unraisable(py, Some(f.bind(py)));
    }
}

impl LeaderElection {
    /// The running election (a clone of the handle: no lock is held while it is used, so
    /// a wait in one thread never blocks `is_leader` in another).
    fn current(&self) -> Option<Arc<Election>> {
        self.election
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn with_election<R>(&self, f: impl FnOnce(&Election) -> R) -> Option<R> {
        self.current().map(|e| f(&e))
    }

    /// Cancel, wait for the loop (and so the release) without the GIL, drop the election.
    fn stop(&self, py: Python<'_>) {
        let e = self
            .election
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(e) = e {
            py.detach(move || {
                e.stop();
            });
        }
    }

    fn label(&self) -> String {
        format!(
            "{}/{}",
            self.config
                .namespace
                .as_deref()
                .unwrap_or(self.client.namespace()),
            self.config.name
        )
    }
}

impl Drop for LeaderElection {
    fn drop(&mut self) {
        let e = self
            .election
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(e) = e {
            // The loop's thread may be waiting for the GIL to call a callback: wait for it
            // with the GIL released.
            Python::attach(|py| {
                py.detach(move || {
                    e.stop();
                })
            });
        }
    }
}

#[pymethods]
impl LeaderElection {
    /// Start contending and block (GIL released; Ctrl-C works) until this process leads.
    /// Raises TimeoutError when `timeout` passes first, Forbidden without RBAC on leases, and
    /// InvalidArgument when the election was already entered.
    fn __enter__(slf: Bound<'_, Self>) -> PyResult<Bound<'_, Self>> {
        let py = slf.py();
        let this = slf.get();
        let Some(cb) = this
            .callbacks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        else {
            return Err(to_py(
                py,
                &Error::invalid("this leader election was already entered: make a new one"),
            ));
        };
        let lost = this.lost.clone_ref(py);
        let observer = move |ev: LeaseEvent| {
            // While the interpreter shuts down no callback can run (attaching would panic):
            // the event is dropped, and the loop goes on until the process exits.
            let _ = Python::try_attach(|py| match ev {
                LeaseEvent::Started => call(py, &cb.on_started, ()),
                LeaseEvent::Stopped(why) => {
                    if let Err(e) = lost.call_method0(py, "set") {
                        e.write_unraisable(py, None);
                    }
                    call(py, &cb.on_stopped, (why,));
                }
                LeaseEvent::NewLeader(id) => call(py, &cb.on_new_leader, (id,)),
                LeaseEvent::Retrying(_) => {}
            });
        };
        let election = Election::start(&this.client, this.config.clone(), observer)
            .map_err(|e| to_py(py, &e))?;
        let election = Arc::new(election);
        *this.election.lock().unwrap_or_else(PoisonError::into_inner) = Some(election.clone());
        let waited = run(py, || {
            election
                .wait_leader(None)
                .map(|led| (led, election.outcome()))
        });
        match waited {
            Ok((true, _)) => Ok(slf),
            Ok((false, outcome)) => {
                this.stop(py);
                let e = match outcome {
                    Some(Ok(Outcome::WaitTimedOut)) => Error::Timeout(format!(
                        "no leadership of lease {} within the timeout of {}",
                        this.label(),
                        crate::core::lease::config::show(
                            this.config.wait_timeout.unwrap_or_default()
                        )
                    )),
                    Some(Err(e)) => e,
                    _ => Error::Cancelled,
                };
                Err(to_py(py, &e))
            }
            Err(e) => {
                this.stop(py);
                Err(e)
            }
        }
    }

    /// Stop leading and release the Lease (waits for the release, GIL released). Exceptions
    /// propagate.
    #[pyo3(signature = (*_args))]
    fn __exit__(&self, py: Python<'_>, _args: &Bound<'_, PyTuple>) -> bool {
        self.stop(py);
        false
    }

    /// Whether this process leads now (false from the renew deadline on, before the Lease
    /// can expire for the others).
    #[getter]
    fn is_leader(&self) -> bool {
        self.with_election(Election::is_leader).unwrap_or(false)
    }

    /// A `threading.Event` set when leadership ends (lost, or released on exit).
    #[getter]
    fn lost(&self, py: Python<'_>) -> Py<PyAny> {
        self.lost.clone_ref(py)
    }

    /// This contender's identity (the given one, or the hostname plus a random suffix);
    /// None before the election is entered, if none was given.
    #[getter]
    fn identity(&self) -> Option<String> {
        self.with_election(|e| e.identity().to_owned())
            .or_else(|| self.config.identity.clone())
    }

    /// The Lease's name.
    #[getter]
    fn name(&self) -> &str {
        &self.config.name
    }

    /// Block (GIL released) until leadership ends or `timeout` seconds pass; True when it
    /// ended.
    #[pyo3(signature = (timeout=None))]
    fn wait_lost(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<bool> {
        let t = timeout
            .map(|t| crate::core::seconds::seconds("timeout", t))
            .transpose()
            .map_err(|e| to_py(py, &e))?;
        match self.current() {
            Some(e) => run(py, || e.wait_not_leader(t)),
            None => Ok(true),
        }
    }

    /// Run `fn(*args, **kwargs)` in a thread while leading and return its result (or raise
    /// its exception). If leadership is lost first, raise Cancelled at once; the thread is
    /// left running and should watch `lost` to stop its work.
    #[pyo3(signature = (f, *args, **kwargs))]
    fn run(
        &self,
        py: Python<'_>,
        f: Py<PyAny>,
        args: Py<PyTuple>,
        kwargs: Option<Py<PyDict>>,
    ) -> PyResult<Py<PyAny>> {
        let threading = py.import("threading")?;
        let done = threading.call_method0("Event")?;
        let slot = PyDict::new(py);
        let (d, s) = (done.clone().unbind(), slot.clone().unbind());
        let target = PyCFunction::new_closure(py, None, None, move |a, _| -> PyResult<()> {
            let py = a.py();
            match f.call(py, args.bind(py), kwargs.as_ref().map(|k| k.bind(py))) {
                Ok(v) => s.bind(py).set_item("value", v)?,
                Err(e) => s.bind(py).set_item("error", e.into_value(py))?,
            }
            d.call_method0(py, "set")?;
            Ok(())
        })?;
        let kw = PyDict::new(py);
        kw.set_item("target", target)?;
        kw.set_item("daemon", true)?;
        kw.set_item("name", format!("incluster-lease-{}", self.config.name))?;
        threading
            .call_method("Thread", (), Some(&kw))?
            .call_method0("start")?;
        let lost = self.lost.bind(py);
        loop {
            if done.call_method1("wait", (0.05,))?.is_truthy()? {
                break;
            }
            if lost.call_method0("is_set")?.is_truthy()? || !self.is_leader() {
                let msg = format!(
                    "leadership of lease {} was lost before the function returned",
                    self.label()
                );
                let class = py.import("incluster._errors")?.getattr("Cancelled")?;
                return Err(PyErr::from_value(class.call1((msg,))?));
            }
            py.check_signals()?;
        }
        if let Some(e) = slot.get_item("error")? {
            return Err(PyErr::from_value(e));
        }
        Ok(slot
            .get_item("value")?
            .map_or_else(|| py.None(), |v| v.unbind()))
    }

    fn __repr__(&self) -> String {
        format!(
            "<incluster.LeaderElection lease={:?} identity={:?} leader={}>",
            self.label(),
            self.identity(),
            self.is_leader()
        )
    }
}
