//! Port-forward through the core (one WebSocket per connection, or the SPDY tunnel for the
//! test server's `spdy-…` Pods), against the test server's port-forward
//! endpoint (which connects to 127.0.0.1:PORT, where these tests run small TCP servers).

use incluster_testserver::harness as common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};

use common::TestServer;
use incluster::core::portforward::{Forwarder, PortForward, Transport};
use incluster::core::spdy::tunnel::STALL_LIMIT;
use incluster::{Client, ErrorKind};

const TOKEN: &str = "tok-pf-tests";

fn setup() -> (TestServer, Client) {
    let s = TestServer::start(&["--token", TOKEN]);
    let c = Client::new(s.config().with_token(TOKEN)).unwrap();
    (s, c)
}

/// A TCP server on a free port: echoes each connection until its end of file.
fn echo_server() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            std::thread::spawn(move || {
                let mut r = s.try_clone().unwrap();
                let mut w = s;
                let _ = std::io::copy(&mut r, &mut w);
            });
        }
    });
    port
}

/// A TCP server that sends `n` bytes of a known pattern to each connection, then closes.
fn download_server(n: usize) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut s in l.incoming().flatten() {
            std::thread::spawn(move || {
                let block: Vec<u8> = (0..65536u32).map(|i| (i % 251) as u8).collect();
                let mut left = n;
                while left > 0 {
                    let k = left.min(block.len());
                    if s.write_all(&block[..k]).is_err() {
                        return;
                    }
                    left -= k;
                }
            });
        }
    });
    port
}

#[test]
fn bytes_go_to_the_pod_port_and_back() {
    let (_s, c) = setup();
    let port = echo_server();
    let mut pf = PortForward::open(&c, "web", None, port).unwrap();
    let w = pf.writer();
    w.write(b"hello through the tunnel").unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 64];
    while got.len() < 24 {
        let n = pf.read(&mut buf).unwrap();
        assert!(n > 0, "closed early");
        got.extend_from_slice(&buf[..n]);
    }
    assert_eq!(got, b"hello through the tunnel");
}

#[test]
fn the_listener_forwards_many_connections_and_a_large_download() {
    let (_s, c) = setup();
    let echo = echo_server();
    let f = Forwarder::start(&c, "web", None, 0, echo, None).unwrap();
    let addr = f.local_addr();
    assert!(addr.ip().is_loopback());
    for i in 0..100 {
        let mut s = TcpStream::connect(addr).unwrap();
        let msg = format!("request {i}\n");
        s.write_all(msg.as_bytes()).unwrap();
        let mut back = vec![0u8; msg.len()];
        s.read_exact(&mut back).unwrap();
        assert_eq!(back, msg.as_bytes());
    }
    let size = 16 << 20;
    let dl = download_server(size);
    let f2 = Forwarder::start(&c, "web", None, 0, dl, None).unwrap();
    let mut s = TcpStream::connect(f2.local_addr()).unwrap();
    let mut total = 0usize;
    let mut buf = vec![0u8; 65536];
    loop {
        let n = s.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        for (i, b) in buf[..n].iter().enumerate() {
            assert_eq!(*b, (((total + i) % 65536) % 251) as u8);
        }
        total += n;
    }
    assert_eq!(total, size);
}

#[test]
fn errors_name_the_port_or_the_rbac_verb() {
    let (_s, c) = setup();
    // A port nobody listens on (bound then released).
    let free = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut pf = PortForward::open(&c, "web", None, free).unwrap();
    let e = pf.read(&mut [0u8; 16]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Transport, "{e}");
    assert!(e.to_string().contains(&format!("port {free}")), "{e}");
    let e = PortForward::open(&c, "fault-forbidden", None, 80).unwrap_err();
    assert_eq!(e.api().map(|a| a.status), Some(403));
    assert!(
        e.to_string().contains("`create` on `pods/portforward`"),
        "{e}"
    );
    let e = PortForward::open(&c, "web", None, 0).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
}

/// The local end of one forwarded connection: sends `msg`, half-closes, reads to the end.
fn echo_round(addr: std::net::SocketAddr, msg: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(std::time::Duration::from_secs(30)))?;
    s.write_all(msg)?;
    s.shutdown(std::net::Shutdown::Write)?;
    let mut back = Vec::new();
    s.read_to_end(&mut back)?;
    Ok(back)
}

/// Events a listener reported, shared with the test.
fn events() -> (
    std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    std::sync::Arc<incluster::core::portforward::ForwardEvent>,
) {
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let s2 = seen.clone();
    let f: std::sync::Arc<incluster::core::portforward::ForwardEvent> =
        std::sync::Arc::new(move |m: &str| s2.lock().unwrap().push(m.to_owned()));
    (seen, f)
}

#[test]
fn a_server_without_the_spdy_tunnel_gets_a_websocket_per_connection() {
    let (_s, c) = setup();
    let f = Forwarder::start(&c, "web", None, 0, echo_server(), None).unwrap();
    assert_eq!(f.transport(), Transport::WebSocketPerConnection);
    // (No half-close in that protocol: the answer is read before the connection ends.)
    let mut s = TcpStream::connect(f.local_addr()).unwrap();
    s.write_all(b"old").unwrap();
    let mut back = [0u8; 3];
    s.read_exact(&mut back).unwrap();
    assert_eq!(&back, b"old");
}

