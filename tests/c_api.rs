//! Builds the C programs in tests/c against the committed header and the built
//! `libincluster.so`, runs them in a simulated pod against the test API server, and runs them
//! again under valgrind (0 errors, 0 leaks).
//!
//! Valgrind is required: `tests/run.sh` installs it. Set `INCLUSTER_SKIP_VALGRIND=1` to skip
//! that half knowingly (the test then says so on stderr).

use incluster_testserver::harness as common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::{SaDir, TestServer, unique_dir};

const TOKEN: &str = "tok-c-tests-SECRET-a9";

fn target_dir() -> PathBuf {
    // target/<profile>/deps/c_api-<hash> → target/<profile>
    let exe = std::env::current_exe().unwrap();
    exe.parent().unwrap().parent().unwrap().to_path_buf()
}

fn compile(src: &Path, out: &Path) {
    compile_with(
        src,
        out,
        &std::env::var("CC").unwrap_or_else(|_| "cc".into()),
        &[],
    );
}

/// The C compiler for the sanitizer builds: clang from Debian (`tests/setup.sh` installs it).
const SANITIZER_CC: &str = "clang";
const SANITIZER_FLAGS: &[&str] = &[
    "-fsanitize=address,undefined",
    "-fno-sanitize-recover=all",
    "-fno-omit-frame-pointer",
];

fn compile_with(src: &Path, out: &Path, cc: &str, extra: &[&str]) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let lib = target_dir();
    assert!(
        lib.join("libincluster.so").exists(),
        "{} is missing: build the library first (cargo build)",
        lib.join("libincluster.so").display()
    );
    let status = Command::new(cc)
        .args(extra)
        .args([
            "-std=c11",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-pedantic",
            "-g",
            "-O1",
        ])
        .arg("-I")
        .arg(root.join("include"))
        .arg("-o")
        .arg(out)
        .arg(src)
        .arg("-L")
        .arg(&lib)
        .arg(format!("-Wl,-rpath,{}", lib.display()))
        .args(["-lincluster", "-lpthread"])
        .output()
        .unwrap_or_else(|e| panic!("run the C compiler {cc}: {e} (tests/setup.sh installs it)"));
    assert!(
        status.status.success(),
        "compiling {} failed:\n{}",
        src.display(),
        String::from_utf8_lossy(&status.stderr)
    );
}

struct Setup {
    server: TestServer,
    sa: SaDir,
    dir: PathBuf,
}

fn setup() -> Setup {
    let server = TestServer::start(&["--token", TOKEN]);
    let dir = unique_dir("capi");
    let sa = SaDir::new(&dir, TOKEN, &server.ca, "c-ns");
    write_kubeconfigs(&server, &dir.join("kc"));
    Setup { server, sa, dir }
}

/// The kubeconfigs and exec plugins tests/c/test_kubeconfig.c reads from `dir`
/// (`$INCLUSTER_TEST_KC_DIR`): a good one with two contexts, tokenFile, exec, a
/// `home/.kube/config`, and one for each bad input.
fn write_kubeconfigs(server: &TestServer, dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(dir.join("home/.kube")).unwrap();
    std::fs::copy(&server.ca, dir.join("ca.crt")).unwrap();
    std::fs::write(dir.join("token"), TOKEN).unwrap();
    let config = |user: &str| {
        format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: dev\nclusters:\n- name: t\n  cluster:\n    \
             server: {}\n    certificate-authority: {}\ncontexts:\n- name: dev\n  context: \
             {{cluster: t, user: u, namespace: kc-ns}}\n- name: other\n  context: {{cluster: t, user: u, \
             namespace: other-ns}}\nusers:\n- name: u\n  user:\n{user}\n",
            server.url,
            dir.join("ca.crt").display()
        )
    };
    let exec = |cmd: &str| {
        format!(
            "    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: {cmd}"
        )
    };
    let script = |name: &str, body: &str| {
        let p = dir.join(name);
        std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    };
    script(
        "exec-ok.sh",
        &format!(
            "echo '{{\"apiVersion\":\"client.authentication.k8s.io/v1beta1\",\"kind\":\"ExecCredential\",\
             \"status\":{{\"token\":\"{TOKEN}\"}}}}'"
        ),
    );
    script(
        "exec-fails.sh",
        &format!("echo {TOKEN}; echo 'token expired: log in again' >&2; exit 1"),
    );
    script("exec-hangs.sh", "exec sleep 30");
    script("exec-garbage.sh", &format!("echo 'garbage {TOKEN}'"));
    let good = config(&format!("    token: {TOKEN}"));
    let files = [
        ("good", good.clone()),
        ("home/.kube/config", good.clone()),
        ("tokenfile", config("    tokenFile: token")),
        ("exec", config(&exec("./exec-ok.sh"))),
        ("exec-missing", config(&exec("no-such-plugin-xyz"))),
        ("exec-fails", config(&exec("./exec-fails.sh"))),
        ("exec-hangs", config(&exec("./exec-hangs.sh"))),
        ("exec-garbage", config(&exec("./exec-garbage.sh"))),
        (
            "malformed",
            format!("users:\n- name: u\n  user:\n    token: {TOKEN}\n  - [\n"),
        ),
        ("ghost", good.replace("user: u,", "user: ghost,")),
        ("authprovider", config("    auth-provider: {name: gcp}")),
        ("basic", config("    username: a\n    password: b")),
    ];
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
    }
}

