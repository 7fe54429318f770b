//! A raw connection to the API server for upgraded protocols (WebSocket exec, attach,
//! port-forward): the same TCP set-up ([`super::tcp`]), the same rustls configuration (the
//! cluster CA only) and the same proxy decision as the pooled agent, but the socket is handed
//! to the caller instead of being read by ureq, which has no HTTP upgrade.
//!
//! The socket stays non-blocking, and rustls is driven sans-IO here, so whoever owns the
//! connection can wait for "readable or writable" on one file descriptor and never blocks a
//! write while the peer waits for us to read (the deadlock a blocking exec stream invites:
//! the command blocks on a full stdout pipe, stops reading stdin, and our stdin write blocks).

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use rustls::{ClientConfig, ClientConnection};
use rustls_pki_types::ServerName;

use crate::core::error::{Error, Result};
use crate::core::http::agent::{authority, map_ureq};
use crate::core::http::tcp::{connect_one, wait};
use crate::core::tls;

/// Plain text queued inside rustls beyond which a write reports `WouldBlock`, so a fast
/// writer cannot grow the TLS send buffer without bound while the peer is slow.
const MAX_PENDING_TLS: usize = 256 * 1024;

/// Longest proxy answer head to a `CONNECT`.
const MAX_PROXY_HEAD: usize = 16 * 1024;

/// How a [`RawConn`] behaves when the socket is not ready.
#[derive(Debug, Clone, Copy)]
enum Mode {
    /// Wait (interruptibly, see [`crate::core::http::interrupt`]) until the deadline.
    Blocking(Option<Instant>),
    /// Return `WouldBlock` at once.
    NonBlocking,
}

/// One connection to the server, TLS or plain, as a `Read + Write` stream.
pub(crate) struct RawConn {
    sock: Arc<TcpStream>,
    tls: Option<Box<ClientConnection>>,
    /// The socket's send buffer was full at the last attempt: no new attempt (a system call
    /// that fails) until a wait says it is writable again, see [`RawConn::writable`].
    send_blocked: bool,
    mode: Mode,
    /// `host:port` of the server, for messages.
    at: String,
}

impl std::fmt::Debug for RawConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawConn").field("at", &self.at).finish()
    }
}

/// Shuts a [`RawConn`]'s socket down from another thread: blocked waits wake up and every
/// later read or write fails, which is how a cancel ends a session promptly.
#[derive(Debug, Clone)]
pub(crate) struct Shutdown(Arc<TcpStream>);

impl Shutdown {
    /// Shut the socket down in both directions (idempotent).
    pub(crate) fn shutdown(&self) {
        let _ = self.0.shutdown(std::net::Shutdown::Both);
    }
}

