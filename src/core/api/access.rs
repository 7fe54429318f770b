//! Who am I, and may I? `SelfSubjectReview` and `SelfSubjectAccessReview`, as `kubectl auth
//! whoami` and `kubectl auth can-i` do them.

use serde_json::{Value, json};

use crate::core::api::request::Request;
use crate::core::client::Client;
use crate::core::error::{Error, Result};

const REVIEW_PATHS: [&str; 2] = [
    "/apis/authentication.k8s.io/v1/selfsubjectreviews",
    "/apis/authentication.k8s.io/v1beta1/selfsubjectreviews",
];

/// The caller's identity as JSON: `username`, `uid`, `groups`, `extra`, where it came from
/// (`source`: `SelfSubjectReview` or `token claims`) and the token's decoded `claims`.
///
/// Asks the server (SelfSubjectReview, v1 then v1beta1). A server without the API (404) gets an
/// answer from the token's claims, with the groups the API server gives every ServiceAccount.
pub fn whoami(client: &Client) -> Result<Value> {
    let claims = client.token_claims().ok().flatten();
    let claims_json = claims.as_ref().map_or(Value::Null, |c| c.to_json());
    for (i, path) in REVIEW_PATHS.iter().enumerate() {
        let api = if i == 0 { "v1" } else { "v1beta1" };
        let body = json!({
            "apiVersion": format!("authentication.k8s.io/{api}"),
            "kind": "SelfSubjectReview",
        });
        match client.request(&Request::new("POST", path).with_json(&body)) {
            Ok(resp) => {
                let v = resp.json()?;
                let u = &v["status"]["userInfo"];
                return Ok(json!({
                    "username": u["username"],
                    "uid": u["uid"],
                    "groups": u.get("groups").cloned().unwrap_or_else(|| json!([])),
                    "extra": u.get("extra").cloned().unwrap_or_else(|| json!({})),
                    "source": "SelfSubjectReview",
                    "claims": claims_json,
                }));
            }
            Err(Error::Api(e)) if e.status == 404 => continue,
            Err(e) => return Err(e),
        }
    }
    let Some(c) = claims else {
        return Err(Error::Decode(
            "the server has no SelfSubjectReview API and there is no token to read the identity from"
                .into(),
        ));
    };
    let mut groups = vec!["system:serviceaccounts".to_string()];
    if !c.namespace.is_empty() {
        groups.push(format!("system:serviceaccounts:{}", c.namespace));
    }
    groups.push("system:authenticated".to_string());
    Ok(json!({
        "username": c.subject,
        "uid": c.service_account_uid,
        "groups": groups,
        "extra": {},
        "source": "token claims",
        "claims": claims_json,
    }))
}

/// The verbs the API server's authorizers know for resources (kubectl's list).
pub const RESOURCE_VERBS: [&str; 16] = [
    "get",
    "list",
    "watch",
    "create",
    "update",
    "patch",
    "delete",
    "deletecollection",
    "use",
    "bind",
    "impersonate",
    "*",
    "approve",
    "sign",
    "escalate",
    "attest",
];

/// The verbs the API server's authorizers know for non-resource URLs (kubectl's list).
pub const NON_RESOURCE_VERBS: [&str; 8] = [
    "get", "put", "post", "head", "options", "delete", "patch", "*",
];

/// What to ask `can_i` about.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessQuery {
    /// `get`, `list`, `create`, `delete`, `watch`, `*`, ... Case does not matter (`GET` is
    /// asked as `get`, since RBAC verbs are lower case and the authorizer compares exactly).
    pub verb: String,
    /// A resource (`pods`), a resource with its group (`deployments.apps`), or a non-resource
    /// URL starting with `/` (`/healthz`).
    pub resource: String,
    /// The namespace: `None` for the client's default namespace (as kubectl does), `Some("")`
    /// for cluster-wide.
    pub namespace: Option<String>,
    /// One object's name; empty for all.
    pub name: String,
    /// A subresource (`log`, `status`, `exec`); empty for none.
    pub subresource: String,
}

/// The server's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    /// The action is allowed.
    pub allowed: bool,
    /// Why (the authorizer's reason; often empty when allowed).
    pub reason: String,
    /// Warnings about the question, for the caller to show (as kubectl prints them): a verb
    /// no authorizer knows (`verb 'foo' is not a known verb`) is asked anyway, and answered
    /// "no" unless a rule grants `*`.
    pub warnings: Vec<String>,
}

/// The verb as the authorizer compares it (lower case), and a warning when it is not one the
/// API knows for this kind of target.
fn normalize_verb(verb: &str, non_resource: bool) -> (String, Option<String>) {
    let v = verb.trim().to_ascii_lowercase();
    let known: &[&str] = if non_resource {
        &NON_RESOURCE_VERBS
    } else {
        &RESOURCE_VERBS
    };
    let warning = (!known.contains(&v.as_str())).then(|| format!("verb '{v}' is not a known verb"));
    (v, warning)
}

/// Ask the server whether the caller may do `q` (SelfSubjectAccessReview).
pub fn can_i(client: &Client, q: &AccessQuery) -> Result<Access> {
    if q.verb.trim().is_empty() || q.resource.is_empty() {
        return Err(Error::invalid("can_i needs a verb and a resource"));
    }
    let non_resource = q.resource.starts_with('/');
    let (verb, warning) = normalize_verb(&q.verb, non_resource);
    let spec = if non_resource {
        json!({ "nonResourceAttributes": { "path": q.resource, "verb": verb } })
    } else {
        // kubectl's RESOURCE.GROUP form: deployments.apps, ingresses.networking.k8s.io.
        let (resource, group) = q.resource.split_once('.').unwrap_or((&q.resource, ""));
        json!({ "resourceAttributes": {
            "verb": verb, "resource": resource, "group": group,
            "namespace": q.namespace.as_deref().unwrap_or(client.namespace()),
            "name": q.name, "subresource": q.subresource,
        }})
    };
    let body = json!({
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SelfSubjectAccessReview",
        "spec": spec,
    });
    let v = client
        .request(
            &Request::new(
                "POST",
                "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
            )
            .with_json(&body),
        )?
        .json()?;
    let status = &v["status"];
    let allowed = status["allowed"].as_bool().ok_or_else(|| {
        Error::Decode("the SelfSubjectAccessReview answer has no status.allowed".into())
    })?;
    let mut reason = status["reason"].as_str().unwrap_or_default().to_owned();
    if let Some(e) = status["evaluationError"].as_str().filter(|e| !e.is_empty()) {
        reason = if reason.is_empty() {
            e.to_owned()
        } else {
            format!("{reason}; {e}")
        };
    }
    Ok(Access {
        allowed,
        reason,
        warnings: warning.into_iter().collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbs_are_lower_cased_and_unknown_ones_warned_about() {
        assert_eq!(normalize_verb("GET", false), ("get".into(), None));
        assert_eq!(normalize_verb(" List ", false), ("list".into(), None));
        assert_eq!(normalize_verb("*", true), ("*".into(), None));
        assert_eq!(
            normalize_verb("Foo", false),
            ("foo".into(), Some("verb 'foo' is not a known verb".into()))
        );
        // `list` is a resource verb, not one for non-resource URLs.
        assert!(normalize_verb("list", true).1.is_some());
    }
}