fn command(s: &Setup, program: &Path, valgrind: bool) -> Command {
    let mut c = if valgrind {
        let mut c = Command::new("valgrind");
        c.args([
            "--quiet",
            "--error-exitcode=99",
            "--leak-check=full",
            "--show-leak-kinds=definite,indirect,possible",
            "--errors-for-leak-kinds=definite,indirect,possible",
        ])
        .arg(format!(
            "--suppressions={}/tests/c/valgrind.supp",
            env!("CARGO_MANIFEST_DIR")
        ))
        .arg(program);
        c
    } else {
        Command::new(program)
    };
    c.envs(common::env_for_pod(&s.server, &s.sa))
        .env("INCLUSTER_TEST_URL", &s.server.url)
        .env("INCLUSTER_TEST_CA", &s.server.ca)
        .env("INCLUSTER_TEST_OTHER_CA", &s.server.other_ca)
        .env("INCLUSTER_TEST_TOKEN_FILE", s.sa.path.join("token"))
        .env("INCLUSTER_TEST_KC_DIR", s.dir.join("kc"))
        .env_remove("KUBECONFIG");
    c
}

/// Run a test program, killing it if it outlives `limit`: a hung C test fails, it never
/// hangs the suite.
fn run_bounded(mut cmd: Command, limit: Duration) -> std::process::Output {
    use std::process::Stdio;
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the test program (valgrind is required: tests/run.sh installs it)");
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if start.elapsed() > limit {
            child.kill().ok();
            let out = child.wait_with_output().unwrap();
            panic!(
                "the test program ran longer than {limit:?} and was killed:\n{}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn run_c_test(name: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let exe_dir = unique_dir("capi-bin");
    let exe = exe_dir.join(name);
    compile(&root.join("tests/c").join(format!("{name}.c")), &exe);

    // Each run gets a fresh server, so server-side state (flaky keys, objects) starts clean.
    let s = setup();
    let out = run_bounded(command(&s, &exe, false), Duration::from_secs(60));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{name} failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains(" passed, 0 failed"), "{stdout}");
    for text in [&stdout, &stderr] {
        assert!(!text.contains(TOKEN), "the token was printed");
    }
    std::fs::remove_dir_all(&s.dir).ok();
    drop(s);

    // The same program built with AddressSanitizer + UndefinedBehaviorSanitizer (and
    // LeakSanitizer, which ASan runs at exit): any finding aborts it with a report.
    let asan = exe_dir.join(format!("{name}-asan"));
    compile_with(
        &root.join("tests/c").join(format!("{name}.c")),
        &asan,
        SANITIZER_CC,
        SANITIZER_FLAGS,
    );
    let s = setup();
    let mut cmd = command(&s, &asan, false);
    cmd.env(
        "ASAN_OPTIONS",
        "detect_leaks=1:abort_on_error=0:exitcode=98",
    )
    .env("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1");
    let out = run_bounded(cmd, Duration::from_secs(120));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains(" passed, 0 failed"),
        "{name} built with ASan + UBSan: exit {:?}\n{stdout}\n{stderr}",
        out.status.code(),
    );
    assert!(
        !stderr.contains("Sanitizer"),
        "{name}: a sanitizer report:\n{stderr}"
    );
    std::fs::remove_dir_all(&s.dir).ok();
    drop(s);

    if std::env::var("INCLUSTER_SKIP_VALGRIND").is_ok_and(|v| v == "1") {
        eprintln!("valgrind run of {name} SKIPPED (INCLUSTER_SKIP_VALGRIND=1)");
    } else {
        let s = setup();
        let out = run_bounded(command(&s, &exe, true), Duration::from_secs(300));
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && stdout.contains(" passed, 0 failed"),
            "{name} under valgrind: exit {:?}\n{stdout}\n{stderr}",
            out.status.code(),
        );
        std::fs::remove_dir_all(&s.dir).ok();
    }
    std::fs::remove_dir_all(&exe_dir).ok();
}

#[test]
fn c_request_api() {
    run_c_test("test_request");
}

