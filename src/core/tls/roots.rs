//! Reading the cluster CA bundle (`ca.crt`): every certificate in it, with errors that say
//! exactly what is wrong with the file.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::RootCertStore;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

use crate::core::error::{Error, Result};

/// Where the CA bundle comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaSource {
    /// A PEM file, re-read when it changes (CA rotation).
    File(PathBuf),
    /// PEM bytes given by the caller.
    Pem(Vec<u8>),
}

impl CaSource {
    /// A name for messages: `CA file /path/ca.crt` or `the CA PEM given`.
    pub fn describe(&self) -> String {
        match self {
            CaSource::File(p) => format!("CA file {}", p.display()),
            CaSource::Pem(_) => "the CA PEM given".to_owned(),
        }
    }

    /// Read and parse the bundle now.
    pub fn load(&self) -> Result<Vec<CertificateDer<'static>>> {
        match self {
            CaSource::File(p) => load_pem_file(p),
            CaSource::Pem(b) => parse_pem(b, &self.describe()),
        }
    }
}

/// Read a PEM file and return every certificate in it.
pub fn load_pem_file(path: &Path) -> Result<Vec<CertificateDer<'static>>> {
    let origin = format!("CA file {}", path.display());
    let bytes = std::fs::read(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::config(format!("{origin} does not exist")),
        std::io::ErrorKind::PermissionDenied => {
            Error::config(format!("{origin} is not readable: permission denied"))
        }
        _ => Error::config(format!("{origin} could not be read: {e}")),
    })?;
    parse_pem(&bytes, &origin)
}

/// Parse PEM bytes into certificates; `origin` names them in errors.
pub fn parse_pem(bytes: &[u8], origin: &str) -> Result<Vec<CertificateDer<'static>>> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::config(format!("{origin} is empty")));
    }
    if !bytes.windows(11).any(|w| w == b"-----BEGIN ") {
        return Err(Error::config(format!(
            "{origin} is not PEM (no \"-----BEGIN\" line)"
        )));
    }
    let certs = CertificateDer::pem_slice_iter(bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Error::config(format!("{origin} has a malformed PEM block: {e}")))?;
    if certs.is_empty() {
        return Err(Error::config(format!(
            "{origin} holds no CERTIFICATE block"
        )));
    }
    Ok(certs)
}

/// Build a root store from certificates; every one must be a usable trust anchor.
pub fn root_store(certs: &[CertificateDer<'_>], origin: &str) -> Result<Arc<RootCertStore>> {
    let mut store = RootCertStore::empty();
    for (i, c) in certs.iter().enumerate() {
        store.add(c.clone()).map_err(|e| {
            Error::config(format!(
                "{origin}: certificate #{} is not a valid X.509 CA certificate: {e}",
                i + 1
            ))
        })?;
    }
    Ok(Arc::new(store))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_bad_bundles() {
        let e = |b: &[u8]| parse_pem(b, "CA file x").unwrap_err().to_string();
        assert!(e(b"").contains("is empty"));
        assert!(e(b"hello").contains("is not PEM"));
        assert!(
            e(b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
                .contains("no CERTIFICATE block")
        );
        assert!(
            e(b"-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n")
                .contains("malformed PEM")
        );
        let garbage = parse_pem(
            b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
            "CA file x",
        )
        .unwrap();
        let err = root_store(&garbage, "CA file x").unwrap_err().to_string();
        assert!(err.contains("certificate #1"), "{err}");
    }
}
