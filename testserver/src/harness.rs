//! The harness for the integration tests and benchmarks: start the loopback test API server
//! (the `testserver` binary of this package), talk to its control API, and lay out
//! ServiceAccount directories exactly as the kubelet does.
//!
//! Use as `use incluster_testserver::harness as common;`.

pub mod proxy;
pub mod raw;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

/// How long the server may take to print its READY line (it generates keys first).
const READY_TIMEOUT: Duration = Duration::from_secs(20);

static DIR_COUNTER: AtomicU32 = AtomicU32::new(0);

/// A fresh, empty directory under the system temp dir, unique to this process and call.
pub fn unique_dir(tag: &str) -> PathBuf {
    let n = DIR_COUNTER.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("incluster-{tag}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    dir
}

/// The `testserver` binary, in the target directory's profile folder beside this test
/// binary's `deps/` directory.
fn server_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("cannot locate the test executable");
    // target/<profile>/deps/<test>-<hash>  →  target/<profile>/testserver
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("the test executable is not in target/<profile>/deps/");
    let bin = profile_dir.join(format!("testserver{}", std::env::consts::EXE_SUFFIX));
    if !bin.is_file() {
        panic!(
            "the test API server {} is missing: run `cargo build` at the top (plain `cargo \
             test` builds it; `cargo test --test NAME` builds only that test's package)",
            bin.display()
        );
    }
    bin
}

/// A running test API server. Dropping it stops the server and removes its directory.
pub struct TestServer {
    /// The first listener's URL (`https://127.0.0.1:PORT`, or `http://` with `--plain`).
    pub url: String,
    /// One URL per listener.
    pub urls: Vec<String>,
    /// The first listener's port.
    pub port: u16,
    /// The server's directory (certificates, `server.json`, `server.stderr`).
    pub dir: PathBuf,
    /// The CA that signed the server certificate.
    pub ca: PathBuf,
    /// An unrelated CA, for "wrong CA" tests.
    pub other_ca: PathBuf,
    child: Child,
    /// Held open: the server exits when its stdin closes.
    stdin: Option<ChildStdin>,
    control_client: OnceLock<incluster::Client>,
}

