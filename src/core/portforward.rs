//! Port-forward over WebSocket: one connection to a port of a Pod, and a local listener that
//! forwards each accepted connection.
//!
//! Protocol: the kubelet's own WebSocket port-forward (`portforward.k8s.io` over the channel
//! framing, subprotocol `v4.channel.k8s.io`), as kube-rs speaks it: for the one port asked
//! for (`?ports=N`), channel 0 carries data and channel 1 errors; the first message on each
//! is the port, 2 bytes little-endian. The kube-apiserver (1.31+, `PortForwardWebsockets`)
//! translates only WebSockets that ask for `SPDY/3.1+portforward.k8s.io` (client-go's
//! SPDY-inside-WebSocket tunnel) into SPDY toward the kubelet; any other WebSocket, this
//! one, is proxied to the kubelet as it is, whose streaming server accepts it. That spares
//! us a SPDY implementation.
//!
//! One WebSocket per forwarded connection: the channel protocol has no per-connection
//! streams, and no half-close, so a local end of file closes the whole forwarded connection.
//! [`PortForward`] (one connection) speaks it.
//!
//! The listener ([`Forwarder`]) asks first for kubectl's tunnel
//! ([`crate::core::spdy::tunnel`]: one WebSocket carrying a SPDY session, every connection a
//! pair of streams on it, half-close with FIN), offering this protocol too in the same
//! upgrade; an API server that does not tunnel SPDY passes the upgrade to the kubelet, which
//! picks this one, and the listener then opens one WebSocket per connection as before.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::core::client::Client;
use crate::core::error::{Error, Result};
use crate::core::exec::options::check_name;
use crate::core::spdy::tunnel::{Opened, Tunnel};
use crate::core::ws::{MAX_SEND, Out, Sender, Session, SessionCancel};

/// The subprotocol of the kubelet's WebSocket port-forward.
pub const PROTOCOL: &str = "v4.channel.k8s.io";

const DATA: u8 = 0;
const ERROR: u8 = 1;

/// One forwarded connection to `port` of a Pod. Read with [`PortForward::read`] from one
/// thread; write with a [`PortForwardWriter`] from any.
#[derive(Debug)]
pub struct PortForward {
    session: Session,
    port: u16,
    /// The port prefix of each channel is still to come.
    data_prefix: bool,
    error_prefix: bool,
    /// Data received but not yet read, from `offset`.
    pending: Vec<u8>,
    offset: usize,
    done: bool,
    what: String,
}

/// The writing half of a [`PortForward`] (cheap to clone, any thread).
#[derive(Debug, Clone)]
pub struct PortForwardWriter {
    sender: Sender,
}

impl PortForwardWriter {
    /// Send bytes to the Pod's port (waits while the server is not taking them).
    pub fn write(&self, data: &[u8]) -> Result<()> {
        for chunk in data.chunks(MAX_SEND) {
            let mut m = Vec::with_capacity(chunk.len() + 1);
            m.push(DATA);
            m.extend_from_slice(chunk);
            self.sender.send(Out::Binary(m))?;
        }
        Ok(())
    }
}

impl PortForward {
    /// Connect to `port` of `pod` (in `namespace`, else the client's).
    pub fn open(client: &Client, pod: &str, namespace: Option<&str>, port: u16) -> Result<Self> {
        check_name("pod", pod)?;
        let ns = namespace.unwrap_or(client.namespace());
        check_name("namespace", ns)?;
        if port == 0 {
            return Err(Error::invalid("port 0 cannot be forwarded"));
        }
        let path = format!("/api/v1/namespaces/{ns}/pods/{pod}/portforward");
        let query = vec![("ports".to_owned(), port.to_string())];
        let (session, _) = client.open_websocket(&path, query, &[PROTOCOL])?;
        Ok(PortForward {
            session,
            port,
            data_prefix: true,
            error_prefix: true,
            pending: Vec::new(),
            offset: 0,
            done: false,
            what: format!("port-forward to {ns}/{pod}:{port}"),
        })
    }

    /// The Pod's port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The writing half.
    pub fn writer(&self) -> PortForwardWriter {
        PortForwardWriter {
            sender: self.session.sender(),
        }
    }

    /// A handle that closes the connection from any thread.
    pub fn cancel_handle(&self) -> SessionCancel {
        self.session.cancel_handle()
    }

