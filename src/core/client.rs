//! The client: one per API server, cheap to clone, safe to share between threads.
//!
//! A request goes: rate limit (if set) → current token (a `stat` of the token file) → send over
//! the pooled agent → on 401 re-read the token and, if it changed, send once more → on
//! 429/503/504 with `Retry-After` wait and send again (bounded) → on a connection that broke
//! before the whole answer was read, retry idempotent reads (GET/HEAD) a few times.

use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::Value;

use crate::core::api::request::{Request, Response};
use crate::core::api::status::{Status, default_reason};
use crate::core::api::url::build_url;
use crate::core::auth::claims::Claims;
use crate::core::auth::exec::ExecSource;
use crate::core::auth::token::TokenSource;
use crate::core::config::{Config, TokenConfig};
use crate::core::error::{ApiError, Error, Result};
use crate::core::http::agent::{
    Timing, authority, build_agent, is_connection_reset, is_global_timeout, read_body, start,
};
use crate::core::http::ratelimit::TokenBucket;
use crate::core::http::retry::{
    RESET_ATTEMPTS, is_retryable_status, parse_retry_after, reset_backoff,
};
use crate::core::tls::Trust;
use crate::core::tls::identity::{ClientCertProvider, FixedCert};

#[derive(Debug)]
struct Inner {
    config: Config,
    agent: ureq::Agent,
    token: TokenSource,
    limiter: Option<TokenBucket>,
    closed: AtomicBool,
    /// The resources the server serves, for names (`core::discovery`).
    discovery: crate::core::discovery::Cache,
    /// The rustls configuration for raw (upgraded) connections, and the name the server's
    /// certificate is checked against when it is not the URL's host (`tls-server-name`): the
    /// agent's own, so exec and port-forward trust exactly what every request trusts.
    tls: Option<(
        Arc<rustls::ClientConfig>,
        Option<rustls_pki_types::ServerName<'static>>,
    )>,
}

