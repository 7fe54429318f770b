//! Where the API server is and how to authenticate: in-cluster discovery or explicit settings.
//!
//! Discovery follows client-go's `rest.InClusterConfig`: `KUBERNETES_SERVICE_HOST` /
//! `KUBERNETES_SERVICE_PORT` give the server, the ServiceAccount directory gives `token`,
//! `ca.crt` and `namespace`. Every failure names the missing piece.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::core::auth::secret::Secret;
use crate::core::error::{Error, Result};
use crate::core::tls::Trust;
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
}

/// A client-side rate limit: a token bucket of `burst` requests refilled at `qps` per second.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    /// Sustained requests per second.
    pub qps: f64,
    /// Requests allowed at once before the limit applies.
    pub burst: u32,
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
        })
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
        let dir = match sa_dir {
            Some(d) => d.to_path_buf(),
            None => get(SERVICEACCOUNT_DIR_ENV)
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(DEFAULT_SERVICEACCOUNT_DIR)),
        };
        if !dir.is_dir() {
            return Err(Error::config(format!(
                "ServiceAccount directory {} does not exist (is automountServiceAccountToken \
                 false, or is this not a pod? {SERVICEACCOUNT_DIR_ENV} overrides the path)",
                dir.display()
            )));
        }
        let namespace = match get("POD_NAMESPACE") {
            Some(ns) => ns.trim().to_owned(),
            None => std::fs::read_to_string(dir.join("namespace"))
                .ok()
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "default".into()),
        };
        let mut c = Config::new(&format!("https://{}:{port}", bracket_host(host.trim())))?;
        c.token = TokenConfig::File(dir.join("token"));
        c.trust = Some(Trust::Ca(CaSource::File(dir.join("ca.crt"))));
        c.namespace = namespace;
        Ok(c)
    }

    /// Use a fixed token.
    pub fn with_token(mut self, token: &str) -> Self {
        self.token = TokenConfig::Token(Secret::new(token));
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