    /// Read bytes from the Pod's port; `Ok(0)` when it closed the connection. An error the
    /// kubelet reports (nothing listens on the port, ...) is a transport error naming it.
    pub fn read(&mut self, buf: &mut [u8]) -> Result<usize> {
        loop {
            if self.offset < self.pending.len() {
                let n = buf.len().min(self.pending.len() - self.offset);
                buf[..n].copy_from_slice(&self.pending[self.offset..self.offset + n]);
                self.offset += n;
                return Ok(n);
            }
            if self.done {
                return Ok(0);
            }
            let Some(m) = self.session.recv(None)? else {
                self.done = true;
                return Ok(0);
            };
            let Some((&ch, mut data)) = m.split_first() else {
                continue;
            };
            let prefix = match ch {
                DATA => &mut self.data_prefix,
                ERROR => &mut self.error_prefix,
                other => {
                    self.done = true;
                    self.session.cancel_handle().cancel();
                    return Err(Error::Decode(format!(
                        "{}: the server sent data on channel {other}, which a one-port \
                         forward does not have",
                        self.what
                    )));
                }
            };
            if *prefix {
                if data.len() < 2 {
                    // The kubelet sends the port as one message of its own.
                    continue;
                }
                let port = u16::from_le_bytes([data[0], data[1]]);
                if port != self.port {
                    self.done = true;
                    return Err(Error::Decode(format!(
                        "{}: the server announced port {port}",
                        self.what
                    )));
                }
                *prefix = false;
                data = &data[2..];
            }
            if data.is_empty() {
                continue;
            }
            if ch == ERROR {
                self.done = true;
                self.session.cancel_handle().cancel();
                return Err(Error::Transport(format!(
                    "{}: {}",
                    self.what,
                    String::from_utf8_lossy(data).trim()
                )));
            }
            self.pending.clear();
            self.pending.extend_from_slice(data);
            self.offset = 0;
        }
    }
}

/// Parse `[LOCAL:]REMOTE` (kubectl's form; LOCAL 0 or empty picks a free port).
pub fn parse_ports(spec: &str) -> Result<(u16, u16)> {
    let bad = || Error::invalid(format!("port spec {spec:?} is not [LOCAL:]REMOTE"));
    let (local, remote) = match spec.split_once(':') {
        Some((l, r)) => (
            if l.is_empty() {
                0
            } else {
                l.parse().map_err(|_| bad())?
            },
            r,
        ),
        None => (0, spec),
    };
    let remote: u16 = remote.parse().map_err(|_| bad())?;
    if remote == 0 {
        return Err(bad());
    }
    // kubectl's `8080` means local 8080 too.
    let local = if spec.contains(':') { local } else { remote };
    Ok((local, remote))
}

/// A local listener on 127.0.0.1 that forwards each accepted connection to a Pod's port,
/// over one SPDY tunnel when the server offers it, else over a WebSocket per connection.
/// Dropping it (or [`Forwarder::stop`]) stops accepting and closes the forwarded
/// connections.
#[derive(Debug)]
pub struct Forwarder {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    live: Arc<Live>,
    route: Arc<Route>,
}

/// The forwarded connections of a [`Forwarder`]: their threads, and the cancel handles of
/// their sessions, so stopping ends them rather than leaving threads behind.
#[derive(Debug, Default)]
struct Live {
    threads: std::sync::Mutex<Vec<JoinHandle<()>>>,
    sessions: std::sync::Mutex<Vec<SessionCancel>>,
    /// The tunnel connections (a tunnel may outlive this listener: see [`Forwarder::also`]).
    conns: std::sync::Mutex<Vec<crate::core::spdy::tunnel::TunnelWriter>>,
}

/// Which protocol a [`Forwarder`] uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// Not known yet: the server has not been reached.
    Unknown,
    /// One SPDY/3.1 session in one WebSocket (`SPDY/3.1+portforward.k8s.io`), a stream pair
    /// per connection (kubectl's protocol since 1.31).
    SpdyTunnel,
    /// One WebSocket (`v4.channel.k8s.io`) per connection: the server does not tunnel SPDY.
    WebSocketPerConnection,
}

impl Transport {
    /// In words, for messages.
    pub fn describe(self) -> &'static str {
        match self {
            Transport::Unknown => "a protocol not yet agreed",
            Transport::SpdyTunnel => {
                "one SPDY/3.1 tunnel for all connections (WebSocket subprotocol \
                 SPDY/3.1+portforward.k8s.io)"
            }
            Transport::WebSocketPerConnection => {
                "one WebSocket per connection (v4.channel.k8s.io: the API server does not \
                 tunnel SPDY)"
            }
        }
    }
}

