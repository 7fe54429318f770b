//! Where the API server is and how to authenticate: in-cluster discovery or explicit settings.
//!
//! Discovery follows client-go's `rest.InClusterConfig`: `KUBERNETES_SERVICE_HOST` /
//! `KUBERNETES_SERVICE_PORT` give the server, the ServiceAccount directory gives `token`,
//! `ca.crt` and `namespace`. Every failure names the missing piece.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::core::auth::exec::ExecConfig;
use crate::core::auth::secret::Secret;
use crate::core::error::{Error, Result};
use crate::core::tls::Trust;
use crate::core::tls::identity::ClientCert;
use crate::core::tls::roots::CaSource;

/// The ServiceAccount directory the kubelet mounts into every pod.
pub const DEFAULT_SERVICEACCOUNT_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";
/// Environment variable that overrides [`DEFAULT_SERVICEACCOUNT_DIR`].
pub const SERVICEACCOUNT_DIR_ENV: &str = "INCLUSTER_SERVICEACCOUNT_DIR";

/// Where the bearer token comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenConfig {
    /// Anonymous requests (the `kubectl proxy` route).
    None,
    /// A fixed token.
    Token(Secret),
    /// A token file, re-read when it changes.
    File(PathBuf),
    /// An exec credential plugin (kubeconfig `users[].user.exec`): a token or a client
    /// certificate, cached until it expires.
    Exec(Box<ExecConfig>),
}

/// Where a [`Config`] came from, for `info` and messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigSource {
    /// Settings given by the caller (a server URL and its options).
    Explicit,
    /// The pod's ServiceAccount and `KUBERNETES_SERVICE_HOST`/`_PORT`.
    InCluster,
    /// A kubeconfig: the files read (in merge order) and the context used.
    Kubeconfig {
        /// The files merged, first wins.
        files: Vec<PathBuf>,
        /// The context used.
        context: String,
    },
}

impl std::fmt::Display for ConfigSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConfigSource::Explicit => f.write_str("explicit"),
            ConfigSource::InCluster => f.write_str("in-cluster"),
            ConfigSource::Kubeconfig { files, context } => {
                let files: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
                write!(f, "kubeconfig {} (context {context})", files.join(":"))
            }
        }
    }
}

/// A client-side rate limit: a token bucket of `burst` requests refilled at `qps` per second.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    /// Sustained requests per second.
    pub qps: f64,
    /// Requests allowed at once before the limit applies.
    pub burst: u32,
}

impl RateLimit {
    /// A checked rate limit: `qps` must be a finite number > 0 and `burst` at least 1 (a
    /// bucket that holds nothing would let no request through). Every front builds its limit
    /// here, so C and Python refuse the same values with the same message.
    pub fn new(qps: f64, burst: u32) -> Result<RateLimit> {
        if !(qps.is_finite() && qps > 0.0) {
            return Err(Error::invalid(format!(
                "rate limit qps must be a number > 0, not {qps}"
            )));
        }
        if burst == 0 {
            return Err(Error::invalid("rate limit burst must be at least 1, not 0"));
        }
        Ok(RateLimit { qps, burst })
    }
}

