//! Everything written to stdout: bodies as they are, or through `-o` / `--pointer`.

use std::io::Write;

use incluster::core::extract;
use incluster::core::extract::jsonpath::Template;
use serde_json::Value;

use crate::args::Args;
use crate::failure::Failure;

/// Write to stdout with `f`, then flush. A closed pipe (`| head`) is not an error worth
/// reporting.
fn write_stdout(
    f: impl FnOnce(&mut std::io::StdoutLock<'_>) -> std::io::Result<()>,
) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    match f(&mut out).and_then(|_| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Failure::Usage(format!("cannot write to stdout: {e}")))
        }
        _ => Ok(()),
    }
}

/// Write `bytes` to stdout as they are.
pub fn print_raw(bytes: &[u8]) -> Result<(), Failure> {
    write_stdout(|out| out.write_all(bytes))
}

/// Write a body to stdout, ending it with a newline if it has none.
pub fn print_body(body: &[u8]) -> Result<(), Failure> {
    write_stdout(|out| {
        out.write_all(body)?;
        if !body.ends_with(b"\n") {
            out.write_all(b"\n")?;
        }
        Ok(())
    })
}

/// Print a JSON value, indented.
pub fn print_json(v: &Value) -> Result<(), Failure> {
    print_body(
        serde_json::to_string_pretty(v)
            .unwrap_or_default()
            .as_bytes(),
    )
}

/// How a JSON answer is printed: as is, through JSONPath, as kind/name, or one pointer.
pub enum Output {
    /// The body as it is (`-o json`, the default).
    Json,
    /// `-o jsonpath=TEMPLATE`.
    JsonPath(Template),
    /// `-o name`: kind/name, as kubectl prints it.
    Name,
    /// `--pointer /a/b`.
    Pointer(String),
}

impl Output {
    /// The output the command line asked for; a bad template or pointer is refused here,
    /// before any request.
    pub fn new(a: &Args) -> Result<Output, Failure> {
        if let Some(p) = &a.pointer {
            extract::pointer::parse(p)?;
            return Ok(Output::Pointer(p.clone()));
        }
        match a.output.as_deref() {
            None | Some("json") => Ok(Output::Json),
            Some("name") => Ok(Output::Name),
            Some(o) => match o.strip_prefix("jsonpath=") {
                Some(t) => Ok(Output::JsonPath(Template::parse(t)?)),
                None => Err(Failure::Usage(format!(
                    "-o {o:?}: expected json, name or jsonpath=TEMPLATE"
                ))),
            },
        }
    }

    /// Whether the body is printed as it is.
    pub fn is_plain(&self) -> bool {
        matches!(self, Output::Json)
    }

    /// Print a response body: as it is (with a final newline), or rendered.
    pub fn print(&self, resp: &incluster::Response) -> Result<(), Failure> {
        match self {
            Output::Json => print_body(&resp.body),
            _ => {
                let doc: Value =
                    serde_json::from_slice(&resp.body).map_err(|e| resp.not_json(e))?;
                print_raw(&self.render(&doc)?)
            }
        }
    }

    /// Print a value the CLI put together (info, whoami): indented JSON, or rendered.
    pub fn print_value(&self, v: &Value) -> Result<(), Failure> {
        match self {
            Output::Json => print_json(v),
            _ => print_raw(&self.render(v)?),
        }
    }

    /// One watch event, rendered from the event as printed (`{"type":...,"object":...}`)
    /// into one line; `None` when `--pointer` finds no value in it (the event is skipped).
    /// `-o name` gives the type and the object's name: `ADDED configmap/x`, or the type
    /// alone for an object without a name (BOOKMARK, RESYNC_START, RESYNC_END).
    pub fn render_event(&self, line: &[u8]) -> Result<Option<Vec<u8>>, Failure> {
        let ev: Value = serde_json::from_slice(line).map_err(|e| {
            Failure::Lib(incluster::Error::Decode(format!(
                "a watch event is not JSON: {e}"
            )))
        })?;
        let mut out = match self {
            Output::Name => {
                let kind = ev["type"].as_str().unwrap_or_default();
                match name_of(&ev["object"], None) {
                    Some(n) => format!("{kind} {n}"),
                    None => kind.to_owned(),
                }
                .into_bytes()
            }
            _ => match self.render(&ev) {
                Ok(r) => r,
                Err(Failure::Absent(_)) => return Ok(None),
                Err(e) => return Err(e),
            },
        };
        if !out.ends_with(b"\n") {
            out.push(b'\n');
        }
        Ok(Some(out))
    }

    /// The rendered output for a JSON document.
    fn render(&self, doc: &Value) -> Result<Vec<u8>, Failure> {
        Ok(match self {
            Output::Json => {
                let mut b = serde_json::to_vec(doc).unwrap_or_default();
                b.push(b'\n');
                b
            }
            Output::JsonPath(t) => t.render(doc).into_bytes(),
            Output::Pointer(p) => match extract::pointer::lookup(doc, p)? {
                Some(v) => format!("{}\n", extract::pointer::to_text(v)).into_bytes(),
                None => return Err(Failure::Absent(p.clone())),
            },
            Output::Name => names(doc)?.into_bytes(),
        })
    }
}

