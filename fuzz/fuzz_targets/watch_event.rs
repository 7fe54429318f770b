//! Watch event lines: decoding and metadata reading never panic.
#![no_main]

use incluster::core::watch::event::{Decoder, RawDecoder, parse, read_meta};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = parse(data);
    let _ = RawDecoder.decode_line(data);
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = read_meta(s);
    }
});
