//! The core's hot paths on data held in memory, with no network and no front: what the code
//! itself costs per watch event and per log line.
//!
//! - Watch: 20,000 realistic ~4 KB Pod events (ADDED and MODIFIED alternating, as the test
//!   server's benchmark stream), fed to the core's `LineFramer` in 16 KiB reads (one TLS
//!   record each, as rustls hands them over), then each line decoded with the core's own
//!   `watch::event::parse` (type, raw object, metadata, borrowing) and with `RawDecoder` (what
//!   the watch runs for the C API: owned object bytes and tracked metadata). MB/s and events/s.
//! - Logs: 200,000 lines of 100 B through the same framer: lines/s and MB/s.
//!
//! Every round checks its counts: the number of lines and events, the bytes, every event's
//! type, name and resourceVersion (in sequence), every log line's length and the last line's
//! number, so a fast wrong answer cannot win. Each figure is the median of the rounds, with the
//! spread.
//!
//! `cargo bench --bench core [-- --out DIR]` (DIR defaults to
//! `$INCLUSTER_CACHE/bench-results`, else `~/.cache/incluster/bench-results`; the figures are
//! also written there as `core.json`).

use std::hint::black_box;
use std::time::Instant;

use incluster::core::stream::lines::LineFramer;
use incluster::core::watch::event::{Decoded, Decoder, EventType, Parsed, RawDecoder, parse};
use serde_json::{Value, json};

/// The watchbench Pod template, shared with the test server.
use incluster_testserver::podtemplate;
#[path = "support/results.rs"]
mod results;

const EVENTS: usize = 20_000;
const EVENT_SIZE: usize = 4096;
const LOG_LINES: usize = 200_000;
const LOG_SIZE: usize = 100;
/// The bytes one read hands to the framer: one TLS record.
const READ: usize = 16 * 1024;
const ROUNDS: usize = 15;
/// resourceVersion of event `i` (from 0): `1` then `i + 1` in 12 digits, as the test server.
const RV_BASE: u64 = 1_000_000_000_000;

fn kind_of(i: usize) -> &'static str {
    if i.is_multiple_of(2) {
        "ADDED"
    } else {
        "MODIFIED"
    }
}

/// The watch stream: `n` event lines, each ending in a newline: the test server's
/// `watchbench` Pod (the same template), event `i` with resourceVersion `RV_BASE + i + 1` and
/// object number `(i + 1) % 1000`, as that stream numbers them.
fn watch_stream(n: usize, size: usize) -> Vec<u8> {
    let pod = podtemplate::pod(size);
    let template = |kind: &str| json!({"type": kind, "object": pod}).to_string() + "\n";
    let (added, modified) = (template("ADDED"), template("MODIFIED"));
    let mut out = Vec::with_capacity(n * (size + 40));
    for i in 0..n {
        let t = if kind_of(i) == "ADDED" {
            &added
        } else {
            &modified
        };
        let line = t
            .replace(podtemplate::MARK, &format!("{:012}", i + 1))
            .replace(podtemplate::MARK_ID, &format!("{:012}", (i + 1) % 1000));
        out.extend_from_slice(line.as_bytes());
    }
    out
}

/// The log: `n` lines of `size` bytes (newline included): `line IIIIIIIIII xxx…`.
fn log_stream(n: usize, size: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(n * size);
    for i in 1..=n {
        let start = out.len();
        out.extend_from_slice(format!("line {i:010} ").as_bytes());
        out.resize(start + size - 1, b'x');
        out.push(b'\n');
    }
    out
}

/// Feed `data` to a framer in reads of `READ` bytes, handing each complete line to `f`.
/// Returns the number of lines.
fn frame(data: &[u8], max_line: usize, mut f: impl FnMut(usize, &[u8])) -> usize {
    let mut framer = LineFramer::new(max_line);
    let mut n = 0;
    for chunk in data.chunks(READ) {
        let spare = framer.spare();
        spare[..chunk.len()].copy_from_slice(chunk);
        framer.filled(chunk.len());
        while let Some(line) = framer.next_line().expect("a line over the limit") {
            f(n, line);
            n += 1;
        }
    }
    assert!(!framer.has_partial(), "a partial line was left over");
    n
}

fn check_event(i: usize, kind: EventType, name: Option<&str>, rv: Option<&str>) {
    let want = if i.is_multiple_of(2) {
        EventType::Added
    } else {
        EventType::Modified
    };
    assert_eq!(kind, want, "event {i}: type");
    assert!(
        name.is_some_and(|n| n.starts_with("bench-pod-")),
        "event {i}: name {name:?}"
    );
    let rv: u64 = rv
        .and_then(|r| r.parse().ok())
        .unwrap_or_else(|| panic!("event {i}: resourceVersion {rv:?}"));
    assert_eq!(rv, RV_BASE + i as u64 + 1, "event {i}: resourceVersion");
}

struct Figure {
    workload: &'static str,
    unit: &'static str,
    median: f64,
    lo: f64,
    hi: f64,
}

/// Run `f` (which returns the items it did and checks them) `ROUNDS` times after one warm-up;
/// the rate in items/s: median, min and max.
fn rate(items: usize, mut f: impl FnMut() -> usize) -> (f64, f64, f64) {
    assert_eq!(f(), items, "warm-up count");
    let mut rates: Vec<f64> = (0..ROUNDS)
        .map(|_| {
            let t = Instant::now();
            let n = f();
            let s = t.elapsed().as_secs_f64();
            assert_eq!(n, items, "count");
            n as f64 / s
        })
        .collect();
    rates.sort_by(f64::total_cmp);
    (rates[rates.len() / 2], rates[0], rates[rates.len() - 1])
}