const UNKNOWN: u8 = 0;
const TUNNEL: u8 = 1;
const PER_CONNECTION: u8 = 2;

/// Where a listener forwards to, and its tunnel: one per port-forward session, shared by
/// the listeners of several ports ([`Forwarder::also`]), opened again if it ends.
#[derive(Debug)]
struct Route {
    client: Client,
    pod: String,
    ns: Option<String>,
    mode: std::sync::atomic::AtomicU8,
    tunnel: std::sync::Mutex<Option<Arc<Tunnel>>>,
    /// Tunnels that took no new connections (GOAWAY) but may still carry some.
    retired: std::sync::Mutex<Vec<Arc<Tunnel>>>,
    /// Listeners not yet stopped: the last one to stop closes the tunnel.
    listeners: std::sync::atomic::AtomicUsize,
}

impl Route {
    fn transport(&self) -> Transport {
        match self.mode.load(Ordering::SeqCst) {
            TUNNEL => Transport::SpdyTunnel,
            PER_CONNECTION => Transport::WebSocketPerConnection,
            _ => Transport::Unknown,
        }
    }

    /// The tunnel to use, opening one if there is none or the last one ended; `None` when
    /// the server does not tunnel SPDY.
    fn tunnel(&self, port: u16) -> Result<Option<Arc<Tunnel>>> {
        if self.mode.load(Ordering::SeqCst) == PER_CONNECTION {
            return Ok(None);
        }
        let mut t = lock(&self.tunnel);
        if let Some(x) = &*t {
            if x.is_open() {
                return Ok(Some(x.clone()));
            }
            let old = t.take();
            let mut r = lock(&self.retired);
            r.retain(|x| x.ended().is_none());
            if let Some(old) = old
                && old.ended().is_none()
            {
                r.push(old);
            }
        }
        match Tunnel::open(&self.client, &self.pod, self.ns.as_deref(), port)? {
            Opened::Tunnel(x) => {
                let x = Arc::new(x);
                *t = Some(x.clone());
                self.mode.store(TUNNEL, Ordering::SeqCst);
                Ok(Some(x))
            }
            Opened::Fallback => {
                self.mode.store(PER_CONNECTION, Ordering::SeqCst);
                Ok(None)
            }
        }
    }

    fn close(&self) {
        let t = lock(&self.tunnel).take();
        if let Some(t) = t {
            t.close();
        }
        for t in lock(&self.retired).drain(..) {
            t.close();
        }
    }
}

/// Reports what happened to each forwarded connection (for the CLI's messages).
pub type ForwardEvent = dyn Fn(&str) + Send + Sync;

impl Forwarder {
    /// Listen on `127.0.0.1:local` (0: a free port) and forward to `remote` of `pod`.
    /// `on_event` hears of each connection's failure. The tunnel is asked for at once (a
    /// failure then is not fatal: each connection tries again and reports its own error).
    pub fn start(
        client: &Client,
        pod: &str,
        namespace: Option<&str>,
        local: u16,
        remote: u16,
        on_event: Option<Arc<ForwardEvent>>,
    ) -> Result<Forwarder> {
        check_name("pod", pod)?;
        let route = Arc::new(Route {
            client: client.clone(),
            pod: pod.to_owned(),
            ns: namespace.map(str::to_owned),
            mode: std::sync::atomic::AtomicU8::new(UNKNOWN),
            tunnel: std::sync::Mutex::new(None),
            retired: std::sync::Mutex::new(Vec::new()),
            listeners: std::sync::atomic::AtomicUsize::new(0),
        });
        let f = Forwarder::listen(route.clone(), local, remote, on_event)?;
        let _ = route.tunnel(remote);
        Ok(f)
    }

    /// Listen on `127.0.0.1:local` too and forward to `remote` of the same Pod over the
    /// same tunnel (kubectl's several ports in one session).
    pub fn also(
        &self,
        local: u16,
        remote: u16,
        on_event: Option<Arc<ForwardEvent>>,
    ) -> Result<Forwarder> {
        Forwarder::listen(self.route.clone(), local, remote, on_event)
    }

    /// The protocol in use.
    pub fn transport(&self) -> Transport {
        self.route.transport()
    }

