//! Exec credential plugins (`client.authentication.k8s.io/v1` and `v1beta1`), as client-go's
//! `plugin/pkg/client/auth/exec` runs them.
//!
//! The plugin prints an `ExecCredential` with a token or a client certificate and, optionally,
//! an `expirationTimestamp`. The answer is cached until then and the plugin is run again only
//! when it has expired or the server answered 401 to it. At most one run is in flight per
//! client: other threads that need a credential meanwhile wait for that run's result instead
//! of starting their own. A run that outlives its time limit is killed.
//!
//! What the plugin prints on stdout carries the secret, so it is held in memory that is wiped
//! after parsing and never quoted in a message; stderr (trimmed) is quoted when the plugin
//! fails, as it is where plugins explain themselves.

use std::fmt;
use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant, SystemTime};

use rustls::sign::CertifiedKey;
use serde::Deserialize;
use serde_json::{Value, json};
use zeroize::Zeroizing;

use crate::core::auth::secret::{Secret, SecretBytes};
use crate::core::auth::token::validate_token;
use crate::core::error::{Error, Result};
use crate::core::tls::identity::{ClientCert, ClientCertProvider};

/// The ExecCredential API versions incluster speaks.
pub const API_VERSIONS: [&str; 2] = [
    "client.authentication.k8s.io/v1",
    "client.authentication.k8s.io/v1beta1",
];

/// The most of a plugin's stdout read (a credential is a few KiB).
const MAX_STDOUT: u64 = 1 << 20;
/// The most of a plugin's stderr kept for the error message.
const MAX_STDERR: u64 = 64 << 10;
/// The most of a plugin's stderr quoted in a message.
const QUOTED_STDERR: usize = 1000;

/// A kubeconfig user's `exec.interactiveMode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InteractiveMode {
    /// The plugin never needs a terminal.
    Never,
    /// The plugin uses a terminal when there is one (incluster never gives one).
    IfAvailable,
    /// The plugin needs a terminal: refused, as incluster runs plugins without one.
    Always,
}

impl std::str::FromStr for InteractiveMode {
    type Err = ();
    fn from_str(s: &str) -> std::result::Result<Self, ()> {
        match s {
            "Never" => Ok(InteractiveMode::Never),
            "IfAvailable" => Ok(InteractiveMode::IfAvailable),
            "Always" => Ok(InteractiveMode::Always),
            _ => Err(()),
        }
    }
}

/// How to run an exec credential plugin (a kubeconfig user's `exec` section, resolved).
#[derive(Clone, PartialEq, Eq)]
pub struct ExecConfig {
    /// `client.authentication.k8s.io/v1` or `v1beta1`.
    pub api_version: String,
    /// The program: a bare name is looked up in `PATH`; a relative path was resolved against
    /// the kubeconfig file that named it.
    pub command: PathBuf,
    /// Its arguments.
    pub args: Vec<String>,
    /// Extra environment variables (values may be secret: `Debug` shows only the names).
    pub env: Vec<(String, String)>,
    /// `interactiveMode`.
    pub interactive_mode: InteractiveMode,
    /// The cluster as `KUBERNETES_EXEC_INFO`'s `spec.cluster`, when `provideClusterInfo` is set.
    pub cluster: Option<Value>,
    /// `installHint`: shown when the command is not found.
    pub install_hint: Option<String>,
    /// Where the plugin was configured, for messages (`user "u" in /path/config`).
    pub origin: String,
}

impl fmt::Debug for ExecConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let env: Vec<&str> = self.env.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("ExecConfig")
            .field("api_version", &self.api_version)
            .field("command", &self.command)
            .field("args", &self.args.len())
            .field("env", &env)
            .field("interactive_mode", &self.interactive_mode)
            .field("provide_cluster_info", &self.cluster.is_some())
            .field("origin", &self.origin)
            .finish()
    }
}

/// One answer of the plugin.
struct Credential {
    header: Option<Arc<Secret>>,
    cert: Option<Arc<CertifiedKey>>,
    expires: Option<SystemTime>,
}

impl Credential {
    fn fresh(&self) -> bool {
        self.expires.is_none_or(|t| SystemTime::now() < t)
    }
}

