//! `GET /_test/watchbench?n=N&size=S`: a watch stream of N synthetic Pod events (ADDED and
//! MODIFIED alternating) whose objects are S bytes of JSON each (default 1000 events of
//! 4096 bytes), for client decoding benchmarks.
//!
//! The server must never be the bottleneck, so the two event lines are encoded once as
//! templates with fixed-width placeholders for the per-event counter; the write loop only
//! copies a template into a 64 KiB buffer and patches the digits in place (no allocation,
//! no JSON work per event).
//!
//! Event `i` (from 1) has resourceVersion `1DDDDDDDDDDDD`, where `DDDDDDDDDDDD` is `i` in 12
//! zero-padded digits (increasing, all the same width), and name `bench-pod-PPPPPPPPPPPP` and
//! uid `…-PPPPPPPPPPPP` with `P` = `i` modulo 1000: like a real stream, it keeps modifying the
//! same objects, so per-object client state stays bounded.

use serde_json::Value;

use crate::http::{Reply, Request, Streaming};
use crate::podtemplate::{MARK, MARK_ID, pod};

/// The size of the chunks written.
const CHUNK: usize = 64 * 1024;
/// The width of the counter in the templates.
const DIGITS: usize = 12;
/// Distinct pods the stream cycles through, as a real cluster's stream keeps modifying the
/// same objects (so a client's per-object state is bounded, as it would be).
const PODS: u64 = 1000;
const MAX_EVENTS: u64 = 100_000_000_000;
const MAX_SIZE: u64 = 4 * 1024 * 1024;

/// One encoded event line and where the counters go in it.
struct Template {
    line: Vec<u8>,
    /// Where the event number goes (the resourceVersion).
    slots: Vec<usize>,
    /// Where the object number goes (name, uid).
    id_slots: Vec<usize>,
}

impl Template {
    fn new(kind: &str, pod: &Value) -> Template {
        let line = format!("{{\"type\":\"{kind}\",\"object\":{pod}}}\n").into_bytes();
        let find = |mark: &str| {
            line.windows(DIGITS)
                .enumerate()
                .filter(|(_, w)| *w == mark.as_bytes())
                .map(|(i, _)| i)
                .collect()
        };
        Template {
            slots: find(MARK),
            id_slots: find(MARK_ID),
            line,
        }
    }
}

/// `n` as DIGITS zero-padded decimal digits (no allocation).
fn format_digits(mut n: u64) -> [u8; DIGITS] {
    let mut d = [b'0'; DIGITS];
    for slot in d.iter_mut().rev() {
        *slot = b'0' + (n % 10) as u8;
        n /= 10;
    }
    d
}

/// Add one to a zero-padded decimal counter in place.
fn increment(digits: &mut [u8; DIGITS]) {
    for d in digits.iter_mut().rev() {
        if *d == b'9' {
            *d = b'0';
        } else {
            *d += 1;
            return;
        }
    }
}

/// The route.
pub fn watchbench(req: &Request) -> Reply {
    let param = |name: &str, default: u64| {
        req.param(name)
            .and_then(|v| v.trim().parse::<u64>().ok())
            .unwrap_or(default)
    };
    watchbench_stream(param("n", 1000), param("size", 4096))
}

/// The same stream for `n` events of `size` bytes (also served as a Pod watch, so clients that
/// only know typed paths can be measured; see `PUT /_control/watchbench`).
pub fn watchbench_stream(n: u64, size: u64) -> Reply {
    let n = n.min(MAX_EVENTS);
    let size = usize::try_from(size.min(MAX_SIZE)).unwrap_or(4096);
    let pod = pod(size);
    let templates = [
        Template::new("ADDED", &pod),
        Template::new("MODIFIED", &pod),
    ];
    Reply::Stream(Streaming {
        status: 200,
        content_type: "application/json",
        headers: Vec::new(),
        body: Box::new(move |w| {
            let longest = templates.iter().map(|t| t.line.len()).max().unwrap_or(0);
            let mut buf = Vec::with_capacity(CHUNK + longest);
            let mut counter = [b'0'; DIGITS];
            for i in 0..n {
                increment(&mut counter);
                let t = &templates[usize::from(i % 2 == 1)];
                let start = buf.len();
                buf.extend_from_slice(&t.line);
                for &at in &t.slots {
                    if let Some(slot) = buf.get_mut(start + at..start + at + DIGITS) {
                        slot.copy_from_slice(&counter);
                    }
                }
                let id = format_digits((i + 1) % PODS);
                for &at in &t.id_slots {
                    if let Some(slot) = buf.get_mut(start + at..start + at + DIGITS) {
                        slot.copy_from_slice(&id);
                    }
                }
                if buf.len() >= CHUNK {
                    w.send(&buf)?;
                    buf.clear();
                }
            }
            w.send(&buf)
        }),
    })
}
