//! TLS: a rustls client configuration whose only roots are the cluster CA.

pub mod certinfo;
pub mod roots;
pub mod verifier;

use std::sync::Arc;

use rustls::ClientConfig;
use rustls::crypto::CryptoProvider;

use crate::core::error::{Error, Result};
use roots::CaSource;
use verifier::{CaVerifier, DangerNoCertificateVerification};

/// How the server's certificate is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trust {
    /// Against the given CA bundle only (never the system store).
    Ca(CaSource),
    /// Not at all. Only ever set by an explicit, loudly-named option.
    DangerInsecureSkipVerify,
}

/// The crypto provider: ring, chosen explicitly so no process-wide default is needed.
pub fn provider() -> Arc<CryptoProvider> {
    static PROVIDER: once_cell::sync::Lazy<Arc<CryptoProvider>> =
        once_cell::sync::Lazy::new(|| Arc::new(rustls::crypto::ring::default_provider()));
    PROVIDER.clone()
}

/// Build the client configuration for `trust`. TLS 1.2 and 1.3 only.
pub fn client_config(trust: &Trust) -> Result<Arc<ClientConfig>> {
    let provider = provider();
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| Error::Tls(format!("cannot configure TLS: {e}")))?;
    let verifier: Arc<dyn rustls::client::danger::ServerCertVerifier> = match trust {
        Trust::Ca(source) => Arc::new(CaVerifier::new(source.clone(), provider)?),
        Trust::DangerInsecureSkipVerify => Arc::new(DangerNoCertificateVerification { provider }),
    };
    Ok(Arc::new(
        builder
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth(),
    ))
}

/// Describe a rustls error for a person: what failed and the usual cause.
pub fn describe(e: &rustls::Error) -> String {
    use rustls::CertificateError as C;
    match e {
        rustls::Error::InvalidCertificate(C::UnknownIssuer) => {
            "the server's certificate is not signed by the configured CA (unknown issuer)".into()
        }
        rustls::Error::InvalidCertificate(C::NotValidForName)
        | rustls::Error::InvalidCertificate(C::NotValidForNameContext { .. }) => {
            "the server's certificate is not valid for the host name or IP address used".into()
        }
        rustls::Error::InvalidCertificate(C::Expired)
        | rustls::Error::InvalidCertificate(C::ExpiredContext { .. }) => {
            "the server's certificate has expired".into()
        }
        rustls::Error::InvalidCertificate(c) => format!("invalid server certificate: {c:?}"),
        rustls::Error::AlertReceived(a) => format!("the server sent TLS alert {a:?}"),
        rustls::Error::PeerIncompatible(p) => {
            format!("the server's TLS is incompatible (TLS 1.2+ required): {p:?}")
        }
        other => other.to_string(),
    }
}