/// Open a connection to `url`'s server: through the `CONNECT` proxy if one applies, then TLS
/// with `tls` when the URL is `https`, checking the certificate against the name given with
/// it (a kubeconfig's `tls-server-name`) or else the URL's host.
pub(crate) fn connect(
    url: &str,
    tls: Option<&(Arc<ClientConfig>, Option<ServerName<'static>>)>,
    proxy: Option<&ureq::Proxy>,
    connect_timeout: Duration,
) -> Result<RawConn> {
    let uri: ureq::http::Uri = url
        .parse()
        .map_err(|e| Error::invalid(format!("URL {url:?}: {e}")))?;
    let https = uri.scheme_str() == Some("https");
    let host = uri
        .host()
        .ok_or_else(|| Error::invalid(format!("URL {url:?} has no host")))?;
    let bare = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
    let at = authority(url).to_owned();
    let deadline = Some(Instant::now() + connect_timeout);
    let sock = match proxy {
        Some(p) if !p.is_no_proxy(&uri) => {
            if p.protocol() != ureq::ProxyProtocol::Http {
                return Err(Error::config(format!(
                    "proxy {}:{}: only http:// CONNECT proxies are supported for exec, attach \
                     and port-forward",
                    p.host(),
                    p.port()
                )));
            }
            let sock = tcp(p.host(), p.port(), deadline, url)?;
            proxy_connect(&sock, p, &bare, port, deadline, url)?;
            sock
        }
        _ => tcp(&bare, port, deadline, url)?,
    };
    let sock = Arc::new(sock);
    let tls = match (https, tls) {
        (false, _) => None,
        (true, None) => {
            return Err(Error::config(format!(
                "server {at} uses https but no TLS configuration was given"
            )));
        }
        (true, Some((cfg, given))) => {
            let name = match given {
                Some(n) => n.clone(),
                None => ServerName::try_from(bare.clone())
                    .map_err(|_| Error::Tls(format!("{at}: invalid server name for TLS")))?,
            };
            let conn = ClientConnection::new(cfg.clone(), name)
                .map_err(|e| Error::Tls(format!("{at}: {}", tls::describe(&e))))?;
            Some(Box::new(conn))
        }
    };
    let mut raw = RawConn {
        sock,
        tls,
        send_blocked: false,
        mode: Mode::Blocking(deadline),
        at,
    };
    raw.handshake(url)?;
    Ok(raw)
}

fn tcp(host: &str, port: u16, deadline: Option<Instant>, url: &str) -> Result<TcpStream> {
    let addrs: Vec<_> = (host, port)
        .to_socket_addrs()
        .map_err(|_| map_ureq(ureq::Error::HostNotFound, url))?
        .collect();
    let mut last = None;
    for addr in &addrs {
        match connect_one(addr, deadline) {
            Ok(s) => return Ok(s),
            Err(e) if e.kind() == io::ErrorKind::TimedOut => {
                return Err(Error::Timeout(format!(
                    "{}: connect timeout",
                    authority(url)
                )));
            }
            Err(e) if crate::core::http::interrupt::Interrupted::is(&e) => {
                return Err(Error::Cancelled);
            }
            Err(e) => last = Some(e),
        }
    }
    Err(map_ureq(
        ureq::Error::Io(last.unwrap_or_else(|| io::ErrorKind::ConnectionRefused.into())),
        url,
    ))
}

/// Ask an HTTP proxy for a tunnel to `host:port` (the same request ureq's CONNECT step sends).
fn proxy_connect(
    sock: &TcpStream,
    p: &ureq::Proxy,
    host: &str,
    port: u16,
    deadline: Option<Instant>,
    url: &str,
) -> Result<()> {
    let target = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let mut head = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n");
    if let Some(user) = p.username() {
        let creds = format!("{user}:{}", p.password().unwrap_or(""));
        let b64 = base64::engine::general_purpose::STANDARD.encode(creds);
        head.push_str(&format!("Proxy-Authorization: Basic {b64}\r\n"));
    }
    head.push_str("\r\n");
    let fd = sock.as_raw_fd();
    let fail = |e: io::Error| map_ureq(ureq::Error::Io(e), url);
    let mut out = head.as_bytes();
    while !out.is_empty() {
        match (&*sock).write(out) {
            Ok(n) => out = &out[n..],
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                wait(fd, libc::POLLOUT, deadline).map_err(fail)?
            }
            Err(e) => return Err(fail(e)),
        }
    }
    // Byte by byte, so not one byte of the tunnelled stream is consumed with the head.
    let mut answer = Vec::new();
    while !answer.ends_with(b"\r\n\r\n") {
        if answer.len() > MAX_PROXY_HEAD {
            return Err(Error::Transport(format!(
                "proxy {}:{}: the answer to CONNECT has no end",
                p.host(),
                p.port()
            )));
        }
        let mut b = [0u8; 1];
        match (&*sock).read(&mut b) {
            Ok(0) => {
                return Err(Error::Transport(format!(
                    "proxy {}:{} closed the connection during CONNECT",
                    p.host(),
                    p.port()
                )));
            }
            Ok(_) => answer.push(b[0]),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                wait(fd, libc::POLLIN, deadline).map_err(fail)?
            }
            Err(e) => return Err(fail(e)),
        }
    }
    let line = String::from_utf8_lossy(answer.split(|&b| b == b'\n').next().unwrap_or(&[]));
    let code = line.split_whitespace().nth(1).unwrap_or("");
    if code.len() == 3 && code.starts_with('2') {
        return Ok(());
    }
    // What to do about it, for the answers that have a usual cause.
    let hint = match (code, p.username().is_some()) {
        ("407", false) => {
            " (the proxy wants credentials: put them in the proxy URL, \
             http://user:password@host:port)"
        }
        ("407", true) => " (the proxy refused the credentials in the proxy URL)",
        ("403", _) => " (the proxy does not allow tunnels to this server and port)",
        _ => "",
    };
    Err(Error::Transport(format!(
        "proxy {}:{} refused the tunnel (CONNECT) to {target}: {}{hint}",
        p.host(),
        p.port(),
        line.trim()
    )))
}

impl RawConn {
    /// The socket's descriptor, to wait on it.
    pub(crate) fn fd(&self) -> i32 {
        self.sock.as_raw_fd()
    }

    /// A handle that shuts the socket down from any thread.
    pub(crate) fn shutdown_handle(&self) -> Shutdown {
        Shutdown(self.sock.clone())
    }

    /// Block (interruptibly) until `deadline` on reads and writes: for the HTTP upgrade.
    pub(crate) fn set_blocking(&mut self, deadline: Option<Instant>) {
        self.mode = Mode::Blocking(deadline);
    }

    /// Return `WouldBlock` instead of waiting: for a session driven by its own loop.
    pub(crate) fn set_nonblocking(&mut self) {
        self.mode = Mode::NonBlocking;
    }

    /// Whether encrypted bytes wait to be sent (wait for writability when true).
    pub(crate) fn wants_write(&self) -> bool {
        self.tls.as_ref().is_some_and(|t| t.wants_write())
    }

    /// `host:port` of the server.
    pub(crate) fn at(&self) -> &str {
        &self.at
    }

