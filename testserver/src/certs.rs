//! Throw-away PKI: a CA, a server certificate it signs, and an unrelated CA that signs nothing.
//!
//! Everything is generated at start-up, so no key material is ever checked in. The server
//! certificate is a good one unless `--cert` asks for a broken one ([`Leaf`]).

use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType, date_time_ymd,
};
use rustls::ServerConfig;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// The generated material the server needs.
pub struct Pki {
    /// PEM of the CA that signed the server certificate (written to `ca.crt`).
    pub ca_pem: String,
    /// PEM of an unrelated self-signed CA (written to `other-ca.crt`).
    pub other_ca_pem: String,
    /// The certificate chain the server sends (just the leaf) in DER.
    pub chain: Vec<CertificateDer<'static>>,
    /// The server's private key (PKCS#8 DER).
    pub key: PrivatePkcs8KeyDer<'static>,
}

/// Which server certificate to serve (`testserver --cert KIND`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Leaf {
    /// Valid 2020–2099 for [`SERVER_SANS`].
    Good,
    /// Expired: valid only during 2020 (the CA itself stays valid).
    Expired,
    /// Not valid yet: valid from 2098 on.
    NotYetValid,
    /// Valid in time, but its SANs name neither loopback address nor `localhost`
    /// ([`WRONG_SANS`]).
    WrongSan,
}

impl Leaf {
    /// Parse a `--cert` value.
    pub fn parse(s: &str) -> Result<Leaf, String> {
        match s {
            "good" => Ok(Leaf::Good),
            "expired" => Ok(Leaf::Expired),
            "not-yet-valid" => Ok(Leaf::NotYetValid),
            "wrong-san" => Ok(Leaf::WrongSan),
            _ => Err(format!(
                "--cert {s:?}: expected good, expired, not-yet-valid or wrong-san"
            )),
        }
    }
}

/// The SANs of [`Leaf::WrongSan`]: a plausible API server certificate, for another address.
pub const WRONG_SANS: [&str; 2] = ["kubernetes.default.svc", "10.96.0.1"];

/// Names the server certificate is valid for: every way a test or a pod may address it.
const SERVER_SANS: [&str; 5] = [
    "127.0.0.1",
    "::1",
    "localhost",
    "kubernetes.default.svc",
    "kubernetes.default.svc.cluster.local",
];

fn ca_params(common_name: &str) -> CertificateParams {
    let mut p = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, common_name);
    dn.push(DnType::OrganizationName, "incluster");
    p.distinguished_name = dn;
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    // Fixed, comfortably wide validity so clock skew never matters.
    p.not_before = date_time_ymd(2020, 1, 1);
    p.not_after = date_time_ymd(2099, 1, 1);
    p
}

/// Generate the CA, the server certificate (of the given kind) and the unrelated CA.
pub fn generate(leaf: Leaf) -> Result<Pki, String> {
    fn err(what: &'static str) -> impl Fn(rcgen::Error) -> String {
        move |e| format!("cannot generate {what}: {e}")
    }

    let ca_key = KeyPair::generate().map_err(err("the CA key"))?;
    let ca_p = ca_params("incluster-test-ca");
    let ca_cert = ca_p
        .self_signed(&ca_key)
        .map_err(err("the CA certificate"))?;
    let issuer = Issuer::new(ca_p, ca_key);

    let mut sp = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "kube-apiserver");
    dn.push(DnType::OrganizationName, "incluster");
    sp.distinguished_name = dn;
    let sans: &[&str] = if leaf == Leaf::WrongSan {
        &WRONG_SANS
    } else {
        &SERVER_SANS
    };
    sp.subject_alt_names = sans
        .iter()
        .map(|s| match s.parse() {
            Ok(ip) => Ok(SanType::IpAddress(ip)),
            Err(_) => (*s)
                .to_owned()
                .try_into()
                .map(SanType::DnsName)
                .map_err(err("a SAN")),
        })
        .collect::<Result<_, _>>()?;
    sp.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    sp.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    sp.use_authority_key_identifier_extension = true;
    (sp.not_before, sp.not_after) = match leaf {
        Leaf::Expired => (date_time_ymd(2020, 1, 1), date_time_ymd(2021, 1, 1)),
        Leaf::NotYetValid => (date_time_ymd(2098, 1, 1), date_time_ymd(2099, 1, 1)),
        Leaf::Good | Leaf::WrongSan => (date_time_ymd(2020, 1, 1), date_time_ymd(2099, 1, 1)),
    };
    let server_key = KeyPair::generate().map_err(err("the server key"))?;
    let server_cert = sp
        .signed_by(&server_key, &issuer)
        .map_err(err("the server certificate"))?;

    let other_key = KeyPair::generate().map_err(err("the other CA key"))?;
    let other_cert = ca_params("incluster-test-other-ca")
        .self_signed(&other_key)
        .map_err(err("the other CA certificate"))?;

    Ok(Pki {
        ca_pem: ca_cert.pem(),
        other_ca_pem: other_cert.pem(),
        // Leaf only, as a kubeadm API server sends it: the client must supply the CA.
        chain: vec![server_cert.der().clone()],
        key: PrivatePkcs8KeyDer::from(server_key.serialize_der()),
    })
}

/// The rustls server configuration: ring provider, TLS 1.2 and 1.3, HTTP/1.1 only.
pub fn server_config(pki: &Pki) -> Result<Arc<ServerConfig>, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut cfg = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| format!("cannot configure TLS: {e}"))?
        .with_no_client_auth()
        .with_single_cert(pki.chain.clone(), PrivateKeyDer::Pkcs8(pki.key.clone_key()))
        .map_err(|e| format!("cannot use the server certificate: {e}"))?;
    // Only HTTP/1.1 is spoken; saying so stops ALPN-capable clients (curl) offering h2.
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(cfg))
}
