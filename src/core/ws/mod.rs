//! WebSocket sessions with the API server (exec, attach, port-forward).
//!
//! [`tungstenite`] does the framing and the client handshake; the socket is our own
//! ([`crate::core::http::raw`]: the cluster CA, the token, the proxy rules of every request).
//! One I/O thread per session owns the socket and waits for "readable, writable or woken" on
//! it; the user talks to that thread through two bounded queues, so:
//! - a slow reader stops the thread from reading, TCP flow control stops the server: memory
//!   stays bounded whatever the command prints (back-pressure, not buffering);
//! - a write of stdin never blocks the reading of stdout (the exec deadlock);
//! - a cancel from any thread shuts the socket down and wakes everyone;
//! - pings go out every [`PING_PERIOD`] as client-go's heartbeat sends them, and a peer that
//!   sends nothing back (not a pong, not a byte) for [`ping_deadline`] ends the session with
//!   an error instead of a hang (a half-open connection sends no FIN).

pub(crate) mod queue;

use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tungstenite::protocol::{Message, WebSocketConfig};
use tungstenite::{WebSocket, client::IntoClientRequest};

use crate::core::api::request::{Request, Response};
use crate::core::cancel::CancelHandle;
use crate::core::error::{Error, Result};
use crate::core::http::interrupt;
use crate::core::http::raw::{RawConn, Shutdown};
use queue::{Ended, Queue};

/// Largest WebSocket message accepted from the server: bounds the memory one frame can take
/// (the kubelet sends stream data in frames of a few KiB).
pub const MAX_MESSAGE: usize = 8 * 1024 * 1024;

/// How often a session pings the server by default: client-go's `pingPeriod`
/// (`tools/remotecommand/websocket.go`), so an API server or load balancer that closes idle
/// connections sees the same traffic from us as from kubectl.
pub const PING_PERIOD: Duration = Duration::from_secs(5);

/// How long a session waits without hearing anything from the server before it gives up:
/// client-go's `pingReadDeadline`, twelve ping periods and a second, so a few lost pongs on a
/// slow link are not fatal but a peer that went away is noticed within about a minute.
pub fn ping_deadline(period: Duration) -> Duration {
    period * 12 + Duration::from_secs(1)
}

/// Messages held between the I/O thread and the user, each way.
const QUEUE_MESSAGES: usize = 16;

/// Largest payload port-forward sends in one message (its data is split into these; exec's
/// stdin has its own size, `exec::STDIN_MESSAGE`).
pub const MAX_SEND: usize = 32 * 1024;

/// A message to send.
#[derive(Debug)]
pub(crate) enum Out {
    /// One binary message.
    Binary(Vec<u8>),
}

/// What the session reports after its last message.
type Outcome = Arc<Mutex<Option<Result<()>>>>;

/// Wakes a session's I/O thread (a byte on a socket pair it waits on).
#[derive(Debug, Clone)]
pub(crate) struct Waker {
    sock: Arc<UnixStream>,
    /// Set by the I/O thread just before it waits: a wake-up costs two system calls (the
    /// byte written here, read there), which a thread that is busy anyway does not need.
    sleeping: Arc<AtomicBool>,
}

impl Waker {
    /// Wake the I/O thread if it waits (after a change to a queue it would see otherwise).
    pub(crate) fn wake(&self) {
        // SeqCst pairs with the I/O thread's store before it re-checks the queues: either it
        // sees this change, or this sees it asleep.
        if self.sleeping.load(Ordering::SeqCst) {
            self.wake_always();
        }
    }

    /// Wake the I/O thread whatever it is doing (a cancel: it must look at the flag).
    pub(crate) fn wake_always(&self) {
        // A full pair already holds a wake-up: WouldBlock is fine.
        let _ = (&*self.sock).write(&[1]);
    }
}

/// Cancels a session from any thread: the socket is shut down, waits wake up, and the
/// session ends with [`Error::Cancelled`].
#[derive(Debug, Clone)]
pub struct SessionCancel {
    flag: CancelHandle,
    shutdown: Shutdown,
    waker: Waker,
    input: Arc<Queue<Out>>,
    output: Arc<Queue<Vec<u8>>>,
}

impl SessionCancel {
    /// Stop the session. Idempotent; safe from any thread.
    pub fn cancel(&self) {
        self.flag.cancel();
        self.shutdown.shutdown();
        self.input.close();
        self.output.close();
        self.waker.wake_always();
    }

