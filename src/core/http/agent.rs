//! The pooled HTTP agent, and starting one request over it.

use std::sync::Arc;

use ureq::unversioned::transport::{ConnectProxyConnector, Connector};

use crate::core::config::Config;
use crate::core::error::{Error, Result};
use crate::core::http::connector::TlsConnector;
use crate::core::http::interrupt::Interrupted;
use crate::core::http::proxy::proxy_for;
use crate::core::http::resolver::LiteralFirstResolver;
use crate::core::http::tcp::TcpConnector;
use crate::core::tls;
use crate::core::tls::identity::ClientCertProvider;

/// The name the server's certificate is checked against when it is not the URL's host.
pub(crate) fn server_name(
    config: &Config,
) -> Result<Option<rustls_pki_types::ServerName<'static>>> {
    config
        .tls_server_name
        .as_deref()
        .map(|n| {
            rustls_pki_types::ServerName::try_from(n.to_owned()).map_err(|_| {
                Error::config(format!(
                    "TLS server name {n:?} is not a valid DNS name or IP address"
                ))
            })
        })
        .transpose()
}

/// The User-Agent every request carries.
pub const USER_AGENT: &str = concat!("incluster/", env!("CARGO_PKG_VERSION"));

/// The rustls configuration of a client (rooted in its CA, with its client certificate if
/// any), or `None` without a CA; built once and shared by the agent and the upgraded
/// connections of exec, attach and port-forward, so both trust exactly the same.
pub fn tls_config(
    config: &Config,
    client_cert: Option<Arc<dyn ClientCertProvider>>,
) -> Result<Option<Arc<rustls::ClientConfig>>> {
    config
        .trust
        .as_ref()
        .map(|trust| tls::client_config(trust, client_cert))
        .transpose()
}

/// Build the one agent a client shares between its threads: keep-alive pool, timeouts, proxy
/// and the TLS connector with `tls` (from [`tls_config`]).
pub fn build_agent(config: &Config, tls: Option<Arc<rustls::ClientConfig>>) -> Result<ureq::Agent> {
    let uri: ureq::http::Uri = config
        .server
        .parse()
        .map_err(|e| Error::config(format!("server URL {:?}: {e}", config.server)))?;
    let proxy = if let Some(url) = &config.proxy_url {
        Some(ureq::Proxy::new(url.expose()).map_err(|_| {
            Error::config(format!(
                "the proxy URL for {} is not a valid http:// URL",
                config.server
            ))
        })?)
    } else if config.proxy_from_env {
        proxy_for(&uri, &|k| std::env::var(k).ok())?
    } else {
        None
    };
    let ucfg = ureq::Agent::config_builder()
        // Non-2xx answers carry a Status body we want to read, not a bare ureq error.
        .http_status_as_error(false)
        // Redirects are followed, but ureq never sends Authorization across one
        // (RedirectAuthHeaders::Never is its default; set here so that stays true).
        .max_redirects(5)
        .redirect_auth_headers(ureq::config::RedirectAuthHeaders::Never)
        .timeout_connect(Some(config.connect_timeout))
        .timeout_global(config.request_timeout)
        .user_agent(USER_AGENT)
        .no_delay(true)
        .proxy(proxy)
        .max_idle_connections_per_host(16)
        // Every connection has ureq's buffers twice (the TCP and the TLS layer), and a watch
        // or log stream keeps its connection for hours: at ureq's 128 KiB each, a thousand
        // open streams would hold half a gigabyte. 32 KiB of input holds two TLS records; a
        // request head (URL, token) fits 16 KiB of output, and a body streams through it. An
        // answer's head must stay below the input buffer for an overlong one to be refused as
        // too big rather than stall (tests/hostile.rs); the API server's heads are a few KiB.
        .input_buffer_size(32 * 1024)
        .output_buffer_size(16 * 1024)
        .max_response_header_size(16 * 1024)
        .build();
    let tls_connector = match (tls, config.is_https()) {
        (Some(tls), _) => Some(TlsConnector::new(tls, server_name(config)?)),
        (None, true) => {
            return Err(Error::config(format!(
                "server {} uses https but no CA was given (a CA file or PEM; or, for \
                 debugging only, the insecure-skip-tls-verify option)",
                config.server
            )));
        }
        (None, false) => None,
    };
    let chain = ().chain(ConnectProxyConnector::default()).chain(TcpConnector);
    Ok(match tls_connector {
        Some(t) => ureq::Agent::with_parts(ucfg, chain.chain(t), LiteralFirstResolver::default()),
        None => ureq::Agent::with_parts(ucfg, chain, LiteralFirstResolver::default()),
    })
}

/// The head of an answer, with its body still to be read.
#[derive(Debug)]
pub struct Started {
    /// HTTP status code.
    pub status: u16,
    /// Headers, names lower-cased, in arrival order.
    pub headers: Vec<(String, String)>,
    /// The body, unread.
    pub body: ureq::Body,
}

