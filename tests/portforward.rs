//! Port-forward over WebSocket through the core, against the test server's port-forward
//! endpoint (which connects to 127.0.0.1:PORT, where these tests run small TCP servers).

use incluster_testserver::harness as common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};

use common::TestServer;
use incluster::core::portforward::{Forwarder, PortForward};
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