/// Everything a [`crate::core::client::Client`] needs. Its `Debug` never shows the token.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Base URL of the API server, without a trailing slash (`https://10.96.0.1:443`).
    pub server: String,
    /// The bearer token.
    pub token: TokenConfig,
    /// How the server's certificate is checked; `None` is only valid for `http://` servers.
    pub trust: Option<Trust>,
    /// The default namespace.
    pub namespace: String,
    /// TCP + TLS connect timeout.
    pub connect_timeout: Duration,
    /// Time limit for a whole non-streaming request (sending, waiting, reading the body).
    pub request_timeout: Option<Duration>,
    /// Attempts for a request answered 429/503/504 with `Retry-After` (first try included).
    pub max_attempts: u32,
    /// The longest wait between two attempts, whatever `Retry-After` says.
    pub max_retry_delay: Duration,
    /// The largest response body read into memory (default 1 GiB), so a server that sends an
    /// endless body cannot exhaust memory: a larger body fails with [`ErrorKind::Decode`]
    /// naming the limit. Streams (watches, logs) have their own per-line limits instead.
    ///
    /// [`ErrorKind::Decode`]: crate::core::error::ErrorKind::Decode
    pub max_body_bytes: u64,
    /// Optional client-side rate limit (off by default).
    pub rate_limit: Option<RateLimit>,
    /// Honour `HTTPS_PROXY` / `HTTP_PROXY` / `NO_PROXY` from the environment.
    pub proxy_from_env: bool,
    /// Refuse to build a client for an `https://` server without a token, instead of sending
    /// anonymous requests. [`Config::for_server`] sets it when it found no ServiceAccount
    /// token to keep; [`Config::anonymous`] clears it (anonymous on request only).
    pub require_token: bool,
    /// The name to check the server's certificate against and send as SNI, instead of the
    /// URL's host (a kubeconfig cluster's `tls-server-name`).
    pub tls_server_name: Option<String>,
    /// The client certificate and key for mutual TLS (a kubeconfig user's
    /// `client-certificate`/`client-key`). Its `Debug` never shows the key.
    pub client_cert: Option<ClientCert>,
    /// The proxy for every request (a kubeconfig cluster's `proxy-url`); when set, the
    /// `HTTPS_PROXY` environment is not consulted. A [`Secret`]: a proxy URL may carry a
    /// password, so `Debug` does not show it.
    pub proxy_url: Option<Secret>,
    /// How often an exec, attach or port-forward session pings the server (default
    /// [`PING_PERIOD`], client-go's). A session that hears nothing back, not even a pong, for
    /// [`ping_deadline`] of it ends with [`ErrorKind::Timeout`] instead of hanging.
    ///
    /// [`PING_PERIOD`]: crate::core::exec::PING_PERIOD
    /// [`ping_deadline`]: crate::core::exec::ping_deadline
    /// [`ErrorKind::Timeout`]: crate::core::error::ErrorKind::Timeout
    pub ws_ping_period: Duration,
    /// Where these settings came from.
    pub source: ConfigSource,
}

fn bracket_host(host: &str) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_owned()
    }
}

/// Check a port string from the environment or the command line.
pub fn parse_port(value: &str, origin: &str) -> Result<u16> {
    match value.trim().parse::<u16>() {
        Ok(p) if p != 0 => Ok(p),
        _ => Err(Error::config(format!(
            "{origin}={value:?} is not a valid port (1-65535)"
        ))),
    }
}

impl Config {
    /// Settings for an explicit server URL, with defaults for everything else. Add a token and
    /// a CA with the builder methods; a plain `http://` URL with neither is the `kubectl proxy`
    /// route.
    pub fn new(server: &str) -> Result<Config> {
        Ok(Config {
            server: normalize_server(server)?,
            token: TokenConfig::None,
            trust: None,
            namespace: "default".into(),
            connect_timeout: Duration::from_secs(10),
            request_timeout: Some(Duration::from_secs(60)),
            max_attempts: 10,
            max_retry_delay: Duration::from_secs(10),
            max_body_bytes: 1 << 30,
            rate_limit: None,
            proxy_from_env: true,
            require_token: false,
            tls_server_name: None,
            client_cert: None,
            proxy_url: None,
            ws_ping_period: crate::core::ws::PING_PERIOD,
            source: ConfigSource::Explicit,
        })
    }

    /// Settings for a server URL given by a user (`Client(server=…)`, `--server`,
    /// `incluster_config_new`), as kubectl's `--server` does in a pod (client-go's in-cluster
    /// config with overrides): an `https://` server keeps the pod's ServiceAccount token,
    /// `ca.crt` and namespace when the token file exists, and the caller's own token, CA or
    /// namespace override each of them. Without a ServiceAccount token, building a client
    /// fails unless a token is given ([`Config::require_token`]), so a mistyped setup never
    /// goes out as `system:anonymous` without a word. A plain `http://` server is the
    /// `kubectl proxy` route: anonymous, and the pod's token is never sent over plain HTTP.
    /// `sa_dir` overrides the ServiceAccount directory (else `INCLUSTER_SERVICEACCOUNT_DIR`,
    /// else the kubelet's path).
    pub fn for_server(server: &str, sa_dir: Option<&Path>) -> Result<Config> {
        Self::for_server_from(&|k| std::env::var(k).ok(), server, sa_dir)
    }