#[derive(Default)]
struct State {
    cred: Option<Arc<Credential>>,
    running: bool,
    /// Counts finished runs, so a waiter knows the run it waited for has ended.
    finished: u64,
    /// The error of the last run, for the threads that waited for it.
    last_error: Option<Error>,
}

/// Runs the plugin when a credential is needed and caches its answer. Thread-safe.
pub struct ExecSource {
    cfg: ExecConfig,
    timeout: Duration,
    state: Mutex<State>,
    done: Condvar,
}

impl fmt::Debug for ExecSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExecSource")
            .field("cfg", &self.cfg)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// Clears `running` and wakes the waiters even if the run unwinds, so no thread waits forever.
struct RunGuard<'a>(&'a ExecSource, Option<Result<Credential>>);

impl Drop for RunGuard<'_> {
    fn drop(&mut self) {
        let mut s = self.0.state.lock().unwrap_or_else(|p| p.into_inner());
        s.running = false;
        s.finished += 1;
        match self.1.take() {
            Some(Ok(c)) => {
                s.cred = Some(Arc::new(c));
                s.last_error = None;
            }
            Some(Err(e)) => s.last_error = Some(e),
            None => {
                s.last_error = Some(Error::config(format!(
                    "exec plugin {} (for {}) could not be run",
                    self.0.cfg.command.display(),
                    self.0.cfg.origin
                )))
            }
        }
        self.0.done.notify_all();
    }
}

impl ExecSource {
    /// A source for `cfg`; each run of the plugin may take up to `timeout`.
    pub fn new(cfg: ExecConfig, timeout: Duration) -> ExecSource {
        ExecSource {
            cfg,
            timeout,
            state: Mutex::new(State::default()),
            done: Condvar::new(),
        }
    }

    /// The `Authorization` header value to send now (`None` when the plugin gave a client
    /// certificate only), running the plugin if there is no fresh credential.
    pub fn header(&self) -> Result<Option<Arc<Secret>>> {
        Ok(self.credential()?.header.clone())
    }

    fn credential(&self) -> Result<Arc<Credential>> {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if let Some(c) = s.cred.as_ref().filter(|c| c.fresh()) {
                return Ok(c.clone());
            }
            if s.running {
                // Another thread is running the plugin: wait for its answer, whatever it is.
                let seen = s.finished;
                while s.running && s.finished == seen {
                    s = self.done.wait(s).unwrap_or_else(|p| p.into_inner());
                }
                if let Some(e) = &s.last_error {
                    return Err(e.clone());
                }
                // The answer of the run waited for, even if it is already expired: a waiter
                // never starts a run of its own right after one.
                if let Some(c) = &s.cred {
                    return Ok(c.clone());
                }
                continue;
            }
            s.running = true;
            drop(s);
            let mut guard = RunGuard(self, None);
            guard.1 = Some(run(&self.cfg, self.timeout));
            drop(guard);
            s = self.state.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(e) = &s.last_error {
                return Err(e.clone());
            }
            if let Some(c) = &s.cred {
                // A credential that is already expired is used once rather than looping.
                return Ok(c.clone());
            }
        }
    }

    /// After a 401 to `sent`: drop the cached credential (unless another thread already
    /// replaced it) and run the plugin again. Returns the new header if it differs from `sent`.
    pub fn refresh_after_unauthorized(&self, sent: &Secret) -> Option<Arc<Secret>> {
        {
            let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(c) = &s.cred {
                match &c.header {
                    Some(h) if h.expose() != sent.expose() => return Some(h.clone()),
                    _ => s.cred = None,
                }
            }
        }
        self.header()
            .ok()
            .flatten()
            .filter(|h| h.expose() != sent.expose())
    }

    /// Where the plugin was configured.
    pub fn origin(&self) -> &str {
        &self.cfg.origin
    }
}

impl ClientCertProvider for ExecSource {
    fn current(&self) -> Option<Arc<CertifiedKey>> {
        // The request path ran the plugin just before; a handshake never starts a run itself.
        let s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        s.cred.as_ref().and_then(|c| c.cert.clone())
    }
}

/// `KUBERNETES_EXEC_INFO`: the ExecCredential the plugin is given.
fn exec_info(cfg: &ExecConfig) -> String {
    let mut spec = json!({ "interactive": false });
    if let Some(cluster) = &cfg.cluster {
        spec["cluster"] = cluster.clone();
    }
    json!({ "apiVersion": cfg.api_version, "kind": "ExecCredential", "spec": spec }).to_string()
}

