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
    /// `--kubeconfig FILE`.
    pub kubeconfig: Option<PathBuf>,
    /// `--context NAME`.
    pub context: Option<String>,
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
    /// `-A`, `--all-namespaces` (get, watch, delete).
    pub all_namespaces: bool,
    /// `apply -f FILE|-`.
    pub filename: Option<String>,
    /// `apply --force-conflicts`.
    pub force_conflicts: bool,
    /// `--timeout` as given: `wait` reads it as a duration (`5m`), the other verbs as seconds.
    pub timeout_text: Option<String>,
    /// `wait --for`, in order.
    pub wait_for: Vec<String>,
    /// `wait --for-any`, in order.
    pub wait_any: Vec<String>,
    /// `wait --fail-on`, in order.
    pub fail_on: Vec<String>,
    /// `wait --allow-empty`.
    pub allow_empty: bool,
    /// `lease run`'s election options.
    pub lease: LeaseOptions,
    /// `lease run NAME -- CMD ARGS...`: what follows `--`.
    pub command: Option<Vec<std::ffi::OsString>>,
    /// `exec`/`attach -i`: pass stdin through.
    pub stdin: bool,
    /// `exec`/`attach -t`: a terminal.
    pub tty: bool,
}

/// The options of `lease run` (`None`: the default).
#[derive(Default)]
pub struct LeaseOptions {
    /// `--identity`.
    pub identity: Option<String>,
    /// `--duration`.
    pub duration: Option<Duration>,
    /// `--renew-deadline`.
    pub renew_deadline: Option<Duration>,
    /// `--retry-period`.
    pub retry_period: Option<Duration>,
    /// `--grace-period`.
    pub grace_period: Option<Duration>,
    /// `--wait-timeout`.
    pub wait_timeout: Option<Duration>,
}

impl LeaseOptions {
    /// Whether any was given.
    pub fn any(&self) -> bool {
        self.identity.is_some()
            || self.duration.is_some()
            || self.renew_deadline.is_some()
            || self.retry_period.is_some()
            || self.grace_period.is_some()
            || self.wait_timeout.is_some()
    }
}

/// A duration option: `15s`, `1m30s`, `500ms`, or a number of seconds.
fn duration(v: std::ffi::OsString, what: &str) -> Result<Duration, Failure> {
    let s = text(v, what)?;
    let parsed = match s.parse::<f64>() {
        Ok(secs) => positive_seconds(what, secs).ok(),
        Err(_) => humantime::parse_duration(&s).ok(),
    };
    parsed.ok_or_else(|| {
        Failure::Usage(format!(
            "{what} {s:?}: expected a duration such as 15s, 500ms or 1m (or seconds)"
        ))
    })
}

fn text(v: std::ffi::OsString, what: &str) -> Result<String, Failure> {
    v.into_string()
        .map_err(|_| Failure::Usage(format!("{what} is not valid UTF-8")))
}

/// Parse the process's arguments. `--version` prints and exits here. For `lease run`,
/// everything after the first `--` is the command, kept out of option parsing.
pub fn parse() -> Result<Args, Failure> {
    let argv: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    if let Some((head, command)) = crate::lease::split_command(&argv) {
        let mut a = parse_from(head)?;
        if matches!(a.verb.as_deref(), Some("lease" | "exec")) {
            a.command = Some(command);
            return Ok(a);
        }
    }
    parse_from(argv)
}

