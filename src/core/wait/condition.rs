//! What a wait waits for: `create`, `delete`, `condition=NAME[=STATUS]` and
//! `jsonpath={EXPR}[=VALUE]`, parsed once and judged on each state of an object with kubectl's
//! rules (k8s.io/kubectl/pkg/cmd/wait).

use std::fmt;
use std::str::FromStr;

use serde_json::Value;

use crate::core::error::{Error, Result};
use crate::core::extract::jsonpath::Template;
use crate::core::extract::pointer::to_text;

/// One condition, as `--for` spells it.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// `create`: the object exists.
    Create,
    /// `delete`: the object does not exist, or is no longer the one first seen (its UID
    /// changed: it was deleted and re-created).
    Delete,
    /// `condition=NAME[=STATUS]`: an entry of `status.conditions` whose `type` is NAME has the
    /// `status` STATUS (default `True`), both compared case-insensitively. An entry whose
    /// `observedGeneration` (or else `status.observedGeneration`) is behind
    /// `metadata.generation` describes an older spec and does not count.
    Condition {
        /// The condition's `type`.
        name: String,
        /// The wanted `status`.
        status: String,
    },
    /// `jsonpath={EXPR}[=VALUE]`: EXPR selects exactly one scalar and its text equals VALUE
    /// (surrounding spaces ignored); without VALUE, EXPR selects one value that is not null
    /// and not empty. More than one value, or an object or list compared with VALUE, is an
    /// error (as kubectl's).
    JsonPath {
        /// The expression as given, braces included.
        expr: String,
        /// The parsed expression.
        template: Template,
        /// The wanted value.
        value: Option<String>,
    },
}

impl FromStr for Condition {
    type Err = Error;