/// The C quick start (`examples/hello.c`) lists the pods of the pod's own namespace, and its
/// error print is the message alone, which already holds the status and the reason.
#[test]
fn the_c_example_lists_its_own_namespace_and_prints_each_error_fact_once() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let exe_dir = unique_dir("capi-example");
    let exe = exe_dir.join("hello");
    compile(&root.join("examples/hello.c"), &exe);
    let s = setup();
    s.server.create_pod("c-ns", "mine", &["app"]);
    let out = run_bounded(command(&s, &exe, false), Duration::from_secs(30));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("\"kind\":\"PodList\""), "{stdout}");
    assert!(stdout.contains("\"name\":\"mine\""), "{stdout}");
    assert!(s.server.requests().iter().any(|r| {
        r["path"]
            .as_str()
            .unwrap()
            .starts_with("/api/v1/namespaces/c-ns/pods?")
    }));

    // A token the server refuses: one line per failed call, the status and reason once each.
    s.server.set_tokens(&["someone-else"]);
    let out = run_bounded(command(&s, &exe, false), Duration::from_secs(30));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let first = stderr.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("GET /version 401 (Unauthorized): "),
        "{stderr}"
    );
    assert_eq!(first.matches("401").count(), 1, "{first}");
    assert_eq!(first.matches("(Unauthorized)").count(), 1, "{first}");
    assert!(!stderr.contains(TOKEN));
    std::fs::remove_dir_all(&s.dir).ok();
    std::fs::remove_dir_all(&exe_dir).ok();
}

#[test]
fn the_c_library_never_links_python() {
    // The `python` feature is off in a plain build: no pyo3 module, no libpython symbols.
    let lib = std::fs::read(target_dir().join("libincluster.so")).unwrap();
    let has = |needle: &[u8]| lib.windows(needle.len()).any(|w| w == needle);
    assert!(
        !has(b"PyInit__native"),
        "libincluster.so contains the Python module"
    );
    assert!(
        !has(b"PyObject_"),
        "libincluster.so references the Python C API"
    );
}

#[test]
fn c_names_api() {
    run_c_test("test_names");
}

#[test]
fn c_kubeconfig_api() {
    run_c_test("test_kubeconfig");
}

#[test]
fn c_watch_api() {
    run_c_test("test_watch");
}

#[test]
fn c_wait_api() {
    run_c_test("test_wait");
}

#[test]
fn c_logs_api() {
    run_c_test("test_logs");
}

#[test]
fn c_lease_api() {
    run_c_test("test_lease");
}

#[test]
fn c_exec_api() {
    run_c_test("test_exec");
}

