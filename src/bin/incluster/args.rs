//! The command line: every option into [`Args`], and which verb takes which option.

use std::path::PathBuf;
use std::time::Duration;

use incluster::core::seconds::positive_seconds;
use incluster::{Client, Config};
use lexopt::prelude::*;

use crate::failure::Failure;

/// Settings gathered from the command line.
#[derive(Default)]
pub struct Args {
    /// The verb (`get`, `watch`, ...).
    pub verb: Option<String>,
    /// The verb's arguments.
    pub positional: Vec<String>,
    /// `--param KEY=VALUE`, in order.
    pub params: Vec<(String, String)>,
    /// `--data`: the body, `@FILE`, `-` or `@-` for stdin.
    pub data: Option<String>,
    /// `--content-type`.
    pub content_type: Option<String>,
    /// `--server URL`.
    pub server: Option<String>,
    /// `--serviceaccount-dir`.
    pub sa_dir: Option<PathBuf>,
    /// `--token-file`.
    pub token_file: Option<PathBuf>,
    /// `--ca-file`.
    pub ca_file: Option<PathBuf>,
    /// `-n`, `--namespace`.
    pub namespace: Option<String>,
    /// `--timeout SECONDS`.
    pub timeout: Option<Duration>,
    /// `--insecure-skip-tls-verify`.
    pub insecure: bool,
    /// `-h`, `--help`.
    pub help: bool,
    /// `can-i --name`.
    pub name: Option<String>,
    /// `can-i --subresource`.
    pub subresource: Option<String>,
    /// `watch -l`.
    pub selector: Option<String>,
    /// `watch --field-selector`.
    pub field_selector: Option<String>,
    /// `watch --since RV`, `logs --since DURATION`.
    pub since: Option<String>,
    /// `watch --bookmarks`.
    pub bookmarks: bool,
    /// `watch`/`logs --no-resume`.
    pub no_resume: bool,
    /// `logs -c`.
    pub container: Option<String>,
    /// `logs -f`.
    pub follow: bool,
    /// `logs --tail`.
    pub tail: Option<u64>,
    /// `logs --since-time`.
    pub since_time: Option<String>,
    /// `logs --timestamps`.
    pub timestamps: bool,
    /// `logs --previous`.
    pub previous: bool,
    /// `logs --limit-bytes`.
    pub limit_bytes: Option<u64>,
    /// `-o`, `--output`.
    pub output: Option<String>,
    /// `--pointer`.
    pub pointer: Option<String>,
    /// `patch --type`.
    pub patch_type: Option<String>,
    /// `patch --field-manager`.
    pub field_manager: Option<String>,
    /// `patch --force`.
    pub force: bool,
    /// `exec`/`attach -i`: pass stdin through.
    pub stdin: bool,
    /// `exec`/`attach -t`: a terminal.
    pub tty: bool,
    /// `exec POD -- CMD ARGS...`: everything after the first `--`.
    pub command: Vec<String>,
}

fn text(v: std::ffi::OsString, what: &str) -> Result<String, Failure> {
    v.into_string()
        .map_err(|_| Failure::Usage(format!("{what} is not valid UTF-8")))
}