/// The plugin's answer, as printed.
#[derive(Deserialize)]
struct Answer {
    #[serde(rename = "apiVersion")]
    api_version: Option<String>,
    kind: Option<String>,
    status: Option<AnswerStatus>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AnswerStatus {
    token: Option<Zeroizing<String>>,
    client_certificate_data: Option<String>,
    client_key_data: Option<Zeroizing<String>>,
    expiration_timestamp: Option<String>,
}

fn read_capped(r: Option<impl Read>, cap: u64) -> Zeroizing<Vec<u8>> {
    let mut buf = Zeroizing::new(Vec::new());
    if let Some(r) = r {
        let _ = r.take(cap).read_to_end(&mut buf);
    }
    buf
}

/// The end of the plugin's stderr, trimmed, for a message.
fn quote_stderr(err: &[u8]) -> String {
    let text = String::from_utf8_lossy(err);
    let text = text.trim();
    if text.is_empty() {
        return "it printed nothing on stderr".into();
    }
    let start = text
        .char_indices()
        .rev()
        .nth(QUOTED_STDERR - 1)
        .map_or(0, |(i, _)| i);
    let cut = if start > 0 { "..." } else { "" };
    format!("stderr: {cut}{}", &text[start..])
}

fn not_found(cfg: &ExecConfig, who: &str) -> Error {
    Error::config(format!(
        "{who} was not found{}",
        cfg.install_hint
            .as_deref()
            .map(|h| format!(": {}", h.trim()))
            .unwrap_or_default()
    ))
}

/// The program to run: a path as it is, a bare name looked up in `PATH` (as `execvp` does).
fn find_program(command: &std::path::Path) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let runnable = |p: &std::path::Path| {
        std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if command.components().count() > 1 || command.is_absolute() {
        // A path that exists but cannot be run is left to spawn, which says why.
        return command.exists().then(|| command.to_path_buf());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(command))
        .find(|p| runnable(p))
}

/// Run the plugin once and parse its answer.
fn run(cfg: &ExecConfig, timeout: Duration) -> Result<Credential> {
    let who = format!("exec plugin {} (for {})", cfg.command.display(), cfg.origin);
    // Looked up before spawning, so "not found" is told the same way everywhere (a failed
    // exec in a forked child is not always reported as such, under valgrind for one).
    let Some(program) = find_program(&cfg.command) else {
        return Err(not_found(cfg, &who));
    };
    let mut cmd = Command::new(program);
    cmd.args(&cfg.args)
        .envs(cfg.env.iter().map(|(k, v)| (k, v)))
        .env("KUBERNETES_EXEC_INFO", exec_info(cfg))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => not_found(cfg, &who),
        std::io::ErrorKind::PermissionDenied => {
            Error::config(format!("{who} could not be started: permission denied"))
        }
        _ => Error::config(format!("{who} could not be started: {e}")),
    })?;
    // Both pipes are drained by threads, so a plugin that fills one is never stuck on it; the
    // results come back over channels with the run's deadline, so a grandchild that keeps a
    // pipe open cannot hold us past it.
    let (out_tx, out_rx) = std::sync::mpsc::channel();
    let (err_tx, err_rx) = std::sync::mpsc::channel();
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    std::thread::spawn(move || out_tx.send(read_capped(stdout, MAX_STDOUT)));
    std::thread::spawn(move || err_tx.send(read_capped(stderr, MAX_STDERR)));
    let deadline = Instant::now() + timeout;
    let mut nap = Duration::from_millis(1);
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(Error::config(format!(
                    "{who} did not answer within {}s and was stopped",
                    timeout.as_secs_f64()
                )));
            }
            Ok(None) => {
                std::thread::sleep(nap);
                nap = (nap * 2).min(Duration::from_millis(20));
            }
            Err(e) => return Err(Error::config(format!("{who}: waiting for it failed: {e}"))),
        }
    };
    let left = deadline.saturating_duration_since(Instant::now());
    let stderr = err_rx.recv_timeout(left).unwrap_or_default();
    if !status.success() {
        return Err(Error::config(format!(
            "{who} failed ({status}); {}",
            quote_stderr(&stderr)
        )));
    }
    let left = deadline.saturating_duration_since(Instant::now());
    let stdout = out_rx.recv_timeout(left).map_err(|_| {
        Error::config(format!(
            "{who} exited but its output did not end within the time limit (a process it \
             started keeps stdout open?)"
        ))
    })?;
    parse_answer(cfg, &stdout, &who)
}