    fn listen(
        route: Arc<Route>,
        local: u16,
        remote: u16,
        on_event: Option<Arc<ForwardEvent>>,
    ) -> Result<Forwarder> {
        if remote == 0 {
            return Err(Error::invalid("port 0 cannot be forwarded"));
        }
        let listener = TcpListener::bind(("127.0.0.1", local))
            .map_err(|e| Error::Transport(format!("cannot listen on 127.0.0.1:{local}: {e}")))?;
        let addr = listener
            .local_addr()
            .map_err(|e| Error::Transport(format!("listener address: {e}")))?;
        listener
            .set_nonblocking(true)
            .map_err(|e| Error::Transport(format!("listener: {e}")))?;
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = stop.clone();
        let live = Arc::new(Live::default());
        route.listeners.fetch_add(1, Ordering::SeqCst);
        let live2 = live.clone();
        let route2 = route.clone();
        let thread = std::thread::Builder::new()
            .name("incluster-forward".into())
            .spawn(move || {
                while !stop2.load(Ordering::SeqCst) {
                    // Wait for a connection (or the next look at the stop flag): a poll, so a
                    // connection is taken at once rather than at the next sleep's end.
                    let mut p = libc::pollfd {
                        fd: std::os::fd::AsRawFd::as_raw_fd(&listener),
                        events: libc::POLLIN,
                        revents: 0,
                    };
                    // SAFETY: one valid pollfd for the duration of the call.
                    let ready = unsafe { libc::poll(&mut p, 1, 50) };
                    if ready <= 0 {
                        continue;
                    }
                    match listener.accept() {
                        Ok((sock, _)) => {
                            let (r, s, ev, l) = (
                                route2.clone(),
                                stop2.clone(),
                                on_event.clone(),
                                live2.clone(),
                            );
                            let t = std::thread::spawn(move || {
                                let res = forward_one(&r, remote, sock, &s, &l);
                                if let (Err(e), Some(ev)) = (res, ev)
                                    && !s.load(Ordering::SeqCst)
                                {
                                    ev(&e.to_string());
                                }
                            });
                            let mut threads = lock(&live2.threads);
                            // Forget the threads that are done, so a long-lived listener's
                            // list does not grow with every connection it ever had.
                            threads.retain(|t| !t.is_finished());
                            threads.push(t);
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(5)),
                    }
                }
            })
            .map_err(|e| Error::Transport(format!("cannot start the listener thread: {e}")))?;
        Ok(Forwarder {
            addr,
            stop,
            thread: Some(thread),
            live,
            route,
        })
    }

    /// The local address connections are accepted on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stop accepting; forwarded connections end (and the tunnel, once no other listener
    /// of the session uses it). Idempotent.
    pub fn stop(&mut self) {
        if self.stop.swap(true, Ordering::SeqCst) {
            return;
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        for c in lock(&self.live.sessions).drain(..) {
            c.cancel();
        }
        for c in lock(&self.live.conns).drain(..) {
            c.abort();
        }
        // The last listener of the session closes the tunnel.
        if self.route.listeners.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.route.close();
        }
        let threads: Vec<_> = lock(&self.live.threads).drain(..).collect();
        for t in threads {
            let _ = t.join();
        }
    }
}

