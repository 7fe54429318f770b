//! `Client.exec(...)` (run to completion, like `subprocess.run`) and `Client.exec_stream(...)`
//! / `Client.attach(...)` (an `ExecStream`: write, close_stdin, resize, iterate, wait).

use std::io::Read;
use std::sync::{Mutex, MutexGuard, TryLockError};

use pyo3::exceptions::{PyStopIteration, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};

use crate::core::client::Client as CoreClient;
use crate::core::error::Error;
use crate::core::exec::run::run as run_exec;
use crate::core::exec::{
    AttachOptions, ExecOptions, ExecSession, ExecWriter, Output, SessionCancel,
};
use crate::core::seconds::positive_seconds;
use crate::py::blocking::run;
use crate::py::errors::to_py;
use crate::py::watch::busy;

/// A finished command, like `subprocess.CompletedProcess`.
#[pyclass(frozen, module = "incluster._native")]
pub struct ExecResult {
    args: Vec<String>,
    returncode: i32,
    stdout: Py<PyBytes>,
    stderr: Py<PyBytes>,
}

#[pymethods]
impl ExecResult {
    /// The command and its arguments.
    #[getter]
    fn args(&self) -> Vec<String> {
        self.args.clone()
    }

    /// The exit code (0 for success).
    #[getter]
    fn returncode(&self) -> i32 {
        self.returncode
    }

    /// Everything the command wrote to stdout.
    #[getter]
    fn stdout(&self, py: Python<'_>) -> Py<PyBytes> {
        self.stdout.clone_ref(py)
    }

    /// Everything the command wrote to stderr.
    #[getter]
    fn stderr(&self, py: Python<'_>) -> Py<PyBytes> {
        self.stderr.clone_ref(py)
    }

    /// Raise `subprocess.CalledProcessError` if the exit code is not 0.
    fn check_returncode(&self, py: Python<'_>) -> PyResult<()> {
        if self.returncode == 0 {
            return Ok(());
        }
        let cls = py.import("subprocess")?.getattr("CalledProcessError")?;
        let err = cls.call1((
            self.returncode,
            self.args.clone(),
            self.stdout.clone_ref(py),
            self.stderr.clone_ref(py),
        ))?;
        Err(PyErr::from_value(err))
    }

    fn __repr__(&self) -> String {
        format!(
            "ExecResult(args={:?}, returncode={})",
            self.args, self.returncode
        )
    }
}

/// Reads a Python file object (`.read(n)`) from the stdin-feeding thread, taking the GIL
/// for each read.
struct PyReader(Py<PyAny>);

impl Read for PyReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        Python::attach(|py| {
            let chunk = self
                .0
                .bind(py)
                .call_method1("read", (buf.len(),))
                .map_err(|e| std::io::Error::other(e.to_string()))?;
            let bytes: Vec<u8> = if let Ok(s) = chunk.cast::<PyString>() {
                s.to_str()
                    .map_err(|e| std::io::Error::other(e.to_string()))?
                    .as_bytes()
                    .to_vec()
            } else {
                chunk.extract().map_err(|_| {
                    std::io::Error::other("stdin's read() returned neither bytes nor str")
                })?
            };
            // A text file may return more bytes than asked for (characters, not bytes).
            let n = bytes.len().min(buf.len());
            buf[..n].copy_from_slice(&bytes[..n]);
            if n < bytes.len() {
                return Err(std::io::Error::other(
                    "stdin's read() returned more than it was asked for: open it in binary mode",
                ));
            }
            Ok(n)
        })
    }
}

/// The `stdin=` argument as something to read from.
fn stdin_source(stdin: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Box<dyn Read + Send>>> {
    let Some(s) = stdin else {
        return Ok(None);
    };
    if s.is_none() {
        return Ok(None);
    }
    if let Ok(b) = s.cast::<PyBytes>() {
        return Ok(Some(Box::new(std::io::Cursor::new(b.as_bytes().to_vec()))));
    }
    if let Ok(t) = s.cast::<PyString>() {
        return Ok(Some(Box::new(std::io::Cursor::new(
            t.to_str()?.as_bytes().to_vec(),
        ))));
    }
    if s.hasattr("read")? {
        return Ok(Some(Box::new(PyReader(s.clone().unbind()))));
    }
    Err(PyTypeError::new_err(
        "stdin must be bytes, str, a file object (with read()) or None",
    ))
}

/// `Client.exec(...)`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn exec(
    py: Python<'_>,
    client: &CoreClient,
    pod: &str,
    command: Vec<String>,
    container: Option<String>,
    namespace: Option<String>,
    stdin: Option<&Bound<'_, PyAny>>,
    timeout: Option<f64>,
    check: bool,
) -> PyResult<ExecResult> {
    let timeout = timeout
        .map(|t| positive_seconds("timeout", t))
        .transpose()
        .map_err(|e| to_py(py, &e))?;
    let source = stdin_source(stdin)?;
    let opts = ExecOptions {
        pod: pod.to_owned(),
        container,
        namespace,
        command: command.clone(),
        stdin: source.is_some(),
        tty: false,
    };
    let r = run(py, || run_exec(client, &opts, source, timeout))?;
    let result = ExecResult {
        args: command,
        returncode: r.status.code,
        stdout: PyBytes::new(py, &r.stdout).unbind(),
        stderr: PyBytes::new(py, &r.stderr).unbind(),
    };
    if check {
        result.check_returncode(py)?;
    }
    Ok(result)
}

