//! Port-forward over one SPDY/3.1 session tunnelled through a WebSocket: kubectl's protocol
//! since 1.31 (client-go `tools/portforward`, subprotocol `SPDY/3.1+portforward.k8s.io`).
//!
//! The kube-apiserver (`PortForwardWebsockets`) upgrades its side toward the kubelet to SPDY
//! and copies bytes between the WebSocket's binary messages and that connection, so the
//! messages are a byte stream of SPDY frames, split and joined anywhere. Every forwarded
//! connection is a pair of client streams with the headers `streamType` (`error`, then
//! `data`), `port` and `requestID`: the kubelet pairs them by `requestID`, dials the port,
//! and copies the data stream both ways; a failure (nothing listens on the port) is a
//! message on the error stream followed by a reset. Each side half-closes with FIN.
//!
//! Flow control: the kubelet's SPDY library (moby/spdystream) neither sends nor honours
//! WINDOW_UPDATE, and hands each stream's data over an unbuffered channel from a few shared
//! workers, so one stalled stream stalls the others there. Here each connection has a
//! bounded queue of frames; a full one makes the tunnel's reader wait (so memory stays
//! bounded and TCP pushes back), but only for [`STALL_LIMIT`]: then that connection is reset
//! and the others move on.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::core::client::Client;
use crate::core::error::{Error, Result};
use crate::core::ws::queue::{Ended, Queue};
use crate::core::ws::{MAX_SEND, Out, Sender, Session, SessionCancel};

use super::frame::{self, CANCEL, Decoder, Encoder, Frame, REFUSED_STREAM};
use super::headers;

/// The WebSocket subprotocol of the SPDY tunnel.
pub const PROTOCOL: &str = "SPDY/3.1+portforward.k8s.io";

/// Frames held for one connection whose local end is not reading (each is at most what the
/// kubelet writes at once, a few KiB to 32 KiB): the bound on a stream's memory.
const STREAM_FRAMES: usize = 32;

/// How long the tunnel's reader waits for room in one connection's queue before it resets
/// that connection: long enough for a busy local reader, short enough that the other
/// connections on the tunnel are not held up for long.
pub const STALL_LIMIT: Duration = Duration::from_secs(10);

/// Largest error-stream message kept (the kubelet's are one line).
const MAX_ERROR_TEXT: usize = 4096;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// How a connection ended, once it has.
#[derive(Debug, Default)]
struct End {
    /// The kubelet's error-stream text.
    error_text: Vec<u8>,
    /// Why the connection failed (a reset, the tunnel's end, a stall), if it did.
    failure: Option<String>,
    /// Our FIN (or reset) went out.
    sent_fin: bool,
    /// The data stream ended (FIN or reset).
    data_done: bool,
    /// The error stream ended (FIN or reset).
    error_done: bool,
}

/// One forwarded connection's state, shared by the tunnel's reader and the user.
#[derive(Debug)]
struct Slot {
    error_id: u32,
    data_id: u32,
    data: Queue<Vec<u8>>,
    end: Mutex<End>,
    on_reset: Mutex<Hook>,
}

/// What to run when a connection is reset or its tunnel ends: the user's side may be stuck
/// writing to a local reader that takes nothing, which only closing its socket ends.
#[derive(Default)]
struct Hook(Option<Box<dyn FnOnce() + Send>>);

impl std::fmt::Debug for Hook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Hook")
    }
}

impl Slot {
    fn run_hook(&self) {
        if let Some(h) = lock(&self.on_reset).0.take() {
            h();
        }
    }
}

struct WriteState {
    encoder: Encoder,
    next_id: u32,
    next_request: u64,
}

struct Shared {
    sender: Sender,
    cancel: SessionCancel,
    write: Mutex<WriteState>,
    streams: Mutex<HashMap<u32, Arc<Slot>>>,
    /// Why the tunnel ended; set once.
    ended: Mutex<Option<String>>,
    /// The server sent GOAWAY, or stream ids ran out: no new connections on this tunnel.
    draining: AtomicBool,
    what: String,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tunnel").field("what", &self.what).finish()
    }
}