/// A Kubernetes API client. Clones share the connection pool and the token.
#[derive(Debug, Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl Client {
    /// Build a client: reads the token and the CA bundle now, so a broken file fails here with
    /// an error naming it, not at the first request.
    pub fn new(config: Config) -> Result<Client> {
        let mut client_cert: Option<Arc<dyn ClientCertProvider>> = match &config.client_cert {
            Some(pair) => Some(Arc::new(FixedCert(pair.certified_key()?))),
            None => None,
        };
        let token = match &config.token {
            TokenConfig::None => TokenSource::none(),
            TokenConfig::Token(t) => TokenSource::fixed(t.expose())?,
            TokenConfig::File(p) => TokenSource::file(p.clone())?,
            TokenConfig::Exec(x) => {
                // The plugin gets as long as a request does (the fronts' timeout option).
                let limit = config.request_timeout.unwrap_or(Duration::from_secs(60));
                let source = Arc::new(ExecSource::new((**x).clone(), limit));
                if client_cert.is_none() {
                    client_cert = Some(source.clone());
                }
                TokenSource::exec(source)
            }
        };
        let tls = crate::core::http::agent::tls_config(&config, client_cert)?;
        let agent = build_agent(&config, tls.clone())?;
        let tls_name = crate::core::http::agent::server_name(&config)?;
        if config.require_token
            && config.token == TokenConfig::None
            && config.client_cert.is_none()
            && config.is_https()
        {
            return Err(Error::config(format!(
                "no token for {}: none was given and there is no ServiceAccount token file \
                 to keep (not running in a pod?); give a token or a token file, or ask for \
                 anonymous requests explicitly (requests would otherwise go out as \
                 system:anonymous)",
                config.server
            )));
        }
        let limiter = config.rate_limit.map(TokenBucket::new);
        let tls = tls.filter(|_| config.is_https()).map(|c| (c, tls_name));
        Ok(Client {
            inner: Arc::new(Inner {
                config,
                agent,
                token,
                limiter,
                closed: AtomicBool::new(false),
                discovery: Default::default(),
                tls,
            }),
        })
    }

    /// Discover the in-cluster configuration (see [`Config::in_cluster`]) and build a client.
    pub fn in_cluster() -> Result<Client> {
        Client::new(Config::in_cluster(None)?)
    }

    /// The server's base URL.
    pub fn server(&self) -> &str {
        &self.inner.config.server
    }

    /// The default namespace.
    pub fn namespace(&self) -> &str {
        &self.inner.config.namespace
    }

    /// The discovery cache its clones share.
    pub(crate) fn discovery_cache(&self) -> &crate::core::discovery::Cache {
        &self.inner.discovery
    }

    /// The configuration the client was built from (its `Debug` hides the token).
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The claims of the current token, if there is a token. Errors if it is not a JWT.
    /// An exec plugin that cannot give a credential is that plugin's error.
    pub fn token_claims(&self) -> Result<Option<Claims>> {
        // `prepare` rather than `current_token`: a failing exec plugin is an error to show,
        // not "no token".
        match self.inner.token.prepare()? {
            Some(h) => Claims::decode(&h.expose()["Bearer ".len()..]).map(Some),
            None => Ok(None),
        }
    }

    /// True when certificate verification was explicitly turned off.
    pub fn is_insecure(&self) -> bool {
        self.inner.config.trust == Some(Trust::DangerInsecureSkipVerify)
    }

    /// Send a request and return the answer whatever its status. Errors are transport, TLS,
    /// timeout and argument errors only.
    pub fn send(&self, req: &Request) -> Result<Response> {
        Ok(self.execute(req, Timing::Request)?.0)
    }

    /// Open a streaming request (watch, log follow): the 2xx answer's body is returned unread,
    /// with `idle` as the longest wait for the next bytes. A non-2xx answer is an
    /// [`Error::Api`]. Token refresh on 401 and `Retry-After` retries apply as for requests.
    pub fn open_stream(&self, req: &Request, idle: Option<Duration>) -> Result<BodyStream> {
        match self.execute(req, Timing::Stream(idle))? {
            (resp, Some(body)) if (200..300).contains(&resp.status) => Ok(BodyStream {
                status: resp.status,
                headers: resp.headers,
                reader: body.into_reader(),
                url: self.inner.config.server.clone(),
            }),
            (resp, _) => Err(api_error(req, resp)),
        }
    }

    /// The request loop. With [`Timing::Stream`], a 2xx body is handed back unread; every other
    /// body is read into the response.
    fn execute(&self, req: &Request, timing: Timing) -> Result<(Response, Option<ureq::Body>)> {
        let inner = &*self.inner;
        if inner.closed.load(Ordering::Relaxed) {
            return Err(Error::invalid("the client is closed"));
        }
        req.check_method()?;
        let url = build_url(&inner.config.server, &req.path, &req.query)?;
        let idempotent = matches!(req.method.as_str(), "GET" | "HEAD");
        let mut auth = inner.token.prepare()?;
        let mut refreshed = false;
        let mut attempts = 1u32;
        let mut resets = 0u32;
        loop {
            if let Some(l) = &inner.limiter {
                l.acquire();
            }
            let mut headers: Vec<(&str, &str)> = Vec::with_capacity(3);
            headers.push((
                "accept",
                req.accept.as_deref().unwrap_or("application/json"),
            ));
            if req.body.is_some() {
                headers.push((
                    "content-type",
                    req.content_type.as_deref().unwrap_or("application/json"),
                ));
            }
            if let Some(a) = &auth {
                headers.push(("authorization", a.expose()));
            }
            let attempt = start(
                &inner.agent,
                &req.method,
                &url,
                &headers,
                req.body.as_deref(),
                timing,
            )
            .and_then(|started| {
                let keep_open =
                    matches!(timing, Timing::Stream(_)) && (200..300).contains(&started.status);
                let (body, stream) = if keep_open {
                    (Vec::new(), Some(started.body))
                } else {
                    (
                        read_body(started.body, inner.config.max_body_bytes, &url)?,
                        None,
                    )
                };
                Ok((
                    Response {
                        status: started.status,
                        headers: started.headers,
                        body,
                    },
                    stream,
                ))
            });
            let (resp, stream) = match attempt {
                Err(e) if idempotent && resets + 1 < RESET_ATTEMPTS && is_connection_reset(&e) => {
                    std::thread::sleep(reset_backoff(resets));
                    resets += 1;
                    continue;
                }
                Err(e) => return Err(self.name_timeout(e, req, timing)),
                Ok(r) => r,
            };
            if resp.status == 401 && !refreshed {
                refreshed = true;
                if let Some(fresh) = auth
                    .as_ref()
                    .and_then(|sent| inner.token.refresh_after_unauthorized(sent))
                {
                    auth = Some(fresh);
                    continue;
                }
            }
            if is_retryable_status(resp.status)
                && attempts < inner.config.max_attempts
                && let Some(ra) = resp.header("retry-after")
            {
                let wait: Duration = parse_retry_after(ra).min(inner.config.max_retry_delay);
                std::thread::sleep(wait);
                attempts += 1;
                continue;
            }
            return Ok((resp, stream));
        }
    }

    /// A request's overall time limit running out says which request and which limit, so a
    /// caller with several requests in flight knows which one, and what to raise.
    fn name_timeout(&self, e: Error, req: &Request, timing: Timing) -> Error {
        match (&e, timing, self.inner.config.request_timeout) {
            (Error::Timeout(_), Timing::Request, Some(limit)) if is_global_timeout(&e) => {
                Error::Timeout(format!(
                    "{}: no complete answer from {} within the request timeout of {}",
                    req.describe(),
                    authority(&self.inner.config.server),
                    describe_duration(limit)
                ))
            }
            (Error::Timeout(m), _, _) => Error::Timeout(format!("{}: {m}", req.describe())),
            // A kubeconfig's proxy-url: say that the connection went through it (its host
            // and port only: a proxy URL may carry a password).
            (Error::Transport(m), _, _) if self.inner.config.proxy_url.is_some() => {
                let proxy = self
                    .inner
                    .config
                    .proxy_url
                    .as_ref()
                    .map_or("", |p| p.expose());
                let at = authority(proxy);
                let at = at.rsplit_once('@').map_or(at, |(_, host)| host);
                Error::Transport(format!(
                    "{m} (through the proxy {at}, the kubeconfig's proxy-url)"
                ))
            }
            _ => e,
        }
    }

    /// Open a WebSocket session on `path` (exec, attach, port-forward), offering `protocols`:
    /// the same server, CA, token (re-read, and once more after a 401) and proxy as every
    /// request. A refused upgrade is an [`Error::Api`] with the server's status and message.
    /// Returns the session and the request's description for messages.
    pub(crate) fn open_websocket(
        &self,
        path: &str,
        query: Vec<(String, String)>,
        protocols: &[&str],
    ) -> Result<(crate::core::ws::Session, String)> {
        let inner = &*self.inner;
        if inner.closed.load(Ordering::Relaxed) {
            return Err(Error::invalid("the client is closed"));
        }
        let req = Request {
            method: "GET".into(),
            path: path.to_owned(),
            query,
            ..Default::default()
        };
        let url = build_url(&inner.config.server, &req.path, &req.query)?;
        let ws_url = match url.split_once("://") {
            Some(("https", rest)) => format!("wss://{rest}"),
            Some(("http", rest)) => format!("ws://{rest}"),
            _ => return Err(Error::invalid(format!("server URL {url:?} is not http(s)"))),
        };
        let timeout = inner.config.connect_timeout.max(Duration::from_secs(1))
            + inner
                .config
                .request_timeout
                .unwrap_or(Duration::from_secs(30));
        let mut auth = inner.token.header();
        let mut refreshed = false;
        loop {
            if let Some(l) = &inner.limiter {
                l.acquire();
            }
            let conn = crate::core::http::raw::connect(
                &url,
                inner.tls.as_ref(),
                inner.agent.config().proxy(),
                inner.config.connect_timeout,
            )?;
            let r = crate::core::ws::handshake(
                conn,
                &ws_url,
                auth.as_ref().map(|a| a.expose()),
                protocols,
                timeout,
            );
            match r {
                Ok((ws, protocol)) => {
                    let session =
                        crate::core::ws::Session::start(ws, protocol, inner.config.ws_ping_period)?;
                    return Ok((session, req.describe()));
                }
                Err(Ok((401, _))) if !refreshed => {
                    refreshed = true;
                    if let Some(fresh) = auth
                        .as_ref()
                        .and_then(|sent| inner.token.refresh_after_unauthorized(sent))
                    {
                        auth = Some(fresh);
                        continue;
                    }
                    return Err(crate::core::ws::refused(&req, 401, Vec::new()));
                }
                Err(Ok((status, body))) => {
                    return Err(crate::core::ws::refused(&req, status, body));
                }
                Err(Err(e)) => return Err(self.name_timeout(e, &req, Timing::Stream(None))),
            }
        }
    }

    /// Refuse further requests (streams already open go on). Idempotent.
    pub fn close(&self) {
        self.inner.closed.store(true, Ordering::Relaxed);
    }

    /// Send a request; a non-2xx answer becomes [`Error::Api`] with the parsed `Status`.
    pub fn request(&self, req: &Request) -> Result<Response> {
        let resp = self.send(req)?;
        if (200..300).contains(&resp.status) {
            Ok(resp)
        } else {
            Err(api_error(req, resp))
        }
    }

    /// `GET path` and parse the JSON answer.
    pub fn get_json(&self, path: &str) -> Result<Value> {
        let req = Request::new("GET", path);
        self.request(&req)?.json_for(&req)
    }
}