fn main() {
    // Read the arguments first, so a bad --out fails before the minute of measuring.
    let _ = results::out_dir();
    let watch = watch_stream(EVENTS, EVENT_SIZE);
    let log = log_stream(LOG_LINES, LOG_SIZE);
    let (wmb, lmb) = (watch.len() as f64 / 1e6, log.len() as f64 / 1e6);
    println!(
        "core benchmark, in memory: {EVENTS} watch events ({:.1} MB, {:.0} B a line) and \
         {LOG_LINES} log lines of {LOG_SIZE} B ({lmb:.1} MB), in reads of {} KiB; \
         median of {ROUNDS} rounds",
        wmb,
        watch.len() as f64 / EVENTS as f64,
        READ / 1024
    );
    let mut figures = Vec::new();

    // Watch: framing alone.
    let (m, lo, hi) = rate(EVENTS, || {
        let mut bytes = 0;
        let n = frame(&watch, 64 << 20, |_, l| bytes += black_box(l).len() + 1);
        assert_eq!(bytes, watch.len());
        n
    });
    figures.push(("watch: framing only", m, lo, hi, wmb));

    // Watch: framing + the core's borrowing parse (type, raw object, metadata).
    let (m, lo, hi) = rate(EVENTS, || {
        let mut object_bytes = 0;
        let n = frame(&watch, 64 << 20, |i, line| {
            match parse(line).expect("a malformed event") {
                Parsed::Event(kind, raw, meta) => {
                    check_event(
                        i,
                        kind,
                        meta.name.as_deref(),
                        meta.resource_version.as_deref(),
                    );
                    assert_eq!(raw.first(), Some(&b'{'));
                    object_bytes += black_box(raw).len();
                }
                Parsed::Error(..) => panic!("event {i}: an ERROR event"),
            }
        });
        assert!(object_bytes > EVENTS * (EVENT_SIZE - 64));
        n
    });
    figures.push(("watch: framing + event::parse", m, lo, hi, wmb));

    // Watch: framing + RawDecoder (owned object and tracked metadata, as the C API's watch).
    let (m, lo, hi) = rate(EVENTS, || {
        let mut dec = RawDecoder;
        frame(&watch, 64 << 20, |i, line| {
            match dec.decode_line(line).expect("a malformed event") {
                Decoded::Event(kind, tracked, object) => {
                    let name = tracked.key.as_ref().map(|k| k.name.as_str());
                    check_event(i, kind, name, Some(&tracked.resource_version));
                    black_box(object);
                }
                Decoded::Error(..) => panic!("event {i}: an ERROR event"),
            }
        })
    });
    figures.push(("watch: framing + RawDecoder (owned)", m, lo, hi, wmb));

    // Logs: framing 100-byte lines.
    let (m, lo, hi) = rate(LOG_LINES, || {
        let mut bytes = 0;
        let last = format!("line {LOG_LINES:010} ");
        let n = frame(&log, 1 << 20, |i, l| {
            assert!(l.len() == LOG_SIZE - 1 && l.starts_with(b"line "));
            bytes += black_box(l).len() + 1;
            if i + 1 == LOG_LINES {
                assert!(l.starts_with(last.as_bytes()), "the last line's number");
            }
        });
        assert_eq!(bytes, log.len());
        n
    });
    figures.push(("logs: framing 100 B lines", m, lo, hi, lmb));

    println!();
    println!(
        "| {:<38} | {:>14} | {:>10} | {:>25} |",
        "workload", "items/s", "MB/s", "spread (items/s, min-max)"
    );
    println!("|{:-<40}|{:-<16}|{:-<12}|{:-<27}|", "", "", "", "");
    let mut rows = Vec::new();
    for (workload, m, lo, hi, mb) in figures {
        let items = if workload.starts_with("logs") {
            LOG_LINES
        } else {
            EVENTS
        };
        let mbps = m * mb / items as f64;
        println!(
            "| {workload:<38} | {m:>14.0} | {mbps:>10.1} | {:>25} |",
            format!("{lo:.0}-{hi:.0}")
        );
        let unit = if workload.starts_with("logs") {
            "lines/s"
        } else {
            "events/s"
        };
        rows.push(Figure {
            workload,
            unit,
            median: m,
            lo,
            hi,
        });
        rows.push(Figure {
            workload,
            unit: "MB/s",
            median: mbps,
            lo: lo * mb / items as f64,
            hi: hi * mb / items as f64,
        });
    }
    println!(
        "\n(every round checked: line and event counts, bytes, each event's type, name and \
         resourceVersion, each log line)"
    );

    let json_rows: Vec<Value> = rows
        .iter()
        .map(|f| {
            json!({
                "workload": f.workload,
                "unit": f.unit,
                "better": "higher",
                "values": {"incluster": f.median},
                "spread": {"incluster": [f.lo, f.hi]},
                "chart": false,
            })
        })
        .collect();
    let doc = json!({
        "title": "Core hot paths in Rust, in memory (cargo bench --bench core)",
        "setup": format!(
            "{EVENTS} events of ~{EVENT_SIZE} B ({wmb:.1} MB) and {LOG_LINES} lines of \
             {LOG_SIZE} B, fed in {} KiB reads; median of {ROUNDS} rounds",
            READ / 1024
        ),
        "clients": ["incluster"],
        "rows": json_rows,
        "notes": [
            "No network, no front: the core's LineFramer, watch::event::parse and RawDecoder \
             on data held in memory.",
        ],
    });
    results::write("core", doc);
}