fn parse_from(argv: Vec<std::ffi::OsString>) -> Result<Args, Failure> {
    let mut a = Args::default();
    let mut p = lexopt::Parser::from_args(argv);
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
            Long("kubeconfig") => a.kubeconfig = Some(p.value()?.into()),
            Long("context") => a.context = Some(text(p.value()?, "--context")?),
            Long("serviceaccount-dir") => a.sa_dir = Some(p.value()?.into()),
            Long("token-file") => a.token_file = Some(p.value()?.into()),
            Long("ca-file") => a.ca_file = Some(p.value()?.into()),
            Short('n') | Long("namespace") => a.namespace = Some(text(p.value()?, "--namespace")?),
            Long("timeout") => a.timeout_text = Some(text(p.value()?, "--timeout")?),
            Long("for") => a.wait_for.push(text(p.value()?, "--for")?),
            Long("for-any") => a.wait_any.push(text(p.value()?, "--for-any")?),
            Long("fail-on") => a.fail_on.push(text(p.value()?, "--fail-on")?),
            Long("allow-empty") => a.allow_empty = true,
            Long("insecure-skip-tls-verify") => a.insecure = true,
            Long("name") => a.name = Some(text(p.value()?, "--name")?),
            Short('l') | Long("selector") => a.selector = Some(text(p.value()?, "--selector")?),
            Long("field-selector") => {
                a.field_selector = Some(text(p.value()?, "--field-selector")?)
            }
            Long("since") => a.since = Some(text(p.value()?, "--since")?),
            Short('c') | Long("container") => a.container = Some(text(p.value()?, "--container")?),
            // `-f` is `apply`'s file (kubectl's), `logs`' follow otherwise.
            Short('f') if a.verb.as_deref() == Some("apply") => {
                a.filename = Some(text(p.value()?, "-f")?)
            }
            Long("filename") => a.filename = Some(text(p.value()?, "--filename")?),
            Short('f') | Long("follow") => a.follow = true,
            Short('A') | Long("all-namespaces") => a.all_namespaces = true,
            Long("force-conflicts") => a.force_conflicts = true,
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
            Long("identity") => a.lease.identity = Some(text(p.value()?, "--identity")?),
            Long("duration") => a.lease.duration = Some(duration(p.value()?, "--duration")?),
            Long("renew-deadline") => {
                a.lease.renew_deadline = Some(duration(p.value()?, "--renew-deadline")?)
            }
            Long("retry-period") => {
                a.lease.retry_period = Some(duration(p.value()?, "--retry-period")?)
            }
            Long("grace-period") => {
                a.lease.grace_period = Some(duration(p.value()?, "--grace-period")?)
            }
            Long("wait-timeout") => {
                a.lease.wait_timeout = Some(duration(p.value()?, "--wait-timeout")?)
            }
            Short('i') | Long("stdin") => a.stdin = true,
            Short('t') | Long("tty") => a.tty = true,
            Value(v) if a.verb.is_none() => a.verb = Some(text(v, "the verb")?),
            Value(v) => a.positional.push(text(v, "an argument")?),
            _ => return Err(arg.unexpected().into()),
        }
    }
    // `wait --timeout` is the wait's own (crate::wait), not the request timeout.
    if let Some(t) = a
        .timeout_text
        .as_deref()
        .filter(|_| a.verb.as_deref() != Some("wait"))
    {
        let s: f64 = t
            .parse()
            .map_err(|_| Failure::Usage(format!("--timeout {t:?}: expected seconds")))?;
        // The core's bounds, as for Python's timeout= (a huge value is refused, not a
        // panic in Duration::from_secs_f64).
        a.timeout = Some(positive_seconds("--timeout", s)?);
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
    if verb != "apply" && (a.filename.is_some() || a.force_conflicts) {
        return Err(Failure::Usage(format!(
            "{verb} does not take -f/--filename or --force-conflicts (see `incluster apply --help`)"
        )));
    }
    if !matches!(verb, "get" | "watch" | "delete") && a.all_namespaces {
        return Err(Failure::Usage(format!(
            "{verb} does not take -A/--all-namespaces"
        )));
    }
    if verb == "apply" && (a.patch_type.is_some() || a.force) {
        return Err(Failure::Usage(
            "apply does not take --type or --force (it is server-side apply; \
             --force-conflicts takes over fields other managers own)"
                .into(),
        ));
    }
    let takes_manager = matches!(verb, "patch" | "apply");
    if verb != "patch"
        && (a.patch_type.is_some() || (a.field_manager.is_some() && !takes_manager) || a.force)
    {
        return Err(Failure::Usage(format!(
            "{verb} does not take --type, --field-manager or --force (see `incluster patch --help`)"
        )));
    }
    if verb != "can-i" && (a.name.is_some() || a.subresource.is_some()) {
        return Err(Failure::Usage(format!(
            "{verb} does not take --name or --subresource"
        )));
    }
    let wait_flags =
        !a.wait_for.is_empty() || !a.wait_any.is_empty() || !a.fail_on.is_empty() || a.allow_empty;
    if verb != "wait" && wait_flags {
        return Err(Failure::Usage(format!(
            "{verb} does not take --for, --for-any, --fail-on or --allow-empty"
        )));
    }
    if !matches!(verb, "get" | "watch" | "delete" | "wait") && a.selector.is_some() {
        return Err(Failure::Usage(format!(
            "{verb} does not take -l/--selector"
        )));
    }
    let watch_flags = a.field_selector.is_some() || a.bookmarks;
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
    if verb != "lease" && a.lease.any() {
        return Err(Failure::Usage(format!(
            "{verb} does not take lease options (see `incluster lease --help`)"
        )));
    }
    let prints_json = matches!(
        verb,
        "get" | "request" | "patch" | "watch" | "info" | "whoami" | "wait" | "lease" | "delete"
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
    if !matches!(verb, "lease" | "exec") && a.command.is_some() {
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
    let kubeconfig = a.kubeconfig.is_some() || a.context.is_some();
    let mut cfg = match &a.server {
        Some(_) if kubeconfig => {
            return Err(Failure::Usage(
                "give --server or --kubeconfig/--context, not both".into(),
            ));
        }
        Some(s) => Config::for_server(s, a.sa_dir.as_deref())?,
        None if kubeconfig => {
            Config::from_kubeconfig(a.kubeconfig.as_deref(), a.context.as_deref())?
        }
        None => Config::discover(a.sa_dir.as_deref())?,
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
    if let Some(w) = cfg.kubeconfig_insecure_warning() {
        eprintln!("incluster: {w}");
    }
    if a.insecure {
        eprintln!(
            "incluster: WARNING: --insecure-skip-tls-verify: the server's certificate is NOT checked"
        );
        cfg = cfg.danger_insecure_skip_tls_verify();
    }
    Ok(Client::new(cfg)?)
}
