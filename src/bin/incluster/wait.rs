//! `incluster wait`: block until objects meet conditions (the core's `wait`), print what met
//! them, and exit with a code a script can test.

use std::time::Duration;

use incluster::core::cancel::CancelHandle;
use incluster::core::wait::{Met, WaitOptions, target, wait as core_wait};
use serde_json::{Value, json};

use crate::args::{Args, client};
use crate::failure::Failure;
use crate::output::{Output, name_of, print_raw};

/// `incluster wait --help`.
pub const HELP: &str = "\
incluster wait TARGET [-l SELECTOR] --for COND [--for COND]... [--for-any COND]...
               [--fail-on COND]... [--allow-empty] [--timeout 30s] [-o FORMAT | --pointer /a/b]

Wait until an object, or every object a label selector picks, meets the conditions. The
object is listed once (met already: one request), then watched; a watch that breaks is
resumed and a 410 relisted, so nothing is missed. Nothing polls.

TARGET is an object path (/apis/batch/v1/namespaces/NS/jobs/NAME) or a collection path
(/api/v1/namespaces/NS/pods) with -l SELECTOR (without -l: every object in it), or the same
by name: job/pi, job pi, jobs.batch/pi, deploy/web, pods -l app=web (in -n NS, default the
client's namespace).
An object that does not exist yet is waited for.

Conditions (kubectl's):
  create                       the object exists
  delete                       the object is gone (or was re-created: its UID changed);
                               met at once when it does not exist
  condition=NAME[=STATUS]      status.conditions has type NAME with status STATUS (default
                               True), case-insensitive; ignored while its observedGeneration
                               is behind metadata.generation
  jsonpath='{EXPR}'[=VALUE]    EXPR selects one scalar equal to VALUE; without VALUE, one
                               value that is not null or empty. Several values: an error
  --for COND                   must hold (repeatable: all must hold)
  --for-any COND               one of these must hold (repeatable); the one met is printed
  --fail-on COND               give up when this holds (exit 8), e.g. a Job's
                               --for-any condition=Complete --fail-on condition=Failed
  --allow-empty                with -l: no matching object at all counts as met
  --timeout DURATION           30s, 5m, 1h30m or seconds (default 30s); 0 checks once

Output: one line per object, `kind/name COND met` (the conditions it met); or the object
(a List with -l) through -o json, -o name, -o jsonpath=TEMPLATE or --pointer /a/b.

Exit codes: 0 met, 7 timed out, 8 can no longer be met (the object was deleted while
waiting, or a --fail-on condition held); 2 usage or a bad condition (a jsonpath selecting
several values), 3 configuration, 4 TLS/transport, 5 HTTP 4xx, 6 HTTP 5xx, 1 other.";

/// The default timeout, as kubectl's.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// `--timeout`: seconds (`10`, `0.5`) or a duration (`5m`, `1h30m`).
fn timeout(a: &Args) -> Result<Duration, Failure> {
    let Some(t) = a.timeout_text.as_deref() else {
        return Ok(DEFAULT_TIMEOUT);
    };
    if let Ok(s) = t.parse::<f64>() {
        return Ok(incluster::core::seconds::seconds("--timeout", s)?);
    }
    humantime::parse_duration(t).map_err(|e| {
        Failure::Usage(format!(
            "--timeout {t:?}: {e} (expected a duration such as 30s, 5m or 1h30m)"
        ))
    })
}

/// `incluster wait TARGET ...`.
pub fn wait(a: &Args) -> Result<(), Failure> {
    let what = crate::target::what(a, "incluster wait TARGET --for COND [options] (see --help)")?;
    let mut opts = WaitOptions::parse(&a.wait_for, &a.wait_any, &a.fail_on)?;
    if opts.all.is_empty() && opts.any.is_empty() {
        return Err(Failure::Usage(
            "wait needs --for COND or --for-any COND (see `incluster wait --help`)".into(),
        ));
    }
    opts.allow_empty = a.allow_empty;
    opts.timeout = Some(timeout(a)?);
    let render = match (&a.output, &a.pointer) {
        (None, None) => None,
        _ => Some(Output::new(a)?),
    };
    let c = client(a)?;
    let t = target(&c, &what, a.namespace.as_deref(), a.selector.as_deref())?;
    let met = core_wait(&c, &t, &opts, &CancelHandle::new())?;
    match render {
        Some(out) => out.print_value(&document(&met, t.name.is_some())?),
        None => print_raw(summary(&met, &t.collection)?.as_bytes()),
    }
}

fn parse(raw: &[u8]) -> Result<Value, Failure> {
    serde_json::from_slice(raw)
        .map_err(|e| Failure::Lib(incluster::Error::Decode(format!("an object: {e}"))))
}

/// The object that met the conditions, or a List of them for a selector.
fn document(met: &Met, named: bool) -> Result<Value, Failure> {
    let mut items = met
        .objects
        .iter()
        .map(|o| parse(&o.object))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(match (named, items.len()) {
        (true, 1) => items.remove(0),
        _ => json!({"apiVersion": "v1", "kind": "List", "items": items}),
    })
}

/// `kind/name COND met` per object; for an object known only by name (deleted before it was
/// ever seen), the collection's resource stands in for the kind.
fn summary(met: &Met, collection: &str) -> Result<String, Failure> {
    let resource = collection.rsplit('/').next().unwrap_or_default();
    let mut out = String::new();
    for o in &met.objects {
        let v = parse(&o.object)?;
        let name = name_of(&v, None).unwrap_or_else(|| {
            format!(
                "{resource}/{}",
                v["metadata"]["name"].as_str().unwrap_or_default()
            )
        });
        out.push_str(&format!("{name} {} met\n", o.met.join(" ")));
    }
    Ok(out)
}
