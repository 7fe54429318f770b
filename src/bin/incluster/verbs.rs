//! The one-shot verbs: get, request, patch, info, whoami, can-i.

use std::io::Read;

use incluster::Request;
use incluster::core::api::access;
use incluster::core::api::patch::Patch;
use incluster::core::info;

use crate::args::{Args, client, expect_args};
use crate::failure::Failure;
use crate::output::{Output, print_body};

/// `incluster get PATH|TYPE[/NAME]|TYPE NAME [-l SELECTOR] [-A]`.
pub fn get(a: &Args) -> Result<(), Failure> {
    let out = Output::new(a)?;
    let client = client(a)?;
    let usage =
        "incluster get PATH|TYPE[/NAME]|TYPE NAME [-l SELECTOR] [-A] [--param KEY=VALUE]...";
    let mut req = Request::new("GET", &crate::target::resolve(a, &client, usage)?.path);
    if let Some(s) = &a.selector {
        req = req.with_param("labelSelector", s);
    }
    req.query.extend(a.params.iter().cloned());
    out.print(&client.request(&req)?)
}

/// `incluster request METHOD PATH`.
pub fn request(a: &Args) -> Result<(), Failure> {
    expect_args(a, 2, "incluster request METHOD PATH [options]")?;
    let mut req = Request::new(&a.positional[0], &a.positional[1]);
    req.query = a.params.clone();
    if let Some(d) = &a.data {
        req = req.with_body(read_data(d)?, a.content_type.as_deref());
    } else if a.content_type.is_some() {
        return Err(Failure::Usage("--content-type needs --data".into()));
    }
    let out = Output::new(a)?;
    match client(a)?.request(&req) {
        Ok(resp) => out.print(&resp),
        Err(e) if req.method == "PATCH" && a.content_type.is_none() && e.status() == 415 => {
            Err(Failure::Hint(e, PATCH_HINT.into()))
        }
        Err(e) => Err(e.into()),
    }
}

/// What to do when a PATCH sent with the default content type (JSON, which the server does
/// not take for a patch) gets 415 Unsupported Media Type.
const PATCH_HINT: &str = "a PATCH body needs a patch content type: use `incluster patch PATH \
    --data ...` (a merge patch; --type json|strategic|apply for the others), or give \
    --content-type application/merge-patch+json (or application/json-patch+json, \
    application/strategic-merge-patch+json, application/apply-patch+yaml)";

/// `incluster patch PATH --data PATCH`: a merge patch unless `--type` says otherwise.
pub fn patch(a: &Args) -> Result<(), Failure> {
    expect_args(
        a,
        1,
        "incluster patch PATH --data PATCH [--type merge|json|strategic|apply]",
    )?;
    let data = a.data.as_deref().ok_or_else(|| {
        Failure::Usage(
            "patch needs --data: the patch as TEXT, @FILE, or - for stdin \
             (e.g. --data '{\"metadata\":{\"labels\":{\"a\":\"b\"}}}')"
                .into(),
        )
    })?;
    let kind = patch_type(a)?;
    let out = Output::new(a)?;
    let mut req = Request::patch(&a.positional[0], &kind, read_data(data)?);
    req.query.extend(a.params.iter().cloned());
    out.print(&client(a)?.request(&req)?)
}

/// The patch `--type`, `--field-manager` and `--force` describe (merge by default, as
/// kubectl); the core decides which options go with which type.
fn patch_type(a: &Args) -> Result<Patch, Failure> {
    let name = a.patch_type.as_deref().unwrap_or("merge");
    Ok(Patch::parse(name, a.field_manager.as_deref(), a.force)?)
}

/// `incluster info`.
pub fn info(a: &Args) -> Result<(), Failure> {
    expect_args(a, 0, "incluster info")?;
    let out = Output::new(a)?;
    out.print_value(&info::describe(&client(a)?))
}

/// `incluster whoami`.
pub fn whoami(a: &Args) -> Result<(), Failure> {
    expect_args(a, 0, "incluster whoami")?;
    let out = Output::new(a)?;
    out.print_value(&access::whoami(&client(a)?)?)
}

/// `incluster can-i VERB RESOURCE`: prints yes or no; no is a failure (exit 1).
pub fn can_i(a: &Args) -> Result<(), Failure> {
    expect_args(a, 2, "incluster can-i VERB RESOURCE [options]")?;
    let q = access::AccessQuery {
        verb: a.positional[0].clone(),
        resource: a.positional[1].clone(),
        // -n is already the client's namespace, the default the core uses.
        namespace: None,
        name: a.name.clone().unwrap_or_default(),
        subresource: a.subresource.clone().unwrap_or_default(),
    };
    let answer = access::can_i(&client(a)?, &q)?;
    for w in &answer.warnings {
        eprintln!("Warning: {w}");
    }
    print_body(if answer.allowed { b"yes" } else { b"no" })?;
    if !answer.allowed {
        if !answer.reason.is_empty() {
            eprintln!("incluster: {}", answer.reason);
        }
        return Err(Failure::No);
    }
    Ok(())
}

/// The body `--data` names: `@FILE`, stdin for `-` or `@-`, else the text itself.
fn read_data(d: &str) -> Result<Vec<u8>, Failure> {
    let from_stdin = || {
        let mut b = Vec::new();
        std::io::stdin()
            .read_to_end(&mut b)
            .map_err(|e| Failure::Usage(format!("--data: cannot read stdin: {e}")))?;
        Ok(b)
    };
    match d {
        "-" | "@-" => from_stdin(),
        _ => match d.strip_prefix('@') {
            Some(f) => std::fs::read(f)
                .map_err(|e| Failure::Usage(format!("--data: cannot read file {f}: {e}"))),
            None => Ok(d.as_bytes().to_vec()),
        },
    }
}