    /// Whether [`SessionCancel::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.flag.is_cancelled()
    }
}

/// The sending half of a session: cheap to clone, usable from another thread than the reader.
#[derive(Debug, Clone)]
pub(crate) struct Sender {
    input: Arc<Queue<Out>>,
    waker: Waker,
    flag: CancelHandle,
}

impl Sender {
    /// Queue one message, waiting while the queue is full (back-pressure).
    pub(crate) fn send(&self, out: Out) -> Result<()> {
        let r = self.flag.guard(|| self.input.push(out, None));
        match r {
            Ok(()) => {
                self.waker.wake();
                Ok(())
            }
            Err((_, Ended::Interrupted)) => Err(Error::Cancelled),
            Err(_) if self.flag.is_cancelled() => Err(Error::Cancelled),
            Err(_) => Err(Error::Transport(
                "the session has ended: nothing more can be sent".into(),
            )),
        }
    }
}

/// An open WebSocket session: binary messages in and out, driven by its own I/O thread.
pub(crate) struct Session {
    /// The subprotocol the server chose.
    pub(crate) protocol: String,
    output: Arc<Queue<Vec<u8>>>,
    outcome: Outcome,
    sender: Sender,
    cancel: SessionCancel,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("protocol", &self.protocol)
            .finish()
    }
}

/// The answer to a refused upgrade, as a request/response pair for the usual API error.
pub(crate) fn refused(req: &Request, status: u16, body: Vec<u8>) -> Error {
    let resp = Response {
        status,
        headers: Vec::new(),
        body,
    };
    let mut e = crate::core::client::api_error(req, resp);
    if let Error::Api(a) = &mut e {
        let sub = req.path.rsplit('/').next().unwrap_or("");
        if status == 403 && matches!(sub, "exec" | "attach" | "portforward") {
            // Since Kubernetes 1.35 a WebSocket upgrade is authorized as `create` (it was
            // `get` before), so roles written for `get` stop working: say which verb.
            a.message = format!(
                "{} (a WebSocket {sub} needs the RBAC verb `create` on `pods/{sub}`)",
                a.message
            );
        }
        if status == 101 || (200..300).contains(&status) {
            a.message = format!(
                "the server answered HTTP {status} instead of switching to WebSocket: {}",
                a.message
            );
        }
    }
    e
}

/// Perform the upgrade on `conn` for `url` (ws:// or wss://). `Err(Ok(status, body))` is a
/// refused upgrade (the caller may retry after a 401); `Err(Err(e))` any other failure.
#[allow(clippy::type_complexity)]
pub(crate) fn handshake(
    mut conn: RawConn,
    url: &str,
    authorization: Option<&str>,
    protocols: &[&str],
    timeout: Duration,
) -> std::result::Result<(WebSocket<RawConn>, String), std::result::Result<(u16, Vec<u8>), Error>> {
    let at = conn.at().to_owned();
    let mut req = url
        .into_client_request()
        .map_err(|e| Err(Error::invalid(format!("WebSocket URL: {e}"))))?;
    let h = req.headers_mut();
    let hv = |v: &str| {
        tungstenite::http::HeaderValue::from_str(v).map_err(|_| {
            Err(Error::invalid(
                "a header value has bytes HTTP does not allow",
            ))
        })
    };
    h.insert("sec-websocket-protocol", hv(&protocols.join(", "))?);
    h.insert("user-agent", hv(crate::core::http::agent::USER_AGENT)?);
    if let Some(a) = authorization {
        let mut v = hv(a)?;
        v.set_sensitive(true);
        h.insert("authorization", v);
    }
    conn.set_blocking(Some(Instant::now() + timeout));
    let cfg = WebSocketConfig::default()
        .max_message_size(Some(MAX_MESSAGE))
        .max_frame_size(Some(MAX_MESSAGE))
        .write_buffer_size(64 * 1024)
        .max_write_buffer_size(1024 * 1024);
    match tungstenite::client::client_with_config(req, conn, Some(cfg)) {
        Ok((mut ws, resp)) => {
            let chosen = resp
                .headers()
                .get("sec-websocket-protocol")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned();
            ws.get_mut().set_nonblocking();
            Ok((ws, chosen))
        }
        Err(tungstenite::HandshakeError::Failure(e)) => Err(handshake_error(e, &at)),
        Err(tungstenite::HandshakeError::Interrupted(_)) => Err(Err(Error::Transport(format!(
            "{at}: the WebSocket handshake stopped half-way"
        )))),
    }
}

