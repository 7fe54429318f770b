//! `incluster`: the Kubernetes API from shell scripts in a pod.
//!
//! Argument parsing and printing only; every behaviour is the library's. One file per job:
//! `args` (the command line, which verb takes which option, the client it describes), `help`
//! (the texts), `output` (stdout, `-o` and `--pointer`), `verbs` (the one-shot requests),
//! `streams` (watch and logs), `wait`, `lease` (lease run/status), `exec` (exec and attach)
//! and `failure` (messages and exit codes).

use std::process::ExitCode;

mod apply;
mod args;
mod delete;
mod exec;
mod failure;
mod forward;
mod help;
mod lease;
mod output;
mod streams;
mod target;
mod verbs;
mod wait;

use args::Args;
use failure::Failure;

/// Show help when asked for (or when no verb is given), else run the verb.
fn run(a: Args) -> Result<(), Failure> {
    let verb = a.verb.as_deref().unwrap_or("");
    if a.help || verb == "help" || verb.is_empty() {
        let topic = match (verb, a.positional.first()) {
            ("help", Some(v)) => v.as_str(),
            (v, _) => v,
        };
        output::print_body(help::for_verb(topic).as_bytes())?;
        return if verb.is_empty() && !a.help {
            Err(Failure::Usage("no verb given".into()))
        } else {
            Ok(())
        };
    }
    args::check_options(verb, &a)?;
    match verb {
        "get" => verbs::get(&a),
        "delete" => delete::delete(&a),
        "apply" => apply::apply(&a),
        "request" => verbs::request(&a),
        "patch" => verbs::patch(&a),
        "info" => verbs::info(&a),
        "whoami" => verbs::whoami(&a),
        "can-i" => verbs::can_i(&a),
        "watch" => streams::watch(&a),
        "logs" => streams::logs(&a),
        "wait" => wait::wait(&a),
        "lease" => lease::lease(&a),
        "exec" => exec::exec(&a),
        "attach" => exec::attach(&a),
        "port-forward" => forward::port_forward(&a),
        other => Err(Failure::Usage(format!(
            "unknown verb {other:?} (try `incluster --help`)"
        ))),
    }
}

fn main() -> ExitCode {
    ExitCode::from(failure::report(args::parse().and_then(run)))
}