/// A running exec or attach session: `write()` / `close_stdin()` / `resize()` from any
/// thread, iterate it for `(channel, bytes)` pairs (1 stdout, 2 stderr) from one thread,
/// `wait()` for the exit code. A context manager (leaving it closes the session).
#[pyclass(frozen, module = "incluster._native")]
pub struct ExecStream {
    session: Mutex<Option<ExecSession>>,
    writer: ExecWriter,
    cancel: SessionCancel,
    returncode: Mutex<Option<i32>>,
}

impl ExecStream {
    fn lock(&self) -> PyResult<MutexGuard<'_, Option<ExecSession>>> {
        match self.session.try_lock() {
            Ok(g) => Ok(g),
            Err(TryLockError::Poisoned(p)) => Ok(p.into_inner()),
            Err(TryLockError::WouldBlock) => Err(busy("ExecStream")),
        }
    }

    /// After a read that failed: a `close()` that came while this thread held the session
    /// could not drop it, so the connection is dropped here, as `close()` meant.
    fn drop_if_closed(&self, g: &mut MutexGuard<'_, Option<ExecSession>>) {
        if self.cancel.is_cancelled() {
            **g = None;
        }
    }

    fn finish(&self, s: &ExecSession) {
        if let Some(st) = s.exit_status()
            && let Ok(mut g) = self.returncode.lock()
        {
            *g = Some(st.code);
        }
    }
}

#[pymethods]
impl ExecStream {
    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<(u8, Py<PyBytes>)> {
        let mut g = self.lock()?;
        let Some(s) = g.as_mut() else {
            return Err(PyStopIteration::new_err(()));
        };
        match run(py, || s.next(None)) {
            Ok(Some(Output::Stdout(b))) => Ok((1, PyBytes::new(py, &b).unbind())),
            Ok(Some(Output::Stderr(b))) => Ok((2, PyBytes::new(py, &b).unbind())),
            Ok(None) => {
                self.finish(s);
                Err(PyStopIteration::new_err(()))
            }
            Err(e) => {
                self.drop_if_closed(&mut g);
                Err(e)
            }
        }
    }

    /// Send bytes (or str, as UTF-8) to the command's stdin; waits while the server is not
    /// taking them.
    fn write(&self, py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<()> {
        let bytes: Vec<u8> = if let Ok(s) = data.cast::<PyString>() {
            s.to_str()?.as_bytes().to_vec()
        } else {
            data.extract()
                .map_err(|_| PyTypeError::new_err("write() takes bytes or str"))?
        };
        let w = self.writer.clone();
        run(py, move || w.write(&bytes))
    }

    /// Close the command's stdin (it sees end of file). InvalidArgument on a server that
    /// speaks only v4.channel.k8s.io, which cannot.
    fn close_stdin(&self, py: Python<'_>) -> PyResult<()> {
        let w = self.writer.clone();
        run(py, move || w.close_stdin())
    }

    /// Tell the terminal's new size (sessions opened with tty=True only).
    fn resize(&self, py: Python<'_>, width: u16, height: u16) -> PyResult<()> {
        let w = self.writer.clone();
        run(py, move || w.resize(width, height))
    }

    /// Read (and drop) the remaining output; return the exit code.
    fn wait(&self, py: Python<'_>) -> PyResult<i32> {
        let mut g = self.lock()?;
        let Some(s) = g.as_mut() else {
            return self.returncode.lock().ok().and_then(|g| *g).ok_or_else(|| {
                to_py(
                    py,
                    &Error::invalid("the session was closed before it ended"),
                )
            });
        };
        let st = match run(py, || s.wait()) {
            Ok(st) => st,
            Err(e) => {
                self.drop_if_closed(&mut g);
                return Err(e);
            }
        };
        self.finish(s);
        Ok(st.code)
    }

    /// The exit code once the session ended, else None.
    #[getter]
    fn returncode(&self) -> Option<i32> {
        self.returncode.lock().ok().and_then(|g| *g)
    }

    /// The subprotocol the server chose (`v5.channel.k8s.io` or `v4.channel.k8s.io`).
    #[getter]
    fn protocol(&self) -> PyResult<String> {
        Ok(self
            .lock()?
            .as_ref()
            .map(|s| s.protocol().to_owned())
            .unwrap_or_default())
    }

    /// Stop the session from any thread (a blocked read raises Cancelled).
    fn cancel(&self) {
        self.cancel.cancel();
    }

    /// Stop and close the session; callable from any thread.
    fn close(&self) {
        self.cancel.cancel();
        if let Ok(mut g) = self.session.try_lock() {
            *g = None;
        }
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, _args: &Bound<'_, pyo3::types::PyTuple>) -> bool {
        self.close();
        false
    }

    fn __repr__(&self) -> String {
        match self.returncode() {
            Some(c) => format!("<incluster.ExecStream returncode={c}>"),
            None if self.cancel.is_cancelled() => "<incluster.ExecStream cancelled>".into(),
            None => "<incluster.ExecStream running>".into(),
        }
    }
}

fn stream(session: ExecSession) -> ExecStream {
    ExecStream {
        writer: session.writer(),
        cancel: session.cancel_handle(),
        session: Mutex::new(Some(session)),
        returncode: Mutex::new(None),
    }
}

/// `Client.exec_stream(...)`.
pub(crate) fn exec_stream(
    py: Python<'_>,
    client: &CoreClient,
    opts: ExecOptions,
) -> PyResult<ExecStream> {
    let s = run(py, || ExecSession::exec(client, &opts))?;
    Ok(stream(s))
}

/// `Client.attach(...)`.
pub(crate) fn attach(
    py: Python<'_>,
    client: &CoreClient,
    opts: AttachOptions,
) -> PyResult<ExecStream> {
    let s = run(py, || ExecSession::attach(client, &opts))?;
    Ok(stream(s))
}