/// tests/c/test_exec.c again, every session through an `HTTPS_PROXY` CONNECT proxy: the same
/// results, and the proxy saw only `CONNECT` to the server and nothing readable after it.
#[test]
fn c_exec_through_a_connect_proxy() {
    use common::proxy::{ConnectProxy, ProxyAnswer};
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let exe = unique_dir("capi-bin").join("test_exec");
    compile(&root.join("tests/c/test_exec.c"), &exe);
    let s = setup();
    let proxy = ConnectProxy::start(ProxyAnswer::Tunnel);
    let mut cmd = command(&s, &exe, false);
    cmd.env("HTTPS_PROXY", proxy.url()).env_remove("NO_PROXY");
    let out = run_bounded(cmd, Duration::from_secs(60));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains(" passed, 0 failed"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let target = s.server.url.trim_start_matches("https://");
    let heads = proxy.heads();
    assert!(heads.len() >= 4, "{heads:?}");
    for h in &heads {
        assert_eq!(
            h,
            &format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n")
        );
    }
    let up = proxy.upstream_bytes();
    assert!(!up.windows(TOKEN.len()).any(|w| w == TOKEN.as_bytes()));
    std::fs::remove_dir_all(&s.dir).ok();
}

#[test]
fn c_port_forward_api() {
    run_c_test("test_portforward");
}

#[test]
fn c_api_misuse() {
    run_c_test("test_misuse");
}

#[test]
fn c_extract_api() {
    run_c_test("test_extract");
}

/// The same inputs (`tests/data/error_classes.json`) get the same decision from the core
/// (`Error::class`), the C API (the result code) and the CLI (the exit code); the Python front
/// reads the same table in `tests/python/test_error_classes.py`.
#[test]
fn one_error_classification_for_core_c_and_cli() {
    let table: serde_json::Value =
        serde_json::from_str(include_str!("data/error_classes.json")).unwrap();
    let cases = table["cases"].as_array().unwrap();
    let field = |c: &serde_json::Value, k: &str| c[k].as_str().unwrap().to_owned();
    let s = setup();

    let config = incluster::Config::new(&s.server.url)
        .unwrap()
        .with_token(TOKEN)
        .with_ca_file(&s.server.ca);
    let client = incluster::Client::new(config).unwrap();
    // A row is a GET of `path`, or a wait on `wait` checked once (`input` names it for the
    // C program: "wait:TARGET|FOR|FAIL_ON").
    let input = |c: &serde_json::Value| match c["wait"].as_str() {
        Some(w) => format!(
            "wait:{w}|{}|{}",
            field(c, "for"),
            c["fail_on"].as_str().unwrap_or_default()
        ),
        None => field(c, "path"),
    };
    for c in cases {
        let path = input(c);
        let e = match c["wait"].as_str() {
            Some(w) => {
                let fail: Vec<&str> = c["fail_on"].as_str().into_iter().collect();
                let mut o = incluster::core::wait::WaitOptions::parse(
                    &[field(c, "for").as_str()],
                    &[],
                    &fail,
                )
                .unwrap();
                o.timeout = Some(Duration::ZERO);
                let t = incluster::core::wait::target(&client, w, None, None).unwrap();
                incluster::core::wait::wait(&client, &t, &o, &Default::default()).unwrap_err()
            }
            None => client.get_json(&path).unwrap_err(),
        };
        assert_eq!(
            format!("{:?}", e.class()),
            field(c, "class"),
            "core, {path}"
        );
        assert_eq!(
            i64::from(e.class().exit_code()),
            c["exit"].as_i64().unwrap(),
            "core exit code, {path}"
        );
    }

    let exe_dir = unique_dir("capi-classify");
    let exe = exe_dir.join("classify");
    compile(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/c/classify.c"),
        &exe,
    );
    let paths: Vec<String> = cases.iter().map(input).collect();
    let out = run_bounded(
        {
            let mut cmd = command(&s, &exe, false);
            cmd.args(&paths);
            cmd
        },
        Duration::from_secs(60),
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), cases.len(), "{stdout}");
    for (c, line) in cases.iter().zip(lines) {
        let cols: Vec<&str> = line.split('\t').collect();
        assert_eq!(cols[0], input(c));
        assert_eq!(cols[1], field(c, "c"), "C result code, {line}");
        if field(c, "class") == "AlreadyExists" {
            // C has no code of its own for it: CONFLICT, told apart by the reason.
            assert_eq!(cols[3], "AlreadyExists", "{line}");
        }
    }

    for c in cases {
        let path = input(c);
        let args: Vec<String> = match c["wait"].as_str() {
            Some(w) => {
                let mut a = vec!["wait".into(), w.into(), "--for".into(), field(c, "for")];
                a.extend(["--timeout".into(), "0".into()]);
                if let Some(f) = c["fail_on"].as_str() {
                    a.extend(["--fail-on".into(), f.into()]);
                }
                a
            }
            None => vec!["get".into(), path.clone()],
        };
        let out = Command::new(env!("CARGO_BIN_EXE_incluster"))
            .args(&args)
            .envs(common::env_for_pod(&s.server, &s.sa))
            .output()
            .unwrap();
        assert_eq!(
            out.status.code().map(i64::from),
            c["exit"].as_i64(),
            "CLI exit code, {path}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    std::fs::remove_dir_all(&exe_dir).ok();
    std::fs::remove_dir_all(&s.dir).ok();
}

/// Every function in the committed header says, before its `# Safety` section, what a NULL
/// argument does and from which threads it may be called.
#[test]
fn every_header_function_states_null_and_thread_behaviour() {
    let header =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("include/incluster.h"))
            .unwrap();
    let mut doc = String::new();
    let mut missing = Vec::new();
    let mut functions = 0;
    for line in header.lines() {
        let t = line.trim_start();
        if let Some(c) = t.strip_prefix("//") {
            doc.push_str(c);
            doc.push('\n');
            continue;
        }
        // A declaration starts at the left margin with its return type (the preamble's lines
        // start with ` *`).
        let is_function = line.starts_with(|c: char| c.is_ascii_lowercase())
            && !t.starts_with("typedef")
            && t.contains("incluster_")
            && t.contains('(');
        if is_function {
            functions += 1;
            let name = t
                .split('(')
                .next()
                .unwrap()
                .rsplit([' ', '*'])
                .next()
                .unwrap();
            let text = doc.split("# Safety").next().unwrap();
            if !text.contains("NULL") || !text.to_lowercase().contains("thread") {
                missing.push(name.to_owned());
            }
        }
        if !t.is_empty() {
            doc.clear();
        }
    }
    assert!(
        functions > 50,
        "found only {functions} functions in the header"
    );
    assert!(
        missing.is_empty(),
        "no NULL or thread statement: {missing:?}"
    );
}
