//! Hostile or broken servers: each must give a clear, typed error, in bounded time and with
//! bounded memory.
//!
//! - certificates: expired, not yet valid, issued for another address, signed by a CA that
//!   was rotated mid-run (picked up by the next request) or by an unrelated one;
//! - TLS 1.0 / 1.1 only (an `openssl s_server`): refused at once;
//! - a TLS handshake that never comes, a head or body trickled one byte per second: timeouts;
//! - a body, a watch line or a header line that never ends: stopped at a limit; a log line
//!   longer than the limit: handed out in pieces;
//! - a gzip bomb sent although no compression was asked for: never inflated.
//!
//! The servers are the test API server (`testserver/`, with `--cert` for broken
//! certificates and the `/_test/trickle`, `/_test/endless` and `/_test/gzip-bomb` routes of
//! `testserver/src/hostile.rs`), plus `openssl s_server` and a bare TCP listener.

use incluster_testserver::harness as common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use common::{SaDir, TestServer, status_kib, unique_dir};
use incluster::core::logs::{LogOptions, LogStream};
use incluster::core::watch::{Watch, WatchOptions};
use incluster::{Client, Config, Error, ErrorKind, Request};

const TOKEN: &str = "tok-hostile-tests-7d1e04";

fn server(extra: &[&str]) -> TestServer {
    let mut args = vec!["--token", TOKEN];
    args.extend_from_slice(extra);
    TestServer::start(&args)
}

/// A client for `s` (its CA, the token, no proxy) with a 10 s request timeout, adjusted by `f`.
fn client_with(s: &TestServer, f: impl FnOnce(&mut Config)) -> Client {
    let mut c = s.config().with_token(TOKEN);
    c.request_timeout = Some(Duration::from_secs(10));
    f(&mut c);
    Client::new(c).unwrap()
}

fn client(s: &TestServer) -> Client {
    client_with(s, |_| {})
}

/// Run `f` and check it returned within `bound`.
fn within<T>(bound: Duration, what: &str, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let r = f();
    let took = start.elapsed();
    assert!(took < bound, "{what} took {took:?}, more than {bound:?}");
    r
}

/// The error of `r`, checking its kind and that its message says each of `words`.
fn expect_err<T: std::fmt::Debug>(r: Result<T, Error>, kind: ErrorKind, words: &[&str]) -> Error {
    let e = r.expect_err("the request should have failed");
    assert_eq!(e.kind(), kind, "{e}");
    let text = e.to_string();
    eprintln!("{kind:?}: {text}");
    for w in words {
        assert!(text.contains(w), "the message does not say {w:?}: {text}");
    }
    assert!(!text.contains(TOKEN), "the token leaked: {text}");
    e
}

/// Tests that measure memory run one at a time (they share the process's RSS).
static MEMORY: Mutex<()> = Mutex::new(());

/// Run `f` and return its result with the growth of the process's peak resident memory
/// while it ran, in MiB. The peak (`VmHWM`) is reset first through `/proc/self/clear_refs`,
/// so it is the high-water mark of `f` itself; where that is refused, the RSS afterwards.
fn peak_growth_mib<T>(f: impl FnOnce() -> T) -> (T, u64) {
    let _serial = MEMORY.lock().unwrap_or_else(|p| p.into_inner());
    let peak_reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    let before = status_kib("VmRSS");
    let r = f();
    let after = status_kib(if peak_reset { "VmHWM" } else { "VmRSS" });
    let grew = after.saturating_sub(before) / 1024;
    eprintln!("resident memory grew by {grew} MiB (peak reset: {peak_reset})");
    (r, grew)
}

// ---------------------------------------------------------------------------------------------
// Certificates

#[test]
fn expired_certificate_is_a_tls_error_naming_the_expiry() {
    let s = server(&["--cert", "expired"]);
    let c = client(&s);
    let r = within(Duration::from_secs(5), "the handshake", || {
        c.get_json("/version")
    });
    expect_err(
        r,
        ErrorKind::Tls,
        &["expired", "2021-01-01T00:00:00Z", "127.0.0.1"],
    );
}

#[test]
fn not_yet_valid_certificate_is_a_tls_error_naming_the_start() {
    let s = server(&["--cert", "not-yet-valid"]);
    let c = client(&s);
    let r = within(Duration::from_secs(5), "the handshake", || {
        c.get_json("/version")
    });
    expect_err(
        r,
        ErrorKind::Tls,
        &["not valid yet", "2098-01-01T00:00:00Z"],
    );
}

