//! What a client is configured with, for people: server, namespace, the token's identity and
//! expiry (decoded from its claims, never the token itself) and the CA's subject and validity.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use crate::core::client::Client;
use crate::core::config::TokenConfig;
use crate::core::tls::Trust;
use crate::core::tls::certinfo::cert_info;

fn rfc3339(unix: i64) -> Option<String> {
    let t = UNIX_EPOCH.checked_add(Duration::from_secs(u64::try_from(unix).ok()?))?;
    Some(humantime::format_rfc3339_seconds(t).to_string())
}

/// Describe the client as JSON. Reads only local files; never contacts the server.
pub fn describe(client: &Client) -> Value {
    let cfg = client.config();
    let source = match &cfg.token {
        TokenConfig::None => Value::Null,
        TokenConfig::Token(_) => json!("given"),
        TokenConfig::File(p) => json!(p.display().to_string()),
    };
    let token = match client.token_claims() {
        Ok(None) => Value::Null,
        Ok(Some(c)) => {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
            json!({
                "source": source,
                "subject": c.subject,
                "serviceAccount": c.service_account,
                "namespace": c.namespace,
                "pod": c.pod,
                "node": c.node,
                "issuer": c.issuer,
                "audiences": c.audiences,
                "issuedAt": c.issued_at.and_then(rfc3339),
                "expiresAt": c.expires_at.and_then(rfc3339),
                "expiresInSeconds": c.expires_at.map(|e| e - now),
            })
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
        "server": cfg.server,
        "namespace": cfg.namespace,
        "token": token,
        "ca": ca,
    })
}
