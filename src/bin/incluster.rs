//! `incluster`: the Kubernetes API from shell scripts in a pod.
//!
//! Argument parsing and printing only; every behaviour is the library's.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use incluster::core::api::access;
use incluster::core::extract;
use incluster::core::extract::jsonpath::Template;
use incluster::core::http::interrupt;
use incluster::core::info;
use incluster::core::logs::{LogOptions, LogStream};
use incluster::core::watch::{Watch, WatchOptions};
use incluster::{Client, Config, Error, ErrorKind, Request};
use lexopt::prelude::*;

/// Exit codes scripts can test.
mod exit {
    pub const OK: u8 = 0;
    pub const OTHER: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const CONFIG: u8 = 3;
    pub const TRANSPORT: u8 = 4;
    pub const HTTP_4XX: u8 = 5;
    pub const HTTP_5XX: u8 = 6;
}

const HELP: &str = "\
incluster - talk to the Kubernetes API server from inside a pod

Usage:
  incluster get PATH [--param KEY=VALUE]...
  incluster request METHOD PATH [--param KEY=VALUE]... [--data @FILE|@-|-|TEXT] [--content-type T]
  incluster info
  incluster whoami
  incluster can-i VERB RESOURCE [--name NAME] [--subresource S]
  incluster watch PATH [-l SELECTOR] [--field-selector S] [--since RV] [--bookmarks]
  incluster logs POD [-c C] [-f] [--tail N] [--since 5m] [--since-time T] [--timestamps]
                 [--previous] [--limit-bytes N] [-n NS]
  incluster --version

Connection options (any verb):
  --server URL                 API server URL (default: in-cluster discovery from
                               KUBERNETES_SERVICE_HOST/PORT)
  --serviceaccount-dir DIR     ServiceAccount files (default $INCLUSTER_SERVICEACCOUNT_DIR or
                               /var/run/secrets/kubernetes.io/serviceaccount)
  --token-file FILE            bearer token file (re-read when it changes)
  --ca-file FILE               CA bundle to trust (PEM)
  -n, --namespace NS           default namespace
  --timeout SECONDS            whole-request timeout (default 60)
  --insecure-skip-tls-verify   DANGER: do not check the server's certificate

Output (get, request, watch): the response body on stdout (-o json, the default), or
  -o jsonpath=TEMPLATE   kubectl-style JSONPath ({.status.phase}, {range .items[*]}...{end})
  -o name                kind/name of the object (or of each item of a list)
  --pointer /a/b         one value by JSON Pointer (strings as they are; exit 1 if absent)