/// One SPDY port-forward tunnel to a Pod; [`Tunnel::connect`] opens forwarded connections
/// over it, from any thread.
#[derive(Debug)]
pub struct Tunnel {
    shared: Arc<Shared>,
    reader: Mutex<Option<JoinHandle<()>>>,
}

/// What the server agreed to when asked for the tunnel.
#[derive(Debug)]
pub enum Opened {
    /// The SPDY tunnel.
    Tunnel(Tunnel),
    /// The server chose the per-connection WebSocket protocol (an API server without
    /// `PortForwardWebsockets` tunnelling passes the upgrade to a kubelet that speaks it).
    Fallback,
}

impl Tunnel {
    /// Ask for a tunnel to `pod` (offering the per-connection protocol as well, so an older
    /// server answers with that instead of an error). `port` is named in the URL for that
    /// case; the tunnel itself can reach any port.
    pub fn open(client: &Client, pod: &str, namespace: Option<&str>, port: u16) -> Result<Opened> {
        crate::core::exec::options::check_name("pod", pod)?;
        let ns = namespace.unwrap_or(client.namespace());
        crate::core::exec::options::check_name("namespace", ns)?;
        let path = format!("/api/v1/namespaces/{ns}/pods/{pod}/portforward");
        let query = vec![("ports".to_owned(), port.to_string())];
        let (session, _) = client.open_websocket(
            &path,
            query,
            &[PROTOCOL, crate::core::portforward::PROTOCOL],
        )?;
        if session.protocol != PROTOCOL {
            return Ok(Opened::Fallback);
        }
        Ok(Opened::Tunnel(Tunnel::start(
            session,
            format!("port-forward to {ns}/{pod}"),
        )?))
    }

    /// Run the SPDY client side over an upgraded session.
    pub(crate) fn start(session: Session, what: String) -> Result<Tunnel> {
        let shared = Arc::new(Shared {
            sender: session.sender(),
            cancel: session.cancel_handle(),
            write: Mutex::new(WriteState {
                encoder: Encoder::new()?,
                next_id: 1,
                next_request: 0,
            }),
            streams: Mutex::new(HashMap::new()),
            ended: Mutex::new(None),
            draining: AtomicBool::new(false),
            what,
        });
        let s2 = shared.clone();
        let reader = std::thread::Builder::new()
            .name("incluster-spdy".into())
            .spawn(move || {
                let why = read_loop(&session, &s2);
                s2.end(why);
                drop(session);
            })
            .map_err(|e| Error::Transport(format!("cannot start the tunnel's thread: {e}")))?;
        Ok(Tunnel {
            shared,
            reader: Mutex::new(Some(reader)),
        })
    }

    /// Whether new connections can still go over this tunnel.
    pub fn is_open(&self) -> bool {
        lock(&self.shared.ended).is_none() && !self.shared.draining.load(Ordering::SeqCst)
    }

    /// Why the tunnel ended, if it has.
    pub fn ended(&self) -> Option<String> {
        lock(&self.shared.ended).clone()
    }

    /// Open a forwarded connection to `port` of the Pod: an error stream and a data stream.
    pub fn connect(&self, port: u16) -> Result<TunnelConn> {
        if port == 0 {
            return Err(Error::invalid("port 0 cannot be forwarded"));
        }
        let sh = &self.shared;
        let mut w = lock(&sh.write);
        if let Some(why) = lock(&sh.ended).clone() {
            return Err(Error::Transport(why));
        }
        if sh.draining.load(Ordering::SeqCst) {
            return Err(Error::Transport(format!(
                "{}: the tunnel takes no new connections",
                sh.what
            )));
        }
        let (error_id, data_id) = (w.next_id, w.next_id + 2);
        if data_id > 0x7fff_fff0 {
            sh.draining.store(true, Ordering::SeqCst);
            return Err(Error::Transport(format!(
                "{}: the tunnel has used up its stream ids",
                sh.what
            )));
        }
        w.next_id += 4;
        let request = w.next_request.to_string();
        w.next_request += 1;
        let slot = Arc::new(Slot {
            error_id,
            data_id,
            data: Queue::new(STREAM_FRAMES),
            end: Mutex::new(End::default()),
            on_reset: Mutex::new(Hook::default()),
        });
        {
            let mut m = lock(&sh.streams);
            m.insert(error_id, slot.clone());
            m.insert(data_id, slot.clone());
        }
        let port_s = port.to_string();
        let mut buf = Vec::with_capacity(256);
        let r = (|| {
            let h = |t| {
                [
                    ("streamType", t),
                    ("port", &port_s[..]),
                    ("requestID", &request[..]),
                ]
            };
            w.encoder
                .syn_stream(&mut buf, error_id, false, &h("error"))?;
            // Nothing goes up the error stream: half-close it at once, as client-go does.
            frame::data(&mut buf, error_id, true, &[]);
            w.encoder.syn_stream(&mut buf, data_id, false, &h("data"))?;
            // Sent under the lock: stream ids must rise and header blocks must reach the
            // peer's zlib stream in the order they were compressed.
            sh.sender.send(Out::Binary(buf))
        })();
        drop(w);
        if let Err(e) = r {
            sh.forget(&slot);
            return Err(e);
        }
        Ok(TunnelConn {
            shared: sh.clone(),
            slot,
            port,
            pending: Vec::new(),
            offset: 0,
        })
    }