    /// [`Config::for_server`] with the environment given as a function.
    pub fn for_server_from(
        env: &dyn Fn(&str) -> Option<String>,
        server: &str,
        sa_dir: Option<&Path>,
    ) -> Result<Config> {
        let mut c = Config::new(server)?;
        if !c.is_https() {
            return Ok(c);
        }
        let get = |k: &str| env(k).filter(|v| !v.trim().is_empty());
        let dir = serviceaccount_dir(&get, sa_dir);
        let token = dir.join("token");
        if !token.is_file() {
            c.require_token = true;
            return Ok(c);
        }
        c.token = TokenConfig::File(token);
        let ca = dir.join("ca.crt");
        if ca.is_file() {
            c.trust = Some(Trust::Ca(CaSource::File(ca)));
        }
        c.namespace = pod_namespace(&get, &dir);
        Ok(c)
    }

    /// Discover the in-cluster configuration from the process environment.
    /// `sa_dir` overrides the ServiceAccount directory.
    pub fn in_cluster(sa_dir: Option<&Path>) -> Result<Config> {
        Self::in_cluster_from(&|k| std::env::var(k).ok(), sa_dir)
    }

    /// [`Config::in_cluster`] with the environment given as a function (for tests and
    /// embedders that keep their own environment).
    pub fn in_cluster_from(
        env: &dyn Fn(&str) -> Option<String>,
        sa_dir: Option<&Path>,
    ) -> Result<Config> {
        let get = |k: &str| env(k).filter(|v| !v.trim().is_empty());
        let host = get("KUBERNETES_SERVICE_HOST").ok_or_else(|| {
            Error::config(
                "KUBERNETES_SERVICE_HOST is not set: not running in a pod? (give an explicit \
                 server URL to run elsewhere)",
            )
        })?;
        let port = get("KUBERNETES_SERVICE_PORT").ok_or_else(|| {
            Error::config("KUBERNETES_SERVICE_PORT is not set: not running in a pod?")
        })?;
        let port = parse_port(&port, "KUBERNETES_SERVICE_PORT")?;
        let dir = serviceaccount_dir(&get, sa_dir);
        if !dir.is_dir() {
            return Err(Error::config(format!(
                "ServiceAccount directory {} does not exist (is automountServiceAccountToken \
                 false, or is this not a pod? {SERVICEACCOUNT_DIR_ENV} overrides the path)",
                dir.display()
            )));
        }
        let namespace = pod_namespace(&get, &dir);
        let mut c = Config::new(&format!("https://{}:{port}", bracket_host(host.trim())))?;
        c.token = TokenConfig::File(dir.join("token"));
        c.trust = Some(Trust::Ca(CaSource::File(dir.join("ca.crt"))));
        c.namespace = namespace;
        c.source = ConfigSource::InCluster;
        Ok(c)
    }

    /// Discover the configuration as every front does by default: in-cluster when
    /// `KUBERNETES_SERVICE_HOST` is set (as before), else the kubeconfig (the `KUBECONFIG`
    /// list, else `~/.kube/config`) with its current context. With neither, the in-cluster
    /// error, which also says that no kubeconfig was found.
    pub fn discover(sa_dir: Option<&Path>) -> Result<Config> {
        Self::discover_from(&|k| std::env::var(k).ok(), sa_dir)
    }

