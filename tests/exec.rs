//! exec over WebSocket through the core, against the test server's exec endpoint (which runs
//! the command for real) and its faults.

use incluster_testserver::harness as common;

use std::time::Duration;

use common::TestServer;
use incluster::core::exec::run::run;
use incluster::core::exec::{ExecOptions, ExecSession, Output};
use incluster::{Client, Error, ErrorKind};

const TOKEN: &str = "tok-exec-tests";

fn setup() -> (TestServer, Client) {
    let s = TestServer::start(&["--token", TOKEN]);
    let c = Client::new(s.config().with_token(TOKEN)).unwrap();
    (s, c)
}

/// Cancel the session if a test is still on it after 60 s: a bug fails, never hangs.
fn watchdog(s: &ExecSession) {
    let h = s.cancel_handle();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(60));
        h.cancel();
    });
}

fn sh(pod: &str, script: &str) -> ExecOptions {
    ExecOptions::new(pod, &["sh", "-c", script])
}

#[test]
fn exit_code_and_streams_kept_apart() {
    let (_s, c) = setup();
    let r = run(&c, &sh("p", "echo out; echo err >&2; exit 3"), None, None).unwrap();
    assert_eq!(r.status.code, 3);
    assert!(!r.status.success());
    assert_eq!(r.stdout, b"out\n");
    assert_eq!(r.stderr, b"err\n");
    let ok = run(&c, &sh("p", "true"), None, None).unwrap();
    assert!(ok.status.success());
}

#[test]
fn stdin_is_closed_so_cat_ends_with_every_byte() {
    let (_s, c) = setup();
    let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let r = run(
        &c,
        &ExecOptions::new("p", &["cat"]),
        Some(Box::new(std::io::Cursor::new(data.clone()))),
        None,
    )
    .unwrap();
    assert!(r.status.success());
    assert_eq!(r.stdout.len(), data.len());
    assert!(r.stdout == data);
}

#[test]
fn large_output_streams_through_a_slow_reader() {
    let (_s, c) = setup();
    // 64 MiB of output read in pieces: the session holds only a bounded queue of messages.
    let mut s = ExecSession::exec(&c, &sh("p", "head -c 67108864 /dev/zero")).unwrap();
    watchdog(&s);
    let mut total = 0usize;
    let mut biggest = 0usize;
    while let Some(o) = s.next(None).unwrap() {
        match o {
            Output::Stdout(b) => {
                assert!(b.iter().all(|&x| x == 0));
                biggest = biggest.max(b.len());
                total += b.len();
            }
            Output::Stderr(e) => panic!("stderr: {e:?}"),
        }
    }
    assert_eq!(total, 64 << 20);
    assert!(biggest <= incluster::core::exec::MAX_MESSAGE);
    assert!(s.exit_status().unwrap().success());
}

#[test]
fn the_streaming_form_writes_closes_and_waits() {
    let (_s, c) = setup();
    let mut o = ExecOptions::new("p", &["sh", "-c", "read a; echo got:$a; cat >&2"]);
    o.stdin = true;
    let mut s = ExecSession::exec(&c, &o).unwrap();
    watchdog(&s);
    assert_eq!(s.protocol(), "v5.channel.k8s.io");
    let w = s.writer();
    w.write(b"hello\nrest").unwrap();
    w.close_stdin().unwrap();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    while let Some(x) = s.next(None).unwrap() {
        match x {
            Output::Stdout(b) => out.extend(b),
            Output::Stderr(b) => err.extend(b),
        }
    }
    assert_eq!(out, b"got:hello\n");
    assert_eq!(err, b"rest");
    // Resizing without a tty is a caller error, named.
    let e = w.resize(80, 24).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
}

#[test]
fn tty_resize_reaches_the_server() {
    let (_s, c) = setup();
    let mut o = ExecOptions::new("p", &["sh", "-c", "sleep 0.5; echo done"]);
    o.tty = true;
    o.stdin = true;
    let mut s = ExecSession::exec(&c, &o).unwrap();
    watchdog(&s);
    s.writer().resize(132, 43).unwrap();
    let mut out = Vec::new();
    while let Some(x) = s.next(None).unwrap() {
        if let Output::Stdout(b) = x {
            out.extend(b);
        }
    }
    let text = String::from_utf8_lossy(&out);
    assert!(text.contains("resize 132x43"), "{text}");
    assert!(text.contains("done"), "{text}");
}

#[test]
fn a_v4_server_cannot_close_stdin_and_says_so() {
    let (_s, c) = setup();
    let mut o = ExecOptions::new("v4-pod", &["cat"]);
    o.stdin = true;
    let s = ExecSession::exec(&c, &o).unwrap();
    assert_eq!(s.protocol(), "v4.channel.k8s.io");
    let e = s.writer().close_stdin().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    assert!(e.to_string().contains("v4.channel.k8s.io"), "{e}");
    // And the run-to-completion form reports it rather than hanging on cat.
    let e = run(
        &c,
        &ExecOptions::new("v4-pod", &["true"]),
        Some(Box::new(std::io::Cursor::new(b"x".to_vec()))),
        Some(Duration::from_secs(30)),
    );
    assert!(matches!(e, Err(Error::InvalidArgument(_))), "{e:?}");
}