#[test]
fn concurrent_connections_share_one_tunnel_and_half_close_both_ways() {
    let (_s, c) = setup();
    let f = Forwarder::start(&c, "spdy-web", None, 0, echo_server(), None).unwrap();
    assert_eq!(f.transport(), Transport::SpdyTunnel);
    let addr = f.local_addr();
    let threads: Vec<_> = (0..40)
        .map(|i| {
            std::thread::spawn(move || {
                // Each sends more than one frame's worth, then its end of file: the echo
                // server sees the FIN, answers everything and closes, which ends the read.
                let msg: Vec<u8> = (0..100_000u32).map(|k| ((k + i) % 253) as u8).collect();
                (echo_round(addr, &msg).unwrap(), msg)
            })
        })
        .collect();
    for t in threads {
        let (back, msg) = t.join().unwrap();
        assert_eq!(back.len(), msg.len());
        assert!(back == msg);
    }
    // A second port of the same session rides the same tunnel.
    let size = 8 << 20;
    let f2 = f.also(0, download_server(size), None).unwrap();
    assert_eq!(f2.transport(), Transport::SpdyTunnel);
    let mut s = TcpStream::connect(f2.local_addr()).unwrap();
    let mut all = Vec::new();
    s.read_to_end(&mut all).unwrap();
    assert_eq!(all.len(), size);
}

#[test]
fn a_refused_pod_port_fails_only_its_own_connection() {
    let (_s, c) = setup();
    let free = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (seen, ev) = events();
    let bad = Forwarder::start(&c, "spdy-web", None, 0, free, Some(ev)).unwrap();
    let good = bad.also(0, echo_server(), None).unwrap();
    // A connection open across the refusal keeps working.
    let mut held = TcpStream::connect(good.local_addr()).unwrap();
    held.write_all(b"before ").unwrap();
    let back = echo_round(bad.local_addr(), b"x").unwrap_or_default();
    assert!(back.is_empty());
    held.write_all(b"after").unwrap();
    held.shutdown(std::net::Shutdown::Write).unwrap();
    let mut got = Vec::new();
    held.read_to_end(&mut got).unwrap();
    assert_eq!(got, b"before after");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while seen.lock().unwrap().is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert!(
        seen[0].contains(&format!("error forwarding port {free}")),
        "{seen:?}"
    );
}

#[test]
fn a_dying_tunnel_ends_every_connection_with_an_error_and_the_next_one_reopens_it() {
    let (_s, c) = setup();
    let (seen, ev) = events();
    let f = Forwarder::start(&c, "spdy-die", None, 0, echo_server(), Some(ev)).unwrap();
    let addr = f.local_addr();
    let mut open: Vec<TcpStream> = (0..3)
        .map(|i| {
            let mut s = TcpStream::connect(addr).unwrap();
            let m = format!("hi {i}");
            s.write_all(m.as_bytes()).unwrap();
            let mut back = vec![0u8; m.len()];
            s.read_exact(&mut back).unwrap();
            s
        })
        .collect();
    // One connection makes the peer drop the tunnel: all three end.
    open[0].write_all(b"DIE").unwrap();
    for s in &mut open {
        s.set_read_timeout(Some(std::time::Duration::from_secs(30)))
            .unwrap();
        let mut rest = Vec::new();
        let _ = s.read_to_end(&mut rest);
        assert!(rest.is_empty(), "{rest:?}");
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while seen.lock().unwrap().len() < 3 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    {
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 3, "{seen:?}");
        assert!(seen.iter().all(|m| m.contains("tunnel")), "{seen:?}");
    }
    // The next connection gets a new tunnel.
    assert_eq!(echo_round(addr, b"again").unwrap(), b"again");
    assert_eq!(f.transport(), Transport::SpdyTunnel);
}

#[test]
fn a_local_end_that_reads_nothing_is_reset_and_does_not_hold_up_the_others_for_good() {
    let (_s, c) = setup();
    let (seen, ev) = events();
    let f = Forwarder::start(&c, "spdy-web", None, 0, download_server(64 << 20), Some(ev)).unwrap();
    let echo = f.also(0, echo_server(), None).unwrap();
    // Never read: the kernel's buffers fill, then the connection's bounded queue, then the
    // tunnel's reader waits for it, but only so long.
    let stalled = TcpStream::connect(f.local_addr()).unwrap();
    std::thread::sleep(std::time::Duration::from_secs(1));
    // Held up while the tunnel waits for the stalled connection, then through (its read
    // timeout, 30 s, is well past the stall limit).
    assert_eq!(
        echo_round(echo.local_addr(), b"still here").unwrap(),
        b"still here"
    );
    let deadline = std::time::Instant::now() + STALL_LIMIT * 2;
    while seen.lock().unwrap().is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let seen = seen.lock().unwrap().clone();
    assert!(seen.iter().any(|m| m.contains("took nothing")), "{seen:?}");
    // What it had buffered is there, then the end: far less than the download.
    let mut got = Vec::new();
    let mut s = stalled;
    let _ = s.read_to_end(&mut got);
    assert!(got.len() < 64 << 20, "{}", got.len());
}
