//! The Python front (`incluster._native`), built by maturin with the `python` feature.
//!
//! Only conversion lives here: arguments to core requests, JSON bytes to Python objects, core
//! errors to exceptions. The core is called directly, not through the C ABI.

use pyo3::prelude::*;

pub mod aio;
pub mod blocking;
pub mod client;
pub mod convert;
pub mod errors;
pub mod exec;
pub mod kubeconfig;
pub mod lease;
pub mod logs;
pub mod names;
pub mod portforward;
pub mod strcache;
pub mod text;
pub mod wait;
pub mod watch;

/// The native module behind `import incluster`.
#[pymodule]
#[pyo3(name = "_native")]
fn native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<client::Client>()?;
    m.add_class::<client::Response>()?;
    m.add_class::<lease::LeaderElection>()?;
    m.add_class::<logs::Logs>()?;
    m.add_class::<exec::ExecResult>()?;
    m.add_class::<exec::ExecStream>()?;
    m.add_class::<portforward::PortForwardSocket>()?;
    m.add_class::<portforward::PortForwarder>()?;
    m.add_class::<logs::LogBatches>()?;
    m.add_class::<watch::Watch>()?;
    m.add_class::<watch::WatchEvent>()?;
    aio::register(m)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