    /// End the tunnel: every connection on it ends with an error. Idempotent.
    pub fn close(&self) {
        self.shared.cancel.cancel();
        if let Some(t) = lock(&self.reader).take() {
            let _ = t.join();
        }
    }
}

impl Drop for Tunnel {
    fn drop(&mut self) {
        self.close();
    }
}

impl Shared {
    fn forget(&self, slot: &Slot) {
        let mut m = lock(&self.streams);
        m.remove(&slot.error_id);
        m.remove(&slot.data_id);
    }

    fn send(&self, bytes: Vec<u8>) -> Result<()> {
        self.sender.send(Out::Binary(bytes))
    }

    /// Reset both streams of a connection (best effort: the tunnel may be gone).
    fn reset(&self, slot: &Slot, why: String) {
        {
            let mut e = lock(&slot.end);
            if e.failure.is_none() {
                e.failure = Some(why);
            }
            e.sent_fin = true;
        }
        slot.data.close();
        slot.run_hook();
        let mut buf = Vec::with_capacity(32);
        frame::rst_stream(&mut buf, slot.data_id, CANCEL);
        frame::rst_stream(&mut buf, slot.error_id, CANCEL);
        let _ = self.send(buf);
        self.forget(slot);
    }

    fn abort(&self, slot: &Slot) {
        let e = lock(&slot.end);
        let done = e.sent_fin && e.data_done && e.error_done;
        drop(e);
        if done {
            slot.data.close();
            self.forget(slot);
        } else {
            self.reset(slot, format!("{}: the connection was closed", self.what));
        }
    }

    /// The tunnel ended: every connection on it fails with the reason.
    fn end(&self, why: String) {
        lock(&self.ended).get_or_insert_with(|| why.clone());
        let slots: Vec<Arc<Slot>> = lock(&self.streams).drain().map(|(_, s)| s).collect();
        for s in slots {
            let mut e = lock(&s.end);
            if !e.data_done && e.failure.is_none() {
                e.failure = Some(why.clone());
            }
            drop(e);
            s.data.close();
            s.run_hook();
        }
    }

    /// The connection's end is known once both streams ended: the kubelet's streams are
    /// served by different workers, so the data stream's FIN can overtake the error
    /// stream's message (a refused port), which must not read as a clean end of file.
    fn settle(&self, slot: &Slot) {
        let e = lock(&slot.end);
        if !(e.data_done && e.error_done) {
            return;
        }
        let forget = e.sent_fin;
        drop(e);
        slot.data.close();
        if forget {
            self.forget(slot);
        }
    }

