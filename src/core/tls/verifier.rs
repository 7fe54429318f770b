//! The server-certificate verifier: WebPKI rooted in the cluster CA only, reloading ca.crt.
//!
//! The kubelet rotates `ca.crt` like the token (a `..data` swap), so the bundle is checked for
//! changes at most every [`CaVerifier::RECHECK`] and also right after every verification
//! failure that a new CA could explain (the server may already present a certificate from a
//! new CA): a `stat`, cheap next to the handshake that failed, so the first request after the
//! swap already succeeds. A new bundle that does not parse is ignored (and not parsed again
//! until it changes) and the old roots stay in force.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};

use crate::core::error::{Error, Result};
use crate::core::filestamp::FileStamp;
use crate::core::tls::roots::{CaSource, root_store};

#[derive(Debug)]
struct State {
    inner: Arc<WebPkiServerVerifier>,
    stamp: Option<FileStamp>,
    /// The stamp of a bundle that did not parse, so it is not parsed again until it changes.
    rejected: Option<FileStamp>,
    checked_at: Instant,
}

/// Verifies server certificates against the CA bundle, reloading it when it changes.
#[derive(Debug)]
pub struct CaVerifier {
    source: CaSource,
    provider: Arc<CryptoProvider>,
    state: RwLock<State>,
}

impl CaVerifier {
    /// How often the CA file is checked for a change while verifications succeed.
    pub const RECHECK: Duration = Duration::from_secs(30);

    /// Load the bundle now; errors name the file and what is wrong with it.
    pub fn new(source: CaSource, provider: Arc<CryptoProvider>) -> Result<Self> {
        let stamp = match &source {
            CaSource::File(p) => FileStamp::of(p).ok(),
            CaSource::Pem(_) => None,
        };
        let inner = build(&source, &provider)?;
        Ok(CaVerifier {
            source,
            provider,
            state: RwLock::new(State {
                inner,
                stamp,
                rejected: None,
                checked_at: Instant::now(),
            }),
        })
    }

    /// The verifier to use now, after reloading the bundle if it changed. The file is looked
    /// at when [`Self::RECHECK`] has passed since the last look, and always `after_failure`.
    fn current(&self, after_failure: bool) -> (Arc<WebPkiServerVerifier>, bool) {
        let CaSource::File(path) = &self.source else {
            let s = self.state.read().unwrap_or_else(|p| p.into_inner());
            return (s.inner.clone(), false);
        };
        if !after_failure {
            let s = self.state.read().unwrap_or_else(|p| p.into_inner());
            if s.checked_at.elapsed() < Self::RECHECK {
                return (s.inner.clone(), false);
            }
        }
        let mut s = self.state.write().unwrap_or_else(|p| p.into_inner());
        s.checked_at = Instant::now();
        let stamp = FileStamp::of(path).ok();
        let mut changed = false;
        if stamp.is_some() && stamp != s.stamp && stamp != s.rejected {
            // Keep the old roots when the new file does not parse (mid-rotation or broken).
            match build(&self.source, &self.provider) {
                Ok(inner) => {
                    s.inner = inner;
                    s.stamp = stamp;
                    s.rejected = None;
                    changed = true;
                }
                Err(_) => s.rejected = stamp,
            }
        }
        (s.inner.clone(), changed)
    }
}

fn build(source: &CaSource, provider: &Arc<CryptoProvider>) -> Result<Arc<WebPkiServerVerifier>> {
    let certs = source.load()?;
    let store = root_store(&certs, &source.describe())?;
    WebPkiServerVerifier::builder_with_provider(store, provider.clone())
        .build()
        .map_err(|e| Error::config(format!("{}: {e}", source.describe())))
}

fn worth_reloading(e: &rustls::Error) -> bool {
    matches!(
        e,
        rustls::Error::InvalidCertificate(
            CertificateError::UnknownIssuer | CertificateError::BadSignature
        )
    )
}

impl ServerCertVerifier for CaVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let (inner, _) = self.current(false);
        match inner.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now) {
            Err(e) if worth_reloading(&e) => match self.current(true) {
                (fresh, true) => fresh.verify_server_cert(
                    end_entity,
                    intermediates,
                    server_name,
                    ocsp_response,
                    now,
                ),
                _ => Err(e),
            },
            r => r,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// Accepts any server certificate. Used only when the caller explicitly asked for
/// `danger_insecure_skip_tls_verify`; handshake signatures are still checked.
#[derive(Debug)]
pub struct DangerNoCertificateVerification {
    /// The crypto provider whose algorithms check handshake signatures.
    pub provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for DangerNoCertificateVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};

    /// A CA (PEM) and a leaf for 10.96.0.1 signed by it.
    fn ca_and_leaf() -> (String, CertificateDer<'static>) {
        let ca_key = KeyPair::generate().unwrap();
        let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca_cert = ca.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca, ca_key);
        let leaf = CertificateParams::new(vec!["10.96.0.1".to_string()])
            .unwrap()
            .signed_by(&KeyPair::generate().unwrap(), &issuer)
            .unwrap();
        (ca_cert.pem(), leaf.der().clone())
    }

    /// Replace the file as the kubelet does (a new file renamed over it), a little later than
    /// the last write so its time stamps differ even on a coarse clock.
    fn replace(path: &std::path::Path, contents: &str) {
        std::thread::sleep(Duration::from_millis(20));
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, contents).unwrap();
        std::fs::rename(&tmp, path).unwrap();
    }

    fn verify(v: &CaVerifier, leaf: &CertificateDer<'_>) -> Result<(), rustls::Error> {
        let name = ServerName::try_from("10.96.0.1").unwrap();
        v.verify_server_cert(leaf, &[], &name, &[], UnixTime::now())
            .map(|_| ())
    }

    #[test]
    fn ip_san_verifies_and_rotated_ca_is_picked_up_keeping_old_roots_when_bad() {
        let dir = std::env::temp_dir().join(format!("incluster-verifier-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("ca.crt");
        let (ca1, leaf1) = ca_and_leaf();
        let (ca2, leaf2) = ca_and_leaf();
        std::fs::write(&path, &ca1).unwrap();
        let v =
            CaVerifier::new(CaSource::File(path.clone()), crate::core::tls::provider()).unwrap();
        verify(&v, &leaf1).expect("IP SAN under CA 1");
        assert!(verify(&v, &leaf2).is_err(), "CA 2 is not trusted yet");

        // The CA rotates (new file written): after a failure the file is re-checked at once
        // and the new roots are used, even right after the last check.
        replace(&path, &ca2);
        verify(&v, &leaf2).expect("rotated CA picked up");

        // A broken new file keeps the roots in force.
        replace(&path, "not pem");
        assert!(verify(&v, &leaf1).is_err());
        verify(&v, &leaf2).expect("old roots kept when the new file is bad");
        // ... and once it is fixed, the next failure picks it up.
        replace(&path, &ca1);
        verify(&v, &leaf1).expect("fixed CA file picked up");
        std::fs::remove_dir_all(&dir).ok();
    }
}
