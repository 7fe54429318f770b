//! Label and field selectors (`labelSelector=`, `fieldSelector=`), for lists and watches.
//!
//! Label selectors: comma-separated requirements, all of which must hold: `k=v` (or `k==v`),
//! `k!=v`, `k`, `!k`, `k in (a,b)`, `k notin (a,b)`. As in Kubernetes, `k!=v` and
//! `k notin (..)` also match objects without the label.
//!
//! Field selectors: `metadata.name` and `metadata.namespace` with `=`, `==` or `!=`
//! (what the API server supports for ConfigMaps).

use serde_json::Value;

use crate::http::Request;

enum LabelReq {
    Eq(String, String),
    Ne(String, String),
    Exists(String),
    Missing(String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
}

#[derive(Clone, Copy)]
enum Field {
    Name,
    Namespace,
}

struct FieldReq {
    field: Field,
    value: String,
    negated: bool,
}

/// The selectors of one request; the empty selection matches everything.
#[derive(Default)]
pub struct Selectors {
    labels: Vec<LabelReq>,
    fields: Vec<FieldReq>,
}

impl Selectors {
    /// Parse `labelSelector` and `fieldSelector`; the error is a message for a 400.
    pub fn from_request(req: &Request) -> Result<Selectors, String> {
        Ok(Selectors {
            labels: parse_labels(req.param("labelSelector").unwrap_or(""))?,
            fields: parse_fields(req.param("fieldSelector").unwrap_or(""))?,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty() && self.fields.is_empty()
    }

    /// Does the object satisfy every requirement?
    pub fn matches(&self, obj: &Value) -> bool {
        let meta = obj.get("metadata");
        let labels = meta.and_then(|m| m.get("labels"));
        let label = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
        let labels_ok = self.labels.iter().all(|r| match r {
            LabelReq::Eq(k, v) => label(k) == Some(v.as_str()),
            LabelReq::Ne(k, v) => label(k) != Some(v.as_str()),
            LabelReq::Exists(k) => label(k).is_some(),
            LabelReq::Missing(k) => label(k).is_none(),
            LabelReq::In(k, vs) => label(k).is_some_and(|l| vs.iter().any(|v| v == l)),
            LabelReq::NotIn(k, vs) => label(k).is_none_or(|l| vs.iter().all(|v| v != l)),
        });
        labels_ok
            && self.fields.iter().all(|r| {
                let name = match r.field {
                    Field::Name => "name",
                    Field::Namespace => "namespace",
                };
                let actual = meta.and_then(|m| m.get(name)).and_then(Value::as_str);
                (actual == Some(r.value.as_str())) != r.negated
            })
    }
}

/// Split on the commas that are not inside parentheses (`a in (x,y),b` is two terms).
fn split_terms(s: &str) -> Vec<&str> {
    let mut terms = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                terms.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    terms.push(&s[start..]);
    terms
}

/// A label key: an optional DNS prefix and `/`, then a name (checked loosely).
fn key(k: &str) -> Result<String, String> {
    let k = k.trim();
    let ok = !k.is_empty()
        && k.len() <= 317
        && k.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'/'));
    if ok {
        Ok(k.to_owned())
    } else {
        Err(format!(
            "unable to parse requirement: invalid label key {k:?}"
        ))
    }
}

/// A label value: empty, or alphanumerics with `-`, `_` and `.`.
fn value(v: &str) -> Result<String, String> {
    let v = v.trim();
    let ok = v.len() <= 63
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(v.to_owned())
    } else {
        Err(format!(
            "unable to parse requirement: invalid label value {v:?}"
        ))
    }
}

fn parse_labels(s: &str) -> Result<Vec<LabelReq>, String> {
    if s.trim().is_empty() {
        return Ok(Vec::new());
    }
    split_terms(s)
        .into_iter()
        .map(|term| {
            let t = term.trim();
            if t.is_empty() {
                return Err(format!(
                    "unable to parse requirement: empty requirement in {s:?}"
                ));
            }
            if let Some(open) = t.find('(') {
                let (head, list) = t.split_at(open);
                let inner = list
                    .strip_prefix('(')
                    .and_then(|l| l.strip_suffix(')'))
                    .ok_or_else(|| format!("unable to parse requirement: {t:?}"))?;
                let values = inner.split(',').map(value).collect::<Result<Vec<_>, _>>()?;
                return match head.trim().rsplit_once(char::is_whitespace) {
                    Some((k, "in")) => Ok(LabelReq::In(key(k)?, values)),
                    Some((k, "notin")) => Ok(LabelReq::NotIn(key(k)?, values)),
                    _ => Err(format!(
                        "unable to parse requirement: expected `in` or `notin` in {t:?}"
                    )),
                };
            }
            if let Some(k) = t.strip_prefix('!') {
                return Ok(LabelReq::Missing(key(k)?));
            }
            if let Some((k, v)) = t.split_once("!=") {
                return Ok(LabelReq::Ne(key(k)?, value(v)?));
            }
            if let Some((k, v)) = t.split_once("==").or_else(|| t.split_once('=')) {
                return Ok(LabelReq::Eq(key(k)?, value(v)?));
            }
            Ok(LabelReq::Exists(key(t)?))
        })
        .collect()
}

fn parse_fields(s: &str) -> Result<Vec<FieldReq>, String> {
    if s.trim().is_empty() {
        return Ok(Vec::new());
    }
    s.split(',')
        .map(|term| {
            let t = term.trim();
            let (name, value, negated) = if let Some((n, v)) = t.split_once("!=") {
                (n, v, true)
            } else if let Some((n, v)) = t.split_once("==").or_else(|| t.split_once('=')) {
                (n, v, false)
            } else {
                return Err(format!("invalid selector: {t:?}; can't understand {t:?}"));
            };
            let field = match name.trim() {
                "metadata.name" => Field::Name,
                "metadata.namespace" => Field::Namespace,
                other => return Err(format!("field label not supported: {other}")),
            };
            Ok(FieldReq {
                field,
                value: value.trim().to_owned(),
                negated,
            })
        })
        .collect()
}
