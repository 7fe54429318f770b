//! `incluster delete PATH|TYPE/NAME|TYPE NAME|TYPE -l SELECTOR`.

use incluster::Request;

use crate::args::{Args, client};
use crate::failure::Failure;
use crate::output::Output;
use crate::target;

const USAGE: &str = "incluster delete PATH|TYPE/NAME|TYPE NAME|TYPE -l SELECTOR [--param K=V]...";

/// `incluster delete --help`.
pub const HELP: &str = "\
incluster delete PATH|TYPE/NAME|TYPE NAME [--param KEY=VALUE]... [-o FORMAT | --pointer /a/b]
incluster delete TYPE -l SELECTOR [-n NS | -A]

DELETE one object, by path or by name (cm/x, cm x, deploy/web), or with -l the objects of a
collection that match a label selector (the API's deletecollection). Prints the answer (the
deleted object or a Status) as JSON, or -o name. A collection without -l is refused.
  -n NS                 namespace (default: the client's)
  -l, --selector S      delete the matching objects of TYPE
  --param KEY=VALUE     query parameter (propagationPolicy=Foreground, dryRun=All, ...)

Examples:
  incluster delete cm/x -o name
  incluster delete pods -l app=web";

/// Delete one object, or with `-l` the matching objects of a collection (the API's
/// deletecollection); prints the answer (the object, a Status, or with -o name what went).
/// A collection without `-l` is refused: deleting every object of a type is not a default.
pub fn delete(a: &Args) -> Result<(), Failure> {
    let out = Output::new(a)?;
    let client = client(a)?;
    let r = target::resolve(a, &client, USAGE)?;
    let collection = r.resource.is_some() && r.name.is_none();
    if collection && a.selector.is_none() {
        return Err(Failure::Usage(format!(
            "delete {:?} would delete every object of the collection: name one \
             (TYPE/NAME or TYPE NAME) or select with -l SELECTOR",
            a.positional.join(" ")
        )));
    }
    let mut req = Request::new("DELETE", &r.path);
    if let Some(s) = &a.selector {
        req = req.with_param("labelSelector", s);
    }
    req.query.extend(a.params.iter().cloned());
    out.print(&client.request(&req)?)
}