#[test]
fn certificate_for_another_address_is_a_tls_error_naming_both() {
    let s = server(&["--cert", "wrong-san"]);
    // By IP, as in a pod (KUBERNETES_SERVICE_HOST is an IP): the IP SANs are checked.
    let c = client(&s);
    let r = within(Duration::from_secs(5), "the handshake", || {
        c.get_json("/version")
    });
    expect_err(
        r,
        ErrorKind::Tls,
        &["not valid for 127.0.0.1 (it is valid for kubernetes.default.svc, 10.96.0.1)"],
    );
    // By name: the DNS SANs are checked.
    let mut cfg = Config::new(&format!("https://localhost:{}", s.port))
        .unwrap()
        .with_ca_file(&s.ca)
        .with_token(TOKEN);
    cfg.proxy_from_env = false;
    let by_name = Client::new(cfg).unwrap();
    let r = within(Duration::from_secs(5), "the handshake", || {
        by_name.get_json("/version")
    });
    expect_err(r, ErrorKind::Tls, &["not valid for localhost"]);
}

/// The in-cluster configuration of a simulated pod whose ServiceAccount is `sa`.
fn pod_client(s: &TestServer, sa: &SaDir) -> Client {
    let env: HashMap<String, String> = common::env_for_pod(s, sa).into_iter().collect();
    let mut cfg = Config::in_cluster_from(&|k| env.get(k).cloned(), Some(&sa.path)).unwrap();
    cfg.proxy_from_env = false;
    cfg.request_timeout = Some(Duration::from_secs(10));
    Client::new(cfg).unwrap()
}

#[test]
fn ca_rotated_mid_run_is_trusted_by_the_next_request() {
    let first = server(&[]);
    let port = first.port;
    let listen = format!("127.0.0.1:{port}");
    let dir = unique_dir("hostile-ca");
    let sa = SaDir::new(&dir, TOKEN, &first.ca, "hostile");
    let c = pod_client(&first, &sa);
    assert_eq!(c.get_json("/version").unwrap()["major"], "1");
    // Kept for later: a CA with the same name as every test server's, but another key.
    let old_ca = dir.join("old-ca.crt");
    std::fs::copy(&first.ca, &old_ca).unwrap();

    // The API server comes back on the same address with a serving certificate from a new
    // CA, and the kubelet swaps the new ca.crt in: the very next request works.
    drop(first);
    let second = server(&["--listen", &listen]);
    sa.rotate_ca(&second.ca);
    let v = within(
        Duration::from_secs(5),
        "the first request after the rotation",
        || c.get_json("/version"),
    );
    assert_eq!(v.unwrap()["major"], "1");

    // Again, but ca.crt now holds a CA that did not sign the server's certificate: a TLS
    // error that says so, at once.
    drop(second);
    let third = server(&["--listen", &listen]);
    sa.rotate_ca(&third.other_ca);
    let r = within(
        Duration::from_secs(5),
        "the request with an unrelated CA",
        || c.get_json("/version"),
    );
    expect_err(
        r,
        ErrorKind::Tls,
        &["not signed by the configured CA", "unknown issuer", &listen],
    );
    // A CA of the same name but another key (as every kubeadm CA is called "kubernetes").
    sa.rotate_ca(&old_ca);
    let r = within(
        Duration::from_secs(5),
        "the request with the old CA",
        || c.get_json("/version"),
    );
    expect_err(
        r,
        ErrorKind::Tls,
        &["not signed by the configured CA", "bad signature", &listen],
    );

    // The right CA arrives: the next request works, with no pause.
    sa.rotate_ca(&third.ca);
    let v = within(Duration::from_secs(5), "the request after the fix", || {
        c.get_json("/version")
    });
    assert_eq!(v.unwrap()["major"], "1");
    let _ = std::fs::remove_dir_all(&dir);
}

// ---------------------------------------------------------------------------------------------
// Old TLS versions

/// Write `dir/ca.crt` (a fresh CA), and `dir/server.crt` + `dir/server.key` (a certificate
/// for 127.0.0.1 it signed, and its key), all PEM.
fn write_pki(dir: &Path) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, ca_key);
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_string()])
        .unwrap()
        .signed_by(&leaf_key, &issuer)
        .unwrap();
    std::fs::write(dir.join("ca.crt"), ca_cert.pem()).unwrap();
    std::fs::write(dir.join("server.crt"), leaf.pem()).unwrap();
    std::fs::write(dir.join("server.key"), leaf_key.serialize_pem()).unwrap();
}

/// An `openssl s_server` that speaks only `version_flag` (`-tls1`, `-tls1_1`), with the
/// certificate of [`write_pki`]. Killed on drop.
struct OpensslServer {
    child: Child,
    port: u16,
}