fn handshake_error(e: tungstenite::Error, at: &str) -> std::result::Result<(u16, Vec<u8>), Error> {
    use tungstenite::Error as W;
    match e {
        W::Http(resp) => {
            let status = resp.status().as_u16();
            Ok((status, resp.into_body().unwrap_or_default()))
        }
        W::Io(io) => Err(io_error(io, at)),
        W::Protocol(tungstenite::error::ProtocolError::SecWebSocketSubProtocolError(p)) => {
            Err(Error::Transport(format!(
                "{at}: the server accepted the WebSocket but not one of our subprotocols ({p})"
            )))
        }
        other => Err(Error::Transport(format!(
            "{at}: WebSocket handshake failed: {other}"
        ))),
    }
}

fn io_error(io: io::Error, at: &str) -> Error {
    if interrupt::Interrupted::is(&io) {
        return Error::Cancelled;
    }
    if let Some(t) = io.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
        return Error::Tls(format!("{at}: {}", crate::core::tls::describe(t)));
    }
    if io.kind() == io::ErrorKind::TimedOut {
        return Error::Timeout(format!("{at}: no answer to the WebSocket upgrade in time"));
    }
    crate::core::http::agent::map_ureq(ureq::Error::Io(io), &format!("https://{at}/"))
}

impl Session {
    /// Start the I/O thread for an upgraded connection, pinging the server every
    /// `ping_period` (see [`PING_PERIOD`]).
    pub(crate) fn start(
        ws: WebSocket<RawConn>,
        protocol: String,
        ping_period: Duration,
    ) -> Result<Session> {
        let (wake_rx, wake_tx) = UnixStream::pair()
            .map_err(|e| Error::Transport(format!("cannot create a wake-up socket: {e}")))?;
        for s in [&wake_rx, &wake_tx] {
            s.set_nonblocking(true)
                .map_err(|e| Error::Transport(format!("wake-up socket: {e}")))?;
        }
        let sleeping = Arc::new(AtomicBool::new(false));
        let waker = Waker {
            sock: Arc::new(wake_tx),
            sleeping: sleeping.clone(),
        };
        let input = Arc::new(Queue::new(QUEUE_MESSAGES));
        let output = Arc::new(Queue::new(QUEUE_MESSAGES));
        let outcome: Outcome = Arc::new(Mutex::new(None));
        let flag = CancelHandle::new();
        let cancel = SessionCancel {
            flag: flag.clone(),
            shutdown: ws.get_ref().shutdown_handle(),
            waker: waker.clone(),
            input: input.clone(),
            output: output.clone(),
        };
        let driver = Driver {
            ws,
            input: input.clone(),
            output: output.clone(),
            wake: wake_rx,
            sleeping,
            flag: flag.clone(),
            ping_period: ping_period.max(Duration::from_millis(1)),
        };
        let out2 = outcome.clone();
        let output2 = output.clone();
        let input2 = input.clone();
        let thread = std::thread::Builder::new()
            .name("incluster-ws".into())
            .spawn(move || {
                let r = driver.run();
                *out2.lock().unwrap_or_else(PoisonError::into_inner) = Some(r);
                output2.close();
                input2.close();
            })
            .map_err(|e| Error::Transport(format!("cannot start the session thread: {e}")))?;
        Ok(Session {
            protocol,
            output,
            outcome,
            sender: Sender { input, waker, flag },
            cancel,
            thread: Some(thread),
        })
    }

