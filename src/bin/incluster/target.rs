//! What a verb's arguments point at: an API path, or a resource by name in any of kubectl's
//! forms (`pods`, `pod/web-0`, `deploy/web`, `jobs.batch`, and `TYPE NAME` as two arguments).
//! The core resolves it (`Client::resolve`); this file only joins the arguments.

use incluster::Client;
use incluster::core::discovery::Resolved;

use crate::args::Args;
use crate::failure::Failure;

/// The one target of a verb taking `PATH`, `TYPE[/NAME]` or `TYPE NAME`, as one string.
pub fn what(a: &Args, usage: &str) -> Result<String, Failure> {
    match a.positional.as_slice() {
        [one] => Ok(one.clone()),
        [t, name] if !t.starts_with('/') && !t.contains('/') => Ok(format!("{t}/{name}")),
        [t, _] if t.contains('/') => Err(Failure::Usage(format!(
            "{t:?} already names an object or is a path: give TYPE/NAME or TYPE NAME, not both \
             (usage: {usage})"
        ))),
        _ => Err(Failure::Usage(format!("usage: {usage}"))),
    }
}

/// Resolve the verb's target with `-A`; `-n` is already the client's default namespace.
pub fn resolve(a: &Args, client: &Client, usage: &str) -> Result<Resolved, Failure> {
    let what = what(a, usage)?;
    let r = client.resolve(&what, None, a.all_namespaces)?;
    if r.name.is_some() && a.selector.is_some() {
        return Err(Failure::Usage(format!(
            "-l selects among a collection, but {what:?} names one object"
        )));
    }
    Ok(r)
}