impl OpensslServer {
    fn start(dir: &Path, version_flag: &str) -> OpensslServer {
        write_pki(dir);
        let mut child = Command::new("openssl")
            .args(["s_server", "-accept", "127.0.0.1:0", version_flag])
            // TLS 1.0/1.1 need SHA-1 MACs, which OpenSSL 3's default security level forbids.
            .args(["-cipher", "DEFAULT:@SECLEVEL=0", "-www"])
            .arg("-cert")
            .arg(dir.join("server.crt"))
            .arg("-key")
            .arg(dir.join("server.key"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(dir.join("s_server.stderr")).unwrap())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot run openssl (tests/setup.sh lists it as required): {e}")
            });
        // `ACCEPT 127.0.0.1:PORT` once it listens.
        let (tx, rx) = std::sync::mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(addr) = line.strip_prefix("ACCEPT ") {
                    let _ = tx.send(addr.rsplit(':').next().and_then(|p| p.parse().ok()));
                }
            }
        });
        let port = rx.recv_timeout(Duration::from_secs(10)).ok().flatten();
        let Some(port) = port else {
            let _ = child.kill();
            let _ = child.wait();
            let err = std::fs::read_to_string(dir.join("s_server.stderr")).unwrap_or_default();
            panic!("openssl s_server {version_flag} did not start listening; its stderr:\n{err}");
        };
        OpensslServer { child, port }
    }
}