#[test]
fn forbidden_names_create_on_pods_exec() {
    let (_s, c) = setup();
    let e = run(&c, &sh("fault-forbidden", "true"), None, None).unwrap_err();
    let a = e.api().expect("an API error");
    assert_eq!(a.status, 403);
    assert!(e.to_string().contains("`create` on `pods/exec`"), "{e}");
}

#[test]
fn a_bad_token_is_refused_with_401_and_never_shown() {
    let s = TestServer::start(&["--token", TOKEN]);
    let c = Client::new(s.config().with_token("wrong-secret-token")).unwrap();
    let e = run(&c, &sh("p", "true"), None, None).unwrap_err();
    assert_eq!(e.api().map(|a| a.status), Some(401));
    assert!(!format!("{e} {e:?}").contains("wrong-secret-token"));
}

#[test]
fn faults_end_with_clear_errors_not_hangs() {
    let (_s, c) = setup();
    let e = run(&c, &sh("fault-close-mid-frame", "true"), None, None).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Transport, "{e}");
    let e = run(&c, &sh("fault-unknown-channel", "echo x"), None, None).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Decode, "{e}");
    assert!(e.to_string().contains("channel 7"), "{e}");
    let e = run(&c, &sh("fault-huge-frame", "true"), None, None).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Decode, "{e}");
    assert!(e.to_string().contains("limit"), "{e}");
    let e = run(&c, &sh("fault-drop", "echo partial"), None, None).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Transport, "{e}");
    assert!(e.to_string().contains("may still be running"), "{e}");
}

#[test]
fn an_unanswered_upgrade_times_out() {
    let s = TestServer::start(&["--token", TOKEN]);
    let mut cfg = s.config().with_token(TOKEN);
    cfg.request_timeout = Some(Duration::from_millis(300));
    cfg.connect_timeout = Duration::from_millis(300);
    let c = Client::new(cfg).unwrap();
    let e = run(&c, &sh("fault-no-answer", "true"), None, None).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
}

#[test]
fn cancel_from_another_thread_ends_a_running_command() {
    let (_s, c) = setup();
    let mut s = ExecSession::exec(&c, &sh("p", "sleep 30")).unwrap();
    let h = s.cancel_handle();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        h.cancel();
    });
    let e = s.next(None).unwrap_err();
    assert_eq!(e, Error::Cancelled);
}

#[test]
fn a_missing_executable_is_an_api_error() {
    let (_s, c) = setup();
    let e = run(&c, &ExecOptions::new("p", &["/no/such/binary"]), None, None).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Api, "{e}");
    assert!(e.to_string().contains("/no/such/binary"), "{e}");
}

#[test]
fn a_rotated_token_file_is_read_again() {
    let s = TestServer::start(&["--token", "tok-before-rotation"]);
    let dir = common::unique_dir("exec-rotation");
    let path = dir.join("token");
    std::fs::write(&path, "tok-before-rotation").unwrap();
    let c = Client::new(s.config().with_token_file(&path)).unwrap();
    assert!(
        run(&c, &sh("p", "true"), None, None)
            .unwrap()
            .status
            .success()
    );
    // The server now accepts only the new token; the file is swapped as the kubelet does.
    s.set_tokens(&["tok-after-rotation"]);
    let tmp = dir.join("token.new");
    std::fs::write(&tmp, "tok-after-rotation").unwrap();
    std::fs::rename(&tmp, &path).unwrap();
    assert!(
        run(&c, &sh("p", "true"), None, None)
            .unwrap()
            .status
            .success()
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// An exec endpoint in the test: accepts one WebSocket (v5) on plain HTTP and hands it to
/// `behave`. Returns the server URL.
// The handshake callback's error type is tungstenite's (a whole HTTP response).
#[allow(clippy::result_large_err)]
fn peer(
    behave: impl FnOnce(tungstenite::WebSocket<std::net::TcpStream>) + Send + 'static,
) -> String {
    use tungstenite::handshake::server::{Request, Response};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let (conn, _) = listener.accept().unwrap();
        let pick = |_: &Request, mut resp: Response| {
            resp.headers_mut().insert(
                "sec-websocket-protocol",
                "v5.channel.k8s.io".parse().unwrap(),
            );
            Ok(resp)
        };
        behave(tungstenite::accept_hdr(conn, pick).unwrap());
    });
    url
}

/// A client of `url` pinging every `period`.
fn pinging_client(url: &str, period: Duration) -> Client {
    let mut cfg = incluster::Config::new(url).unwrap();
    cfg.proxy_from_env = false;
    cfg.ws_ping_period = period;
    Client::new(cfg).unwrap()
}