/// A duration as a person writes it: `60s`, `1.5s`, `250ms`.
fn describe_duration(d: Duration) -> String {
    if d.subsec_nanos() == 0 {
        format!("{}s", d.as_secs())
    } else if d < Duration::from_secs(1) {
        format!("{}ms", d.as_millis())
    } else {
        format!("{}s", d.as_secs_f64())
    }
}

/// Build the API error for a non-2xx answer.
pub fn api_error(req: &Request, resp: Response) -> Error {
    let status = Status::parse(&resp.body);
    let (reason, message) = match &status {
        Some(s) => (
            if s.reason.is_empty() {
                default_reason(resp.status).to_owned()
            } else {
                s.reason.clone()
            },
            s.message.clone(),
        ),
        None => {
            let text = String::from_utf8_lossy(&resp.body);
            let text = text.trim();
            let message = if text.is_empty() {
                format!("the server answered HTTP {} with no body", resp.status)
            } else {
                text.chars().take(300).collect()
            };
            (default_reason(resp.status).to_owned(), message)
        }
    };
    Error::Api(Box::new(ApiError {
        status: resp.status,
        reason,
        message,
        details: status,
        request: req.describe(),
        body: resp.body,
    }))
}

/// The body of a streaming answer (watch, log follow), read as it arrives.
pub struct BodyStream {
    /// HTTP status (2xx).
    pub status: u16,
    /// Response headers.
    pub headers: Vec<(String, String)>,
    reader: ureq::BodyReader<'static>,
    url: String,
}

impl std::fmt::Debug for BodyStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BodyStream")
            .field("status", &self.status)
            .finish()
    }
}

impl BodyStream {
    /// Read the next bytes: `Ok(0)` at the end of the stream. Errors are the core's (a broken
    /// connection is a transport error, a read-idle timeout a timeout, an interrupt
    /// [`Error::Cancelled`]).
    pub fn read(&mut self, buf: &mut [u8]) -> Result<usize> {
        loop {
            match self.reader.read(buf) {
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(map_io(e, &self.url)),
            }
        }
    }
}

/// Map an I/O error from a body reader: ureq hands its own errors over wrapped in `io::Error`.
fn map_io(e: std::io::Error, url: &str) -> Error {
    use crate::core::http::agent::map_ureq;
    if e.get_ref().is_some_and(|i| i.is::<ureq::Error>()) {
        if let Some(Ok(u)) = e.into_inner().map(|i| i.downcast::<ureq::Error>()) {
            return map_ureq(*u, url);
        }
        return Error::Transport(format!("{url}: the stream broke"));
    }
    map_ureq(ureq::Error::Io(e), url)
}