    /// The next binary message from the server; `Ok(None)` once the session ended cleanly.
    /// A reader that stops calling this stops the I/O thread from reading (back-pressure).
    pub(crate) fn recv(&self, deadline: Option<Instant>) -> Result<Option<Vec<u8>>> {
        let r = self.cancel.flag.guard(|| self.output.pop_full(deadline));
        match r {
            Ok((m, was_full)) => {
                // Only a full queue can have made the I/O thread hold a message back: a
                // wake-up (a syscall, and a turn of its loop) per message would cost more
                // than the message when they are small.
                if was_full {
                    self.sender.waker.wake();
                }
                Ok(Some(m))
            }
            Err(Ended::Closed) => {
                if self.cancel.flag.is_cancelled() {
                    return Err(Error::Cancelled);
                }
                // The I/O thread records its outcome before it closes the queue, so it is
                // there now, unless the queue was closed from outside (a cancel racing with
                // the end): then the thread's outcome is moments away.
                let outcome = || {
                    self.outcome
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .clone()
                };
                let mut o = outcome();
                if o.is_none()
                    && let Some(t) = &self.thread
                {
                    while !t.is_finished() {
                        std::thread::sleep(std::time::Duration::from_millis(1));
                    }
                    o = outcome();
                }
                match o {
                    Some(Ok(())) | None => Ok(None),
                    Some(Err(e)) => Err(e),
                }
            }
            Err(Ended::Interrupted) => Err(Error::Cancelled),
            Err(Ended::TimedOut) => Err(Error::Timeout(
                "no output from the session within the timeout".into(),
            )),
        }
    }

    /// The sending half.
    pub(crate) fn sender(&self) -> Sender {
        self.sender.clone()
    }

