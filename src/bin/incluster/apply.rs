//! `incluster apply -f FILE|-`: server-side apply of every object in a YAML or JSON manifest.

use std::io::Read;

use incluster::core::apply::{ApplyOptions, parse_manifests};

use crate::args::{Args, client, expect_args};
use crate::failure::Failure;
use crate::output::print_raw;

/// `incluster apply --help`.
pub const HELP: &str = "\
incluster apply -f FILE|- [--field-manager M] [--force-conflicts] [-n NS]

Server-side apply, like kubectl apply --server-side: every object of the manifest (YAML
documents separated by ---, or JSON; a kind: List's items one by one), each sent as an apply
PATCH to the resource its apiVersion and kind name on the server (CRDs included). Prints
`kind/name serverside-applied` per object. Stops at the first failure with an error naming
the document (counted from 1); the objects before it stay applied. All objects are checked
for apiVersion, kind and metadata.name before the first is sent.
  -f, --filename F      the manifest file, - for stdin
  --field-manager M     the manager recorded in managedFields (default incluster)
  --force-conflicts     take over fields other managers own instead of failing on a conflict
  -n NS                 namespace of objects that name none (default: the client's)

Example:
  incluster apply -f deploy.yaml --field-manager ci";

/// Apply the manifest `-f` names.
pub fn apply(a: &Args) -> Result<(), Failure> {
    expect_args(
        a,
        0,
        "incluster apply -f FILE|- [--field-manager M] [--force-conflicts]",
    )?;
    let file = a
        .filename
        .as_deref()
        .ok_or_else(|| Failure::Usage("apply needs -f FILE (or -f - for stdin)".into()))?;
    let mut text = String::new();
    let read = if file == "-" {
        std::io::stdin().read_to_string(&mut text)
    } else {
        std::fs::File::open(file).and_then(|mut f| f.read_to_string(&mut text))
    };
    read.map_err(|e| Failure::Usage(format!("-f {file}: cannot read it: {e}")))?;
    let objects = parse_manifests(&text)?;
    if objects.is_empty() {
        return Err(Failure::Usage(format!("-f {file}: no objects in it")));
    }
    let opts = ApplyOptions {
        field_manager: a.field_manager.clone(),
        force: a.force_conflicts,
        // -n is already the client's namespace, the default for objects naming none.
        namespace: None,
    };
    // A line per object as it is applied; a failure to print stops the applying (the
    // stdout error is the one reported).
    let mut unprinted = None;
    let applied = client(a)?.apply_all(&objects, &opts, |done| {
        print_raw(format!("{} serverside-applied\n", done.describe()).as_bytes()).map_err(|f| {
            unprinted = Some(f);
            incluster::Error::Cancelled
        })
    });
    match (applied, unprinted) {
        (_, Some(f)) => Err(f),
        (Err(e), None) => Err(e.into()),
        (Ok(_), None) => Ok(()),
    }
}
