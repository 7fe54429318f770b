//! Request latency, side by side with curl on the same loopback HTTPS test server.
//!
//! Run with `benches/run.sh` (builds the release library, CLI and test server first). Prints:
//! - `incluster get /version` as a whole process (median and p90 over many runs) vs a curl
//!   one-liner doing the same (CA file + bearer header);
//! - keep-alive GET p50/p99 through the C API vs curl reusing one connection.
//!
//! With two or more cores, the server is pinned to core 0 and the clients to core 1, so the
//! server does not compete with the client being measured. Every run checks that each call got
//! HTTP 200, so a fast wrong answer cannot win.
//!
//! The figures are also written as `request.json` into `--out DIR` (after `--`; default
//! `~/.cache/incluster/bench-results`), for `benches/report.py`.

use incluster_testserver::harness as common;
#[path = "support/results.rs"]
mod results;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use common::{SaDir, TestServer, unique_dir};

const TOKEN: &str = "bench-token";

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// A command pinned to `core` (through `sched_setaffinity` in the child, not a `taskset`
/// wrapper, whose own exec would add a millisecond to every whole-process run).
fn pinned(core: Option<usize>, program: impl AsRef<std::ffi::OsStr>) -> Command {
    use std::os::unix::process::CommandExt;
    let mut cmd = Command::new(program);
    if let Some(c) = core {
        // SAFETY: between fork and exec only the async-signal-safe sched_setaffinity is called,
        // on a cpu_set_t built on the stack.
        unsafe {
            cmd.pre_exec(move || {
                let mut set: libc::cpu_set_t = std::mem::zeroed();
                libc::CPU_SET(c, &mut set);
                if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    cmd
}

fn timed(mut cmd: Command) -> f64 {
    let t = Instant::now();
    let out = cmd.output().expect("spawn");
    let el = t.elapsed().as_secs_f64() * 1e3;
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).contains("gitVersion"),
        "a run failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    el
}

/// Wall times (ms, sorted) of `runs` whole-process invocations of each command, interleaved
/// so that noise on a shared machine hits both sides alike.
fn whole_process(
    runs: usize,
    mut a: impl FnMut() -> Command,
    mut b: impl FnMut() -> Command,
) -> (Vec<f64>, Vec<f64>) {
    let (mut xa, mut xb) = (Vec::with_capacity(runs), Vec::with_capacity(runs));
    for i in 0..runs + 5 {
        let (ta, tb) = (timed(a()), timed(b()));
        if i >= 5 {
            xa.push(ta);
            xb.push(tb);
        }
    }
    xa.sort_by(f64::total_cmp);
    xb.sort_by(f64::total_cmp);
    (xa, xb)
}

fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().unwrap().parent().unwrap().to_path_buf()
}

fn compile_c(src: &Path, out: &Path) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let lib = target_dir();
    let ok = Command::new("cc")
        .args(["-O2", "-std=c11", "-Wall", "-Wextra", "-Werror"])
        .arg("-I")
        .arg(root.join("include"))
        .arg("-o")
        .arg(out)
        .arg(src)
        .arg("-L")
        .arg(&lib)
        .arg(format!("-Wl,-rpath,{}", lib.display()))
        .arg("-lincluster")
        .status()
        .unwrap()
        .success();
    assert!(ok, "compiling {} failed", src.display());
}

fn main() {
    // `cargo bench` passes --bench; `-- --out DIR` says where the JSON results go.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let have_taskset = Command::new("taskset").arg("-V").output().is_ok();
    let (server_core, client_core) = if cores >= 2 && have_taskset {
        (Some(0), Some(1))
    } else {
        (None, None)
    };

    let server = TestServer::start(&["--token", TOKEN]);
    if let Some(c) = server_core {
        let _ = Command::new("taskset")
            .args(["-a", "-p", "-c", &c.to_string(), &server.pid().to_string()])
            .output();
    }
    let dir = unique_dir("bench");
    let sa = SaDir::new(&dir, TOKEN, &server.ca, "default");
    let env = common::env_for_pod(&server, &sa);
    let url = format!("{}/version", server.url);
    let auth = format!("Authorization: Bearer {TOKEN}");
    let runs = 200;

    println!(
        "incluster request benchmark: test server {} ({} cores{})",
        server.url,
        cores,
        if server_core.is_some() {
            "; server on core 0, clients on core 1"
        } else {
            ""
        }
    );

    // 1. One GET /version as a whole process.
    let cli = env!("CARGO_BIN_EXE_incluster");
    let (inc, curl) = whole_process(
        runs,
        || {
            let mut c = pinned(client_core, cli);
            c.args(["get", "/version"]).envs(env.clone());
            c
        },
        || {
            let mut c = pinned(client_core, "curl");
            c.args(["-sS", "--fail", "--cacert"])
                .arg(&server.ca)
                .args(["-H", &auth, &url]);
            c
        },
    );

    // 2. Keep-alive GET through the C API, and curl reusing one connection: first with the
    //    client on the other core (each request then pays two cross-core wake-ups), then on
    //    the server's core (the latency of the code itself, wake-ups nearly free).
    let n = 5000;
    let exe = dir.join("keepalive");
    compile_c(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/c/keepalive.c"),
        &exe,
    );
    let cfg = dir.join("curl.cfg");
    let mut text = String::new();
    for _ in 0..n + 200 {
        text.push_str(&format!("url = \"{url}\"\noutput = \"/dev/null\"\n"));
    }
    std::fs::write(&cfg, text).unwrap();
    let keepalive = |core: Option<usize>| -> ((f64, f64), (f64, f64)) {
        let out = pinned(core, &exe)
            .args(["/version", &n.to_string()])
            .envs(env.clone())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let c_api: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(c_api["ok"], n);
        let out = pinned(core, "curl")
            .args(["-sS", "--cacert"])
            .arg(&server.ca)
            .args(["-H", &auth, "-w", "%{http_code} %{time_total}\n", "-K"])
            .arg(&cfg)
            .output()
            .unwrap();
        let lines = String::from_utf8_lossy(&out.stdout);
        let mut curl: Vec<f64> = lines
            .lines()
            .skip(200)
            .map(|l| {
                let (code, t) = l.split_once(' ').unwrap();
                assert_eq!(code, "200", "curl got {code}");
                t.parse::<f64>().unwrap() * 1e6
            })
            .collect();
        assert_eq!(curl.len(), n);
        curl.sort_by(f64::total_cmp);
        (
            (
                c_api["p50_us"].as_f64().unwrap(),
                c_api["p99_us"].as_f64().unwrap(),
            ),
            (percentile(&curl, 0.5), percentile(&curl, 0.99)),
        )
    };
    let ((c50, c99), (k50, k99)) = keepalive(client_core);
    let same = server_core.map(|c| keepalive(Some(c)));

    let mut rows = vec![
        (
            "get /version, whole process, median (ms)",
            percentile(&inc, 0.5),
            percentile(&curl, 0.5),
            "≤ 4 ms",
        ),
        (
            "get /version, whole process, p90 (ms)",
            percentile(&inc, 0.9),
            percentile(&curl, 0.9),
            "",
        ),
        ("keep-alive GET p50, C API (µs)", c50, k50, "≤ 100 µs"),
        ("keep-alive GET p99, C API (µs)", c99, k99, ""),
    ];
    if let Some(((s50, s99), (t50, t99))) = same {
        rows.push(("keep-alive p50, client on server's core (µs)", s50, t50, ""));
        rows.push(("keep-alive p99, client on server's core (µs)", s99, t99, ""));
    }
    println!();
    println!(
        "| {:<46} | {:>10} | {:>10} | {:>20} | {:>8} |",
        "workload", "incluster", "curl", "curl / incluster", "goal"
    );
    println!(
        "|{:-<48}|{:-<12}|{:-<12}|{:-<22}|{:-<10}|",
        "", "", "", "", ""
    );
    for &(name, a, b, goal) in &rows {
        println!(
            "| {:<46} | {:>10.3} | {:>10.3} | {:>19.2}x | {:>8} |",
            name,
            a,
            b,
            b / a,
            goal
        );
    }
    println!("\n({runs} whole-process runs each, {n} keep-alive requests each, all answered 200)");
    std::fs::remove_dir_all(&dir).ok();

    let json_rows: Vec<serde_json::Value> = rows
        .iter()
        .map(|(name, a, b, goal)| {
            let (workload, unit) = name.rsplit_once(" (").unwrap_or((name, "ms)"));
            serde_json::json!({
                "workload": workload,
                "unit": unit.trim_end_matches(')'),
                "better": "lower",
                "values": {"incluster": a, "curl": b},
                "goal": goal,
                "label": if workload.contains("whole process") {
                    format!("CLI: {workload} ({})", unit.trim_end_matches(')'))
                } else {
                    format!("{workload} ({})", unit.trim_end_matches(')'))
                },
                "chart": !workload.contains("server's core")
                    && !workload.contains("p90")
                    && !workload.contains("p99"),
            })
        })
        .collect();
    let doc = serde_json::json!({
        "title": "Requests: the incluster CLI and C API next to curl (cargo bench --bench request)",
        "setup": format!(
            "{}; {runs} whole-process runs each, {n} keep-alive requests each",
            if server_core.is_some() {
                "server on core 0, clients on core 1"
            } else {
                "unpinned"
            }
        ),
        "clients": ["incluster", "curl"],
        "rows": json_rows,
        "notes": [
            "Whole process: `incluster get /version` (the CLI) and a curl one-liner with the CA \
             file and the bearer header. Keep-alive: the C API (benches/c/keepalive.c) and curl \
             reusing one connection.",
        ],
    });
    results::write("request", doc);
}
