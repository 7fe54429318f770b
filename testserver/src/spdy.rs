//! The port-forward SPDY tunnel (`SPDY/3.1+portforward.k8s.io`), the kubelet's side of it as
//! kube-apiserver relays it: stream pairs (`streamType` error/data, `port`, `requestID`)
//! connected to `127.0.0.1:{port}`, a SYN_REPLY per stream, FIN for half-closes, and when
//! nothing listens on the port the kubelet's message on the error stream after the data
//! stream's FIN.
//!
//! Only for Pods named `spdy-…` (the others keep the per-connection protocol, as behind an
//! API server without tunnelling). Pod `spdy-die` drops the whole tunnel when a connection
//! sends `DIE`.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::Duration;

use incluster::core::spdy::frame::{self, Decoder, Encoder, Frame};
use incluster::core::spdy::tunnel::header;
use tungstenite::protocol::{Message, Role, WebSocketConfig};
use tungstenite::{WebSocket, handshake::derive_accept_key};

use crate::http::{Duplex, Reply};

/// The subprotocol.
pub const PROTOCOL: &str = "SPDY/3.1+portforward.k8s.io";

/// Whether to answer with the tunnel: a `spdy-…` Pod and a client offering it.
pub fn wanted(pod: &str, offered: &str) -> bool {
    pod.starts_with("spdy-") && offered.split(',').any(|p| p.trim() == PROTOCOL)
}

/// Upgrade to the tunnel.
pub fn upgrade(key: String, pod: String) -> Reply {
    Reply::Upgrade(Box::new(move |conn, peer| {
        let head = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: {}\r\nSec-WebSocket-Protocol: {PROTOCOL}\r\n\r\n",
            derive_accept_key(key.as_bytes())
        );
        conn.write_all(head.as_bytes())?;
        conn.flush()?;
        if let Some(p) = peer {
            // Reads time out, so frames from the pod's side go out between them.
            p.set_read_timeout(Some(Duration::from_millis(2)))?;
        }
        let cfg = WebSocketConfig::default().max_message_size(Some(64 << 20));
        let ws = WebSocket::from_raw_socket(conn, Role::Server, Some(cfg));
        let r = Peer::new(ws, pod == "spdy-die").run();
        if let Some(p) = peer {
            let _ = p.set_read_timeout(None);
        }
        r
    }))
}

struct Pair {
    error: Option<u32>,
    data: Option<u32>,
    port: u16,
}

struct Peer<'a> {
    ws: WebSocket<&'a mut dyn Duplex>,
    die_on_request: bool,
    enc: Encoder,
    dec: Decoder,
    pairs: HashMap<String, Pair>,
    /// Data stream id → the pod side's socket.
    targets: HashMap<u32, TcpStream>,
    out_tx: Sender<Vec<u8>>,
    out_rx: Receiver<Vec<u8>>,
}

impl<'a> Peer<'a> {
    fn new(ws: WebSocket<&'a mut dyn Duplex>, die_on_request: bool) -> Self {
        let (out_tx, out_rx) = channel();
        Peer {
            ws,
            die_on_request,
            enc: Encoder::new().expect("zlib"),
            dec: Decoder::new(),
            pairs: HashMap::new(),
            targets: HashMap::new(),
            out_tx,
            out_rx,
        }
    }

    fn send(&mut self, bytes: Vec<u8>) -> io::Result<()> {
        self.ws
            .send(Message::Binary(bytes.into()))
            .map_err(io::Error::other)
    }

    fn run(mut self) -> io::Result<()> {
        loop {
            while let Ok(b) = self.out_rx.try_recv() {
                self.send(b)?;
            }
            match self.ws.read() {
                Ok(Message::Binary(b)) => {
                    self.dec.feed(&b);
                    while let Some(f) = self.dec.next_frame().map_err(io::Error::other)? {
                        if !self.handle(f)? {
                            // Drop the tunnel without a word (a broken connection).
                            return Ok(());
                        }
                    }
                }
                Ok(Message::Close(_)) => return Ok(()),
                Ok(_) => {}
                Err(tungstenite::Error::Io(e))
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) => {}
                Err(_) => return Ok(()),
            }
        }
    }

    /// Handle one frame; `false` to drop the tunnel.
    fn handle(&mut self, f: Frame) -> io::Result<bool> {
        match f {
            Frame::SynStream {
                stream, headers, ..
            } => {
                let mut reply = Vec::new();
                self.enc
                    .syn_reply(&mut reply, stream, false, &[])
                    .map_err(io::Error::other)?;
                self.send(reply)?;
                let kind = header(&headers, "streamtype").unwrap_or("").to_owned();
                let port = header(&headers, "port")
                    .and_then(|p| p.parse().ok())
                    .unwrap_or(0);
                let id = header(&headers, "requestid").unwrap_or("").to_owned();
                let p = self.pairs.entry(id.clone()).or_insert(Pair {
                    error: None,
                    data: None,
                    port,
                });
                match kind.as_str() {
                    "error" => p.error = Some(stream),
                    _ => p.data = Some(stream),
                }
                if let (Some(e), Some(d)) = (p.error, p.data) {
                    let port = p.port;
                    self.pairs.remove(&id);
                    self.connect(e, d, port)?;
                }
            }
            Frame::Data { stream, fin, data } => {
                if self.die_on_request && data.windows(3).any(|w| w == b"DIE") {
                    return Ok(false);
                }
                if let Some(t) = self.targets.get_mut(&stream) {
                    if !data.is_empty() && t.write_all(&data).is_err() {
                        self.targets.remove(&stream);
                    } else if fin {
                        let _ = t.shutdown(Shutdown::Write);
                    }
                }
            }
            Frame::RstStream { stream, .. } => {
                if let Some(t) = self.targets.remove(&stream) {
                    let _ = t.shutdown(Shutdown::Both);
                }
            }
            Frame::Ping { id } if id % 2 == 1 => {
                let mut b = Vec::new();
                frame::ping(&mut b, id);
                self.send(b)?;
            }
            _ => {}
        }
        Ok(true)
    }

    fn connect(&mut self, error: u32, data: u32, port: u16) -> io::Result<()> {
        let target = match TcpStream::connect(("127.0.0.1", port)) {
            Ok(t) => t,
            Err(e) => {
                // What kube-apiserver 1.36 relays from the kubelet, in this order (its
                // streams are served by different workers): the data stream's FIN, then
                // the message on the error stream, then a reset of the error stream.
                let msg = format!(
                    "error forwarding port {port} to pod, uid : failed to connect to \
                     localhost:{port}: {e}"
                );
                let mut b = Vec::new();
                frame::data(&mut b, data, true, &[]);
                frame::data(&mut b, error, false, msg.as_bytes());
                frame::rst_stream(&mut b, error, frame::CANCEL);
                return self.send(b);
            }
        };
        let mut reader = target.try_clone()?;
        self.targets.insert(data, target);
        let tx = self.out_tx.clone();
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 32 * 1024];
            loop {
                match reader.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        let mut b = Vec::with_capacity(n + 8);
                        frame::data(&mut b, data, false, &buf[..n]);
                        if tx.send(b).is_err() {
                            return;
                        }
                    }
                }
            }
            // The pod closed its side: FIN on both streams, as the kubelet's Close() does.
            let mut b = Vec::new();
            frame::data(&mut b, error, true, &[]);
            frame::data(&mut b, data, true, &[]);
            let _ = tx.send(b);
        });
        Ok(())
    }
}
