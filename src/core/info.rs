//! What a client is configured with, for people: server, namespace, the token's identity and
//! expiry (decoded from its claims, never the token itself) and the CA's subject and validity.

use serde_json::{Value, json};

use crate::core::client::Client;
use crate::core::config::{ConfigSource, TokenConfig};
use crate::core::tls::Trust;
use crate::core::tls::certinfo::cert_info;

/// Describe the client as JSON. Reads only local files; never contacts the server.
pub fn describe(client: &Client) -> Value {
    let cfg = client.config();
    let source = match &cfg.token {
        TokenConfig::None => Value::Null,
        TokenConfig::Token(_) => json!("given"),
        TokenConfig::File(p) => json!(p.display().to_string()),
        TokenConfig::Exec(x) => json!(format!("exec plugin {}", x.command.display())),
    };
    let token = match client.token_claims() {
        Ok(None) => Value::Null,
        Ok(Some(c)) => {
            let mut v = c.to_json();
            v["source"] = source;
            v
        }
        Err(e) => json!({ "source": source, "error": e.to_string() }),
    };
    let ca = match &cfg.trust {
        None => Value::Null,
        Some(Trust::DangerInsecureSkipVerify) => json!("INSECURE: certificate verification is off"),
        Some(Trust::Ca(src)) => match src.load() {
            Ok(certs) => Value::Array(
                certs
                    .iter()
                    .map(|c| match cert_info(c) {
                        Some(i) => json!({
                            "subject": i.subject,
                            "issuer": i.issuer,
                            "notBefore": i.not_before,
                            "notAfter": i.not_after,
                        }),
                        None => json!({ "error": "certificate could not be parsed" }),
                    })
                    .collect(),
            ),
            Err(e) => json!({ "error": e.to_string() }),
        },
    };
    json!({
        "source": source_json(&cfg.source),
        "server": cfg.server,
        "namespace": cfg.namespace,
        "token": token,
        "ca": ca,
    })
}

/// Where the configuration came from: `{"type": "in-cluster"}`, `{"type": "explicit"}` or
/// `{"type": "kubeconfig", "files": [...], "context": "..."}`.
pub fn source_json(source: &ConfigSource) -> Value {
    match source {
        ConfigSource::Explicit => json!({ "type": "explicit" }),
        ConfigSource::InCluster => json!({ "type": "in-cluster" }),
        ConfigSource::Kubeconfig { files, context } => json!({
            "type": "kubeconfig",
            "files": files.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
            "context": context,
        }),
    }
}
