//! SPDY/3.1 frames: the byte layout of data and control frames, read from a byte stream that
//! may split or join them anywhere (the WebSocket messages that carry them do both).

use crate::core::error::{Error, Result};

use super::headers::{Deflater, Headers, Inflater};

/// The protocol version in every control frame.
pub const VERSION: u16 = 3;

/// Largest frame payload: the length field has 24 bits.
pub const MAX_PAYLOAD: usize = 0xff_ffff;

/// Largest control frame payload accepted: port-forward's are a few dozen bytes; the limit
/// bounds what one frame can make the reader hold.
pub const MAX_CONTROL_PAYLOAD: usize = 1024 * 1024;

/// The FIN flag (data and control frames): the sender sends nothing more on the stream.
pub const FLAG_FIN: u8 = 0x01;

const SYN_STREAM: u16 = 1;
const SYN_REPLY: u16 = 2;
const RST_STREAM: u16 = 3;
const SETTINGS: u16 = 4;
const PING: u16 = 6;
const GOAWAY: u16 = 7;
const HEADERS: u16 = 8;
const WINDOW_UPDATE: u16 = 9;

/// RST_STREAM status: the stream is no longer needed.
pub const CANCEL: u32 = 5;
/// RST_STREAM status: the receiver refuses a stream it did not expect.
pub const REFUSED_STREAM: u32 = 3;

/// One SPDY frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// Stream data; `fin` half-closes the sender's side.
    Data {
        /// The stream.
        stream: u32,
        /// The last frame the sender sends on the stream.
        fin: bool,
        /// The payload.
        data: Vec<u8>,
    },
    /// A new stream.
    SynStream {
        /// The new stream's id (odd from a client, even from a server).
        stream: u32,
        /// The sender sends nothing on it (a header-only stream).
        fin: bool,
        /// Its headers.
        headers: Headers,
    },
    /// The acceptance of a stream.
    SynReply {
        /// The stream.
        stream: u32,
        /// The replier sends nothing on it.
        fin: bool,
        /// The reply's headers.
        headers: Headers,
    },
    /// The abrupt end of a stream.
    RstStream {
        /// The stream.
        stream: u32,
        /// Why (1 protocol error ... 5 cancel ...).
        status: u32,
    },
    /// Session settings (read, not acted on).
    Settings,
    /// A liveness check, echoed by the receiver of a peer's ping.
    Ping {
        /// Odd from a client, even from a server.
        id: u32,
    },
    /// The sender takes no more new streams.
    GoAway {
        /// The last stream it took.
        last_good: u32,
        /// Why (0 ok, 1 protocol error, 2 internal error).
        status: u32,
    },
    /// More headers on a stream.
    Headers {
        /// The stream.
        stream: u32,
        /// The last frame the sender sends on the stream.
        fin: bool,
        /// The headers.
        headers: Headers,
    },
    /// Flow-control credit.
    WindowUpdate {
        /// The stream (0: the session).
        stream: u32,
        /// Bytes of credit.
        delta: u32,
    },
}

fn bad(what: impl std::fmt::Display) -> Error {
    Error::Decode(format!("SPDY frame: {what}"))
}

/// Why a RST_STREAM ended a stream, in words.
pub fn describe_status(status: u32) -> &'static str {
    match status {
        1 => "protocol error",
        2 => "invalid stream",
        3 => "refused stream",
        4 => "unsupported version",
        5 => "cancelled",
        6 => "internal error",
        7 => "flow control error",
        8 => "stream in use",
        9 => "stream already closed",
        11 => "frame too large",
        _ => "unknown status",
    }
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn control(out: &mut Vec<u8>, kind: u16, flags: u8, body: &[u8]) {
    out.extend_from_slice(&(0x8000 | VERSION).to_be_bytes());
    out.extend_from_slice(&kind.to_be_bytes());
    out.push(flags);
    out.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    out.extend_from_slice(body);
}

/// Writes frames (compressing header blocks with the session's one zlib stream).
#[derive(Debug)]
pub struct Encoder {
    deflate: Deflater,
}

impl Encoder {
    /// A new encoder (a new zlib stream: one per session direction).
    pub fn new() -> Result<Encoder> {
        Ok(Encoder {
            deflate: Deflater::new()?,
        })
    }