    fn handle(&self, f: Frame) {
        match f {
            Frame::Data { stream, fin, data } => {
                let Some(slot) = lock(&self.streams).get(&stream).cloned() else {
                    // A connection that already ended.
                    return;
                };
                if stream == slot.error_id {
                    let mut e = lock(&slot.end);
                    let room = MAX_ERROR_TEXT.saturating_sub(e.error_text.len());
                    e.error_text
                        .extend_from_slice(&data[..data.len().min(room)]);
                    e.error_done |= fin;
                    drop(e);
                    self.settle(&slot);
                    return;
                }
                if !data.is_empty() {
                    let deadline = Instant::now() + STALL_LIMIT;
                    match slot.data.push(data, Some(deadline)) {
                        Ok(()) => {}
                        Err((_, Ended::TimedOut)) => {
                            self.reset(
                                &slot,
                                format!(
                                    "{}: the local end took nothing for {}s; the connection \
                                     was reset so the tunnel's other connections can go on",
                                    self.what,
                                    STALL_LIMIT.as_secs()
                                ),
                            );
                            return;
                        }
                        // The user dropped the connection.
                        Err(_) => return,
                    }
                }
                if fin {
                    let mut e = lock(&slot.end);
                    e.data_done = true;
                    drop(e);
                    self.settle(&slot);
                }
            }
            Frame::RstStream { stream, status } => {
                let Some(slot) = lock(&self.streams).get(&stream).cloned() else {
                    return;
                };
                {
                    let mut e = lock(&slot.end);
                    if stream == slot.error_id {
                        e.error_done = true;
                    } else {
                        e.data_done = true;
                        if e.failure.is_none() {
                            e.failure = Some(format!(
                                "{}: the kubelet reset the connection ({})",
                                self.what,
                                frame::describe_status(status)
                            ));
                        }
                        // Nothing more goes up a reset stream.
                        e.sent_fin = true;
                    }
                }
                self.settle(&slot);
            }
            Frame::SynStream { stream, .. } => {
                // Port-forward streams are the client's; refuse any the server opens.
                let mut buf = Vec::new();
                frame::rst_stream(&mut buf, stream, REFUSED_STREAM);
                let _ = self.send(buf);
            }
            Frame::Ping { id } if id % 2 == 0 => {
                // A server's ping (even id): echo it.
                let mut buf = Vec::new();
                frame::ping(&mut buf, id);
                let _ = self.send(buf);
            }
            Frame::GoAway { .. } => self.draining.store(true, Ordering::SeqCst),
            // Replies carry nothing port-forward needs; the kubelet does no flow control.
            Frame::SynReply { .. }
            | Frame::Headers { .. }
            | Frame::Settings
            | Frame::WindowUpdate { .. }
            | Frame::Ping { .. } => {}
        }
    }
}

/// Read frames until the session ends; the reason it ended.
fn read_loop(session: &Session, sh: &Shared) -> String {
    let mut dec = Decoder::new();
    loop {
        match session.recv(None) {
            Ok(Some(bytes)) => {
                dec.feed_owned(bytes);
                loop {
                    match dec.next_frame() {
                        Ok(Some(f)) => sh.handle(f),
                        Ok(None) => break,
                        Err(e) => {
                            // The frame stream cannot be resynchronised: say why, end it.
                            let mut buf = Vec::new();
                            frame::goaway(&mut buf, 0, 1);
                            let _ = sh.send(buf);
                            return format!("{}: the tunnel broke: {e}", sh.what);
                        }
                    }
                }
            }
            Ok(None) => return format!("{}: the API server closed the tunnel", sh.what),
            Err(Error::Cancelled) => return format!("{}: the tunnel was closed", sh.what),
            Err(e) => return format!("{}: the tunnel broke: {e}", sh.what),
        }
    }
}

/// One forwarded connection over a [`Tunnel`]. Read from one thread; write through a
/// [`TunnelWriter`] from another. Dropping it before both sides finished resets it.
#[derive(Debug)]
pub struct TunnelConn {
    shared: Arc<Shared>,
    slot: Arc<Slot>,
    port: u16,
    pending: Vec<u8>,
    offset: usize,
}

/// The writing half of a [`TunnelConn`] (cheap to clone, any thread).
#[derive(Debug, Clone)]
pub struct TunnelWriter {
    shared: Arc<Shared>,
    slot: Arc<Slot>,
}

impl TunnelWriter {
    fn check(&self) -> Result<()> {
        let e = lock(&self.slot.end);
        if let Some(f) = &e.failure {
            return Err(Error::Transport(f.clone()));
        }
        if e.sent_fin {
            return Err(Error::Transport(format!(
                "{}: the connection's sending side is closed",
                self.shared.what
            )));
        }
        Ok(())
    }

