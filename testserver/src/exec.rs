//! The exec endpoint: a WebSocket with the Kubernetes channel protocol that really runs the
//! command (in a scratch folder), like a kubelet behind the API server.
//!
//! The Pod's name picks a fault (any other name runs the command normally):
//!
//! | pod | what happens |
//! | --- | --- |
//! | `fault-forbidden` | 403, as RBAC without `create` on `pods/exec` answers |
//! | `fault-no-answer` | the upgrade is never answered |
//! | `fault-close-mid-frame` | a frame header announcing 1000 bytes, 10 of them, then close |
//! | `fault-unknown-channel` | a message on channel 7 before the command's output |
//! | `fault-huge-frame` | one stdout message of 9 MiB |
//! | `fault-drop` | the command's output, then the connection closes without an exit status |
//! | `v4-…` | only `v4.channel.k8s.io` is accepted (no stdin close) |
//!
//! With `tty=true`, stderr goes to channel 1 and each resize message is answered on stdout
//! with a line `resize WxH` (there is no real terminal), so tests can see resizes arrive.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, TrySendError, sync_channel};
use std::time::Duration;

use tungstenite::protocol::{Message, Role, WebSocketConfig};
use tungstenite::{WebSocket, handshake::derive_accept_key};

use crate::api::status_response;
use crate::http::{Reply, Request};

const V5: &str = "v5.channel.k8s.io";
const V4: &str = "v4.channel.k8s.io";

/// Route `…/pods/{pod}/exec` (and attach, which runs nothing and just ends).
pub fn upgrade(req: &Request, pod: &str) -> Reply {
    let Some(key) = req.header("sec-websocket-key").map(str::to_owned) else {
        return status_response(400, "exec needs a WebSocket upgrade", Some("BadRequest")).into();
    };
    if pod == "fault-forbidden" {
        return status_response(
            403,
            &format!(
                "pods \"{pod}\" is forbidden: User \"system:serviceaccount:default:test\" \
                 cannot create resource \"pods/exec\" in API group \"\" in the namespace \
                 \"default\""
            ),
            Some("Forbidden"),
        )
        .into();
    }
    if pod == "fault-no-answer" {
        return Reply::Raw(Box::new(|_, peer| {
            for _ in 0..600 {
                if peer.is_some_and(peer_gone) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            Ok(())
        }));
    }
    let offered: Vec<String> = req
        .header("sec-websocket-protocol")
        .unwrap_or("")
        .split(',')
        .map(|p| p.trim().to_owned())
        .collect();
    let accept: &[&str] = if pod.starts_with("v4-") {
        &[V4]
    } else {
        &[V5, V4]
    };
    let Some(proto) = accept.iter().find(|p| offered.iter().any(|o| o == *p)) else {
        return status_response(
            400,
            "no supported subprotocol (v5.channel.k8s.io, v4.channel.k8s.io)",
            Some("BadRequest"),
        )
        .into();
    };
    let proto = (*proto).to_owned();
    let command: Vec<String> = req
        .query
        .iter()
        .filter(|(k, _)| k == "command")
        .map(|(_, v)| v.clone())
        .collect();
    let flag = |name: &str| req.param(name).is_some_and(|v| v == "true" || v == "1");
    let spec = Spec {
        command,
        stdin: flag("stdin"),
        tty: flag("tty"),
        v5: proto == V5,
        fault: pod.to_owned(),
    };
    Reply::Upgrade(Box::new(move |conn, peer| {
        let head = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: {}\r\nSec-WebSocket-Protocol: {proto}\r\n\r\n",
            derive_accept_key(key.as_bytes())
        );
        conn.write_all(head.as_bytes())?;
        conn.flush()?;
        session(conn, peer, spec)
    }))
}

fn peer_gone(p: &TcpStream) -> bool {
    let mut b = [0u8; 1];
    let _ = p.set_nonblocking(true);
    let r = matches!(p.peek(&mut b), Ok(0));
    let _ = p.set_nonblocking(false);
    r
}

struct Spec {
    command: Vec<String>,
    stdin: bool,
    tty: bool,
    v5: bool,
    fault: String,
}

/// Output of the command's pipes, to the session loop.
enum Piece {
    Data(u8, Vec<u8>),
    Eof,
}

fn pump(mut r: impl Read, ch: u8, tx: SyncSender<Piece>) {
    let mut buf = vec![0u8; 32 * 1024];
    loop {
        match r.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if tx.send(Piece::Data(ch, buf[..n].to_vec())).is_err() {
                    return;
                }
            }
        }
    }
    let _ = tx.send(Piece::Eof);
}

fn frame(ch: u8, data: &[u8]) -> Message {
    let mut m = Vec::with_capacity(data.len() + 1);
    m.push(ch);
    m.extend_from_slice(data);
    Message::Binary(m.into())
}

fn scratch() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("incluster-testserver-exec-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&d);
    d
}