    /// Parse `--for`'s forms; an unknown or malformed one is an [`Error::InvalidArgument`]
    /// naming it and the forms accepted.
    fn from_str(s: &str) -> Result<Condition> {
        let forms = "expected create, delete, condition=NAME[=STATUS] or \
                     jsonpath={EXPR}[=VALUE]";
        let s = s.trim();
        if s.eq_ignore_ascii_case("create") {
            return Ok(Condition::Create);
        }
        if s.eq_ignore_ascii_case("delete") {
            return Ok(Condition::Delete);
        }
        if let Some(rest) = strip_prefix_ci(s, "condition=") {
            let (name, status) = match rest.split_once('=') {
                Some((n, v)) => (n, v),
                None => (rest, "True"),
            };
            if name.is_empty() || status.is_empty() {
                return Err(Error::invalid(format!(
                    "wait condition {s:?}: the condition's name and status must not be empty"
                )));
            }
            return Ok(Condition::Condition {
                name: name.to_owned(),
                status: status.to_owned(),
            });
        }
        if let Some(rest) = strip_prefix_ci(s, "jsonpath=") {
            let (expr, value) = split_jsonpath(rest).ok_or_else(|| {
                Error::invalid(format!(
                    "wait condition {s:?}: the JSONPath must be one {{EXPR}} optionally \
                     followed by =VALUE, e.g. jsonpath='{{.status.phase}}'=Succeeded"
                ))
            })?;
            let template = Template::parse(expr)
                .map_err(|e| Error::invalid(format!("wait condition {s:?}: {e}")))?;
            if template.values(&Value::Null).is_none() {
                return Err(Error::invalid(format!(
                    "wait condition {s:?}: the JSONPath must be one expression in braces"
                )));
            }
            return Ok(Condition::JsonPath {
                expr: expr.to_owned(),
                template,
                value: value.map(str::to_owned),
            });
        }
        Err(Error::invalid(format!("wait condition {s:?}: {forms}")))
    }
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

/// `{EXPR}` and the optional value after `=`. The expression may hold `=` itself (a filter
/// `[?(@.type=="Ready")]`), so the split is at the brace that closes the first one, skipping
/// quoted strings.
fn split_jsonpath(s: &str) -> Option<(&str, Option<&str>)> {
    let b = s.as_bytes();
    if b.first() != Some(&b'{') {
        return None;
    }
    let mut depth = 0usize;
    let mut quote: Option<u8> = None;
    let mut i = 0;
    while i < b.len() {
        match (quote, b[i]) {
            (Some(_), b'\\') => i += 1,
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, b'"' | b'\'') => quote = Some(b[i]),
            (None, b'{') => depth += 1,
            (None, b'}') => {
                depth -= 1;
                if depth == 0 {
                    let (expr, rest) = s.split_at(i + 1);
                    return match rest {
                        "" => Some((expr, None)),
                        r => r.strip_prefix('=').map(|v| (expr, Some(v))),
                    };
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

impl fmt::Display for Condition {
    /// The condition as `--for` spells it, for messages and reports.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Condition::Create => f.write_str("create"),
            Condition::Delete => f.write_str("delete"),
            Condition::Condition { name, status } => write!(f, "condition={name}={status}"),
            Condition::JsonPath {
                expr,
                value: Some(v),
                ..
            } => write!(f, "jsonpath={expr}={v}"),
            Condition::JsonPath {
                expr, value: None, ..
            } => write!(f, "jsonpath={expr}"),
        }
    }
}

/// An object as a wait sees it: absent, or present with the UID it had when first seen.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Seen<'a> {
    /// It does not exist (never did, or was deleted).
    Absent,
    /// It exists.
    Present {
        /// Its state.
        object: &'a Value,
        /// Whether it is still the object first seen under this name (same UID).
        same_uid: bool,
    },
}

impl Condition {
    /// Whether this condition holds for `seen`; an error when a `jsonpath=` condition cannot
    /// be judged on this object (several values, or an object compared with a value).
    pub(crate) fn holds(&self, seen: Seen<'_>) -> Result<bool> {
        let (object, same_uid) = match seen {
            Seen::Absent => return Ok(matches!(self, Condition::Delete)),
            Seen::Present { object, same_uid } => (object, same_uid),
        };
        match self {
            Condition::Create => Ok(true),
            Condition::Delete => Ok(!same_uid),
            Condition::Condition { name, status } => Ok(condition_holds(object, name, status)),
            Condition::JsonPath {
                expr,
                template,
                value,
            } => jsonpath_holds(object, expr, template, value.as_deref()),
        }
    }
}

fn as_int(v: &Value) -> Option<i64> {
    v.as_i64()
}

fn condition_holds(obj: &Value, name: &str, status: &str) -> bool {
    let Some(conditions) = obj.pointer("/status/conditions").and_then(Value::as_array) else {
        return false;
    };
    let generation = obj.pointer("/metadata/generation").and_then(as_int);
    for c in conditions {
        let Some(kind) = c.get("type").and_then(Value::as_str) else {
            continue;
        };
        if !kind.eq_ignore_ascii_case(name) {
            continue;
        }
        let Some(have) = c.get("status").and_then(Value::as_str) else {
            continue;
        };
        if let Some(generation) = generation {
            // The condition's own observedGeneration, else the status's, as kubectl reads it.
            let observed = c
                .get("observedGeneration")
                .and_then(as_int)
                .or_else(|| obj.pointer("/status/observedGeneration").and_then(as_int));
            if observed.is_some_and(|o| o < generation) {
                return false;
            }
        }
        return have.eq_ignore_ascii_case(status);
    }
    false
}

fn jsonpath_holds(obj: &Value, expr: &str, t: &Template, want: Option<&str>) -> Result<bool> {
    let found = t.values(obj).unwrap_or_default();
    let one = match found.as_slice() {
        [] => return Ok(false),
        [one] => *one,
        many => {
            return Err(Error::invalid(format!(
                "wait condition jsonpath={expr}: it selects {} values in {}, not one",
                many.len(),
                describe(obj)
            )));
        }
    };
    match want {
        None => Ok(match one {
            Value::Null => false,
            Value::String(s) => !s.is_empty(),
            Value::Array(a) => !a.is_empty(),
            Value::Object(o) => !o.is_empty(),
            _ => true,
        }),
        Some(want) => match one {
            Value::Array(_) | Value::Object(_) => Err(Error::invalid(format!(
                "wait condition jsonpath={expr}={want}: it selects {} in {}, which cannot \
                 be compared with a value (select a field inside it)",
                if one.is_array() {
                    "a list"
                } else {
                    "an object"
                },
                describe(obj)
            ))),
            v => Ok(to_text(v).trim() == want.trim()),
        },
    }
}

/// `namespace/name` of an object, for messages.
pub(crate) fn describe(obj: &Value) -> String {
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("?");
    match obj.pointer("/metadata/namespace").and_then(Value::as_str) {
        Some(ns) if !ns.is_empty() => format!("{ns}/{name}"),
        _ => name.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn c(s: &str) -> Condition {
        s.parse().unwrap()
    }

    fn on(cond: &str, obj: Value) -> Result<bool> {
        c(cond).holds(Seen::Present {
            object: &obj,
            same_uid: true,
        })
    }

    #[test]
    fn forms_parse_and_print_back() {
        for (input, shown) in [
            ("create", "create"),
            ("Delete", "delete"),
            ("condition=Ready", "condition=Ready=True"),
            ("condition=Ready=false", "condition=Ready=false"),
            (
                "jsonpath={.status.phase}=Succeeded",
                "jsonpath={.status.phase}=Succeeded",
            ),
            ("jsonpath={.status.podIP}", "jsonpath={.status.podIP}"),
            (
                "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}=True",
                "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}=True",
            ),
            ("jsonpath={.a}=", "jsonpath={.a}="),
        ] {
            assert_eq!(c(input).to_string(), shown, "{input}");
        }
    }

    #[test]
    fn bad_forms_are_named() {
        for bad in [
            "ready",
            "condition=",
            "condition=Ready=",
            "jsonpath=.status.phase",
            "jsonpath={.status.phase",
            "jsonpath={.a}x",
            "jsonpath={.a}{.b}",
            "jsonpath={..[}",
        ] {
            let e = bad.parse::<Condition>().unwrap_err();
            assert!(matches!(e, Error::InvalidArgument(_)), "{bad}: {e}");
            assert!(e.to_string().contains("wait condition"), "{bad}: {e}");
        }
    }

    #[test]
    fn conditions_match_case_insensitively_and_respect_generations() {
        let obj = |status: &str, observed: Option<i64>| {
            let mut cond = json!({"type": "Complete", "status": status});
            if let Some(o) = observed {
                cond["observedGeneration"] = json!(o);
            }
            json!({"metadata": {"generation": 2}, "status": {"conditions": [cond]}})
        };
        assert!(on("condition=complete", obj("True", None)).unwrap());
        assert!(on("condition=COMPLETE=true", obj("True", Some(2))).unwrap());
        assert!(!on("condition=Complete", obj("False", None)).unwrap());
        assert!(on("condition=Complete=False", obj("false", None)).unwrap());
        // A condition about generation 1 says nothing about generation 2.
        assert!(!on("condition=Complete", obj("True", Some(1))).unwrap());
        // The status's observedGeneration stands in for the condition's.
        let mut o = obj("True", None);
        o["status"]["observedGeneration"] = json!(1);
        assert!(!on("condition=Complete", o.clone()).unwrap());
        o["status"]["observedGeneration"] = json!(2);
        assert!(on("condition=Complete", o).unwrap());
        assert!(!on("condition=Failed", obj("True", None)).unwrap());
        assert!(!on("condition=Complete", json!({"status": {}})).unwrap());
    }

    #[test]
    fn jsonpath_wants_one_scalar() {
        let pod = json!({"metadata": {"name": "p", "namespace": "ns"},
            "status": {"phase": "Running", "ready": true, "n": 3, "empty": "",
                       "list": [1, 2], "conditions": [{"type": "A"}, {"type": "B"}]}});
        assert!(on("jsonpath={.status.phase}=Running", pod.clone()).unwrap());
        assert!(on("jsonpath={.status.phase}= Running ", pod.clone()).unwrap());
        assert!(!on("jsonpath={.status.phase}=Succeeded", pod.clone()).unwrap());
        assert!(on("jsonpath={.status.ready}=true", pod.clone()).unwrap());
        assert!(on("jsonpath={.status.n}=3", pod.clone()).unwrap());
        assert!(on("jsonpath={.status.phase}", pod.clone()).unwrap());
        assert!(!on("jsonpath={.status.empty}", pod.clone()).unwrap());
        assert!(!on("jsonpath={.status.missing}", pod.clone()).unwrap());
        assert!(on("jsonpath={.status.list}", pod.clone()).unwrap());
        let e = on("jsonpath={.status.conditions[*].type}=A", pod.clone()).unwrap_err();
        assert!(e.to_string().contains("selects 2 values in ns/p"), "{e}");
        let e = on("jsonpath={.status.list}=1", pod).unwrap_err();
        assert!(e.to_string().contains("a list"), "{e}");
    }

    #[test]
    fn create_and_delete() {
        let o = json!({});
        let present = Seen::Present {
            object: &o,
            same_uid: true,
        };
        let replaced = Seen::Present {
            object: &o,
            same_uid: false,
        };
        assert!(c("create").holds(present).unwrap());
        assert!(!c("create").holds(Seen::Absent).unwrap());
        assert!(c("delete").holds(Seen::Absent).unwrap());
        assert!(!c("delete").holds(present).unwrap());
        assert!(c("delete").holds(replaced).unwrap());
        assert!(!c("condition=Ready").holds(Seen::Absent).unwrap());
    }
}