impl Drop for OpensslServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn tls_1_0_and_1_1_only_servers_are_refused_at_once() {
    for flag in ["-tls1", "-tls1_1"] {
        let dir = unique_dir("hostile-oldtls");
        let srv = OpensslServer::start(&dir, flag);
        let mut cfg = Config::new(&format!("https://127.0.0.1:{}", srv.port))
            .unwrap()
            .with_ca_file(dir.join("ca.crt"));
        cfg.proxy_from_env = false;
        cfg.request_timeout = Some(Duration::from_secs(10));
        let c = Client::new(cfg).unwrap();
        let r = within(Duration::from_secs(3), flag, || c.get_json("/"));
        let e = expect_err(r, ErrorKind::Tls, &["TLS 1.2", &format!("{}", srv.port)]);
        let text = e.to_string();
        assert!(
            text.contains("protocol version") || text.contains("protocol_version"),
            "{flag}: {text}"
        );
        drop(srv);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

// ---------------------------------------------------------------------------------------------
// Slow servers

#[test]
fn a_tls_handshake_that_never_comes_times_out() {
    // Accepts the connection (the kernel does, from the backlog) and never says a word.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let dir = unique_dir("hostile-silent");
    // Any CA will do: the handshake never gets as far as a certificate.
    write_pki(&dir);
    let mut cfg = Config::new(&format!("https://127.0.0.1:{port}"))
        .unwrap()
        .with_ca_file(dir.join("ca.crt"));
    cfg.proxy_from_env = false;
    cfg.connect_timeout = Duration::from_secs(1);
    cfg.request_timeout = Some(Duration::from_secs(2));
    let c = Client::new(cfg).unwrap();
    let r = within(Duration::from_secs(4), "the silent handshake", || {
        c.get_json("/version")
    });
    expect_err(
        r,
        ErrorKind::Timeout,
        &["timeout", &format!("127.0.0.1:{port}")],
    );
    drop(silent);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_head_trickled_one_byte_per_second_times_out() {
    let s = server(&[]);
    let c = client_with(&s, |c| c.request_timeout = Some(Duration::from_secs(2)));
    let r = within(Duration::from_millis(3500), "the trickled head", || {
        c.get_json("/_test/trickle?part=head&ms=1000")
    });
    expect_err(r, ErrorKind::Timeout, &["timeout", "127.0.0.1"]);
}

#[test]
fn a_body_trickled_one_byte_per_second_times_out() {
    let s = server(&[]);
    let c = client_with(&s, |c| c.request_timeout = Some(Duration::from_secs(2)));
    let r = within(Duration::from_millis(3500), "the trickled body", || {
        c.get_json("/_test/trickle?part=body&ms=1000")
    });
    expect_err(r, ErrorKind::Timeout, &["timeout", "127.0.0.1"]);
    // The route itself is sound: fast enough, the same answer arrives whole.
    let ok = c.get_json("/_test/trickle?part=body&ms=1&size=64").unwrap();
    assert_eq!(ok["trickle"].as_str().unwrap().len(), 64 - 14);
}

// ---------------------------------------------------------------------------------------------
// Endless answers

/// The limits these tests set, and the most the process may grow meanwhile.
const BODY_LIMIT: u64 = 4 << 20;
const EVENT_LIMIT: usize = 1 << 20;
const MAX_GROWTH_MIB: u64 = 48;

#[test]
fn an_endless_body_stops_at_the_body_limit_in_bounded_memory() {
    let s = server(&[]);
    let c = client_with(&s, |c| c.max_body_bytes = BODY_LIMIT);
    for framing in ["chunked", "length"] {
        let path = format!("/_test/endless?what=body&framing={framing}");
        let (r, grew) =
            peak_growth_mib(|| within(Duration::from_secs(10), &path, || c.get_json(&path)));
        expect_err(
            r,
            ErrorKind::Decode,
            &["larger than the limit of 4194304 bytes", "127.0.0.1"],
        );
        assert!(grew < MAX_GROWTH_MIB, "{framing}: grew by {grew} MiB");
    }
    // The client is still usable.
    assert_eq!(c.get_json("/version").unwrap()["major"], "1");
}

#[test]
fn an_endless_line_in_a_watch_stops_at_the_event_limit_in_bounded_memory() {
    let s = server(&[]);
    let c = client(&s);
    let opts = WatchOptions {
        max_event_bytes: EVENT_LIMIT,
        resume: false,
        ..WatchOptions::default()
    };
    let (r, grew) = peak_growth_mib(|| {
        within(Duration::from_secs(10), "the endless watch line", || {
            let mut w = Watch::new(&c, "/_test/endless", opts)?;
            w.next_event()
        })
    });
    expect_err(
        r,
        ErrorKind::Decode,
        &["watch event is larger than the limit of 1048576 bytes"],
    );
    assert!(grew < MAX_GROWTH_MIB, "grew by {grew} MiB");
}

#[test]
fn a_huge_log_line_comes_in_pieces_in_bounded_memory() {
    const LINE: usize = 16 << 20;
    const PIECE: usize = 64 << 10;
    let s = server(&[]);
    s.create_pod("hostile", "chatty", &["app"]);
    let line = "x".repeat(LINE);
    s.append_logs("hostile", "chatty", "app", &[&line]);
    drop(line);
    let c = client(&s);
    let opts = LogOptions {
        max_line_bytes: PIECE,
        ..LogOptions::default()
    };
    let ((pieces, bytes), grew) = peak_growth_mib(|| {
        within(Duration::from_secs(20), "the huge log line", || {
            let mut logs = LogStream::open(&c, "hostile", "chatty", opts).unwrap();
            let (mut pieces, mut bytes) = (0, 0);
            while let Some(piece) = logs.next_line().unwrap() {
                assert!(piece.len() <= PIECE, "a piece of {} bytes", piece.len());
                pieces += 1;
                bytes += piece.len();
            }
            (pieces, bytes)
        })
    });
    assert_eq!((pieces, bytes), (LINE / PIECE, LINE));
    assert!(grew < MAX_GROWTH_MIB, "grew by {grew} MiB");
}

#[test]
fn an_endless_header_line_is_refused_in_bounded_memory() {
    let s = server(&[]);
    let c = client(&s);
    let (r, grew) = peak_growth_mib(|| {
        within(Duration::from_secs(10), "the endless header", || {
            c.get_json("/_test/endless?what=header")
        })
    });
    expect_err(r, ErrorKind::Transport, &["header is too big", "127.0.0.1"]);
    assert!(grew < MAX_GROWTH_MIB, "grew by {grew} MiB");
}

#[test]
fn a_gzip_bomb_is_never_inflated() {
    let s = server(&[]);
    let c = client(&s);
    let ((resp, err), grew) = peak_growth_mib(|| {
        within(Duration::from_secs(10), "the gzip bomb", || {
            let req = Request::new("GET", "/_test/gzip-bomb").with_param("mb", "64");
            (
                c.request(&req).unwrap(),
                c.get_json("/_test/gzip-bomb?mb=64"),
            )
        })
    });
    // No compression was asked for, so none is undone: the body is the compressed bytes.
    assert_eq!(resp.header("x-test-accept-encoding"), Some("none"));
    assert_eq!(resp.header("content-encoding"), Some("gzip"));
    assert_eq!(resp.body[..2], [0x1f, 0x8b], "not the gzip bytes");
    assert!(resp.body.len() < 1 << 20, "{} bytes", resp.body.len());
    // ... and as JSON it is a typed decode error.
    expect_err(
        err,
        ErrorKind::Decode,
        &["not JSON", "compressed (Content-Encoding: gzip)"],
    );
    assert!(grew < 16, "grew by {grew} MiB (64 MiB inflated?)");
}