    /// [`Config::discover`] with the environment given as a function.
    pub fn discover_from(
        env: &dyn Fn(&str) -> Option<String>,
        sa_dir: Option<&Path>,
    ) -> Result<Config> {
        let in_pod = env("KUBERNETES_SERVICE_HOST").is_some_and(|v| !v.trim().is_empty());
        if in_pod {
            return Self::in_cluster_from(env, sa_dir);
        }
        match crate::core::kubeconfig::default_files(env)? {
            Some(files) => crate::core::kubeconfig::load(&files, None),
            None => Err(Error::config(
                "KUBERNETES_SERVICE_HOST is not set: not running in a pod? And there is no \
                 kubeconfig (KUBECONFIG is not set and ~/.kube/config does not exist); give \
                 an explicit server URL or a kubeconfig to run elsewhere",
            )),
        }
    }

    /// Settings from a kubeconfig: the file `path`, else the `KUBECONFIG` list (merged as
    /// kubectl merges it: the first file to set a value wins), else `~/.kube/config`; the
    /// context `context`, else the `current-context`. Every error names the file, the
    /// context or user, and the problem.
    pub fn from_kubeconfig(path: Option<&Path>, context: Option<&str>) -> Result<Config> {
        Self::from_kubeconfig_env(&|k| std::env::var(k).ok(), path, context)
    }

    /// [`Config::from_kubeconfig`] with the environment given as a function.
    pub fn from_kubeconfig_env(
        env: &dyn Fn(&str) -> Option<String>,
        path: Option<&Path>,
        context: Option<&str>,
    ) -> Result<Config> {
        let files = match path {
            Some(p) => vec![p.to_path_buf()],
            None => crate::core::kubeconfig::default_files(env)?.ok_or_else(|| {
                Error::config(
                    "no kubeconfig: KUBECONFIG is not set and ~/.kube/config does not exist",
                )
            })?,
        };
        crate::core::kubeconfig::load(&files, context)
    }

    /// The warning every front shows when certificate checks are off because a kubeconfig
    /// asked for it (`insecure-skip-tls-verify: true`), `None` otherwise.
    pub fn kubeconfig_insecure_warning(&self) -> Option<String> {
        match (&self.trust, &self.source) {
            (Some(Trust::DangerInsecureSkipVerify), ConfigSource::Kubeconfig { context, .. }) => {
                Some(format!(
                    "WARNING: insecure-skip-tls-verify (kubeconfig context {context}): the \
                     server's certificate is NOT checked"
                ))
            }
            _ => None,
        }
    }

    /// Use a fixed token.
    pub fn with_token(mut self, token: &str) -> Self {
        self.token = TokenConfig::Token(Secret::new(token));
        self
    }

    /// Send requests without a token (the `kubectl proxy` route, or an API server that
    /// allows anonymous access): also for an `https://` server, where a missing token is
    /// otherwise refused (see [`Config::require_token`]).
    pub fn anonymous(mut self) -> Self {
        self.token = TokenConfig::None;
        self.require_token = false;
        self
    }

    /// Read the token from a file, re-reading it when it changes.
    pub fn with_token_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.token = TokenConfig::File(path.into());
        self
    }

    /// Trust the CA bundle in a PEM file (re-read when it changes).
    pub fn with_ca_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.trust = Some(Trust::Ca(CaSource::File(path.into())));
        self
    }

    /// Trust the CA bundle given as PEM bytes.
    pub fn with_ca_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.trust = Some(Trust::Ca(CaSource::Pem(pem.into())));
        self
    }

    /// Try a request answered 429/503/504 with `Retry-After` up to `n` times, the first try
    /// included. 0 is an [`Error::InvalidArgument`] (there would be no try at all), not
    /// quietly read as 1.
    pub fn with_max_attempts(mut self, n: u32) -> Result<Self> {
        if n == 0 {
            return Err(Error::invalid(
                "max attempts must be at least 1 (the first try counts), not 0",
            ));
        }
        self.max_attempts = n;
        Ok(self)
    }

    /// Set the default namespace.
    pub fn with_namespace(mut self, ns: &str) -> Self {
        self.namespace = ns.to_owned();
        self
    }

    /// Accept any server certificate. This removes all protection against a man in the middle;
    /// it exists for debugging only and is never turned on implicitly.
    pub fn danger_insecure_skip_tls_verify(mut self) -> Self {
        self.trust = Some(Trust::DangerInsecureSkipVerify);
        self
    }

    /// True for an `https://` server.
    pub fn is_https(&self) -> bool {
        self.server.starts_with("https://")
    }
}

