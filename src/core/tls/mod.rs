//! TLS: a rustls client configuration whose only roots are the cluster CA.

pub mod certinfo;
pub mod identity;
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

/// Build the client configuration for `trust`, presenting the certificate `client_cert`
/// gives (mutual TLS) when there is one. TLS 1.2 and 1.3 only.
pub fn client_config(
    trust: &Trust,
    client_cert: Option<Arc<dyn identity::ClientCertProvider>>,
) -> Result<Arc<ClientConfig>> {
    let provider = provider();
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| Error::Tls(format!("cannot configure TLS: {e}")))?;
    let verifier: Arc<dyn rustls::client::danger::ServerCertVerifier> = match trust {
        Trust::Ca(source) => Arc::new(CaVerifier::new(source.clone(), provider)?),
        Trust::DangerInsecureSkipVerify => Arc::new(DangerNoCertificateVerification { provider }),
    };
    let builder = builder
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    Ok(Arc::new(match client_cert {
        Some(p) => builder.with_client_cert_resolver(Arc::new(identity::Resolver(p))),
        None => builder.with_no_client_auth(),
    }))
}

/// Describe a rustls error for a person: what failed, the details that show why (the name
/// asked for and the names the certificate holds, the validity dates), and the usual cause.
pub fn describe(e: &rustls::Error) -> String {
    use rustls::CertificateError as C;
    match e {
        rustls::Error::InvalidCertificate(C::UnknownIssuer) => {
            "the server's certificate is not signed by the configured CA (unknown issuer)".into()
        }
        // Every kubeadm cluster CA is called "kubernetes": a certificate from another cluster,
        // or from a rotated CA, names a trusted issuer but its signature does not match.
        rustls::Error::InvalidCertificate(C::BadSignature) => {
            "the server's certificate is not signed by the configured CA (bad signature: it \
             names a trusted CA as its issuer, but another key signed it; was the CA rotated?)"
                .into()
        }
        rustls::Error::InvalidCertificate(C::NotValidForNameContext {
            expected,
            presented,
        }) => {
            let names = if presented.is_empty() {
                "it names no host or IP address".to_owned()
            } else {
                let names: Vec<&str> = presented.iter().map(|n| bare_name(n)).collect();
                format!("it is valid for {}", names.join(", "))
            };
            format!(
                "the server's certificate is not valid for {} ({names})",
                expected.to_str()
            )
        }
        rustls::Error::InvalidCertificate(C::NotValidForName) => {
            "the server's certificate is not valid for the host name or IP address used".into()
        }
        rustls::Error::InvalidCertificate(C::ExpiredContext { time, not_after }) => format!(
            "the server's certificate has expired: it was valid until {} (now {})",
            utc(*not_after),
            utc(*time)
        ),
        rustls::Error::InvalidCertificate(C::Expired) => {
            "the server's certificate has expired".into()
        }
        rustls::Error::InvalidCertificate(C::NotValidYetContext { time, not_before }) => format!(
            "the server's certificate is not valid yet: it is valid from {} (now {}; is the \
             clock right?)",
            utc(*not_before),
            utc(*time)
        ),
        rustls::Error::InvalidCertificate(C::NotValidYet) => {
            "the server's certificate is not valid yet (is the clock right?)".into()
        }
        rustls::Error::InvalidCertificate(c) => format!("invalid server certificate: {c:?}"),
        rustls::Error::AlertReceived(rustls::AlertDescription::ProtocolVersion) => {
            "the server supports no TLS protocol version we offer (it sent the alert \
             protocol_version): TLS 1.2 or 1.3 is required, TLS 1.0 and 1.1 are refused"
                .into()
        }
        rustls::Error::AlertReceived(a) => format!("the server sent TLS alert {a:?}"),
        rustls::Error::PeerIncompatible(p) => {
            format!("the server's TLS is incompatible (TLS 1.2+ required): {p:?}")
        }
        other => other.to_string(),
    }
}

/// A name as webpki presents it (`DnsName("a.b")`, `IpAddress(10.0.0.1)`), without the
/// wrapping; anything else as it is.
fn bare_name(presented: &str) -> &str {
    presented
        .strip_prefix("DnsName(\"")
        .and_then(|n| n.strip_suffix("\")"))
        .or_else(|| {
            presented
                .strip_prefix("IpAddress(")
                .and_then(|n| n.strip_suffix(')'))
        })
        .unwrap_or(presented)
}

/// A certificate time as RFC 3339 UTC, to the second.
fn utc(t: rustls_pki_types::UnixTime) -> String {
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(t.as_secs());
    humantime::format_rfc3339_seconds(at).to_string()
}
