//! The claims of a ServiceAccount token (a JWT), decoded without verifying the signature.
//!
//! Only the identity is read (for `info` / `whoami`); the API server is what verifies the token.

use base64::Engine;
use serde_json::Value;

use crate::core::error::{Error, Result};

/// What a ServiceAccount token says about its holder.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Claims {
    /// `iss`.
    pub issuer: String,
    /// `sub`, e.g. `system:serviceaccount:NS:NAME`.
    pub subject: String,
    /// `aud`.
    pub audiences: Vec<String>,
    /// `exp` (Unix seconds), if present.
    pub expires_at: Option<i64>,
    /// `iat` (Unix seconds), if present.
    pub issued_at: Option<i64>,
    /// `kubernetes.io.namespace` (or the legacy `kubernetes.io/serviceaccount/namespace`).
    pub namespace: String,
    /// `kubernetes.io.serviceaccount.name`.
    pub service_account: String,
    /// `kubernetes.io.serviceaccount.uid`.
    pub service_account_uid: String,
    /// `kubernetes.io.pod.name` (bound tokens only).
    pub pod: String,
    /// `kubernetes.io.node.name` (bound tokens on 1.30+ only).
    pub node: String,
}

fn s(v: Option<&Value>) -> String {
    v.and_then(Value::as_str).unwrap_or_default().to_owned()
}

fn rfc3339(unix: i64) -> Option<String> {
    let secs = u64::try_from(unix).ok()?;
    let t = std::time::UNIX_EPOCH.checked_add(std::time::Duration::from_secs(secs))?;
    Some(humantime::format_rfc3339_seconds(t).to_string())
}

impl Claims {
    /// The claims as JSON for people and scripts (times as RFC 3339, plus seconds to expiry).
    pub fn to_json(&self) -> Value {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        serde_json::json!({
            "subject": self.subject,
            "serviceAccount": self.service_account,
            "namespace": self.namespace,
            "pod": self.pod,
            "node": self.node,
            "issuer": self.issuer,
            "audiences": self.audiences,
            "issuedAt": self.issued_at.and_then(rfc3339),
            "expiresAt": self.expires_at.and_then(rfc3339),
            "expiresInSeconds": self.expires_at.map(|e| e - now),
        })
    }

    /// Decode the payload of a JWT. Errors describe the shape and never include the token.
    pub fn decode(token: &str) -> Result<Claims> {
        let mut parts = token.split('.');
        let (Some(_), Some(payload), Some(_), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(Error::Decode(
                "the token is not a JWT (expected three dot-separated parts)".into(),
            ));
        };
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload.trim_end_matches('='))
            .map_err(|_| Error::Decode("the token's payload is not base64url".into()))?;
        let v: Value = serde_json::from_slice(&bytes)
            .map_err(|_| Error::Decode("the token's payload is not a JSON object".into()))?;
        if !v.is_object() {
            return Err(Error::Decode(
                "the token's payload is not a JSON object".into(),
            ));
        }
        let k8s = v.get("kubernetes.io");
        let audiences = match v.get("aud") {
            Some(Value::String(a)) => vec![a.clone()],
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect(),
            _ => Vec::new(),
        };
        let mut c = Claims {
            issuer: s(v.get("iss")),
            subject: s(v.get("sub")),
            audiences,
            expires_at: v.get("exp").and_then(Value::as_i64),
            issued_at: v.get("iat").and_then(Value::as_i64),
            namespace: s(k8s.and_then(|k| k.get("namespace"))),
            service_account: s(k8s.and_then(|k| k.pointer("/serviceaccount/name"))),
            service_account_uid: s(k8s.and_then(|k| k.pointer("/serviceaccount/uid"))),
            pod: s(k8s.and_then(|k| k.pointer("/pod/name"))),
            node: s(k8s.and_then(|k| k.pointer("/node/name"))),
        };
        // Legacy (secret-based) tokens carry flat claims.
        if c.namespace.is_empty() {
            c.namespace = s(v.get("kubernetes.io/serviceaccount/namespace"));
        }
        if c.service_account.is_empty() {
            c.service_account = s(v.get("kubernetes.io/serviceaccount/service-account.name"));
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(payload: &str) -> String {
        let e = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!(
            "{}.{}.sig",
            e.encode(r#"{"alg":"RS256"}"#),
            e.encode(payload)
        )
    }

    #[test]
    fn decodes_bound_token_claims() {
        let t = jwt(
            r#"{"aud":["https://kubernetes.default.svc"],"exp":1900000000,"iat":1800000000,
            "iss":"https://kubernetes.default.svc","sub":"system:serviceaccount:demo:bot",
            "kubernetes.io":{"namespace":"demo","pod":{"name":"p1","uid":"u"},
            "serviceaccount":{"name":"bot","uid":"sa-uid"}}}"#,
        );
        let c = Claims::decode(&t).unwrap();
        assert_eq!(c.subject, "system:serviceaccount:demo:bot");
        assert_eq!(c.namespace, "demo");
        assert_eq!(c.service_account, "bot");
        assert_eq!(c.pod, "p1");
        assert_eq!(c.expires_at, Some(1900000000));
        assert_eq!(c.audiences, vec!["https://kubernetes.default.svc"]);
    }

    #[test]
    fn garbage_gives_decode_errors_without_the_token() {
        for t in ["opaque-token-value", "a.!!!.c", "a.bm90LWpzb24.c"] {
            let e = Claims::decode(t).unwrap_err().to_string();
            assert!(!e.contains(t), "{e}");
            assert!(e.starts_with("decode error"), "{e}");
        }
    }
}