#[test]
fn an_idle_session_pings_and_a_peer_that_answers_keeps_it_past_the_deadline() {
    let period = Duration::from_millis(100);
    let deadline = incluster::core::exec::ping_deadline(period);
    let alive_for = deadline + Duration::from_secs(1);
    let (tx, rx) = std::sync::mpsc::channel();
    let url = peer(move |mut ws| {
        ws.get_mut()
            .set_read_timeout(Some(Duration::from_millis(20)))
            .unwrap();
        let start = std::time::Instant::now();
        let mut pings = 0;
        // Nothing but answers to pings (tungstenite queues the pong and sends it on the
        // next read) until well past the deadline; then the command ends.
        while start.elapsed() < alive_for {
            if let Ok(tungstenite::Message::Ping(_)) = ws.read() {
                pings += 1;
            }
        }
        let ok = br#"{"metadata":{},"status":"Success"}"#;
        let mut m = vec![3u8];
        m.extend_from_slice(ok);
        ws.send(tungstenite::Message::Binary(m.into())).unwrap();
        let _ = ws.close(None);
        while ws.read().is_ok() {}
        tx.send(pings).unwrap();
    });
    let c = pinging_client(&url, period);
    let start = std::time::Instant::now();
    let mut s = ExecSession::exec(&c, &sh("idle", "sleep 3")).unwrap();
    watchdog(&s);
    assert_eq!(s.next(None).unwrap(), None);
    assert!(s.exit_status().unwrap().success());
    assert!(start.elapsed() >= alive_for);
    let pings = rx.recv().unwrap();
    // One a period while idle; a loaded machine may stretch some periods, but the old
    // behaviour (a ping after 30 s idle) would show none at all here.
    let expected = (alive_for.as_millis() / period.as_millis()) as u32;
    assert!(
        pings >= expected / 4 && pings <= expected + 2,
        "{pings} pings, {expected} expected"
    );
}

#[test]
fn a_peer_that_goes_silent_ends_the_session_with_a_timeout_not_a_hang() {
    let period = Duration::from_millis(100);
    let deadline = incluster::core::exec::ping_deadline(period);
    let url = peer(move |ws| {
        // Upgraded, then nothing: no pong, no data, no FIN (a half-open connection).
        std::thread::sleep(Duration::from_secs(30));
        drop(ws);
    });
    let c = pinging_client(&url, period);
    let start = std::time::Instant::now();
    let mut s = ExecSession::exec(&c, &sh("silent", "sleep 100")).unwrap();
    watchdog(&s);
    let e = s.next(None).unwrap_err();
    let took = start.elapsed();
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
    let m = e.to_string();
    assert!(m.contains("nothing from the server for 2.2s"), "{m}");
    assert!(m.contains("pings sent every 0.1s"), "{m}");
    assert!(took >= deadline, "{took:?}");
    assert!(took < deadline + Duration::from_secs(5), "{took:?}");
}

/// A client of the test server whose connections go through `proxy` (a kubeconfig's
/// `proxy-url`; the environment's `HTTPS_PROXY` is the CLI's and Python's tests).
fn through(s: &TestServer, proxy: &common::proxy::ConnectProxy) -> Client {
    let mut cfg = s.config().with_token(TOKEN);
    cfg.proxy_url = Some(incluster::core::auth::secret::Secret::new(proxy.url()));
    Client::new(cfg).unwrap()
}

#[test]
fn exec_goes_through_the_connect_proxy_with_tls_end_to_end() {
    use common::proxy::{ConnectProxy, ProxyAnswer};
    let (s, _) = setup();
    let proxy = ConnectProxy::start(ProxyAnswer::Tunnel);
    let c = through(&s, &proxy);
    let r = run(
        &c,
        &ExecOptions::new("p", &["cat"]),
        Some(Box::new(std::io::Cursor::new(b"secret-stdin".to_vec()))),
        None,
    )
    .unwrap();
    assert_eq!(r.stdout, b"secret-stdin");
    let server = s.config().server;
    let target = server.trim_start_matches("https://");
    let heads = proxy.heads();
    assert_eq!(heads.len(), 1, "{heads:?}");
    assert_eq!(
        heads[0],
        format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n")
    );
    // Inside the tunnel only TLS records: neither the token nor the data shows.
    let up = proxy.upstream_bytes();
    assert!(up.len() > 100);
    let has = |needle: &[u8]| up.windows(needle.len()).any(|w| w == needle);
    assert!(!has(TOKEN.as_bytes()));
    assert!(!has(b"secret-stdin"));
    assert!(!has(b"Upgrade"));
}

#[test]
fn a_proxy_that_refuses_the_tunnel_is_a_transport_error_naming_it() {
    use common::proxy::{ConnectProxy, ProxyAnswer};
    let (s, _) = setup();
    for (code, says) in [
        (403, "does not allow tunnels"),
        (407, "the proxy wants credentials"),
    ] {
        let proxy = ConnectProxy::start(ProxyAnswer::Refuse(code));
        let c = through(&s, &proxy);
        let e = ExecSession::exec(&c, &sh("p", "true")).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Transport, "{e}");
        let m = e.to_string();
        assert!(
            m.contains(&format!("proxy 127.0.0.1:{} refused", proxy.port())),
            "{m}"
        );
        assert!(m.contains(&format!("HTTP/1.1 {code}")), "{m}");
        assert!(m.contains(says), "{m}");
        assert!(!m.contains(TOKEN), "{m}");
        assert_eq!(proxy.heads().len(), 1);
    }
}
