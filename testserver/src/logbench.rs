//! `GET /_test/logbench?n=N&size=S`: a `text/plain` log of N lines of S bytes each
//! (newline included; default 200000 lines of 100 bytes), for client benchmarks. The same
//! stream is the log of any pod named `logbench` (sized by `PUT /_control/logbench`).
//!
//! Line `i` (from 1) is `line IIIIIIIIII xxxx…\n`: `i` in ten zero-padded digits, then
//! padding. Lines shorter than 16 bytes cannot be made; such sizes give `line IIIIIIIIII\n`.
//!
//! The server must never be the bottleneck, so a block of lines of at least [`BLOCK`] bytes
//! is built once; each round only rewrites the digits of each line in place and writes the
//! block as one chunk (no allocation, no formatting per line).

use crate::http::{Reply, Request, Streaming};

/// The least size of a write.
const BLOCK: usize = 128 * 1024;
/// The width of the line number.
const DIGITS: usize = 10;
/// `line ` before the digits.
const LEAD: &[u8] = b"line ";
/// The shortest line: `line `, the digits, the newline.
const MIN_SIZE: usize = LEAD.len() + DIGITS + 1;
const MAX_LINES: u64 = 9_999_999_999;
const MAX_SIZE: u64 = 1024 * 1024;

/// One line of `size` bytes with a zero line number.
fn template(size: usize) -> Vec<u8> {
    let mut line = Vec::with_capacity(size.max(MIN_SIZE));
    line.extend_from_slice(LEAD);
    line.resize(LEAD.len() + DIGITS, b'0');
    if size > MIN_SIZE {
        line.push(b' ');
        line.resize(size - 1, b'x');
    }
    line.push(b'\n');
    line
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
pub fn logbench(req: &Request) -> Reply {
    let param = |name: &str, default: u64| {
        req.param(name)
            .and_then(|v| v.trim().parse::<u64>().ok())
            .unwrap_or(default)
    };
    logbench_stream(param("n", 200_000), param("size", 100))
}

/// `n` lines of `size` bytes.
pub fn logbench_stream(n: u64, size: u64) -> Reply {
    let n = n.min(MAX_LINES);
    let line = template(usize::try_from(size.min(MAX_SIZE)).unwrap_or(MIN_SIZE));
    let per_block = BLOCK.div_ceil(line.len()).max(1);
    Reply::Stream(Streaming {
        status: 200,
        content_type: "text/plain",
        headers: Vec::new(),
        body: Box::new(move |w| {
            let block_lines = usize::try_from(n).map_or(per_block, |n| n.min(per_block));
            let mut block = line.repeat(block_lines);
            let mut counter = [b'0'; DIGITS];
            let mut left = n;
            while left > 0 {
                let k = usize::try_from(left).map_or(block_lines, |l| l.min(block_lines));
                for chunk in block.chunks_exact_mut(line.len()).take(k) {
                    increment(&mut counter);
                    chunk[LEAD.len()..LEAD.len() + DIGITS].copy_from_slice(&counter);
                }
                w.send(&block[..k * line.len()])?;
                left -= k as u64;
            }
            Ok(())
        }),
    })
}