impl TestServer {
    /// Start the server with extra arguments (`--token T`, `--plain`, `--listen ADDR`, ...)
    /// and wait until it is ready.
    pub fn start(args: &[&str]) -> TestServer {
        let dir = unique_dir("testserver");
        let stderr_path = dir.join("server.stderr");
        let stderr = std::fs::File::create(&stderr_path)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", stderr_path.display()));
        let mut child = Command::new(server_binary())
            .arg("--dir")
            .arg(&dir)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            // To a file, not a pipe: nobody reads it while the server runs, and a full pipe
            // would block the server.
            .stderr(Stdio::from(stderr))
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start the test API server: {e}"));
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("stdout is piped");

        // Read the READY line on a thread so the wait can time out.
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let ready = loop {
                match lines.next() {
                    Some(Ok(line)) => {
                        if let Some(json) = line.strip_prefix("READY ") {
                            break Some(json.to_owned());
                        }
                    }
                    _ => break None,
                }
            };
            let _ = tx.send(ready);
            // Keep draining so the server never blocks on a full stdout pipe.
            for _ in lines {}
        });
        let ready = rx.recv_timeout(READY_TIMEOUT).ok().flatten();
        let Some(ready) = ready else {
            let _ = child.kill();
            let _ = child.wait();
            let err = std::fs::read_to_string(&stderr_path).unwrap_or_default();
            let _ = std::fs::remove_dir_all(&dir);
            panic!(
                "the test API server did not become ready within {READY_TIMEOUT:?}; its \
                 stderr:\n{err}"
            );
        };
        let info: Value = serde_json::from_str(&ready)
            .unwrap_or_else(|e| panic!("bad READY line {ready:?}: {e}"));
        let url = info["url"].as_str().expect("READY has url").to_owned();
        let urls = info["urls"]
            .as_array()
            .expect("READY has urls")
            .iter()
            .filter_map(|u| u.as_str().map(str::to_owned))
            .collect();
        let port = info["port"]
            .as_u64()
            .and_then(|p| u16::try_from(p).ok())
            .expect("READY has port");
        TestServer {
            url,
            urls,
            port,
            ca: dir.join("ca.crt"),
            other_ca: dir.join("other-ca.crt"),
            dir,
            child,
            stdin,
            control_client: OnceLock::new(),
        }
    }

    /// The server's process id (e.g. to pin it to a CPU in benchmarks).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// True when the server speaks plain HTTP (`--plain`).
    pub fn is_plain(&self) -> bool {
        self.url.starts_with("http://")
    }

    /// A client configuration for this server: its CA (unless plain), no token, and no
    /// proxy from the environment (a developer's `HTTPS_PROXY` must not capture loopback
    /// test traffic).
    pub fn config(&self) -> incluster::Config {
        let mut c = incluster::Config::new(&self.url).expect("the server URL is valid");
        if !self.is_plain() {
            c = c.with_ca_file(&self.ca);
        }
        c.proxy_from_env = false;
        c
    }

    fn control_client(&self) -> &incluster::Client {
        self.control_client.get_or_init(|| {
            incluster::Client::new(self.config())
                .unwrap_or_else(|e| panic!("cannot build the control client: {e}"))
        })
    }

    /// Make a control request (`/_control/...`, no auth needed) and return the JSON answer.
    /// Panics on any failure: the harness itself is broken then.
    pub fn control(&self, method: &str, path: &str, body: Option<&str>) -> Value {
        let mut req = incluster::Request::new(method, path);
        if let Some(b) = body {
            req = req.with_body(b.as_bytes().to_vec(), Some("application/json"));
        }
        let resp = self
            .control_client()
            .request(&req)
            .unwrap_or_else(|e| panic!("control request {method} {path} failed: {e}"));
        resp.json()
            .unwrap_or_else(|e| panic!("control request {method} {path}: {e}"))
    }

    /// Replace the set of accepted bearer tokens.
    pub fn set_tokens(&self, tokens: &[&str]) {
        let body = serde_json::to_string(tokens).expect("strings serialise");
        self.control("PUT", "/_control/tokens", Some(&body));
    }

    /// Every non-control request the server has received (since the last clear), in order:
    /// `{method, path, authorization: "none"|"valid"|"invalid", content_type, body}`.
    pub fn requests(&self) -> Vec<Value> {
        match self.control("GET", "/_control/requests", None) {
            Value::Array(a) => a,
            other => panic!("/_control/requests answered {other}"),
        }
    }

    /// Merge Lease fault settings (`PUT /_control/leases`: `forbidden`, `unavailable`,
    /// `conflicts`); returns the settings now in force.
    pub fn set_lease_faults(&self, settings: &Value) -> Value {
        self.control("PUT", "/_control/leases", Some(&settings.to_string()))
    }

    /// Forget the requests received so far.
    pub fn clear_requests(&self) {
        self.control("DELETE", "/_control/requests", None);
    }

    /// Merge watch fault settings (`PUT /_control/watch`, e.g.
    /// `json!({"drop_every": 3, "bookmark_ms": 100})`, or `{"compact": true}`); returns the
    /// settings now in force. They apply to watches opened afterwards.
    pub fn set_watch(&self, settings: &Value) -> Value {
        self.control("PUT", "/_control/watch", Some(&settings.to_string()))
    }

    /// `count` ConfigMap writes (create, update, delete in turn) in `namespace`, on objects
    /// named `prefix-N`, each with a fresh `data.seq`; returns
    /// `{"writes", "resourceVersion", "first_seq", "last_seq"}` once they are all done.
    pub fn churn(&self, namespace: &str, count: u64, prefix: &str) -> Value {
        let body = serde_json::json!({"namespace": namespace, "count": count, "prefix": prefix});
        self.control("POST", "/_control/churn", Some(&body.to_string()))
    }

    /// Create (or replace: new uid, empty logs) a pod whose containers are running; returns
    /// the Pod object. See `testserver/src/pods.rs` for init containers, labels and states.
    pub fn create_pod(&self, namespace: &str, name: &str, containers: &[&str]) -> Value {
        let body = serde_json::json!({
            "namespace": namespace, "name": name, "containers": containers,
        });
        self.control("POST", "/_control/pods", Some(&body.to_string()))
    }

    /// Set a container's state: `"running"`, `"terminated"` (with `exit_code`) or
    /// `"waiting"`. Terminating ends its follow streams cleanly; running again after a
    /// termination is a restart (the log becomes the `previous=true` one). Returns the Pod.
    pub fn set_container_state(
        &self,
        namespace: &str,
        pod: &str,
        container: &str,
        state: &str,
        exit_code: i32,
    ) -> Value {
        let body = serde_json::json!({
            "container": container, "state": state, "exit_code": exit_code,
        });
        self.control(
            "PUT",
            &format!("/_control/pods/{namespace}/{pod}/state"),
            Some(&body.to_string()),
        )
    }

    /// Append lines (each with a newline and a fresh timestamp) to a container's log;
    /// returns `{"appended", "timestamps": [RFC3339Nano, ..]}`.
    pub fn append_logs(
        &self,
        namespace: &str,
        pod: &str,
        container: &str,
        lines: &[&str],
    ) -> Value {
        let body = serde_json::json!({
            "namespace": namespace, "pod": pod, "container": container, "lines": lines,
        });
        self.control("POST", "/_control/logs", Some(&body.to_string()))
    }

    /// Append `count` lines `gen seq=NNNNNNNNNN xxx…` of `size` bytes (newline included),
    /// numbered on from the container's last generated line; returns
    /// `{"count", "first_seq", "last_seq"}` once they are all in.
    pub fn generate_logs(
        &self,
        namespace: &str,
        pod: &str,
        container: &str,
        count: u64,
        size: u64,
    ) -> Value {
        let body = serde_json::json!({
            "namespace": namespace, "pod": pod, "container": container,
            "count": count, "size": size,
        });
        self.control("POST", "/_control/logs/generate", Some(&body.to_string()))
    }

    /// Merge log stream fault settings (`PUT /_control/logs/faults`, e.g.
    /// `json!({"drop_every": 4, "drop_mid_line": true})` or `{"chunk_split": true}`); returns
    /// the settings now in force. They apply to log streams opened afterwards.
    pub fn set_log_faults(&self, settings: &Value) -> Value {
        self.control("PUT", "/_control/logs/faults", Some(&settings.to_string()))
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        // Closing stdin alone would stop it; kill too so it is gone before the dir is removed.
        drop(self.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A ServiceAccount volume laid out as the kubelet's AtomicWriter does:
///
/// ```text
/// path/..2026_11_29_03_00_00.N/{token,ca.crt,namespace}
/// path/..data -> ..2026_11_29_03_00_00.N
/// path/token -> ..data/token   (likewise ca.crt, namespace)
/// ```
///
/// Updates write a new timestamped folder and swap `..data` atomically by renaming a
/// `..data_tmp` symlink over it, so a reader sees either the old or the new set of files.
pub struct SaDir {
    pub path: PathBuf,
    counter: AtomicU32,
}

const SA_FILES: [&str; 3] = ["token", "ca.crt", "namespace"];

impl SaDir {
    /// Create a new ServiceAccount directory inside `parent`.
    pub fn new(parent: &Path, token: &str, ca_pem_path: &Path, namespace: &str) -> SaDir {
        let n = DIR_COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = parent.join(format!("serviceaccount-{n}"));
        std::fs::create_dir_all(&path)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", path.display()));
        let ca = read(ca_pem_path);
        let sa = SaDir {
            path,
            counter: AtomicU32::new(0),
        };
        let generation = sa.write_generation(token.as_bytes(), &ca, namespace.as_bytes());
        symlink(Path::new(&generation), &sa.path.join("..data"));
        for f in SA_FILES {
            symlink(&Path::new("..data").join(f), &sa.path.join(f));
        }
        sa
    }

    /// Rotate the token the way the kubelet does.
    pub fn rotate(&self, new_token: &str) {
        let ca = read(&self.path.join("ca.crt"));
        let ns = read(&self.path.join("namespace"));
        self.swap(new_token.as_bytes(), &ca, &ns);
    }

    /// Replace `ca.crt` (e.g. a CA rotation) the way the kubelet does.
    pub fn rotate_ca(&self, ca_pem_path: &Path) {
        let token = read(&self.path.join("token"));
        let ns = read(&self.path.join("namespace"));
        self.swap(&token, &read(ca_pem_path), &ns);
    }

    /// The current token, as a pod would read it.
    pub fn token(&self) -> String {
        String::from_utf8_lossy(&read(&self.path.join("token"))).into_owned()
    }

    /// The AtomicWriter update: new folder, `..data_tmp` → it, rename over `..data`, remove
    /// the old folder.
    fn swap(&self, token: &[u8], ca: &[u8], ns: &[u8]) {
        let data = self.path.join("..data");
        let old = std::fs::read_link(&data)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", data.display()));
        let generation = self.write_generation(token, ca, ns);
        let tmp = self.path.join("..data_tmp");
        let _ = std::fs::remove_file(&tmp);
        symlink(Path::new(&generation), &tmp);
        std::fs::rename(&tmp, &data).unwrap_or_else(|e| {
            panic!(
                "cannot rename {} over {}: {e}",
                tmp.display(),
                data.display()
            )
        });
        let old = self.path.join(old);
        std::fs::remove_dir_all(&old)
            .unwrap_or_else(|e| panic!("cannot remove {}: {e}", old.display()));
    }

    /// Write one timestamped folder; returns its name (relative to `path`).
    fn write_generation(&self, token: &[u8], ca: &[u8], ns: &[u8]) -> String {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let name = format!("..2026_11_29_03_00_00.{n}");
        let dir = self.path.join(&name);
        std::fs::create_dir(&dir)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
        for (file, contents) in SA_FILES.iter().zip([token, ca, ns]) {
            let p = dir.join(file);
            std::fs::write(&p, contents)
                .unwrap_or_else(|e| panic!("cannot write {}: {e}", p.display()));
        }
        name
    }
}

fn read(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()))
}