    /// Append a SYN_STREAM for `stream` with `headers`.
    pub fn syn_stream(
        &mut self,
        out: &mut Vec<u8>,
        stream: u32,
        fin: bool,
        headers: &[(&str, &str)],
    ) -> Result<()> {
        let mut body = Vec::with_capacity(96);
        body.extend_from_slice(&(stream & 0x7fff_ffff).to_be_bytes());
        // No associated stream, priority 0 (highest, as client-go's streams), slot 0.
        body.extend_from_slice(&[0; 6]);
        self.deflate.encode(headers, &mut body)?;
        control(out, SYN_STREAM, if fin { FLAG_FIN } else { 0 }, &body);
        Ok(())
    }

    /// Append a SYN_REPLY (a server's; the test peers send it).
    pub fn syn_reply(
        &mut self,
        out: &mut Vec<u8>,
        stream: u32,
        fin: bool,
        headers: &[(&str, &str)],
    ) -> Result<()> {
        let mut body = (stream & 0x7fff_ffff).to_be_bytes().to_vec();
        self.deflate.encode(headers, &mut body)?;
        control(out, SYN_REPLY, if fin { FLAG_FIN } else { 0 }, &body);
        Ok(())
    }
}

/// Append a data frame (`data` at most [`MAX_PAYLOAD`] bytes).
pub fn data(out: &mut Vec<u8>, stream: u32, fin: bool, data: &[u8]) {
    debug_assert!(data.len() <= MAX_PAYLOAD);
    out.extend_from_slice(&(stream & 0x7fff_ffff).to_be_bytes());
    out.push(if fin { FLAG_FIN } else { 0 });
    out.extend_from_slice(&(data.len() as u32).to_be_bytes()[1..]);
    out.extend_from_slice(data);
}

/// Append a RST_STREAM.
pub fn rst_stream(out: &mut Vec<u8>, stream: u32, status: u32) {
    let mut body = [0u8; 8];
    body[..4].copy_from_slice(&(stream & 0x7fff_ffff).to_be_bytes());
    body[4..].copy_from_slice(&status.to_be_bytes());
    control(out, RST_STREAM, 0, &body);
}

/// Append a PING.
pub fn ping(out: &mut Vec<u8>, id: u32) {
    control(out, PING, 0, &id.to_be_bytes());
}

/// Append a GOAWAY.
pub fn goaway(out: &mut Vec<u8>, last_good: u32, status: u32) {
    let mut body = [0u8; 8];
    body[..4].copy_from_slice(&(last_good & 0x7fff_ffff).to_be_bytes());
    body[4..].copy_from_slice(&status.to_be_bytes());
    control(out, GOAWAY, 0, &body);
}

/// Reads frames from a byte stream fed in pieces.
#[derive(Debug)]
pub struct Decoder {
    buf: Vec<u8>,
    start: usize,
    inflate: Inflater,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new()
    }
}

impl Decoder {
    /// A new decoder (a new zlib stream for the peer's header blocks).
    pub fn new() -> Decoder {
        Decoder {
            buf: Vec::new(),
            start: 0,
            inflate: Inflater::new(),
        }
    }

    /// Add bytes read from the peer.
    pub fn feed(&mut self, bytes: &[u8]) {
        if self.start > 0 && self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        } else if self.start > 64 * 1024 && self.start * 2 > self.buf.len() {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// Add bytes read from the peer, without a copy when nothing is buffered.
    pub fn feed_owned(&mut self, bytes: Vec<u8>) {
        if self.start == self.buf.len() {
            self.buf = bytes;
            self.start = 0;
        } else {
            self.feed(&bytes);
        }
    }

    /// Bytes fed but not yet returned as frames.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.start
    }

    /// The next whole frame, or `None` until more bytes are fed. An error is final: the
    /// stream of frames cannot be resynchronised.
    pub fn next_frame(&mut self) -> Result<Option<Frame>> {
        loop {
            let b = &self.buf[self.start..];
            if b.len() < 8 {
                return Ok(None);
            }
            let flags = b[4];
            let len = (be32(b, 4) & 0xff_ffff) as usize;
            let is_control = b[0] & 0x80 != 0;
            if is_control && len > MAX_CONTROL_PAYLOAD {
                return Err(bad(format!(
                    "a control frame of {len} bytes (the limit is {MAX_CONTROL_PAYLOAD})"
                )));
            }
            if b.len() < 8 + len {
                return Ok(None);
            }
            let body = &b[8..8 + len];
            let frame = if is_control {
                let version = u16::from_be_bytes([b[0], b[1]]) & 0x7fff;
                let kind = u16::from_be_bytes([b[2], b[3]]);
                if version != VERSION {
                    return Err(bad(format!("version {version}, not {VERSION}")));
                }
                let body = body.to_vec();
                self.start += 8 + len;
                self.control(kind, flags, &body)?
            } else {
                let stream = be32(b, 0) & 0x7fff_ffff;
                if stream == 0 {
                    return Err(bad("data on stream 0"));
                }
                let data = body.to_vec();
                self.start += 8 + len;
                Some(Frame::Data {
                    stream,
                    fin: flags & FLAG_FIN != 0,
                    data,
                })
            };
            if let Some(f) = frame {
                return Ok(Some(f));
            }
        }
    }