/// Parse and check an ExecCredential. Messages never quote the output.
fn parse_answer(cfg: &ExecConfig, stdout: &[u8], who: &str) -> Result<Credential> {
    let answer: Answer = serde_json::from_slice(stdout).map_err(|e| {
        Error::config(format!(
            "{who} printed something that is not an ExecCredential JSON object (at line {}, \
             column {}; the output is not shown as it may hold a secret)",
            e.line(),
            e.column()
        ))
    })?;
    if answer.kind.as_deref() != Some("ExecCredential") {
        return Err(Error::config(format!(
            "{who} printed JSON whose kind is not ExecCredential"
        )));
    }
    if answer.api_version.as_deref() != Some(cfg.api_version.as_str()) {
        return Err(Error::config(format!(
            "{who} answered with another apiVersion than the {} it was asked for",
            cfg.api_version
        )));
    }
    let status = answer.status.ok_or_else(|| {
        Error::config(format!("{who} printed an ExecCredential without a status"))
    })?;
    let expires = match &status.expiration_timestamp {
        None => None,
        Some(t) => Some(humantime::parse_rfc3339_weak(t.trim()).map_err(|_| {
            Error::config(format!(
                "{who}: status.expirationTimestamp is not an RFC 3339 time"
            ))
        })?),
    };
    let header = match &status.token {
        Some(t) if !t.is_empty() => {
            let t = validate_token(t, &format!("the token from {who}"))?;
            let header = Secret::new(format!("Bearer {t}"));
            drop(Zeroizing::new(t));
            Some(Arc::new(header))
        }
        _ => None,
    };
    let cert = match (&status.client_certificate_data, &status.client_key_data) {
        (Some(c), Some(k)) if !c.is_empty() && !k.is_empty() => {
            let pair = ClientCert {
                cert_pem: c.as_bytes().to_vec(),
                key_pem: SecretBytes::new(k.as_bytes()),
                origin: who.to_owned(),
            };
            Some(pair.certified_key()?)
        }
        (None, None) => None,
        _ => {
            return Err(Error::config(format!(
                "{who} gave clientCertificateData or clientKeyData without the other"
            )));
        }
    };
    if header.is_none() && cert.is_none() {
        return Err(Error::config(format!(
            "{who} printed an ExecCredential with neither a token nor a client certificate"
        )));
    }
    Ok(Credential {
        header,
        cert,
        expires,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn script(name: &str, body: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("incluster-exec-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        let p = d.join(name);
        std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        p
    }

    fn cfg(command: PathBuf) -> ExecConfig {
        ExecConfig {
            api_version: API_VERSIONS[0].into(),
            command,
            args: vec![],
            env: vec![("SECRET_ENV".into(), "env-value-secret".into())],
            interactive_mode: InteractiveMode::Never,
            cluster: Some(json!({"server": "https://h:6443"})),
            install_hint: Some("install it with brew".into()),
            origin: "user \"u\" in /k/config".into(),
        }
    }

    const OK: &str = r#"echo '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"tok-from-plugin-secret"}}'"#;

    fn err(c: ExecConfig, t: Duration) -> String {
        ExecSource::new(c, t).header().unwrap_err().to_string()
    }

    #[test]
    fn runs_once_and_caches_until_expiry() {
        let count =
            std::env::temp_dir().join(format!("incluster-exec-count-{}", std::process::id()));
        let _ = std::fs::remove_file(&count);
        let p = script(
            "counting",
            &format!("echo run >> {}\n{OK}", count.display()),
        );
        let src = Arc::new(ExecSource::new(cfg(p), Duration::from_secs(10)));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let s = src.clone();
                std::thread::spawn(move || s.header().unwrap().unwrap())
            })
            .collect();
        for t in threads {
            assert_eq!(t.join().unwrap().expose(), "Bearer tok-from-plugin-secret");
        }
        let runs = std::fs::read_to_string(&count).unwrap().lines().count();
        assert_eq!(
            runs, 1,
            "the plugin ran {runs} times for 8 concurrent callers"
        );
        // A 401 to the cached token runs it again; the same token is not worth a retry.
        let sent = src.header().unwrap().unwrap();
        assert!(src.refresh_after_unauthorized(&sent).is_none());
        assert_eq!(std::fs::read_to_string(&count).unwrap().lines().count(), 2);
    }

    #[test]
    fn passes_cluster_info_and_env() {
        let p = script(
            "info",
            r#"case "$KUBERNETES_EXEC_INFO" in *'"server":"https://h:6443"'*) ;; *) exit 3;; esac
[ "$SECRET_ENV" = env-value-secret ] || exit 4
echo '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"t1","expirationTimestamp":"2999-01-01T00:00:00Z"}}'"#,
        );
        let src = ExecSource::new(cfg(p), Duration::from_secs(10));
        assert_eq!(src.header().unwrap().unwrap().expose(), "Bearer t1");
    }

    #[test]
    fn expired_answers_run_the_plugin_again() {
        let count = std::env::temp_dir().join(format!("incluster-exec-exp-{}", std::process::id()));
        let _ = std::fs::remove_file(&count);
        let p = script(
            "expired",
            &format!(
                "echo run >> {}\necho '{{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{{\"token\":\"t\",\"expirationTimestamp\":\"2000-01-01T00:00:00Z\"}}}}'",
                count.display()
            ),
        );
        let src = ExecSource::new(cfg(p), Duration::from_secs(10));
        src.header().unwrap();
        src.header().unwrap();
        assert_eq!(std::fs::read_to_string(&count).unwrap().lines().count(), 2);
    }

    #[test]
    fn every_bad_plugin_is_a_config_error_without_the_secret() {
        let t = Duration::from_secs(10);
        let mut missing = cfg(PathBuf::from("/nonexistent/kubectl-oidc"));
        let e = err(missing.clone(), t);
        assert!(e.contains("was not found: install it with brew"), "{e}");
        assert!(
            e.contains("/nonexistent/kubectl-oidc") && e.contains("user \"u\""),
            "{e}"
        );
        missing.install_hint = None;
        assert!(err(missing, t).ends_with("was not found"));

        let failing = script(
            "failing",
            "echo tok-stdout-secret; echo 'login required: run sso' >&2; exit 7",
        );
        let e = err(cfg(failing), t);
        assert!(
            e.contains("exit status: 7") && e.contains("login required: run sso"),
            "{e}"
        );
        assert!(!e.contains("tok-stdout-secret"), "{e}");

        let garbage = script("garbage", "echo 'tok-garbage-secret not json'");
        let e = err(cfg(garbage), t);
        assert!(
            e.contains("not an ExecCredential JSON") && !e.contains("tok-garbage"),
            "{e}"
        );

        let wrong = script(
            "wrong",
            r#"echo '{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"tok-wrong-secret"}}'"#,
        );
        let e = err(cfg(wrong), t);
        assert!(
            e.contains("another apiVersion") && !e.contains("tok-wrong"),
            "{e}"
        );

        let empty = script(
            "empty",
            r#"echo '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{}}'"#,
        );
        assert!(err(cfg(empty), t).contains("neither a token nor a client certificate"));

        let badtime = script(
            "badtime",
            r#"echo '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"tok-time-secret","expirationTimestamp":"soon"}}'"#,
        );
        let e = err(cfg(badtime), t);
        assert!(
            e.contains("expirationTimestamp") && !e.contains("tok-time"),
            "{e}"
        );

        let hang = script("hang", "exec sleep 30");
        let e = err(cfg(hang), Duration::from_millis(300));
        assert!(e.contains("did not answer within 0.3s"), "{e}");

        let src = ExecSource::new(cfg(script("dbg", OK)), t);
        src.header().unwrap();
        let dbg = format!("{src:?}");
        assert!(
            !dbg.contains("tok-from-plugin") && !dbg.contains("env-value-secret"),
            "{dbg}"
        );
    }

    #[test]
    fn stderr_is_trimmed_to_its_end() {
        let long = "x".repeat(5000) + "the end";
        let q = quote_stderr(long.as_bytes());
        assert!(q.ends_with("the end") && q.len() < 1100, "{}", q.len());
        assert_eq!(quote_stderr(b"  \n"), "it printed nothing on stderr");
    }
}