    /// Send bytes to the Pod's port (waits while the tunnel is not taking them).
    pub fn write(&self, data: &[u8]) -> Result<()> {
        for chunk in data.chunks(MAX_SEND) {
            self.check()?;
            let mut buf = Vec::with_capacity(chunk.len() + 8);
            frame::data(&mut buf, self.slot.data_id, false, chunk);
            self.shared.send(buf)?;
        }
        Ok(())
    }

    /// Half-close: the Pod's port reads end of file; its answer can still be read.
    pub fn close_write(&self) -> Result<()> {
        self.check()?;
        let mut buf = Vec::with_capacity(8);
        frame::data(&mut buf, self.slot.data_id, true, &[]);
        lock(&self.slot.end).sent_fin = true;
        self.shared.send(buf)?;
        if self.slot.data.is_closed() {
            self.shared.forget(&self.slot);
        }
        Ok(())
    }
}

impl TunnelWriter {
    /// End the connection at once from any thread: a blocked read returns.
    pub fn abort(&self) {
        self.shared.abort(&self.slot);
    }

    /// Run `f` if the connection is reset (a stall, an abort) or its tunnel ends, at most
    /// once: e.g. close the local socket a writer may be blocked on.
    pub fn on_reset(&self, f: impl FnOnce() + Send + 'static) {
        lock(&self.slot.on_reset).0 = Some(Box::new(f));
    }

    /// Why the connection failed (a reset, a stall, the tunnel's end), if it did.
    pub fn failure(&self) -> Option<Error> {
        lock(&self.slot.end).failure.clone().map(Error::Transport)
    }

    /// Whether the connection has ended (nothing more will be read).
    pub fn is_finished(&self) -> bool {
        self.slot.data.is_closed()
    }
}

impl TunnelConn {
    /// The Pod's port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The writing half.
    pub fn writer(&self) -> TunnelWriter {
        TunnelWriter {
            shared: self.shared.clone(),
            slot: self.slot.clone(),
        }
    }

    /// The next piece of what the Pod's port sent, as it came (no copy); `Ok(None)` once it
    /// half-closed. Errors as [`TunnelConn::read`].
    pub fn next_chunk(&mut self) -> Result<Option<Vec<u8>>> {
        if !self.fill()? {
            return Ok(None);
        }
        let mut chunk = std::mem::take(&mut self.pending);
        if self.offset > 0 {
            chunk.drain(..self.offset);
        }
        self.offset = 0;
        Ok(Some(chunk))
    }

    /// Read bytes from the Pod's port; `Ok(0)` once it half-closed. The kubelet's error
    /// (nothing listens on the port, ...) or the tunnel's end is a transport error.
    pub fn read(&mut self, buf: &mut [u8]) -> Result<usize> {
        if !self.fill()? {
            return Ok(0);
        }
        let n = buf.len().min(self.pending.len() - self.offset);
        buf[..n].copy_from_slice(&self.pending[self.offset..self.offset + n]);
        self.offset += n;
        Ok(n)
    }

    /// Wait until bytes are pending; `false` at the end.
    fn fill(&mut self) -> Result<bool> {
        loop {
            if self.offset < self.pending.len() {
                return Ok(true);
            }
            match self.slot.data.pop(None) {
                Ok(m) => {
                    self.pending = m;
                    self.offset = 0;
                }
                Err(Ended::Interrupted) => return Err(Error::Cancelled),
                Err(Ended::TimedOut) => continue,
                Err(Ended::Closed) => {
                    let e = lock(&self.slot.end);
                    let text = String::from_utf8_lossy(&e.error_text).trim().to_owned();
                    if !text.is_empty() {
                        return Err(Error::Transport(format!("{}: {text}", self.shared.what)));
                    }
                    if let Some(f) = &e.failure {
                        return Err(Error::Transport(f.clone()));
                    }
                    return Ok(false);
                }
            }
        }
    }

    /// End the connection at once (a reset if it was not finished); from another thread,
    /// through [`TunnelWriter::abort`].
    pub fn abort(&self) {
        self.shared.abort(&self.slot);
    }
}

impl Drop for TunnelConn {
    fn drop(&mut self) {
        self.abort();
    }
}

/// Read a header from a SYN frame (the test peers use it).
pub fn header<'a>(h: &'a headers::Headers, name: &str) -> Option<&'a str> {
    headers::get(h, name)
}
