//! SPDY frames and header blocks from arbitrary bytes in arbitrary pieces: frames or a typed
//! error, never a panic (and never data on stream 0).
#![no_main]

use incluster::core::spdy::frame::{Decoder, Frame};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&step, body)) = data.split_first() else {
        return;
    };
    let step = 1 + step as usize % 97;
    let mut dec = Decoder::new();
    'feed: for chunk in body.chunks(step) {
        dec.feed(chunk);
        loop {
            match dec.next_frame() {
                Ok(Some(Frame::Data { stream, .. })) => assert!(stream != 0),
                Ok(Some(_)) => {}
                Ok(None) => break,
                // Final: nothing after a broken frame can be trusted.
                Err(_) => break 'feed,
            }
        }
    }
});
