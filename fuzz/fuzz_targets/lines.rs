//! Line framing over arbitrary chunking: every byte comes out once, in order, never a panic.
#![no_main]

use incluster::core::stream::lines::LineFramer;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let max = 1 + data[0] as usize;
    let step = 1 + data[1] as usize % 64;
    let body = &data[2..];
    let mut f = LineFramer::new(max);
    let mut out = Vec::new();
    for chunk in body.chunks(step) {
        let spare = f.spare();
        spare[..chunk.len()].copy_from_slice(chunk);
        f.filled(chunk.len());
        loop {
            match f.next_line() {
                Ok(Some(l)) => {
                    out.extend_from_slice(l);
                    out.push(b'\n');
                }
                Ok(None) => break,
                Err(_) => {
                    let piece = f.take_prefix(max);
                    out.extend_from_slice(&piece);
                }
            }
        }
    }
    if let Some(rest) = f.take_partial() {
        out.extend_from_slice(&rest);
    }
    // Overlong lines are split, so newlines may move only where pieces were cut; the bytes
    // other than newlines must come out exactly.
    let strip = |v: &[u8]| v.iter().copied().filter(|&b| b != b'\n').collect::<Vec<_>>();
    assert_eq!(strip(&out), strip(body));
});