/// The group of an `apiVersion`: `apps` for `apps/v1`, empty for `v1`.
fn group_of(api_version: &Value) -> &str {
    api_version
        .as_str()
        .and_then(|v| v.rsplit_once('/'))
        .map_or("", |(g, _)| g)
}

/// `kind[.group]/name` as kubectl's `-o name` prints it (kind lower-cased, the group when there
/// is one); `None` without a kind or a name. `list` is the list's kind and apiVersion, which
/// the items of a list do not repeat.
pub fn name_of(o: &Value, list: Option<(&str, &Value)>) -> Option<String> {
    let name = o["metadata"]["name"].as_str().filter(|n| !n.is_empty())?;
    let (kind, group) = match (o["kind"].as_str(), list) {
        (Some(k), _) if !k.is_empty() => (k, group_of(&o["apiVersion"])),
        (_, Some((k, v))) if !k.is_empty() => (k, group_of(v)),
        _ => return None,
    };
    Some(qualified(kind, group, name))
}

fn qualified(kind: &str, group: &str, name: &str) -> String {
    let kind = kind.to_ascii_lowercase();
    if group.is_empty() {
        format!("{kind}/{name}")
    } else {
        format!("{kind}.{group}/{name}")
    }
}

/// `-o name` of an answer: one line per object of a list, the object itself, or the object a
/// `Status` names in its details (after a DELETE, as the server names it: `configmaps/x`).
/// Anything else is an error rather than a made-up name.
fn names(doc: &Value) -> Result<String, Failure> {
    let not_named = |what: &str| {
        Failure::Usage(format!(
            "-o name: {what}; print it with -o json, -o jsonpath=TEMPLATE or --pointer instead"
        ))
    };
    if let Some(items) = doc["items"].as_array() {
        let kind = doc["kind"].as_str().unwrap_or_default();
        let list = (
            kind.strip_suffix("List").unwrap_or(kind),
            &doc["apiVersion"],
        );
        let mut out = String::new();
        for (i, item) in items.iter().enumerate() {
            let n = name_of(item, Some(list)).ok_or_else(|| {
                not_named(&format!(
                    "item {i} of the list has no kind and metadata.name"
                ))
            })?;
            out.push_str(&n);
            out.push('\n');
        }
        return Ok(out);
    }
    if doc["kind"] == "Status" {
        let d = &doc["details"];
        return match (d["kind"].as_str(), d["name"].as_str()) {
            (Some(k), Some(n)) if !k.is_empty() && !n.is_empty() => Ok(format!(
                "{}\n",
                qualified(k, d["group"].as_str().unwrap_or_default(), n)
            )),
            _ => Err(not_named(
                "the answer is a Status that names no object (no details.kind and details.name)",
            )),
        };
    }
    match name_of(doc, None) {
        Some(n) => Ok(format!("{n}\n")),
        None => Err(not_named(
            "the answer is not a Kubernetes object (it has no kind and metadata.name)",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn name(doc: Value) -> String {
        match names(&doc) {
            Ok(s) => s,
            Err(Failure::Usage(m)) => format!("error: {m}"),
            Err(_) => "other failure".into(),
        }
    }

    #[test]
    fn names_as_kubectl_prints_them() {
        let dep = json!({"kind": "Deployment", "apiVersion": "apps/v1",
                         "metadata": {"name": "web"}});
        assert_eq!(name(dep), "deployment.apps/web\n");
        let list = json!({"kind": "DeploymentList", "apiVersion": "apps/v1",
                          "items": [{"metadata": {"name": "a"}}, {"metadata": {"name": "b"}}]});
        assert_eq!(name(list), "deployment.apps/a\ndeployment.apps/b\n");
        let pod = json!({"kind": "Pod", "apiVersion": "v1", "metadata": {"name": "p"}});
        assert_eq!(name(pod), "pod/p\n");
        // The Status a DELETE answers with names the deleted object by its resource.
        let gone = json!({"kind": "Status", "status": "Success",
                          "details": {"name": "web", "group": "apps", "kind": "deployments"}});
        assert_eq!(name(gone), "deployments.apps/web\n");
    }

    #[test]
    fn no_made_up_names() {
        for (doc, why) in [
            (
                json!({"major": "1", "gitVersion": "v1.37"}),
                "not a Kubernetes object",
            ),
            (
                json!({"kind": "Status", "status": "Success"}),
                "names no object",
            ),
            (
                json!({"kind": "SelfSubjectReview", "metadata": {}}),
                "not a Kubernetes object",
            ),
            (
                json!({"kind": "List", "items": [{"metadata": {}}]}),
                "item 0 of the list",
            ),
            (json!("text"), "not a Kubernetes object"),
        ] {
            let got = name(doc);
            assert!(
                got.starts_with("error: -o name: ") && got.contains(why),
                "{got}"
            );
        }
    }
}