impl Drop for Forwarder {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Forward one accepted connection over the tunnel, or over its own WebSocket.
fn forward_one(
    route: &Route,
    remote: u16,
    sock: TcpStream,
    stop: &Arc<AtomicBool>,
    live: &Live,
) -> Result<()> {
    sock.set_nonblocking(false)
        .map_err(|e| Error::Transport(format!("accepted socket: {e}")))?;
    let _ = sock.set_nodelay(true);
    // A tunnel that ended between the look and the connect: one more try on a new one.
    for attempt in 0..2 {
        let Some(t) = route.tunnel(remote)? else {
            return forward_websocket(route, remote, sock, stop, live);
        };
        match t.connect(remote) {
            Ok(conn) => {
                let mut conns = lock(&live.conns);
                conns.retain(|c| !c.is_finished());
                conns.push(conn.writer());
                drop(conns);
                // A stop that came while the connection opened.
                if stop.load(Ordering::SeqCst) {
                    conn.abort();
                }
                return forward_tunnel(conn, sock, stop);
            }
            Err(e) if attempt == 0 && !t.is_open() => {
                let _ = e;
                continue;
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Splice one accepted connection and one tunnel stream pair until both sides closed:
/// a local end of file half-closes the stream (FIN), the Pod's FIN closes the local socket.
fn forward_tunnel(
    mut conn: crate::core::spdy::tunnel::TunnelConn,
    sock: TcpStream,
    stop: &Arc<AtomicBool>,
) -> Result<()> {
    let w = conn.writer();
    let mut up = sock
        .try_clone()
        .map_err(|e| Error::Transport(format!("accepted socket: {e}")))?;
    // A reset (the local end took nothing for too long, a stop) or the tunnel's end must
    // also free a write blocked on a local reader that takes nothing.
    let local = sock
        .try_clone()
        .map_err(|e| Error::Transport(format!("accepted socket: {e}")))?;
    w.on_reset(move || {
        let _ = local.shutdown(std::net::Shutdown::Both);
    });
    let w2 = w.clone();
    let uploader = std::thread::spawn(move || {
        let mut buf = vec![0u8; MAX_SEND];
        loop {
            match up.read(&mut buf) {
                Ok(0) => {
                    let _ = w2.close_write();
                    break;
                }
                Err(_) => {
                    w2.abort();
                    break;
                }
                Ok(n) => {
                    if w2.write(&buf[..n]).is_err() {
                        break;
                    }
                }
            }
        }
    });
    let mut down = sock;
    let result = loop {
        if stop.load(Ordering::SeqCst) {
            break Ok(());
        }
        // Each piece goes out as it came from the tunnel, without a copy.
        match conn.next_chunk() {
            Ok(None) => break Ok(()),
            Ok(Some(chunk)) => {
                if down.write_all(&chunk).is_err() {
                    // The local end went away, or the socket was closed under a stalled
                    // write by a reset: then say why.
                    break w.failure().map_or(Ok(()), Err);
                }
            }
            Err(Error::Cancelled) => break Ok(()),
            Err(e) => break Err(e),
        }
    };
    let _ = down.shutdown(std::net::Shutdown::Both);
    // A reset only if the connection did not finish on both sides.
    w.abort();
    let _ = uploader.join();
    result
}

/// Splice one accepted connection and its own WebSocket until either side closes.
fn forward_websocket(
    route: &Route,
    remote: u16,
    sock: TcpStream,
    stop: &Arc<AtomicBool>,
    live: &Live,
) -> Result<()> {
    let mut pf = PortForward::open(&route.client, &route.pod, route.ns.as_deref(), remote)?;
    let w = pf.writer();
    let cancel = pf.cancel_handle();
    {
        let mut sessions = lock(&live.sessions);
        sessions.retain(|c| !c.is_cancelled());
        sessions.push(cancel.clone());
    }
    // A stop that came while the session opened.
    if stop.load(Ordering::SeqCst) {
        cancel.cancel();
    }
    let mut up = sock
        .try_clone()
        .map_err(|e| Error::Transport(format!("accepted socket: {e}")))?;
    let cancel2 = cancel.clone();
    let stop2 = stop.clone();
    // Local → Pod on its own thread; a local end of file closes the forwarded connection
    // (the channel protocol cannot half-close) once the Pod's answer has been read.
    let uploader = std::thread::spawn(move || {
        let mut buf = vec![0u8; MAX_SEND];
        loop {
            match up.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if w.write(&buf[..n]).is_err() {
                        cancel2.cancel();
                        break;
                    }
                }
            }
            if stop2.load(Ordering::SeqCst) {
                cancel2.cancel();
                break;
            }
        }
    });
    let mut down = sock;
    let mut buf = vec![0u8; 64 * 1024];
    let result = loop {
        if stop.load(Ordering::SeqCst) {
            break Ok(());
        }
        match pf.read(&mut buf) {
            Ok(0) => break Ok(()),
            Ok(n) => {
                if down.write_all(&buf[..n]).is_err() {
                    break Ok(());
                }
            }
            Err(Error::Cancelled) => break Ok(()),
            Err(e) => break Err(e),
        }
    };
    let _ = down.shutdown(std::net::Shutdown::Both);
    cancel.cancel();
    let _ = uploader.join();
    result
}

fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_specs_are_read_as_kubectl_does() {
        assert_eq!(parse_ports("8080").unwrap(), (8080, 8080));
        assert_eq!(parse_ports("9000:80").unwrap(), (9000, 80));
        assert_eq!(parse_ports(":80").unwrap(), (0, 80));
        assert!(parse_ports("80:0").is_err());
        assert!(parse_ports("x").unwrap_err().to_string().contains("\"x\""));
    }
}