fn session(
    conn: &mut dyn crate::http::Duplex,
    peer: Option<&TcpStream>,
    spec: Spec,
) -> io::Result<()> {
    match spec.fault.as_str() {
        "fault-close-mid-frame" => {
            // FIN + binary, 16-bit length 1000, then only 10 bytes of payload.
            conn.write_all(&[0x82, 126, 0x03, 0xE8])?;
            conn.write_all(&[1; 10])?;
            return conn.flush();
        }
        "fault-huge-frame" => {
            let len: u64 = 9 * 1024 * 1024;
            let mut head = vec![0x82, 127];
            head.extend_from_slice(&len.to_be_bytes());
            conn.write_all(&head)?;
            let chunk = vec![b'x'; 64 * 1024];
            for _ in 0..(len / chunk.len() as u64) {
                conn.write_all(&chunk)?;
            }
            return conn.flush();
        }
        _ => {}
    }
    let cfg = WebSocketConfig::default()
        .max_message_size(Some(64 << 20))
        .max_frame_size(Some(64 << 20));
    let mut ws = WebSocket::from_raw_socket(conn, Role::Server, Some(cfg));
    if spec.fault == "fault-unknown-channel" {
        ws.send(frame(7, b"?")).map_err(io::Error::other)?;
    }
    if let Some(p) = peer {
        // Short read timeouts: the loop alternates between the client's messages and the
        // command's output.
        p.set_read_timeout(Some(Duration::from_millis(2)))?;
    }
    let status = run(&mut ws, &spec);
    if let Some(p) = peer {
        let _ = p.set_read_timeout(None);
    }
    let status = match status {
        Ok(s) => s,
        Err(_) => return Ok(()),
    };
    if spec.fault == "fault-drop" {
        return Ok(());
    }
    ws.send(frame(3, status.as_bytes()))
        .map_err(io::Error::other)?;
    let _ = ws.close(None);
    let _ = ws.flush();
    Ok(())
}

fn status_json(code: Option<i32>) -> String {
    match code {
        Some(0) => r#"{"metadata":{},"status":"Success"}"#.to_owned(),
        Some(c) => format!(
            r#"{{"metadata":{{}},"status":"Failure","message":"command terminated with non-zero exit code: exit status {c}","reason":"NonZeroExitCode","details":{{"causes":[{{"reason":"ExitCode","message":"{c}"}}]}}}}"#
        ),
        None => r#"{"metadata":{},"status":"Failure","message":"command killed by a signal","reason":"InternalError"}"#.to_owned(),
    }
}

fn run<S: Read + Write>(ws: &mut WebSocket<S>, spec: &Spec) -> io::Result<String> {
    if spec.command.is_empty() {
        // attach: nothing to run here; the process "exits" at once.
        return Ok(status_json(Some(0)));
    }
    let mut cmd = Command::new(&spec.command[0]);
    cmd.args(&spec.command[1..])
        .current_dir(scratch())
        .stdin(if spec.stdin {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            let msg = serde_json::json!({
                "metadata": {}, "status": "Failure", "reason": "InternalError", "code": 500,
                "message": format!("exec: {:?}: {e}", spec.command[0]),
            });
            return Ok(msg.to_string());
        }
    };
    let (tx, rx): (SyncSender<Piece>, Receiver<Piece>) = sync_channel(8);
    let out = child.stdout.take().map(|o| {
        let tx = tx.clone();
        std::thread::spawn(move || pump(o, 1, tx))
    });
    let err_ch = if spec.tty { 1 } else { 2 };
    let err = child.stderr.take().map(|e| {
        let tx = tx.clone();
        std::thread::spawn(move || pump(e, err_ch, tx))
    });
    drop(tx);
    let (in_tx, in_rx) = sync_channel::<Vec<u8>>(8);
    let mut in_tx = Some(in_tx);
    let stdin_thread = child.stdin.take().map(|mut si| {
        std::thread::spawn(move || {
            while let Ok(b) = in_rx.recv() {
                if si.write_all(&b).is_err() {
                    break;
                }
            }
        })
    });
    if stdin_thread.is_none() {
        in_tx = None;
    }
    let mut eofs = 0;
    let mut pending: Option<Vec<u8>> = None;
    let mut client_gone = false;
    loop {
        // The command's output first.
        loop {
            match rx.try_recv() {
                Ok(Piece::Data(ch, b)) => ws.send(frame(ch, &b)).map_err(io::Error::other)?,
                Ok(Piece::Eof) => eofs += 1,
                Err(TryRecvError::Empty) | Err(TryRecvError::Disconnected) => break,
            }
        }
        if let (Some(b), Some(tx)) = (pending.take(), in_tx.as_ref()) {
            match tx.try_send(b) {
                Ok(()) => {}
                Err(TrySendError::Full(b)) => pending = Some(b),
                Err(TrySendError::Disconnected(_)) => in_tx = None,
            }
        }
        if eofs == 2 {
            break;
        }
        if pending.is_some() || client_gone {
            std::thread::sleep(Duration::from_millis(1));
            continue;
        }
        match ws.read() {
            Ok(Message::Binary(b)) if !b.is_empty() => match b[0] {
                0 if in_tx.is_some() => pending = Some(b[1..].to_vec()),
                255 if spec.v5 && b.get(1) == Some(&0) => in_tx = None,
                4 if spec.tty => {
                    let v: serde_json::Value = serde_json::from_slice(&b[1..]).unwrap_or_default();
                    let line = format!("resize {}x{}\n", v["Width"], v["Height"]);
                    ws.send(frame(1, line.as_bytes()))
                        .map_err(io::Error::other)?;
                }
                _ => {}
            },
            Ok(Message::Close(_)) => client_gone = true,
            Ok(_) => {}
            Err(tungstenite::Error::Io(e))
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) => {}
            Err(_) => {
                // The client went away: end the command as the kubelet would not (it runs
                // on), but a test server must not leak processes.
                let _ = child.kill();
                let _ = child.wait();
                return Err(io::Error::other("client gone"));
            }
        }
    }
    drop(in_tx);
    for t in [out, err].into_iter().flatten() {
        let _ = t.join();
    }
    let code = child.wait()?.code();
    if let Some(t) = stdin_thread {
        let _ = t.join();
    }
    Ok(status_json(code))
}