    /// A control frame's body; `None` for a type SPDY says to ignore.
    fn control(&mut self, kind: u16, flags: u8, body: &[u8]) -> Result<Option<Frame>> {
        let need = |n: usize, what: &str| {
            if body.len() < n {
                Err(bad(format!("a {what} of {} bytes", body.len())))
            } else {
                Ok(())
            }
        };
        let exact = |n: usize, what: &str| {
            if body.len() != n {
                Err(bad(format!("a {what} of {} bytes, not {n}", body.len())))
            } else {
                Ok(())
            }
        };
        let fin = flags & FLAG_FIN != 0;
        let stream_at = |at: usize| be32(body, at) & 0x7fff_ffff;
        let nonzero = |s: u32, what: &str| {
            if s == 0 {
                Err(bad(format!("a {what} for stream 0")))
            } else {
                Ok(s)
            }
        };
        Ok(Some(match kind {
            SYN_STREAM => {
                need(10, "SYN_STREAM")?;
                let stream = nonzero(stream_at(0), "SYN_STREAM")?;
                let headers = self.inflate.decode(&body[10..])?;
                Frame::SynStream {
                    stream,
                    fin,
                    headers,
                }
            }
            SYN_REPLY | HEADERS => {
                let what = if kind == SYN_REPLY {
                    "SYN_REPLY"
                } else {
                    "HEADERS"
                };
                need(4, what)?;
                let stream = nonzero(stream_at(0), what)?;
                let headers = self.inflate.decode(&body[4..])?;
                if kind == SYN_REPLY {
                    Frame::SynReply {
                        stream,
                        fin,
                        headers,
                    }
                } else {
                    Frame::Headers {
                        stream,
                        fin,
                        headers,
                    }
                }
            }
            RST_STREAM => {
                exact(8, "RST_STREAM")?;
                Frame::RstStream {
                    stream: nonzero(stream_at(0), "RST_STREAM")?,
                    status: be32(body, 4),
                }
            }
            SETTINGS => {
                need(4, "SETTINGS")?;
                let n = be32(body, 0) as usize;
                if n > (body.len() - 4) / 8 {
                    return Err(bad(format!(
                        "SETTINGS announces {n} entries in {} bytes",
                        body.len()
                    )));
                }
                Frame::Settings
            }
            PING => {
                exact(4, "PING")?;
                Frame::Ping { id: be32(body, 0) }
            }
            GOAWAY => {
                exact(8, "GOAWAY")?;
                Frame::GoAway {
                    last_good: stream_at(0),
                    status: be32(body, 4),
                }
            }
            WINDOW_UPDATE => {
                exact(8, "WINDOW_UPDATE")?;
                Frame::WindowUpdate {
                    stream: stream_at(0),
                    delta: be32(body, 4) & 0x7fff_ffff,
                }
            }
            // SPDY/3: a receiver ignores control frames of types it does not know.
            _ => return Ok(None),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::error::ErrorKind;

    fn all(dec: &mut Decoder) -> Vec<Frame> {
        let mut v = Vec::new();
        while let Some(f) = dec.next_frame().unwrap() {
            v.push(f);
        }
        v
    }

    #[test]
    fn frames_round_trip_whatever_the_pieces_they_arrive_in() {
        let mut enc = Encoder::new().unwrap();
        let mut wire = Vec::new();
        enc.syn_stream(
            &mut wire,
            1,
            false,
            &[("streamType", "error"), ("port", "80"), ("requestID", "0")],
        )
        .unwrap();
        data(&mut wire, 1, true, b"");
        enc.syn_reply(&mut wire, 3, false, &[]).unwrap();
        data(&mut wire, 3, false, &[7u8; 70_000]);
        rst_stream(&mut wire, 5, CANCEL);
        ping(&mut wire, 9);
        goaway(&mut wire, 3, 0);
        let want = vec![
            Frame::SynStream {
                stream: 1,
                fin: false,
                headers: vec![
                    ("streamtype".into(), "error".into()),
                    ("port".into(), "80".into()),
                    ("requestid".into(), "0".into()),
                ],
            },
            Frame::Data {
                stream: 1,
                fin: true,
                data: Vec::new(),
            },
            Frame::SynReply {
                stream: 3,
                fin: false,
                headers: Vec::new(),
            },
            Frame::Data {
                stream: 3,
                fin: false,
                data: vec![7u8; 70_000],
            },
            Frame::RstStream {
                stream: 5,
                status: CANCEL,
            },
            Frame::Ping { id: 9 },
            Frame::GoAway {
                last_good: 3,
                status: 0,
            },
        ];
        for piece in [1, 3, 7, 1000, wire.len()] {
            let mut dec = Decoder::new();
            let mut got = Vec::new();
            for (i, c) in wire.chunks(piece).enumerate() {
                if i % 2 == 0 {
                    dec.feed(c);
                } else {
                    dec.feed_owned(c.to_vec());
                }
                got.extend(all(&mut dec));
            }
            assert_eq!(got, want, "pieces of {piece}");
            assert_eq!(dec.buffered(), 0);
        }
    }

    #[test]
    fn a_session_compressed_by_c_zlib_reads_back() {
        // Written by CPython's zlib (the C library, as Go's spdy framer writes the same
        // format) with the SPDY/3 dictionary: SYN_STREAM, SYN_REPLY, DATA+FIN, RST_STREAM,
        // PING, GOAWAY, WINDOW_UPDATE, SETTINGS.
        let wire = include_bytes!("../../../tests/data/spdy-session.bin");
        let mut dec = Decoder::new();
        dec.feed(wire);
        let got = all(&mut dec);
        assert_eq!(got.len(), 8, "{got:?}");
        assert_eq!(
            got[0],
            Frame::SynStream {
                stream: 1,
                fin: false,
                headers: vec![
                    ("streamtype".into(), "error".into()),
                    ("port".into(), "80".into()),
                    ("requestid".into(), "0".into()),
                ],
            }
        );
        assert_eq!(
            got[2],
            Frame::Data {
                stream: 3,
                fin: true,
                data: b"hello".to_vec()
            }
        );
        assert_eq!(
            got[6],
            Frame::WindowUpdate {
                stream: 1,
                delta: 100
            }
        );
        assert_eq!(got[7], Frame::Settings);
    }

    #[test]
    fn unknown_control_frames_are_skipped() {
        let mut wire = Vec::new();
        control(&mut wire, 42, 0, b"whatever");
        ping(&mut wire, 2);
        let mut dec = Decoder::new();
        dec.feed(&wire);
        assert_eq!(all(&mut dec), vec![Frame::Ping { id: 2 }]);
    }

    #[test]
    fn malformed_frames_are_typed_errors_never_panics() {
        let mut s0 = vec![0x80, 3, 0, 1, 0, 0, 0, 10];
        s0.extend_from_slice(&[0; 10]);
        let mut g = vec![0x80, 3, 0, 1, 0, 0, 0, 14, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0];
        g.extend_from_slice(b"junk");
        let cases: Vec<Vec<u8>> = vec![
            // Version 2.
            vec![0x80, 2, 0, 6, 0, 0, 0, 4, 0, 0, 0, 1],
            // A PING of 3 bytes, a RST_STREAM of 4, a GOAWAY of 9.
            vec![0x80, 3, 0, 6, 0, 0, 0, 3, 0, 0, 1],
            vec![0x80, 3, 0, 3, 0, 0, 0, 4, 0, 0, 0, 1],
            vec![0x80, 3, 0, 7, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            // SYN_STREAM too short, one for stream 0, one with garbage headers.
            vec![0x80, 3, 0, 1, 0, 0, 0, 2, 0, 1],
            s0,
            g,
            // Data on stream 0; a huge control frame; SETTINGS that lie about their count.
            vec![0, 0, 0, 0, 0, 0, 0, 1, 9],
            vec![0x80, 3, 0, 4, 0, 0xff, 0xff, 0xff],
            vec![0x80, 3, 0, 4, 0, 0, 0, 4, 0, 0, 0, 9],
        ];
        for c in cases {
            let mut dec = Decoder::new();
            dec.feed(&c);
            let e = dec.next_frame().unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Decode, "{c:?}: {e}");
        }
    }

    #[test]
    fn a_frame_cut_short_waits_for_the_rest() {
        let mut wire = Vec::new();
        data(&mut wire, 3, false, b"hello");
        let mut dec = Decoder::new();
        dec.feed(&wire[..10]);
        assert_eq!(dec.next_frame().unwrap(), None);
        dec.feed(&wire[10..]);
        assert!(matches!(
            dec.next_frame().unwrap(),
            Some(Frame::Data { stream: 3, .. })
        ));
    }
}
