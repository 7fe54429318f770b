//! `Client.port_forward(...)` (a socket-like connection to a Pod's port) and
//! `Client.port_forward_listen(...)` (a local listener, a context manager).

use std::sync::{Mutex, MutexGuard, TryLockError};

use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::core::client::Client as CoreClient;
use crate::core::exec::SessionCancel;
use crate::core::portforward::{Forwarder, PortForward, PortForwardWriter};
use crate::py::blocking::run;
use crate::py::watch::busy;

/// One connection to a Pod's port, used like a socket: `sendall`/`send` (any thread),
/// `recv` (one thread at a time; `b""` once the Pod closed it), `close`. A context manager.
#[pyclass(frozen, module = "incluster._native")]
pub struct PortForwardSocket {
    reader: Mutex<Option<PortForward>>,
    writer: PortForwardWriter,
    cancel: SessionCancel,
    port: u16,
}

impl PortForwardSocket {
    fn lock(&self) -> PyResult<MutexGuard<'_, Option<PortForward>>> {
        match self.reader.try_lock() {
            Ok(g) => Ok(g),
            Err(TryLockError::Poisoned(p)) => Ok(p.into_inner()),
            Err(TryLockError::WouldBlock) => Err(busy("PortForwardSocket")),
        }
    }
}

#[pymethods]
impl PortForwardSocket {
    /// Send all of `data` (waits while the Pod is not taking it).
    fn sendall(&self, py: Python<'_>, data: Vec<u8>) -> PyResult<()> {
        let w = self.writer.clone();
        run(py, move || w.write(&data))
    }

    /// Send `data`; returns its length (all of it is sent, as with `sendall`).
    fn send(&self, py: Python<'_>, data: Vec<u8>) -> PyResult<usize> {
        let n = data.len();
        self.sendall(py, data)?;
        Ok(n)
    }

    /// Receive up to `bufsize` bytes; `b""` once the Pod closed the connection.
    fn recv<'py>(&self, py: Python<'py>, bufsize: usize) -> PyResult<Bound<'py, PyBytes>> {
        let mut g = self.lock()?;
        let Some(pf) = g.as_mut() else {
            return Ok(PyBytes::new(py, b""));
        };
        let mut buf = vec![0u8; bufsize.max(1)];
        let n = run(py, || pf.read(&mut buf))?;
        Ok(PyBytes::new(py, &buf[..n]))
    }

    /// The Pod's port.
    #[getter]
    fn port(&self) -> u16 {
        self.port
    }

    /// Close the connection (any thread; a blocked `recv` raises Cancelled).
    fn close(&self) {
        self.cancel.cancel();
        if let Ok(mut g) = self.reader.try_lock() {
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
        format!("<incluster.PortForwardSocket port={}>", self.port)
    }
}

/// A listener on 127.0.0.1 forwarding each connection to a Pod's port: over one SPDY
/// tunnel for all of them when the API server offers it, else a WebSocket each. A context
/// manager: leaving it (or `close()`) stops it.
#[pyclass(frozen, module = "incluster._native")]
pub struct PortForwarder {
    inner: Mutex<Option<Forwarder>>,
    addr: std::net::SocketAddr,
}

#[pymethods]
impl PortForwarder {
    /// The local port connections are accepted on.
    #[getter]
    fn local_port(&self) -> u16 {
        self.addr.port()
    }

    /// `("127.0.0.1", local_port)`, ready for `socket.create_connection`.
    #[getter]
    fn address(&self) -> (String, u16) {
        (self.addr.ip().to_string(), self.addr.port())
    }

    /// Stop listening; forwarded connections end. Idempotent.
    fn close(&self, py: Python<'_>) {
        let f = self.inner.lock().ok().and_then(|mut g| g.take());
        py.detach(move || drop(f));
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, py: Python<'_>, _args: &Bound<'_, pyo3::types::PyTuple>) -> bool {
        self.close(py);
        false
    }

    fn __repr__(&self) -> String {
        format!("<incluster.PortForwarder {}>", self.addr)
    }
}

/// `Client.port_forward(...)`.
pub(crate) fn connect(
    py: Python<'_>,
    client: &CoreClient,
    pod: &str,
    port: u16,
    namespace: Option<&str>,
) -> PyResult<PortForwardSocket> {
    let pf = run(py, || PortForward::open(client, pod, namespace, port))?;
    Ok(PortForwardSocket {
        writer: pf.writer(),
        cancel: pf.cancel_handle(),
        port,
        reader: Mutex::new(Some(pf)),
    })
}

/// `Client.port_forward_listen(...)`.
pub(crate) fn listen(
    py: Python<'_>,
    client: &CoreClient,
    pod: &str,
    port: u16,
    local_port: u16,
    namespace: Option<&str>,
) -> PyResult<PortForwarder> {
    let f = run(py, || {
        Forwarder::start(client, pod, namespace, local_port, port, None)
    })?;
    Ok(PortForwarder {
        addr: f.local_addr(),
        inner: Mutex::new(Some(f)),
    })
}
