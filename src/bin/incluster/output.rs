//! Everything written to stdout: bodies as they are, or through `-o` / `--pointer`.

use std::io::Write;

use incluster::Error;
use incluster::core::extract;
use incluster::core::extract::jsonpath::Template;

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

/// How a JSON answer is printed: as is, through JSONPath, as kind/name, or one pointer.
pub enum Output {
    /// The body as it is (`-o json`, the default).
    Json,
    /// `-o jsonpath=TEMPLATE`.
    JsonPath(Template),
    /// `-o name`: kind/name.
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

    /// Print an answer: the body as it is (with a final newline), or rendered.
    pub fn print(&self, body: &[u8]) -> Result<(), Failure> {
        match self {
            Output::Json => print_body(body),
            _ => print_raw(&self.render(body)?),
        }
    }

    /// The rendered output for a JSON body.
    pub fn render(&self, body: &[u8]) -> Result<Vec<u8>, Failure> {
        let doc = || -> Result<serde_json::Value, Failure> {
            serde_json::from_slice(body)
                .map_err(|e| Failure::Lib(Error::Decode(format!("the answer is not JSON: {e}"))))
        };
        Ok(match self {
            Output::Json => return Ok(body.to_vec()),
            Output::JsonPath(t) => t.render(&doc()?).into_bytes(),
            Output::Pointer(p) => match extract::pointer::lookup(&doc()?, p)? {
                Some(v) => format!("{}\n", extract::pointer::to_text(v)).into_bytes(),
                None => return Err(Failure::Absent(p.clone())),
            },
            Output::Name => {
                let d = doc()?;
                let name_of = |o: &serde_json::Value, kind: &str| {
                    let k = o["kind"].as_str().unwrap_or(kind).to_ascii_lowercase();
                    format!(
                        "{k}/{}\n",
                        o["metadata"]["name"].as_str().unwrap_or_default()
                    )
                };
                match d["items"].as_array() {
                    Some(items) => {
                        let kind = d["kind"].as_str().unwrap_or_default();
                        let kind = kind.strip_suffix("List").unwrap_or(kind);
                        items.iter().map(|i| name_of(i, kind)).collect::<String>()
                    }
                    None => name_of(&d, ""),
                }
                .into_bytes()
            }
        })
    }
}

/// Print a JSON value, indented.
pub fn print_json(v: &serde_json::Value) -> Result<(), Failure> {
    print_body(
        serde_json::to_string_pretty(v)
            .unwrap_or_default()
            .as_bytes(),
    )
}
