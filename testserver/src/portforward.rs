//! The port-forward endpoint: the kubelet's WebSocket port-forward (`v4.channel.k8s.io`,
//! channel 0 data and 1 error, each opened with the port as 2 bytes little-endian), connected
//! to `127.0.0.1:{port}` on the test machine (the "pod" is the host).
//!
//! Pods `spdy-…` answer a client that offers kubectl's SPDY tunnel with it (`spdy.rs`).
//! Pod `fault-forbidden` answers 403; a port nobody listens on gets the kubelet's error
//! message on the error channel.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::mpsc::{TryRecvError, TrySendError, sync_channel};
use std::time::Duration;

use tungstenite::protocol::{Message, Role, WebSocketConfig};
use tungstenite::{WebSocket, handshake::derive_accept_key};

use crate::api::status_response;
use crate::http::{Reply, Request};

const PROTOCOL: &str = "v4.channel.k8s.io";

/// Route `…/pods/{pod}/portforward?ports=N`.
pub fn upgrade(req: &Request, pod: &str) -> Reply {
    let Some(key) = req.header("sec-websocket-key").map(str::to_owned) else {
        return status_response(400, "port-forward needs a WebSocket upgrade", None).into();
    };
    if pod == "fault-forbidden" {
        return status_response(
            403,
            &format!(
                "pods \"{pod}\" is forbidden: User \"system:serviceaccount:default:test\" \
                 cannot create resource \"pods/portforward\" in API group \"\""
            ),
            Some("Forbidden"),
        )
        .into();
    }
    let offered = req.header("sec-websocket-protocol").unwrap_or("");
    if crate::spdy::wanted(pod, offered) {
        return crate::spdy::upgrade(key, pod.to_owned());
    }
    if !offered.split(',').any(|p| p.trim() == PROTOCOL) {
        return status_response(400, "port-forward speaks v4.channel.k8s.io", None).into();
    }
    let Some(port) = req.param("ports").and_then(|p| p.parse::<u16>().ok()) else {
        return status_response(400, "ports must be one port number", None).into();
    };
    Reply::Upgrade(Box::new(move |conn, peer| {
        let head = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: {}\r\nSec-WebSocket-Protocol: {PROTOCOL}\r\n\r\n",
            derive_accept_key(key.as_bytes())
        );
        conn.write_all(head.as_bytes())?;
        conn.flush()?;
        let cfg = WebSocketConfig::default().max_message_size(Some(64 << 20));
        let mut ws = WebSocket::from_raw_socket(conn, Role::Server, Some(cfg));
        let prefix = port.to_le_bytes();
        for ch in [0u8, 1] {
            ws.send(Message::Binary(vec![ch, prefix[0], prefix[1]].into()))
                .map_err(io::Error::other)?;
        }
        let target = match TcpStream::connect(("127.0.0.1", port)) {
            Ok(t) => t,
            Err(e) => {
                let msg = format!(
                    "error forwarding port {port} to pod, uid : failed to connect to localhost:{port}: {e}"
                );
                let mut m = vec![1u8];
                m.extend_from_slice(msg.as_bytes());
                ws.send(Message::Binary(m.into()))
                    .map_err(io::Error::other)?;
                let _ = ws.close(None);
                let _ = ws.flush();
                return Ok(());
            }
        };
        if let Some(p) = peer {
            p.set_read_timeout(Some(Duration::from_millis(2)))?;
        }
        let r = splice(&mut ws, target);
        if let Some(p) = peer {
            let _ = p.set_read_timeout(None);
        }
        r
    }))
}

fn splice<S: Read + Write>(ws: &mut WebSocket<S>, target: TcpStream) -> io::Result<()> {
    let (tx, rx) = sync_channel::<Option<Vec<u8>>>(8);
    let mut reader = target.try_clone()?;
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 32 * 1024];
        loop {
            match reader.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if tx.send(Some(buf[..n].to_vec())).is_err() {
                        return;
                    }
                }
            }
        }
        let _ = tx.send(None);
    });
    let (wtx, wrx) = sync_channel::<Vec<u8>>(8);
    let mut writer = target.try_clone()?;
    let wthread = std::thread::spawn(move || {
        while let Ok(b) = wrx.recv() {
            if writer.write_all(&b).is_err() {
                break;
            }
        }
    });
    let mut pending: Option<Vec<u8>> = None;
    let mut wtx = Some(wtx);
    loop {
        loop {
            match rx.try_recv() {
                Ok(Some(b)) => {
                    let mut m = Vec::with_capacity(b.len() + 1);
                    m.push(0);
                    m.extend_from_slice(&b);
                    ws.send(Message::Binary(m.into()))
                        .map_err(io::Error::other)?;
                }
                // The pod side closed: so does the kubelet's stream.
                Ok(None) | Err(TryRecvError::Disconnected) => {
                    let _ = ws.close(None);
                    let _ = ws.flush();
                    drop(wtx);
                    let _ = target.shutdown(std::net::Shutdown::Both);
                    let _ = wthread.join();
                    return Ok(());
                }
                Err(TryRecvError::Empty) => break,
            }
        }
        if let (Some(b), Some(tx)) = (pending.take(), wtx.as_ref()) {
            match tx.try_send(b) {
                Ok(()) => {}
                Err(TrySendError::Full(b)) => pending = Some(b),
                Err(TrySendError::Disconnected(_)) => wtx = None,
            }
        }
        if pending.is_some() {
            std::thread::sleep(Duration::from_millis(1));
            continue;
        }
        match ws.read() {
            Ok(Message::Binary(b)) if b.first() == Some(&0) && b.len() > 1 => {
                pending = Some(b[1..].to_vec())
            }
            Ok(Message::Close(_)) => {
                let _ = target.shutdown(std::net::Shutdown::Both);
                return Ok(());
            }
            Ok(_) => {}
            Err(tungstenite::Error::Io(e))
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) => {}
            Err(_) => {
                let _ = target.shutdown(std::net::Shutdown::Both);
                return Ok(());
            }
        }
    }
}