/// Parse the process's arguments. `--version` prints and exits here.
pub fn parse() -> Result<Args, Failure> {
    let mut a = Args::default();
    let mut raw: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    // `exec POD -- CMD ARGS...`: the command is everything after the first `--`, options
    // included (as kubectl exec), so it is split off before options are parsed.
    if let Some(i) = raw.iter().position(|x| x == "--")
        && raw[..i].iter().any(|x| x == "exec")
    {
        for c in raw.split_off(i).into_iter().skip(1) {
            a.command.push(text(c, "the command")?);
        }
    }
    let mut p = lexopt::Parser::from_args(raw);
    while let Some(arg) = p.next()? {
        match arg {
            Short('h') | Long("help") => a.help = true,
            Long("version") => {
                let version = concat!("incluster ", env!("CARGO_PKG_VERSION"));
                crate::output::print_body(version.as_bytes())?;
                std::process::exit(0);
            }
            Long("param") | Short('p') => {
                let kv = text(p.value()?, "--param")?;
                let (k, v) = kv
                    .split_once('=')
                    .ok_or_else(|| Failure::Usage(format!("--param {kv:?} must be KEY=VALUE")))?;
                a.params.push((k.to_owned(), v.to_owned()));
            }
            Long("data") | Short('d') => a.data = Some(text(p.value()?, "--data")?),
            Long("content-type") => a.content_type = Some(text(p.value()?, "--content-type")?),
            Long("server") => a.server = Some(text(p.value()?, "--server")?),
            Long("serviceaccount-dir") => a.sa_dir = Some(p.value()?.into()),
            Long("token-file") => a.token_file = Some(p.value()?.into()),
            Long("ca-file") => a.ca_file = Some(p.value()?.into()),
            Short('n') | Long("namespace") => a.namespace = Some(text(p.value()?, "--namespace")?),
            Long("timeout") => {
                let s: f64 = p.value()?.parse()?;
                // The core's bounds, as for Python's timeout= (a huge value is refused, not a
                // panic in Duration::from_secs_f64).
                a.timeout = Some(positive_seconds("--timeout", s)?);
            }
            Long("insecure-skip-tls-verify") => a.insecure = true,
            Long("name") => a.name = Some(text(p.value()?, "--name")?),
            Short('l') | Long("selector") => a.selector = Some(text(p.value()?, "--selector")?),
            Long("field-selector") => {
                a.field_selector = Some(text(p.value()?, "--field-selector")?)
            }
            Long("since") => a.since = Some(text(p.value()?, "--since")?),
            Short('c') | Long("container") => a.container = Some(text(p.value()?, "--container")?),
            Short('f') | Long("follow") => a.follow = true,
            Long("tail") => a.tail = Some(p.value()?.parse()?),
            Long("since-time") => a.since_time = Some(text(p.value()?, "--since-time")?),
            Long("timestamps") => a.timestamps = true,
            Long("previous") => a.previous = true,
            Long("limit-bytes") => a.limit_bytes = Some(p.value()?.parse()?),
            Short('o') | Long("output") => a.output = Some(text(p.value()?, "--output")?),
            Long("pointer") => a.pointer = Some(text(p.value()?, "--pointer")?),
            Long("bookmarks") => a.bookmarks = true,
            Long("no-resume") => a.no_resume = true,
            Long("subresource") => a.subresource = Some(text(p.value()?, "--subresource")?),
            Long("type") => a.patch_type = Some(text(p.value()?, "--type")?),
            Long("field-manager") => a.field_manager = Some(text(p.value()?, "--field-manager")?),
            Long("force") => a.force = true,
            Short('i') | Long("stdin") => a.stdin = true,
            Short('t') | Long("tty") => a.tty = true,
            Value(v) if a.verb.is_none() => a.verb = Some(text(v, "the verb")?),
            Value(v) => a.positional.push(text(v, "an argument")?),
            _ => return Err(arg.unexpected().into()),
        }
    }
    Ok(a)
}

/// Refuse anything but `n` positional arguments, showing `usage`.
pub fn expect_args(a: &Args, n: usize, usage: &str) -> Result<(), Failure> {
    if a.positional.len() != n {
        return Err(Failure::Usage(format!("usage: {usage}")));
    }
    Ok(())
}

