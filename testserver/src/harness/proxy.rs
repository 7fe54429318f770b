//! A small HTTP `CONNECT` proxy on loopback for the tests of upgraded connections (exec,
//! attach, port-forward): it records every request head it was sent and every byte it
//! tunnelled toward the server, so a test can check where the client asked to go and that
//! nothing it sent was readable on the way (TLS from end to end).

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// What the proxy answers to a `CONNECT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyAnswer {
    /// `200 Connection established`, then the bytes are relayed both ways.
    Tunnel,
    /// This status (403, 407, …) and the connection closes.
    Refuse(u16),
}

#[derive(Debug, Default)]
struct Seen {
    heads: Vec<String>,
    upstream: Vec<u8>,
}

/// A running proxy; it stops accepting when dropped (tunnels already open run to their end).
#[derive(Debug)]
pub struct ConnectProxy {
    port: u16,
    seen: Arc<Mutex<Seen>>,
}

impl ConnectProxy {
    /// Start a proxy on 127.0.0.1 answering every `CONNECT` with `answer`.
    pub fn start(answer: ProxyAnswer) -> ConnectProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        let port = listener.local_addr().expect("proxy address").port();
        let seen: Arc<Mutex<Seen>> = Arc::default();
        let seen2 = seen.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { return };
                let seen = seen2.clone();
                std::thread::spawn(move || serve(conn, answer, &seen));
            }
        });
        ConnectProxy { port, seen }
    }

    /// The proxy's URL, for `HTTPS_PROXY` or a kubeconfig's `proxy-url`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The proxy's port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Every request head received so far (request line and headers, as sent).
    pub fn heads(&self) -> Vec<String> {
        self.lock().heads.clone()
    }

    /// Every byte relayed from the clients toward the servers so far.
    pub fn upstream_bytes(&self) -> Vec<u8> {
        self.lock().upstream.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Seen> {
        self.seen.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn serve(mut conn: TcpStream, answer: ProxyAnswer, seen: &Mutex<Seen>) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(30)));
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match conn.read(&mut b) {
            Ok(1) => head.push(b[0]),
            _ => return,
        }
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    seen.lock()
        .unwrap_or_else(PoisonError::into_inner)
        .heads
        .push(head.clone());
    let target = head
        .split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .to_owned();
    let code = match answer {
        ProxyAnswer::Refuse(code) => code,
        ProxyAnswer::Tunnel if !head.starts_with("CONNECT ") => 405,
        ProxyAnswer::Tunnel => 200,
    };
    if code != 200 {
        let reason = match code {
            403 => "Forbidden",
            407 => "Proxy Authentication Required",
            _ => "Refused",
        };
        let _ = write!(
            conn,
            "HTTP/1.1 {code} {reason}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
        return;
    }
    let Ok(upstream) = TcpStream::connect(&target) else {
        let _ = conn.write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n");
        return;
    };
    let _ = conn.set_read_timeout(None);
    if conn
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .is_err()
    {
        return;
    }
    let (mut c2, mut u2) = match (conn.try_clone(), upstream.try_clone()) {
        (Ok(c), Ok(u)) => (c, u),
        _ => return,
    };
    // Server to client: relayed as is.
    let down = std::thread::spawn(move || {
        let _ = std::io::copy(&mut u2, &mut c2);
        let _ = c2.shutdown(Shutdown::Write);
    });
    // Client to server: relayed and recorded.
    let mut up = upstream;
    let mut buf = [0u8; 16 * 1024];
    loop {
        match conn.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                seen.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .upstream
                    .extend_from_slice(&buf[..n]);
                if up.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = up.shutdown(Shutdown::Write);
    let _ = down.join();
}