fn symlink(target: &Path, link: &Path) {
    std::os::unix::fs::symlink(target, link).unwrap_or_else(|e| {
        panic!(
            "cannot link {} -> {}: {e}",
            link.display(),
            target.display()
        )
    });
}

/// The environment of a simulated pod talking to `server` with the ServiceAccount `sa`:
/// `KUBERNETES_SERVICE_HOST`, `KUBERNETES_SERVICE_PORT`, `INCLUSTER_SERVICEACCOUNT_DIR`.
/// The host is the first listener's address (127.0.0.1 unless the server listens on IPv6
/// first), without brackets, as Kubernetes sets it.
pub fn env_for_pod(server: &TestServer, sa: &SaDir) -> Vec<(String, String)> {
    let authority = server
        .url
        .split_once("://")
        .map_or(server.url.as_str(), |(_, rest)| rest);
    let host = authority
        .rsplit_once(':')
        .map_or(authority, |(host, _)| host)
        .trim_start_matches('[')
        .trim_end_matches(']');
    vec![
        ("KUBERNETES_SERVICE_HOST".into(), host.to_owned()),
        ("KUBERNETES_SERVICE_PORT".into(), server.port.to_string()),
        (
            "INCLUSTER_SERVICEACCOUNT_DIR".into(),
            sa.path.display().to_string(),
        ),
    ]
}

/// A JWT-shaped token with the given claims and a fake signature: enough for code that
/// decodes claims (it is never verified by the test server, which compares tokens as
/// opaque strings).
pub fn fake_jwt(claims: &Value) -> String {
    use base64::Engine;
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let header = br#"{"alg":"RS256","kid":"incluster-test"}"#;
    let claims = serde_json::to_vec(claims).expect("claims serialise");
    format!(
        "{}.{}.{}",
        b64(header),
        b64(&claims),
        b64(b"not-a-real-signature")
    )
}

/// A field of this process's /proc/self/status in KiB (`VmRSS`, `VmHWM`, ...).
pub fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/self/status"))
}