/// Refuse options that `verb` does not take, so a misplaced option is an error rather than
/// silently ignored.
pub fn check_options(verb: &str, a: &Args) -> Result<(), Failure> {
    if a.output.as_deref() == Some("jsonpath") {
        // `-o jsonpath {.x}`: the template became an argument of its own.
        let template = a.positional.iter().find(|p| p.contains('{'));
        return Err(Failure::Usage(format!(
            "-o jsonpath takes its template after '=', as one argument: -o jsonpath='{}'",
            template.map_or("{.metadata.name}", String::as_str)
        )));
    }
    if !matches!(verb, "request" | "patch") && a.data.is_some() {
        return Err(Failure::Usage(format!("{verb} does not take --data")));
    }
    if verb != "request" && a.content_type.is_some() {
        let hint = if verb == "patch" {
            " (--type merge|json|strategic|apply chooses it)"
        } else {
            ""
        };
        return Err(Failure::Usage(format!(
            "{verb} does not take --content-type{hint}"
        )));
    }
    if verb != "patch" && (a.patch_type.is_some() || a.field_manager.is_some() || a.force) {
        return Err(Failure::Usage(format!(
            "{verb} does not take --type, --field-manager or --force (see `incluster patch --help`)"
        )));
    }
    if verb != "can-i" && (a.name.is_some() || a.subresource.is_some()) {
        return Err(Failure::Usage(format!(
            "{verb} does not take --name or --subresource"
        )));
    }
    let watch_flags = a.selector.is_some() || a.field_selector.is_some() || a.bookmarks;
    if verb != "watch" && watch_flags {
        return Err(Failure::Usage(format!(
            "{verb} does not take watch options"
        )));
    }
    if !matches!(verb, "watch" | "logs") && (a.since.is_some() || a.no_resume) {
        return Err(Failure::Usage(format!(
            "{verb} does not take --since or --no-resume"
        )));
    }
    let prints_json = matches!(
        verb,
        "get" | "request" | "patch" | "watch" | "info" | "whoami"
    );
    if !prints_json && (a.output.is_some() || a.pointer.is_some()) {
        return Err(Failure::Usage(format!(
            "{verb} does not take -o or --pointer"
        )));
    }
    if matches!(verb, "info" | "whoami") && a.output.as_deref() == Some("name") {
        return Err(Failure::Usage(format!(
            "{verb} does not take -o name (its answer is not a Kubernetes object): use \
             -o jsonpath=TEMPLATE or --pointer"
        )));
    }
    if a.output.is_some() && a.pointer.is_some() {
        return Err(Failure::Usage("give -o or --pointer, not both".into()));
    }
    let streams = matches!(verb, "exec" | "attach");
    if !streams && (a.stdin || a.tty) {
        return Err(Failure::Usage(format!("{verb} does not take -i or -t")));
    }
    if verb != "exec" && !a.command.is_empty() {
        return Err(Failure::Usage(format!(
            "{verb} does not take a command after --"
        )));
    }
    let log_flags = (a.container.is_some() && !streams)
        || a.follow
        || a.tail.is_some()
        || a.since_time.is_some()
        || a.timestamps
        || a.previous
        || a.limit_bytes.is_some();
    if verb != "logs" && log_flags {
        return Err(Failure::Usage(format!("{verb} does not take log options")));
    }
    Ok(())
}

/// The client the connection options describe.
pub fn client(a: &Args) -> Result<Client, Failure> {
    let mut cfg = match &a.server {
        Some(s) => Config::for_server(s, a.sa_dir.as_deref())?,
        None => Config::in_cluster(a.sa_dir.as_deref())?,
    };
    if let Some(f) = &a.token_file {
        cfg = cfg.with_token_file(f);
    }
    if let Some(f) = &a.ca_file {
        cfg = cfg.with_ca_file(f);
    }
    if let Some(ns) = &a.namespace {
        cfg = cfg.with_namespace(ns);
    }
    if a.timeout.is_some() {
        cfg.request_timeout = a.timeout;
    }
    if a.insecure {
        eprintln!(
            "incluster: WARNING: --insecure-skip-tls-verify: the server's certificate is NOT checked"
        );
        cfg = cfg.danger_insecure_skip_tls_verify();
    }
    Ok(Client::new(cfg)?)
}
