//! The project's loopback test API server: a tiny Kubernetes API look-alike over HTTPS (or
//! plain HTTP with `--plain`), with fault-injection routes and a control API for tests.
//!
//! ```text
//! testserver --dir DIR [--listen ADDR]... [--plain] [--token TOKEN]...
//!            [--cert good|expired|not-yet-valid|wrong-san]
//! ```
//!
//! `--cert` picks a broken server certificate for TLS failure tests (see `certs.rs`); the CA
//! in `ca.crt` is valid either way.
//!
//! It writes `DIR/ca.crt` (the CA that signed its certificate), `DIR/other-ca.crt` (an
//! unrelated CA) and `DIR/server.json`, then prints one line `READY {json}` on stdout. It
//! exits when its stdin reaches end of file, so a test harness that dies never leaves it
//! behind. See `api.rs` for the routes, `watch.rs` for watches and their fault injection,
//! `pods.rs` and `logs.rs` for pods and their logs.

mod api;
mod certs;
mod discovery;
mod exec;
mod hostile;
mod http;
mod leases;
mod logbench;
mod logs;
mod patch;
mod pods;
mod podtemplate;
mod portforward;
mod select;
mod spdy;
mod store;
mod timefmt;
mod watch;
mod watchbench;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use rustls::ServerConfig;
use serde_json::json;

use crate::api::State;

const USAGE: &str = "usage: testserver --dir DIR [--listen ADDR]... [--plain] [--token TOKEN]... \
                     [--cert good|expired|not-yet-valid|wrong-san]";

struct Args {
    dir: PathBuf,
    listen: Vec<SocketAddr>,
    plain: bool,
    tokens: Vec<String>,
    cert: certs::Leaf,
}

fn parse_args() -> Result<Args, String> {
    let mut dir = None;
    let mut listen = Vec::new();
    let mut plain = false;
    let mut tokens = Vec::new();
    let mut cert = certs::Leaf::Good;
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        // Accept both `--flag value` and `--flag=value`.
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| {
            inline
                .clone()
                .or_else(|| it.next())
                .ok_or_else(|| format!("{name} needs a value\n{USAGE}"))
        };
        match flag.as_str() {
            "--dir" => dir = Some(PathBuf::from(value("--dir")?)),
            "--listen" => {
                let v = value("--listen")?;
                listen.push(
                    v.parse()
                        .map_err(|_| format!("--listen {v:?} is not an IP:PORT address"))?,
                );
            }
            // Deliberately never echo the value: it is a secret.
            "--token" => tokens.push(value("--token")?),
            "--plain" => plain = true,
            "--cert" => cert = certs::Leaf::parse(&value("--cert")?)?,
            "-h" | "--help" => return Err(USAGE.to_owned()),
            _ => return Err(format!("unknown argument {flag:?}\n{USAGE}")),
        }
    }
    let dir = dir.ok_or_else(|| format!("--dir is required\n{USAGE}"))?;
    if listen.is_empty() {
        listen.push(SocketAddr::from(([127, 0, 0, 1], 0)));
    }
    Ok(Args {
        dir,
        listen,
        plain,
        tokens,
        cert,
    })
}

fn run() -> Result<(), String> {
    let args = parse_args()?;
    std::fs::create_dir_all(&args.dir)
        .map_err(|e| format!("cannot create {}: {e}", args.dir.display()))?;
    let write = |name: &str, contents: &[u8]| {
        let p = args.dir.join(name);
        std::fs::write(&p, contents).map_err(|e| format!("cannot write {}: {e}", p.display()))
    };

    // The certificates are written even with --plain, so a harness can always rely on them.
    let pki = certs::generate(args.cert)?;
    write("ca.crt", pki.ca_pem.as_bytes())?;
    write("other-ca.crt", pki.other_ca_pem.as_bytes())?;
    let tls = if args.plain {
        None
    } else {
        Some(certs::server_config(&pki)?)
    };

    let scheme = if args.plain { "http" } else { "https" };
    let mut listeners = Vec::new();
    let mut urls = Vec::new();
    for addr in &args.listen {
        let l = TcpListener::bind(addr).map_err(|e| format!("cannot listen on {addr}: {e}"))?;
        let local = l
            .local_addr()
            .map_err(|e| format!("cannot read the address of {addr}: {e}"))?;
        // SocketAddr's Display brackets IPv6 addresses: https://[::1]:PORT.
        urls.push(format!("{scheme}://{local}"));
        listeners.push((l, local.port()));
    }
    let port = listeners[0].1;
    // Built by hand to keep the documented key order (serde_json sorts object keys).
    let ready = format!(
        r#"{{"url":{},"urls":{},"port":{port}}}"#,
        json!(urls[0]),
        json!(urls)
    );
    write("server.json", ready.as_bytes())?;

    let state = Arc::new(State::new(args.plain, args.tokens));
    for (l, _) in listeners {
        let state = state.clone();
        let tls = tls.clone();
        std::thread::Builder::new()
            .name("accept".into())
            .spawn(move || accept_loop(l, state, tls))
            .map_err(|e| format!("cannot start a thread: {e}"))?;
    }

    let mut out = std::io::stdout().lock();
    writeln!(out, "READY {ready}")
        .and_then(|_| out.flush())
        .map_err(|e| format!("cannot write to stdout: {e}"))?;
    drop(out);

    // Serve until stdin closes: the harness holds the other end, so its death ends us too.
    let mut sink = [0u8; 256];
    let mut stdin = std::io::stdin().lock();
    while matches!(stdin.read(&mut sink), Ok(n) if n > 0) {}
    Ok(())
}

fn accept_loop(listener: TcpListener, state: Arc<State>, tls: Option<Arc<ServerConfig>>) {
    for conn in listener.incoming() {
        let stream = match conn {
            Ok(s) => s,
            Err(_) => {
                // EMFILE and friends: back off instead of spinning.
                std::thread::sleep(Duration::from_millis(10));
                continue;
            }
        };
        let state = state.clone();
        let tls = tls.clone();
        // If no thread can be started the connection is simply dropped.
        let _ = std::thread::Builder::new()
            .name("conn".into())
            .spawn(move || connection(stream, &state, tls));
    }
}

fn connection(stream: TcpStream, state: &State, tls: Option<Arc<ServerConfig>>) {
    let _ = stream.set_nodelay(true);
    // A second handle on the socket, so a streamed response can notice the client leaving.
    let peer = stream.try_clone().ok();
    let handle = |req: &http::Request| state.handle(req);
    match tls {
        None => http::serve(stream, peer, &handle),
        Some(cfg) => {
            let Ok(conn) = rustls::ServerConnection::new(cfg) else {
                return;
            };
            // The handshake happens on the first read; a client that rejects our
            // certificate just ends the connection there.
            http::serve(rustls::StreamOwned::new(conn, stream), peer, &handle);
        }
    }
}

fn main() {
    match run() {
        Ok(()) => std::process::exit(0),
        Err(e) => {
            eprintln!("testserver: {e}");
            std::process::exit(2);
        }
    }
}