/// The ServiceAccount directory: the caller's, else `INCLUSTER_SERVICEACCOUNT_DIR`, else the
/// kubelet's path.
fn serviceaccount_dir(get: &dyn Fn(&str) -> Option<String>, sa_dir: Option<&Path>) -> PathBuf {
    match sa_dir {
        Some(d) => d.to_path_buf(),
        None => get(SERVICEACCOUNT_DIR_ENV)
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_SERVICEACCOUNT_DIR)),
    }
}

/// The pod's namespace: `POD_NAMESPACE`, else the ServiceAccount's `namespace` file, else
/// `default`.
fn pod_namespace(get: &dyn Fn(&str) -> Option<String>, dir: &Path) -> String {
    match get("POD_NAMESPACE") {
        Some(ns) => ns.trim().to_owned(),
        None => std::fs::read_to_string(dir.join("namespace"))
            .ok()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "default".into()),
    }
}

/// Check a server URL and drop a trailing slash.
pub fn normalize_server(server: &str) -> Result<String> {
    let s = server.trim().trim_end_matches('/');
    let uri: ureq::http::Uri = s
        .parse()
        .map_err(|e| Error::config(format!("server URL {server:?} is not a valid URL: {e}")))?;
    match uri.scheme_str() {
        Some("https") | Some("http") => {}
        _ => {
            return Err(Error::config(format!(
                "server URL {server:?} must start with https:// or http://"
            )));
        }
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err(Error::config(format!("server URL {server:?} has no host")));
    }
    if uri.query().is_some() {
        return Err(Error::config(format!(
            "server URL {server:?} must not have a query"
        )));
    }
    Ok(s.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| m.get(k).cloned()
    }

    fn sa_dir(name: &str, ns: Option<&str>) -> PathBuf {
        let d = std::env::temp_dir().join(format!("incluster-cfg-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        if let Some(ns) = ns {
            std::fs::write(d.join("namespace"), ns).unwrap();
        }
        d
    }

    #[test]
    fn discovers_ipv6_host_and_namespace_file() {
        let d = sa_dir("v6", Some("team-a\n"));
        let e = env(&[
            ("KUBERNETES_SERVICE_HOST", "fd00::1"),
            ("KUBERNETES_SERVICE_PORT", "443"),
        ]);
        let c = Config::in_cluster_from(&e, Some(&d)).unwrap();
        assert_eq!(c.server, "https://[fd00::1]:443");
        assert_eq!(c.namespace, "team-a");
        assert_eq!(c.token, TokenConfig::File(d.join("token")));
    }

    #[test]
    fn pod_namespace_env_wins_and_default_is_default() {
        let d = sa_dir("ns", None);
        let base = [
            ("KUBERNETES_SERVICE_HOST", "10.0.0.1"),
            ("KUBERNETES_SERVICE_PORT", "6443"),
        ];
        let c = Config::in_cluster_from(&env(&base), Some(&d)).unwrap();
        assert_eq!(c.namespace, "default");
        let mut with = base.to_vec();
        with.push(("POD_NAMESPACE", "from-env"));
        let c = Config::in_cluster_from(&env(&with), Some(&d)).unwrap();
        assert_eq!(c.namespace, "from-env");
    }

    #[test]
    fn every_missing_piece_is_named() {
        let d = sa_dir("missing", None);
        let err = |pairs: &[(&str, &str)], dir: &Path| {
            Config::in_cluster_from(&env(pairs), Some(dir))
                .unwrap_err()
                .to_string()
        };
        assert!(err(&[], &d).contains("KUBERNETES_SERVICE_HOST is not set: not running in a pod?"));
        assert!(
            err(&[("KUBERNETES_SERVICE_HOST", "1.2.3.4")], &d)
                .contains("KUBERNETES_SERVICE_PORT is not set")
        );
        let bad_port = err(
            &[
                ("KUBERNETES_SERVICE_HOST", "1.2.3.4"),
                ("KUBERNETES_SERVICE_PORT", "https"),
            ],
            &d,
        );
        assert!(
            bad_port.contains("\"https\" is not a valid port"),
            "{bad_port}"
        );
        let no_dir = err(
            &[
                ("KUBERNETES_SERVICE_HOST", "1.2.3.4"),
                ("KUBERNETES_SERVICE_PORT", "443"),
            ],
            Path::new("/nonexistent/sa"),
        );
        assert!(no_dir.contains("ServiceAccount directory /nonexistent/sa does not exist"));
    }

    #[test]
    fn an_explicit_server_keeps_the_pods_credentials_unless_overridden() {
        let d = sa_dir("server", Some("team-b"));
        std::fs::write(d.join("token"), "t").unwrap();
        std::fs::write(d.join("ca.crt"), "pem").unwrap();
        let c = Config::for_server_from(&env(&[]), "https://other:6443", Some(&d)).unwrap();
        assert_eq!(c.server, "https://other:6443");
        assert_eq!(c.token, TokenConfig::File(d.join("token")));
        assert_eq!(c.trust, Some(Trust::Ca(CaSource::File(d.join("ca.crt")))));
        assert_eq!(c.namespace, "team-b");
        assert!(!c.require_token);
        // Plain HTTP is the kubectl proxy route: the token is never sent in clear text.
        let c = Config::for_server_from(&env(&[]), "http://127.0.0.1:8001", Some(&d)).unwrap();
        assert_eq!(c.token, TokenConfig::None);
        assert!(!c.require_token);
        // Not in a pod: no token to keep, so one must be given (or anonymity asked for).
        let none = Path::new("/nonexistent/sa");
        let c = Config::for_server_from(&env(&[]), "https://other", Some(none)).unwrap();
        assert!(c.require_token);
        assert!(!c.with_token("x").token.eq(&TokenConfig::None));
        let c = Config::for_server_from(&env(&[]), "https://other", Some(none)).unwrap();
        assert!(!c.anonymous().require_token);
    }

    #[test]
    fn seconds_and_rate_limits_are_checked_once_for_every_front() {
        assert_eq!(
            crate::core::seconds::positive_seconds("timeout", 1.5).unwrap(),
            Duration::from_millis(1500)
        );
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY, 1e300, 1e-12] {
            let e = crate::core::seconds::positive_seconds("timeout", bad).unwrap_err();
            assert_eq!(e.kind(), crate::core::error::ErrorKind::InvalidArgument);
            assert!(
                e.to_string()
                    .contains("timeout must be a number of seconds > 0")
            );
        }
        assert!(RateLimit::new(5.0, 10).is_ok());
        assert!(
            RateLimit::new(0.0, 1)
                .unwrap_err()
                .to_string()
                .contains("qps")
        );
        assert!(RateLimit::new(f64::NAN, 1).is_err());
        assert!(
            RateLimit::new(1.0, 0)
                .unwrap_err()
                .to_string()
                .contains("burst")
        );
        let c = Config::new("https://h").unwrap();
        assert_eq!(c.clone().with_max_attempts(3).unwrap().max_attempts, 3);
        assert!(
            c.with_max_attempts(0)
                .unwrap_err()
                .to_string()
                .contains("max attempts must be at least 1")
        );
    }

    #[test]
    fn server_urls_are_checked() {
        assert_eq!(
            Config::new("http://127.0.0.1:8001/").unwrap().server,
            "http://127.0.0.1:8001"
        );
        assert!(
            Config::new("ftp://x")
                .unwrap_err()
                .to_string()
                .contains("https://")
        );
        assert!(Config::new("not a url").is_err());
        assert!(Config::new("https://h/?a=b").is_err());
    }

    #[test]
    fn debug_never_shows_the_token() {
        let c = Config::new("https://h")
            .unwrap()
            .with_token("tok-abc123-secret");
        assert!(!format!("{c:?}").contains("tok-abc123-secret"));
    }
}
