//! The one-shot verbs: get, request, info, whoami, can-i.

use std::io::Read;

use incluster::Request;
use incluster::core::api::access;
use incluster::core::info;

use crate::args::{Args, client, expect_args};
use crate::failure::Failure;
use crate::output::{Output, print_body, print_json};

/// `incluster get PATH`.
pub fn get(a: &Args) -> Result<(), Failure> {
    expect_args(a, 1, "incluster get PATH [--param KEY=VALUE]...")?;
    let mut req = Request::new("GET", &a.positional[0]);
    req.query = a.params.clone();
    let out = Output::new(a)?;
    out.print(&client(a)?.request(&req)?.body)
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
    out.print(&client(a)?.request(&req)?.body)
}

/// `incluster info`.
pub fn info(a: &Args) -> Result<(), Failure> {
    expect_args(a, 0, "incluster info")?;
    print_json(&info::describe(&client(a)?))
}

/// `incluster whoami`.
pub fn whoami(a: &Args) -> Result<(), Failure> {
    expect_args(a, 0, "incluster whoami")?;
    print_json(&access::whoami(&client(a)?)?)
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