Errors on stderr.
Exit codes: 0 ok, 1 other error (and can-i's no), 2 usage, 3 configuration,
            4 TLS/transport/timeout, 5 HTTP 4xx, 6 HTTP 5xx.
Run `incluster VERB --help` for a verb's details.";

const HELP_GET: &str = "\
incluster get PATH [--param KEY=VALUE]...

GET an API path and print the body.
  --param KEY=VALUE   query parameter (repeatable; values are percent-encoded)

Example:
  incluster get /api/v1/namespaces/default/pods --param labelSelector=app=web";

const HELP_REQUEST: &str = "\
incluster request METHOD PATH [--param KEY=VALUE]... [--data @FILE|@-|-|TEXT] [--content-type T]

Any request: GET, POST, PUT, PATCH, DELETE, ...
  --param KEY=VALUE   query parameter (repeatable)
  --data D            body: @FILE reads a file, - or @- reads stdin, anything else is sent as is
  --content-type T    body type (default application/json; for PATCH use
                      application/merge-patch+json, application/json-patch+json,
                      application/strategic-merge-patch+json or application/apply-patch+yaml)

Example:
  incluster request POST /api/v1/namespaces/default/configmaps --data @cm.json";

const HELP_INFO: &str = "\
incluster info

Print, as JSON, the server, the namespace, the identity and expiry decoded from the token's
claims (never the token) and the CA certificates' subjects and validity. Reads local files only.";

const HELP_WHOAMI: &str = "\
incluster whoami

Print, as JSON, who the server says you are (SelfSubjectReview: username, uid, groups),
with the token's decoded claims. On a server without that API the identity comes from the
token's claims (\"source\": \"token claims\").";

const HELP_CAN_I: &str = "\
incluster can-i VERB RESOURCE [--name NAME] [--subresource S] [-n NS]

Ask the server whether you may do VERB on RESOURCE (SelfSubjectAccessReview), like
`kubectl auth can-i`. Prints yes or no; exits 0 for yes and 1 for no.
  RESOURCE          pods, deployments.apps (RESOURCE.GROUP), or a URL path like /healthz
  -n NS             namespace (default: the client's namespace; \"\" for cluster-wide)
  --name NAME       one object
  --subresource S   log, status, exec, ...

Example:
  incluster can-i create configmaps && echo allowed";

const HELP_WATCH: &str = "\
incluster watch PATH [-l SELECTOR] [--field-selector S] [--since RV] [--bookmarks]
                     [--no-resume] [--param KEY=VALUE]...

Watch a collection and print one JSON event per line: {\"type\":\"ADDED\",\"object\":{...}}.
The watch resumes from the last resourceVersion when the stream ends or breaks, and relists on
410 Gone (the differences arrive between RESYNC_START and RESYNC_END events). Ctrl-C ends it
cleanly (exit 0).
  -l, --selector S      labelSelector
  --field-selector S    fieldSelector
  --since RV            start after this resourceVersion (default: the current state first)
  --bookmarks           print BOOKMARK events too
  --no-resume           stop when the server ends the stream
  --param KEY=VALUE     any other watch option or query parameter (incluster.onGone=error, ...)

Example:
  incluster watch /api/v1/namespaces/default/configmaps -l app=web";

const HELP_LOGS: &str = "\
incluster logs POD [-c CONTAINER] [-f] [--tail N] [--since DURATION] [--since-time TIME]
               [--timestamps] [--previous] [--limit-bytes N] [--no-resume] [-n NS]

Print a pod's log, like kubectl logs. With -f the log is followed, and a stream that ends or
breaks while the container still runs is resumed from the last line's timestamp without
losing or repeating a line (--no-resume: stop instead). The follow ends when the container
terminates. Ctrl-C ends it cleanly (exit 0).
  -c, --container C     the container (needed when the pod has several)
  -f, --follow          keep printing new lines
  --tail N              the last N lines
  --since DURATION      only lines newer than this (5s, 2m, 3h)
  --since-time TIME     only lines at or after this RFC 3339 time
  --timestamps          prefix each line with its timestamp
  --previous            the previous, terminated instance of the container
  --limit-bytes N       stop after N bytes";

/// Settings gathered from the command line.
#[derive(Default)]
struct Args {
    verb: Option<String>,
    positional: Vec<String>,
    params: Vec<(String, String)>,
    data: Option<String>,
    content_type: Option<String>,
    server: Option<String>,
    sa_dir: Option<PathBuf>,
    token_file: Option<PathBuf>,
    ca_file: Option<PathBuf>,
    namespace: Option<String>,
    timeout: Option<Duration>,
    insecure: bool,
    help: bool,
    name: Option<String>,
    subresource: Option<String>,
    selector: Option<String>,
    field_selector: Option<String>,
    since: Option<String>,
    bookmarks: bool,
    no_resume: bool,
    container: Option<String>,
    follow: bool,
    tail: Option<u64>,
    since_time: Option<String>,
    timestamps: bool,
    previous: bool,
    limit_bytes: Option<u64>,
    output: Option<String>,
    pointer: Option<String>,
}

enum Failure {
    Usage(String),
    Lib(Error),
    /// `--pointer` found no value (exit 1).
    Absent(String),
    /// `can-i` answered no (exit 1, as `kubectl auth can-i`).
    No,
}

impl From<lexopt::Error> for Failure {
    fn from(e: lexopt::Error) -> Self {
        Failure::Usage(e.to_string())
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Lib(e)
    }
}

fn text(v: std::ffi::OsString, what: &str) -> Result<String, Failure> {
    v.into_string()
        .map_err(|_| Failure::Usage(format!("{what} is not valid UTF-8")))
}

fn parse() -> Result<Args, Failure> {
    let mut a = Args::default();
    let mut p = lexopt::Parser::from_env();
    while let Some(arg) = p.next()? {
        match arg {
            Short('h') | Long("help") => a.help = true,
            Long("version") => {
                println!("incluster {}", env!("CARGO_PKG_VERSION"));
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
                if !(s.is_finite() && s > 0.0) {
                    return Err(Failure::Usage(
                        "--timeout must be a number of seconds > 0".into(),
                    ));
                }
                a.timeout = Some(Duration::from_secs_f64(s));
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
            Value(v) if a.verb.is_none() => a.verb = Some(text(v, "the verb")?),
            Value(v) => a.positional.push(text(v, "an argument")?),
            _ => return Err(arg.unexpected().into()),
        }
    }
    Ok(a)
}

fn client(a: &Args) -> Result<Client, Failure> {
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

fn expect_args(a: &Args, n: usize, usage: &str) -> Result<(), Failure> {
    if a.positional.len() != n {
        return Err(Failure::Usage(format!("usage: {usage}")));
    }
    Ok(())
}

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
fn print_raw(bytes: &[u8]) -> Result<(), Failure> {
    write_stdout(|out| out.write_all(bytes))
}

/// Write a body to stdout, ending it with a newline if it has none.
fn print_body(body: &[u8]) -> Result<(), Failure> {
    write_stdout(|out| {
        out.write_all(body)?;
        if !body.ends_with(b"\n") {
            out.write_all(b"\n")?;
        }
        Ok(())
    })
}

/// How a JSON answer is printed: as is, through JSONPath, as kind/name, or one pointer.
enum Output {
    Json,
    JsonPath(Template),
    Name,
    Pointer(String),
}

impl Output {
    fn new(a: &Args) -> Result<Output, Failure> {
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

    fn is_plain(&self) -> bool {
        matches!(self, Output::Json)
    }

    /// Print an answer: the body as it is (with a final newline), or rendered.
    fn print(&self, body: &[u8]) -> Result<(), Failure> {
        match self {
            Output::Json => print_body(body),
            _ => print_raw(&self.render(body)?),
        }
    }

    fn render(&self, body: &[u8]) -> Result<Vec<u8>, Failure> {
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

fn print_json(v: &serde_json::Value) -> Result<(), Failure> {
    print_body(
        serde_json::to_string_pretty(v)
            .unwrap_or_default()
            .as_bytes(),
    )
}

fn run(a: Args) -> Result<(), Failure> {
    let verb = a.verb.as_deref().unwrap_or("");
    if a.help || verb == "help" || verb.is_empty() {
        let h = match (verb, a.positional.first().map(String::as_str)) {
            ("get", _) | ("help", Some("get")) => HELP_GET,
            ("request", _) | ("help", Some("request")) => HELP_REQUEST,
            ("info", _) | ("help", Some("info")) => HELP_INFO,
            ("whoami", _) | ("help", Some("whoami")) => HELP_WHOAMI,
            ("can-i", _) | ("help", Some("can-i")) => HELP_CAN_I,
            ("watch", _) | ("help", Some("watch")) => HELP_WATCH,
            ("logs", _) | ("help", Some("logs")) => HELP_LOGS,
            _ => HELP,
        };
        println!("{h}");
        return if verb.is_empty() && !a.help {
            Err(Failure::Usage("no verb given".into()))
        } else {
            Ok(())
        };
    }
    if verb != "request" && (a.data.is_some() || a.content_type.is_some()) {
        return Err(Failure::Usage(format!(
            "{verb} does not take --data or --content-type"
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
    if !matches!(verb, "get" | "request" | "watch") && (a.output.is_some() || a.pointer.is_some()) {
        return Err(Failure::Usage(format!(
            "{verb} does not take -o or --pointer"
        )));
    }
    if a.output.is_some() && a.pointer.is_some() {
        return Err(Failure::Usage("give -o or --pointer, not both".into()));
    }
    let log_flags = a.container.is_some()
        || a.follow
        || a.tail.is_some()
        || a.since_time.is_some()
        || a.timestamps
        || a.previous
        || a.limit_bytes.is_some();
    if verb != "logs" && log_flags {
        return Err(Failure::Usage(format!("{verb} does not take log options")));
    }
    match verb {
        "get" => {
            expect_args(&a, 1, "incluster get PATH [--param KEY=VALUE]...")?;
            let mut req = Request::new("GET", &a.positional[0]);
            req.query = a.params.clone();
            let out = Output::new(&a)?;
            out.print(&client(&a)?.request(&req)?.body)
        }
        "request" => {
            expect_args(&a, 2, "incluster request METHOD PATH [options]")?;
            let mut req = Request::new(&a.positional[0], &a.positional[1]);
            req.query = a.params.clone();
            if let Some(d) = &a.data {
                req = req.with_body(read_data(d)?, a.content_type.as_deref());
            } else if a.content_type.is_some() {
                return Err(Failure::Usage("--content-type needs --data".into()));
            }
            let out = Output::new(&a)?;
            out.print(&client(&a)?.request(&req)?.body)
        }
        "info" => {
            expect_args(&a, 0, "incluster info")?;
            print_json(&info::describe(&client(&a)?))
        }
        "whoami" => {
            expect_args(&a, 0, "incluster whoami")?;
            print_json(&access::whoami(&client(&a)?)?)
        }
        "can-i" => {
            expect_args(&a, 2, "incluster can-i VERB RESOURCE [options]")?;
            let q = access::AccessQuery {
                verb: a.positional[0].clone(),
                resource: a.positional[1].clone(),
                // -n is already the client's namespace, the default the core uses.
                namespace: None,
                name: a.name.clone().unwrap_or_default(),
                subresource: a.subresource.clone().unwrap_or_default(),
            };
            let answer = access::can_i(&client(&a)?, &q)?;
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
        "watch" => {
            expect_args(&a, 1, "incluster watch PATH [options]")?;
            watch(&a)
        }
        "logs" => {
            expect_args(&a, 1, "incluster logs POD [options]")?;
            logs(&a)
        }
        other => Err(Failure::Usage(format!(
            "unknown verb {other:?} (try `incluster --help`)"
        ))),
    }
}

/// Set by SIGINT/SIGTERM: the watch loop sees it within 50 ms and ends cleanly.
static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
}

fn watch(a: &Args) -> Result<(), Failure> {
    let mut opts = WatchOptions::default();
    for (k, v) in &a.params {
        opts.set(k, v)?;
    }
    if let Some(s) = &a.selector {
        opts.label_selector = Some(s.clone());
    }
    if let Some(s) = &a.field_selector {
        opts.field_selector = Some(s.clone());
    }
    if let Some(rv) = &a.since {
        opts.resource_version = Some(rv.clone());
    }
    opts.deliver_bookmarks |= a.bookmarks;
    opts.resume &= !a.no_resume;
    let render = Output::new(a)?;
    install_stop_handlers();
    let client = client(a)?;
    let stopped = || STOP.load(Ordering::SeqCst);
    let result = interrupt::with_check(stopped, || -> Result<(), Failure> {
        let mut w = Watch::new(&client, &a.positional[0], opts)?;
        let mut out = std::io::stdout().lock();
        while let Some(ev) = w.next_event()? {
            let mut line = Vec::with_capacity(ev.object.len() + 32);
            if render.is_plain() {
                line.extend_from_slice(b"{\"type\":\"");
                line.extend_from_slice(ev.kind.as_str().as_bytes());
                line.extend_from_slice(b"\",\"object\":");
                line.extend_from_slice(&ev.object);
                line.extend_from_slice(b"}\n");
            } else {
                // -o / --pointer apply to each event's object, one line per event.
                match render.render(&ev.object) {
                    Ok(mut r) => {
                        if !r.ends_with(b"\n") {
                            r.push(b'\n');
                        }
                        line = r;
                    }
                    Err(Failure::Absent(_)) => continue,
                    Err(e) => return Err(e),
                }
            }
            // Each event is flushed at once, so a pipe (`| while read`) sees it as it happens.
            if out.write_all(&line).and_then(|_| out.flush()).is_err() {
                return Ok(()); // the reader went away (`| head`)
            }
        }
        Ok(())
    });
    match result {
        Err(Failure::Lib(Error::Cancelled)) if STOP.load(Ordering::SeqCst) => Ok(()),
        r => r,
    }
}

fn install_stop_handlers() {
    // SAFETY: installing a handler that only stores to an atomic is async-signal-safe.
    unsafe {
        libc::signal(libc::SIGINT, on_signal as *const () as libc::sighandler_t);
        libc::signal(libc::SIGTERM, on_signal as *const () as libc::sighandler_t);
    }
}

fn logs(a: &Args) -> Result<(), Failure> {
    let since_seconds = match &a.since {
        Some(d) => Some(
            humantime::parse_duration(d)
                .map_err(|e| Failure::Usage(format!("--since {d:?}: {e} (use 5s, 2m, 3h)")))?
                .as_secs(),
        ),
        None => None,
    };
    let opts = LogOptions {
        container: a.container.clone(),
        follow: a.follow,
        previous: a.previous,
        since_seconds,
        since_time: a.since_time.clone(),
        timestamps: a.timestamps,
        tail_lines: a.tail,
        limit_bytes: a.limit_bytes,
        resume: a.follow && !a.no_resume,
        ..LogOptions::default()
    };
    install_stop_handlers();
    let client = client(a)?;
    let ns = client.namespace().to_owned();
    let stopped = || STOP.load(Ordering::SeqCst);
    let result = interrupt::with_check(stopped, || -> Result<(), Failure> {
        let mut s = LogStream::open(&client, &ns, &a.positional[0], opts)?;
        let mut out = std::io::stdout().lock();
        loop {
            let lines = s.next_lines(4096)?;
            if lines.is_empty() {
                return Ok(());
            }
            // Written as soon as they arrived: a follower sees each line at once.
            if out
                .write_all(&lines.data)
                .and_then(|_| out.flush())
                .is_err()
            {
                return Ok(());
            }
        }
    });
    match result {
        Err(Failure::Lib(Error::Cancelled)) if STOP.load(Ordering::SeqCst) => Ok(()),
        r => r,
    }
}

fn exit_code(e: &Error) -> u8 {
    match e.kind() {
        ErrorKind::InvalidArgument => exit::USAGE,
        ErrorKind::Config => exit::CONFIG,
        ErrorKind::Transport | ErrorKind::Timeout | ErrorKind::Tls => exit::TRANSPORT,
        ErrorKind::Api if e.status() >= 500 => exit::HTTP_5XX,
        ErrorKind::Api => exit::HTTP_4XX,
        ErrorKind::Decode | ErrorKind::Cancelled => exit::OTHER,
    }
}

fn main() -> ExitCode {
    let outcome = parse().and_then(run);
    ExitCode::from(match outcome {
        Ok(()) => exit::OK,
        Err(Failure::Usage(m)) => {
            eprintln!("incluster: {m}");
            exit::USAGE
        }
        Err(Failure::Lib(e)) => {
            eprintln!("incluster: error: {e}");
            exit_code(&e)
        }
        Err(Failure::No) => exit::OTHER,
        Err(Failure::Absent(p)) => {
            eprintln!("incluster: no value at {p}");
            exit::OTHER
        }
    })
}
