//! Routes that behave like a hostile or broken server, for the client's robustness tests
//! (`tests/hostile.rs`): a response trickled one byte at a time, bodies and header lines that
//! never end, and a gzip bomb sent whether or not the client asked for compression.
//!
//! | route | what it does |
//! | --- | --- |
//! | `/_test/trickle?part=head\|body&ms=M&size=N` | `head`: the whole answer (status line, headers, body) one byte every M ms (default 1000); `body`: the head at once, then an N-byte JSON body (default 64) one byte every M ms |
//! | `/_test/endless?what=body\|header&framing=chunked\|length` | `body`: a 200 JSON answer whose body (`{"kind":"List","items":"aaaa…`) never ends and has no newline, chunked or with a 1 TiB `Content-Length`; `header`: a status line and then one header line that never ends |
//! | `/_test/gzip-bomb?mb=N` | 200 with `Content-Encoding: gzip`: N MiB of zeros (default 10, at most 256) gzipped to about 1/1000 of that; the `X-Test-Accept-Encoding` header echoes the request's `Accept-Encoding` (or `none`) |
//!
//! Each stops when a write fails (the client went away) or after [`MAX_SECONDS`].

use std::io::{self, Write};
use std::time::{Duration, Instant};

use crate::http::{Reply, Request, Response, Streaming, reason_phrase};

/// No hostile answer runs longer than this, so a test that forgets to time out cannot park a
/// server thread forever.
const MAX_SECONDS: u64 = 300;

/// Size of the pieces of an endless body or header.
const PIECE: usize = 64 * 1024;

fn param_u64(req: &Request, name: &str) -> Option<u64> {
    req.param(name).and_then(|v| v.trim().parse().ok())
}

fn bad_request(msg: &str) -> Reply {
    crate::api::status_response(400, msg, Some("BadRequest")).into()
}

/// `/_test/trickle`.
pub fn trickle(req: &Request) -> Reply {
    let ms = param_u64(req, "ms").unwrap_or(1000).min(60_000);
    let size = param_u64(req, "size").unwrap_or(64).clamp(16, 1 << 20) as usize;
    // `{"trickle":"aaa…"}` of exactly `size` bytes.
    let body = format!(r#"{{"trickle":"{}"}}"#, "a".repeat(size - 14)).into_bytes();
    let head = format!(
        "HTTP/1.1 200 {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n",
        reason_phrase(200),
        body.len()
    )
    .into_bytes();
    let (at_once, slowly) = match req.param("part").unwrap_or("body") {
        "head" => (Vec::new(), [head, body].concat()),
        "body" => (head, body),
        _ => return bad_request("part must be head or body"),
    };
    Reply::Raw(Box::new(move |w, _peer| {
        let started = Instant::now();
        w.write_all(&at_once)?;
        w.flush()?;
        for b in slowly {
            if started.elapsed() > Duration::from_secs(MAX_SECONDS) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(ms));
            w.write_all(&[b])?;
            w.flush()?;
        }
        Ok(())
    }))
}

/// Write `piece` over and over until a write fails or time is up.
fn forever(w: &mut dyn Write, piece: &[u8]) -> io::Result<()> {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(MAX_SECONDS) {
        w.write_all(piece)?;
    }
    w.flush()
}

/// `/_test/endless`.
pub fn endless(req: &Request) -> Reply {
    const START: &[u8] = br#"{"kind":"List","items":""#;
    let piece = vec![b'a'; PIECE];
    match (
        req.param("what").unwrap_or("body"),
        req.param("framing").unwrap_or("chunked"),
    ) {
        ("body", "chunked") => Reply::Stream(Streaming {
            status: 200,
            content_type: "application/json",
            headers: Vec::new(),
            body: Box::new(move |w| {
                w.send(START)?;
                let started = Instant::now();
                while started.elapsed() < Duration::from_secs(MAX_SECONDS) {
                    w.send(&piece)?;
                }
                Ok(())
            }),
        }),
        ("body", "length") => Reply::Raw(Box::new(move |w, _| {
            write!(
                w,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n",
                1u64 << 40
            )?;
            w.write_all(START)?;
            forever(w, &piece)
        })),
        ("header", _) => Reply::Raw(Box::new(move |w, _| {
            w.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Endless: ")?;
            forever(w, &piece)
        })),
        _ => bad_request("what must be body or header; framing chunked or length"),
    }
}

/// `/_test/gzip-bomb`.
pub fn gzip_bomb(req: &Request) -> Reply {
    let mb = param_u64(req, "mb").unwrap_or(10).clamp(1, 256);
    let accept = req.header("accept-encoding").unwrap_or("none").to_owned();
    let mut resp = Response::new(
        200,
        Some("application/json"),
        gzip_zeros((mb as usize) << 20),
    );
    resp = resp
        .with_header("Content-Encoding", "gzip")
        .with_header("X-Test-Accept-Encoding", accept)
        .with_header("X-Test-Uncompressed-Length", (mb << 20).to_string());
    resp.into()
}

/// An LSB-first bit writer, as DEFLATE packs its bits.
struct Bits {
    out: Vec<u8>,
    acc: u32,
    n: u32,
}

impl Bits {
    fn bit(&mut self, b: u32) {
        self.acc |= (b & 1) << self.n;
        self.n += 1;
        if self.n == 8 {
            self.out.push(self.acc as u8);
            self.acc = 0;
            self.n = 0;
        }
    }

    /// A Huffman code: most significant bit first.
    fn code(&mut self, code: u32, len: u32) {
        for i in (0..len).rev() {
            self.bit(code >> i);
        }
    }

    fn finish(mut self) -> Vec<u8> {
        if self.n > 0 {
            self.out.push(self.acc as u8);
        }
        self.out
    }
}

/// `n` zero bytes as a gzip member: one fixed-Huffman DEFLATE block of a literal 0 followed
/// by length-258, distance-1 copies (13 bits per 258 bytes). Written by hand because the
/// server has no compression library.
pub fn gzip_zeros(n: usize) -> Vec<u8> {
    // Fixed Huffman codes (RFC 1951 §3.2.6): literal 0 is 0x30 (8 bits), length symbol 285
    // (258, no extra bits) is 0xC5 (8 bits), distance code 0 (distance 1) is 5 zero bits,
    // end of block (256) is 7 zero bits.
    let mut bits = Bits {
        out: vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff],
        acc: 0,
        n: 0,
    };
    bits.bit(1); // BFINAL
    // BTYPE 01, fixed Huffman: a plain number, so least significant bit first.
    bits.bit(1);
    bits.bit(0);
    let mut left = n;
    if left > 0 {
        bits.code(0x30, 8);
        left -= 1;
    }
    while left >= 258 {
        bits.code(0xC5, 8);
        bits.code(0, 5);
        left -= 258;
    }
    for _ in 0..left {
        bits.code(0x30, 8);
    }
    bits.code(0, 7);
    let mut out = bits.finish();
    out.extend_from_slice(&crc32_zeros(n).to_le_bytes());
    out.extend_from_slice(&(n as u32).to_le_bytes());
    out
}

/// CRC-32 (IEEE) of `n` zero bytes.
fn crc32_zeros(n: usize) -> u32 {
    let mut table = [0u32; 256];
    for (i, t) in table.iter_mut().enumerate() {
        let mut c = i as u32;
        for _ in 0..8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
        }
        *t = c;
    }
    let mut crc = !0u32;
    for _ in 0..n {
        crc = table[(crc & 0xff) as usize] ^ (crc >> 8);
    }
    !crc
}