/// How long a request may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timing {
    /// The agent's settings: connect timeout and the whole-request timeout.
    Request,
    /// A stream (watch, log follow): no overall limit, but each read must bring bytes within
    /// the given idle time, so a half-open connection is noticed.
    Stream(Option<std::time::Duration>),
}

/// Send one request and return once the answer's head has arrived.
pub fn start(
    agent: &ureq::Agent,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
    timing: Timing,
) -> Result<Started> {
    let m = ureq::http::Method::from_bytes(method.as_bytes())
        .map_err(|_| Error::invalid(format!("{method:?} is not an HTTP method")))?;
    let mut b = ureq::http::Request::builder().method(m).uri(url);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let bad = |e: ureq::http::Error| Error::invalid(format!("bad request line or header: {e}"));
    let result = match body {
        Some(body) => run(agent, b.body(body).map_err(bad)?, timing),
        None => run(agent, b.body(()).map_err(bad)?, timing),
    };
    let resp = result.map_err(|e| map_ureq(e, url))?;
    let status = resp.status().as_u16();
    let headers = resp
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    Ok(Started {
        status,
        headers,
        body: resp.into_body(),
    })
}

fn run<S: ureq::AsSendBody>(
    agent: &ureq::Agent,
    req: ureq::http::Request<S>,
    timing: Timing,
) -> Result<ureq::http::Response<ureq::Body>, ureq::Error> {
    match timing {
        Timing::Request => agent.run(req),
        Timing::Stream(idle) => agent.run(
            agent
                .configure_request(req)
                .timeout_global(None)
                .timeout_recv_body(None)
                .timeout_per_read(idle)
                .build(),
        ),
    }
}

/// Read a whole body, up to `limit` bytes.
pub fn read_body(body: ureq::Body, limit: u64, url: &str) -> Result<Vec<u8>> {
    body.into_with_config()
        .limit(limit)
        .read_to_vec()
        .map_err(|e| map_ureq(e, url))
}

/// True when the connection broke before an answer: safe to retry an idempotent request.
pub fn is_connection_reset(e: &Error) -> bool {
    matches!(e, Error::Transport(m) if m.starts_with(RESET_PREFIX))
}

const RESET_PREFIX: &str = "connection closed";

/// True when the whole-request time limit ran out (the client then names the request and
/// the limit; see `Client::name_timeout`).
pub fn is_global_timeout(e: &Error) -> bool {
    matches!(e, Error::Timeout(m) if m.ends_with(GLOBAL_TIMEOUT))
}

const GLOBAL_TIMEOUT: &str = "the request timeout ran out";

/// The `host:port` of a URL, for messages.
pub(crate) fn authority(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split(['/', '?']).next().unwrap_or(rest)
}

/// Turn a ureq error into ours, naming the server and never a header.
pub fn map_ureq(e: ureq::Error, url: &str) -> Error {
    let at = authority(url);
    match e {
        ureq::Error::Io(io) if Interrupted::is(&io) => Error::Cancelled,
        ureq::Error::Io(io) => {
            if let Some(tls) = io
                .get_ref()
                .and_then(|inner| inner.downcast_ref::<rustls::Error>())
            {
                return Error::Tls(format!("{at}: {}", tls::describe(tls)));
            }
            use std::io::ErrorKind as K;
            match io.kind() {
                K::TimedOut | K::WouldBlock => Error::Timeout(format!("{at}: {io}")),
                K::ConnectionRefused => Error::Transport(format!("{at}: connection refused")),
                K::ConnectionReset | K::ConnectionAborted | K::UnexpectedEof | K::BrokenPipe => {
                    Error::Transport(format!("{RESET_PREFIX} by {at} ({io})"))
                }
                _ => Error::Transport(format!("{at}: {io}")),
            }
        }
        ureq::Error::Timeout(ureq::Timeout::Global) => {
            Error::Timeout(format!("{at}: {GLOBAL_TIMEOUT}"))
        }
        ureq::Error::Timeout(t) => Error::Timeout(format!("{at}: {t} timeout")),
        ureq::Error::HostNotFound => Error::Transport(format!("{at}: host not found")),
        ureq::Error::ConnectionFailed => Error::Transport(format!("{at}: connection failed")),
        ureq::Error::Tls(m) => Error::Tls(format!("{at}: {m}")),
        ureq::Error::BodyExceedsLimit(n) => Error::Decode(format!(
            "{at}: the response body is larger than the limit of {n} bytes"
        )),
        ureq::Error::Protocol(p) => {
            // A pooled connection the server closed shows up as a protocol error on reuse.
            Error::Transport(format!("{RESET_PREFIX} by {at} (HTTP protocol: {p})"))
        }
        ureq::Error::ConnectProxyFailed(m) => {
            Error::Transport(format!("{at}: proxy CONNECT failed: {m}"))
        }
        other => Error::Transport(format!("{at}: {other}")),
    }
}

/// Shared, cheaply cloned handle on an agent.
pub type SharedAgent = Arc<ureq::Agent>;
