//! The client's own certificate and key (mutual TLS), from a kubeconfig's
//! `client-certificate`/`client-key` or an exec plugin's answer.
//!
//! The key's PEM is held in [`SecretBytes`] (wiped when dropped, never shown by `Debug`); the
//! rustls signing key built from it lives inside rustls. Errors name where the pair came from,
//! never the key.

use std::fmt;
use std::sync::Arc;

use rustls::SignatureScheme;
use rustls::client::ResolvesClientCert;
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::core::auth::secret::SecretBytes;
use crate::core::error::{Error, Result};

/// A client certificate chain and its private key, as PEM.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientCert {
    /// The certificate chain (PEM), leaf first.
    pub cert_pem: Vec<u8>,
    /// The private key (PEM: PKCS#8, PKCS#1 or SEC1).
    pub key_pem: SecretBytes,
    /// Where the pair came from, for messages (`user "admin" in /home/me/.kube/config`).
    pub origin: String,
}

impl fmt::Debug for ClientCert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCert")
            .field("origin", &self.origin)
            .field("key", &"<redacted>")
            .finish()
    }
}

impl ClientCert {
    /// Parse the pair into what rustls signs with, checking that the key belongs to the
    /// certificate. Errors name [`ClientCert::origin`] and what is wrong.
    pub fn certified_key(&self) -> Result<Arc<CertifiedKey>> {
        let origin = &self.origin;
        let certs = CertificateDer::pem_slice_iter(&self.cert_pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| {
                Error::config(format!(
                    "{origin}: the client certificate is not valid PEM: {e}"
                ))
            })?;
        if certs.is_empty() {
            return Err(Error::config(format!(
                "{origin}: the client certificate holds no CERTIFICATE block"
            )));
        }
        // The key parser's own message is not passed on: nothing of the key may reach a message.
        let key = PrivateKeyDer::from_pem_slice(self.key_pem.expose()).map_err(|_| {
            Error::config(format!(
                "{origin}: the client key is not a PEM private key (PKCS#8, RSA or EC)"
            ))
        })?;
        let provider = crate::core::tls::provider();
        CertifiedKey::from_der(certs, key, &provider)
            .map(Arc::new)
            .map_err(|e| match e {
                rustls::Error::InconsistentKeys(_) => Error::config(format!(
                    "{origin}: the client key does not belong to the client certificate"
                )),
                _ => Error::config(format!(
                    "{origin}: the client key cannot be used for TLS (unsupported key type)"
                )),
            })
    }
}

/// Where the TLS handshake takes the client certificate from.
pub trait ClientCertProvider: fmt::Debug + Send + Sync {
    /// The certificate to present now, if any.
    fn current(&self) -> Option<Arc<CertifiedKey>>;
}

/// A fixed certificate, parsed once.
#[derive(Debug)]
pub struct FixedCert(pub Arc<CertifiedKey>);

impl ClientCertProvider for FixedCert {
    fn current(&self) -> Option<Arc<CertifiedKey>> {
        Some(self.0.clone())
    }
}

/// rustls' hook: asks a [`ClientCertProvider`] at every handshake, so a certificate renewed by
/// an exec plugin is used by the next new connection.
#[derive(Debug)]
pub struct Resolver(pub Arc<dyn ClientCertProvider>);

impl ResolvesClientCert for Resolver {
    fn resolve(
        &self,
        _root_hint_subjects: &[&[u8]],
        _sigschemes: &[SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        self.0.current()
    }

    fn has_certs(&self) -> bool {
        true
    }
}
