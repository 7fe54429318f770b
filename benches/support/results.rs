//! The JSON results of the Rust benches, in the format of benches/results.py (read by
//! benches/report.py): `<bench>.json` in `--out DIR`, else `$INCLUSTER_CACHE/bench-results`,
//! else `~/.cache/incluster/bench-results`. Included by path from each bench.

use std::path::PathBuf;

use serde_json::Value;

/// Where the results go: `--out DIR` (or `--out=DIR`) on the command line, else the cache.
pub fn out_dir() -> PathBuf {
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--out" {
            return PathBuf::from(args.next().expect("--out DIR"));
        }
        if let Some(d) = a.strip_prefix("--out=") {
            return PathBuf::from(d);
        }
    }
    let cache = std::env::var_os("INCLUSTER_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/incluster")
        });
    cache.join("bench-results")
}

/// Write `doc` (title, setup, clients, rows, notes) as `<bench>.json`, adding the bench's
/// name, the date (RFC 3339, UTC, to the second) and the machine's core count.
pub fn write(bench: &str, mut doc: Value) {
    doc["bench"] = bench.into();
    doc["date"] = humantime::format_rfc3339_seconds(std::time::SystemTime::now())
        .to_string()
        .into();
    doc["cores"] = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .into();
    let out = out_dir();
    std::fs::create_dir_all(&out).unwrap();
    let path = out.join(format!("{bench}.json"));
    std::fs::write(&path, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    println!("results written to {}", path.display());
}