    fn handshake(&mut self, url: &str) -> Result<()> {
        let Some(tls) = self.tls.as_mut() else {
            return Ok(());
        };
        let Mode::Blocking(deadline) = self.mode else {
            return Ok(());
        };
        let fd = self.sock.as_raw_fd();
        let fail = |e: io::Error| map_ureq(ureq::Error::Io(e), url);
        while tls.is_handshaking() || tls.wants_write() {
            if tls.wants_write() {
                match tls.write_tls(&mut &*self.sock) {
                    Ok(_) => {}
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        wait(fd, libc::POLLOUT, deadline).map_err(fail)?
                    }
                    Err(e) => return Err(fail(e)),
                }
                continue;
            }
            match tls.read_tls(&mut &*self.sock) {
                Ok(0) => {
                    return Err(fail(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the server closed the connection during the TLS handshake",
                    )));
                }
                Ok(_) => {
                    if let Err(e) = tls.process_new_packets() {
                        // Send the alert that says why, then report it.
                        let _ = tls.write_tls(&mut &*self.sock);
                        return Err(Error::Tls(format!("{}: {}", self.at, tls::describe(&e))));
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    wait(fd, libc::POLLIN, deadline).map_err(fail)?
                }
                Err(e) => return Err(fail(e)),
            }
        }
        Ok(())
    }

    /// One read attempt that never waits.
    fn read_now(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let Some(tls) = self.tls.as_mut() else {
            return (&*self.sock).read(buf);
        };
        loop {
            match tls.reader().read(buf) {
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
            match tls.read_tls(&mut &*self.sock) {
                Ok(0) => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the server closed the connection without a TLS close_notify",
                    ));
                }
                Ok(_) => {
                    if let Err(e) = tls.process_new_packets() {
                        let _ = tls.write_tls(&mut &*self.sock);
                        return Err(io::Error::new(io::ErrorKind::InvalidData, e));
                    }
                    // Key updates and alerts rustls wants to answer.
                    if tls.wants_write() {
                        match tls.write_tls(&mut &*self.sock) {
                            Ok(_) => {}
                            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                            Err(e) => return Err(e),
                        }
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Send queued TLS records without waiting; `WouldBlock` when some remain.
    fn flush_now(&mut self) -> io::Result<()> {
        let Some(tls) = self.tls.as_mut() else {
            return Ok(());
        };
        while tls.wants_write() {
            if self.send_blocked {
                return Err(io::ErrorKind::WouldBlock.into());
            }
            if let Err(e) = tls.write_tls(&mut &*self.sock) {
                self.send_blocked = e.kind() == io::ErrorKind::WouldBlock;
                return Err(e);
            }
        }
        Ok(())
    }

    /// A wait found the socket writable (or broken): the next write tries it again.
    pub(crate) fn writable(&mut self) {
        self.send_blocked = false;
    }

    fn write_now(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.tls.is_none() {
            return (&*self.sock).write(buf);
        }
        match self.flush_now() {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                let pending = self.tls.as_ref().map_or(0, |t| {
                    // rustls does not say how many bytes it holds; its buffer limit does.
                    if t.wants_write() { MAX_PENDING_TLS } else { 0 }
                });
                if pending >= MAX_PENDING_TLS {
                    return Err(e);
                }
            }
            Err(e) => return Err(e),
        }
        let tls = self
            .tls
            .as_mut()
            .ok_or_else(|| io::Error::other("no TLS"))?;
        let n = tls.writer().write(buf)?;
        if n == 0 && !buf.is_empty() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        match self.flush_now() {
            Ok(()) => Ok(n),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(n),
            Err(e) => Err(e),
        }
    }

    fn blocking<T>(
        &mut self,
        events: i16,
        mut f: impl FnMut(&mut Self) -> io::Result<T>,
    ) -> io::Result<T> {
        loop {
            match f(self) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => match self.mode {
                    Mode::NonBlocking => return Err(e),
                    Mode::Blocking(deadline) => {
                        let ev = if self.wants_write() {
                            events | libc::POLLOUT
                        } else {
                            events
                        };
                        wait(self.sock.as_raw_fd(), ev, deadline)?;
                        self.send_blocked = false;
                    }
                },
                r => return r,
            }
        }
    }
}

impl Read for RawConn {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.blocking(libc::POLLIN, |c| c.read_now(buf))
    }
}

impl Write for RawConn {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.blocking(libc::POLLOUT, |c| c.write_now(buf))
    }

    fn flush(&mut self) -> io::Result<()> {
        self.blocking(libc::POLLOUT, |c| c.flush_now())
    }
}

impl RawConn {
    /// Turn an I/O error of this connection into the core's error, naming the server.
    pub(crate) fn map_io(&self, e: io::Error) -> Error {
        if let Some(t) = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
            return Error::Tls(format!("{}: {}", self.at, tls::describe(t)));
        }
        map_ureq(ureq::Error::Io(e), &format!("https://{}/", self.at))
    }
}