    /// A cancel handle for any thread.
    pub(crate) fn cancel_handle(&self) -> SessionCancel {
        self.cancel.clone()
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        // Ends the I/O thread promptly whatever state it is in; it owns nothing else.
        self.cancel.cancel();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

struct Driver {
    ws: WebSocket<RawConn>,
    input: Arc<Queue<Out>>,
    output: Arc<Queue<Vec<u8>>>,
    wake: UnixStream,
    sleeping: Arc<AtomicBool>,
    flag: CancelHandle,
    ping_period: Duration,
}

fn would_block(e: &tungstenite::Error) -> bool {
    matches!(e, tungstenite::Error::Io(io) if io.kind() == io::ErrorKind::WouldBlock)
}

impl Driver {
    fn fail(&self, e: tungstenite::Error) -> Error {
        if self.flag.is_cancelled() {
            return Error::Cancelled;
        }
        let at = self.ws.get_ref().at();
        match e {
            tungstenite::Error::Io(io) => match io.kind() {
                io::ErrorKind::UnexpectedEof
                | io::ErrorKind::ConnectionReset
                | io::ErrorKind::BrokenPipe
                | io::ErrorKind::ConnectionAborted => Error::Transport(format!(
                    "{at}: the connection broke during the session ({io})"
                )),
                _ => self.ws.get_ref().map_io(io),
            },
            tungstenite::Error::Capacity(c) => Error::Decode(format!(
                "{at}: the server sent a WebSocket message over the limit of {MAX_MESSAGE} \
                 bytes ({c})"
            )),
            tungstenite::Error::Protocol(p) => Error::Decode(format!(
                "{at}: the server broke the WebSocket protocol: {p}"
            )),
            other => Error::Transport(format!("{at}: WebSocket: {other}")),
        }
    }

    fn run(mut self) -> Result<()> {
        let mut held: Option<Vec<u8>> = None;
        let mut unsent: Option<Message> = None;
        let deadline = ping_deadline(self.ping_period);
        let mut last_heard = Instant::now();
        let mut next_ping = last_heard + self.ping_period;
        loop {
            if self.flag.is_cancelled() {
                return Err(Error::Cancelled);
            }
            // Deliver what was read before reading more.
            if let Some(m) = held.take()
                && let Err(m) = self.output.try_push(m)
            {
                if self.output.is_closed() {
                    return Err(Error::Cancelled);
                }
                held = Some(m);
            }
            // Read while there is room for what arrives.
            while held.is_none() {
                match self.ws.read() {
                    Ok(msg) => {
                        // Any frame (data, ping, pong) shows the peer is there.
                        last_heard = Instant::now();
                        let data = match msg {
                            // Bytes to Vec takes the buffer over when tungstenite holds no
                            // other reference to it: no copy.
                            Message::Binary(b) => Vec::from(b),
                            Message::Text(t) => t.as_bytes().to_vec(),
                            // Pongs are queued by tungstenite and sent by the next flush.
                            Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => continue,
                            Message::Close(_) => {
                                let _ = self.ws.flush();
                                return Ok(());
                            }
                        };
                        if let Err(m) = self.output.try_push(data) {
                            held = Some(m);
                        }
                    }
                    Err(e) if would_block(&e) => break,
                    Err(tungstenite::Error::ConnectionClosed) => return Ok(()),
                    Err(e) => return Err(self.fail(e)),
                }
            }
            // Send what the user queued, as far as the write buffer allows.
            loop {
                let msg = match unsent.take() {
                    Some(m) => m,
                    None => match self.input.try_pop() {
                        Some(Out::Binary(b)) => Message::Binary(b.into()),
                        None => break,
                    },
                };
                match self.ws.write(msg) {
                    Ok(()) => {}
                    Err(tungstenite::Error::WriteBufferFull(m)) => {
                        unsent = Some(*m);
                        break;
                    }
                    Err(e) if would_block(&e) => {}
                    Err(e) => return Err(self.fail(e)),
                }
            }
            let now = Instant::now();
            if held.is_some() {
                // Our reader is behind, so the server's frames (its pongs too) wait in the
                // socket unread: silence we chose is not the peer's.
                last_heard = now;
            }
            // Keep-alive, as client-go's heartbeat: a ping every period whatever the traffic,
            // and nothing heard for the deadline ends the session.
            if now.duration_since(last_heard) >= deadline {
                return Err(Error::Timeout(format!(
                    "{}: nothing from the server for {}, not even an answer to the pings sent \
                     every {}: the connection is gone or the server stopped",
                    self.ws.get_ref().at(),
                    seconds(deadline),
                    seconds(self.ping_period)
                )));
            }
            if now >= next_ping {
                match self.ws.write(Message::Ping(Vec::new().into())) {
                    Ok(()) | Err(tungstenite::Error::WriteBufferFull(_)) => {}
                    Err(e) if would_block(&e) => {}
                    Err(e) => return Err(self.fail(e)),
                }
                next_ping = now + self.ping_period;
            }
            match self.ws.flush() {
                Ok(()) => {}
                Err(e) if would_block(&e) => {}
                Err(tungstenite::Error::ConnectionClosed) => return Ok(()),
                Err(e) => return Err(self.fail(e)),
            }
            // Wait for the socket or a wake-up.
            let want_read = held.is_none();
            let want_write = self.ws.get_ref().wants_write() || unsent.is_some();
            let timeout = next_ping
                .min(last_heard + deadline)
                .saturating_duration_since(Instant::now());
            self.wait(
                want_read,
                want_write,
                unsent.is_none(),
                timeout,
                held.is_some(),
            );
            if !want_read && self.output.has_room() {
                continue;
            }
        }
    }

    /// Wait for the socket, a wake-up or `timeout`. `take_input`: whether a message the user
    /// queues would be sent now (so it must wake us).
    fn wait(
        &mut self,
        read: bool,
        write: bool,
        take_input: bool,
        timeout: Duration,
        polling_room: bool,
    ) {
        let mut events = 0;
        if read {
            events |= libc::POLLIN;
        }
        if write {
            events |= libc::POLLOUT;
        }
        let mut fds = [
            libc::pollfd {
                fd: self.ws.get_ref().fd(),
                events,
                revents: 0,
            },
            libc::pollfd {
                fd: self.wake.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        // Say we sleep, then look once more at what a wake-up would be for: a change made
        // before the flag was seen is caught here, one made after it writes a wake-up.
        self.sleeping.store(true, Ordering::SeqCst);
        let ready = (take_input && !self.input.is_empty())
            || (polling_room && self.output.has_room())
            || self.flag.is_cancelled();
        // While a message waits for room the reader's wake-up is the signal; the slice bounds
        // the delay if a wake-up raced with the check.
        let cap = if polling_room {
            interrupt::SLICE
        } else {
            timeout
        };
        let ms = if ready {
            0
        } else {
            i32::try_from(timeout.min(cap).as_millis().max(1)).unwrap_or(i32::MAX)
        };
        // SAFETY: two valid pollfds in a local array that outlives the call.
        unsafe { libc::poll(fds.as_mut_ptr(), 2, ms) };
        self.sleeping.store(false, Ordering::SeqCst);
        if fds[0].revents & (libc::POLLOUT | libc::POLLERR | libc::POLLHUP) != 0 {
            self.ws.get_mut().writable();
        }
        if fds[1].revents != 0 {
            let mut sink = [0u8; 64];
            while matches!((&self.wake).read(&mut sink), Ok(n) if n > 0) {}
        }
    }
}

/// A duration for messages: `61s`, `1.3s`.
fn seconds(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}
