//! SPDY/3 header blocks: the name/value list, and the zlib stream with the SPDY/3 preset
//! dictionary it travels in.
//!
//! Each direction of a session is one zlib stream: every header block is compressed with
//! the state left by the previous ones and ends with a sync flush, so both ends must see
//! every block in order (the decoder inflates blocks of frames it otherwise ignores too).

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

use crate::core::error::{Error, Result};

/// The SPDY/3 header dictionary (draft-mbelshe-httpbis-spdy-00, 2.6.10.1), a protocol
/// constant both ends preset their zlib streams with.
pub(crate) const DICTIONARY: &[u8] = include_bytes!("dictionary.bin");

/// Largest header block accepted once inflated: port-forward's blocks are a few dozen bytes;
/// the limit keeps a hostile peer's compressed block from inflating without bound.
pub const MAX_HEADER_BLOCK: usize = 64 * 1024;

/// A header block: lower-case names with their values (several values of one name are
/// joined by NUL, as SPDY/3 sends them).
pub type Headers = Vec<(String, String)>;

/// Look up `name` in a header block.
pub fn get<'a>(h: &'a Headers, name: &str) -> Option<&'a str> {
    h.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

/// Compresses the header blocks one end sends.
pub(crate) struct Deflater {
    z: Compress,
}

impl std::fmt::Debug for Deflater {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Deflater")
    }
}

impl Deflater {
    /// A zlib stream preset with the SPDY/3 dictionary.
    pub(crate) fn new() -> Result<Deflater> {
        let mut z = Compress::new(Compression::default(), true);
        z.set_dictionary(DICTIONARY)
            .map_err(|e| Error::Decode(format!("zlib refused the SPDY dictionary: {e}")))?;
        Ok(Deflater { z })
    }

    /// Append the compressed form of `headers` to `out` (ends with a sync flush).
    pub(crate) fn encode(&mut self, headers: &[(&str, &str)], out: &mut Vec<u8>) -> Result<()> {
        let mut plain = Vec::with_capacity(64);
        let count =
            u32::try_from(headers.len()).map_err(|_| Error::invalid("too many SPDY headers"))?;
        plain.extend_from_slice(&count.to_be_bytes());
        for (n, v) in headers {
            for s in [n.to_ascii_lowercase().as_str(), v] {
                let len = u32::try_from(s.len())
                    .map_err(|_| Error::invalid("a SPDY header is too long"))?;
                plain.extend_from_slice(&len.to_be_bytes());
                plain.extend_from_slice(s.as_bytes());
            }
        }
        if plain.len() > MAX_HEADER_BLOCK {
            return Err(Error::invalid("a SPDY header block is too long"));
        }
        let mut input = &plain[..];
        loop {
            out.reserve(input.len() + 64);
            let before = self.z.total_in();
            self.z
                .compress_vec(input, out, FlushCompress::Sync)
                .map_err(|e| Error::Decode(format!("zlib: {e}")))?;
            let used = usize::try_from(self.z.total_in() - before).unwrap_or(input.len());
            input = &input[used..];
            // Done once everything went in and the flush had room to finish.
            if input.is_empty() && out.len() < out.capacity() {
                return Ok(());
            }
        }
    }
}

/// Inflates and parses the header blocks one end receives.
pub(crate) struct Inflater {
    z: Decompress,
}

impl std::fmt::Debug for Inflater {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Inflater")
    }
}

fn bad(what: &str) -> Error {
    Error::Decode(format!("SPDY header block: {what}"))
}

impl Inflater {
    /// A zlib stream that takes the SPDY/3 dictionary when the peer's stream asks for it.
    pub(crate) fn new() -> Inflater {
        Inflater {
            z: Decompress::new(true),
        }
    }

    /// Inflate and parse one header block (the rest of a SYN_STREAM, SYN_REPLY or HEADERS
    /// frame).
    pub(crate) fn decode(&mut self, block: &[u8]) -> Result<Headers> {
        let plain = self.inflate(block)?;
        parse(&plain)
    }

    fn inflate(&mut self, mut input: &[u8]) -> Result<Vec<u8>> {
        let mut out: Vec<u8> = Vec::with_capacity(256);
        loop {
            if out.len() == out.capacity() {
                if out.len() >= MAX_HEADER_BLOCK {
                    return Err(bad(&format!(
                        "inflates to more than {MAX_HEADER_BLOCK} bytes"
                    )));
                }
                out.reserve(out.len().clamp(256, MAX_HEADER_BLOCK - out.len()));
            }
            let (in0, out0) = (self.z.total_in(), out.len());
            let mut progressed = false;
            match self
                .z
                .decompress_vec(input, &mut out, FlushDecompress::Sync)
            {
                Ok(Status::StreamEnd) => return Err(bad("the peer ended its zlib stream")),
                Ok(_) => {}
                Err(e) if e.needs_dictionary().is_some() => {
                    self.z
                        .set_dictionary(DICTIONARY)
                        .map_err(|_| bad("the peer's zlib stream wants another dictionary"))?;
                    progressed = true;
                }
                Err(e) => return Err(bad(&format!("bad zlib data ({e})"))),
            }
            let used = usize::try_from(self.z.total_in() - in0).unwrap_or(input.len());
            input = &input[used..];
            progressed |= used > 0 || out.len() > out0;
            if input.is_empty() && out.len() < out.capacity() {
                return Ok(out);
            }
            if !progressed {
                return Err(bad("the zlib data is cut short"));
            }
        }
    }
}

/// Parse an inflated header block.
pub(crate) fn parse(mut b: &[u8]) -> Result<Headers> {
    let u32_at = |b: &mut &[u8]| -> Result<usize> {
        let (n, rest) = b.split_first_chunk::<4>().ok_or_else(|| bad("cut short"))?;
        *b = rest;
        Ok(u32::from_be_bytes(*n) as usize)
    };
    let count = u32_at(&mut b)?;
    // Each pair takes at least 8 bytes: a count beyond that is a lie, not an allocation.
    if count > b.len() / 8 {
        return Err(bad(&format!(
            "{count} headers announced in {} bytes",
            b.len()
        )));
    }
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        let field = |b: &mut &[u8]| -> Result<String> {
            let len = u32_at(b)?;
            if len > b.len() {
                return Err(bad("a name or value runs past the block"));
            }
            let (s, rest) = b.split_at(len);
            *b = rest;
            String::from_utf8(s.to_vec()).map_err(|_| bad("a name or value is not UTF-8"))
        };
        let name = field(&mut b)?;
        let value = field(&mut b)?;
        if name.is_empty() {
            return Err(bad("an empty header name"));
        }
        out.push((name, value));
    }
    if !b.is_empty() {
        return Err(bad(&format!("{} bytes after the last header", b.len())));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dictionary_is_spdy3s() {
        // The dictionary id a SPDY/3 zlib stream announces.
        assert_eq!(DICTIONARY.len(), 1423);
        let adler = DICTIONARY.iter().fold((1u32, 0u32), |(a, b), &x| {
            let a = (a + u32::from(x)) % 65521;
            (a, (b + a) % 65521)
        });
        assert_eq!((adler.1 << 16) | adler.0, 0xe3c6_a7c2);
    }

    #[test]
    fn blocks_round_trip_through_one_shared_zlib_stream() {
        let (mut d, mut i) = (Deflater::new().unwrap(), Inflater::new());
        for n in 0..20 {
            let port = n.to_string();
            let h = [
                ("streamType", "data"),
                ("port", &port[..]),
                ("requestID", "7"),
            ];
            let mut out = Vec::new();
            d.encode(&h, &mut out).unwrap();
            let got = i.decode(&out).unwrap();
            assert_eq!(
                got,
                vec![
                    ("streamtype".to_owned(), "data".to_owned()),
                    ("port".to_owned(), port.clone()),
                    ("requestid".to_owned(), "7".to_owned()),
                ]
            );
            assert_eq!(get(&got, "port"), Some(&port[..]));
        }
    }

    #[test]
    fn a_block_inflated_without_the_ones_before_it_is_an_error() {
        let mut d = Deflater::new().unwrap();
        let (mut first, mut second) = (Vec::new(), Vec::new());
        d.encode(&[("a", "b")], &mut first).unwrap();
        d.encode(&[("a", "b")], &mut second).unwrap();
        // A fresh inflater reads the second block without the zlib header: an error.
        let e = Inflater::new().decode(&second).unwrap_err();
        assert_eq!(e.kind(), crate::core::error::ErrorKind::Decode, "{e}");
    }

    #[test]
    fn malformed_blocks_are_typed_errors() {
        let cases: &[&[u8]] = &[
            b"",
            b"\0\0\0",
            b"\0\0\0\x01",
            b"\xff\xff\xff\xff",
            b"\0\0\0\x01\0\0\0\x05ab",
            b"\0\0\0\x01\0\0\0\0\0\0\0\0",
            b"\0\0\0\x01\0\0\0\x01a\0\0\0\x01\xff",
            b"\0\0\0\0x",
        ];
        for c in cases {
            let e = parse(c).unwrap_err();
            assert_eq!(
                e.kind(),
                crate::core::error::ErrorKind::Decode,
                "{c:?}: {e}"
            );
        }
        assert_eq!(parse(b"\0\0\0\0").unwrap(), Vec::new());
        let e = Inflater::new().decode(b"not zlib at all").unwrap_err();
        assert!(e.to_string().contains("zlib"), "{e}");
    }

    #[test]
    fn a_block_that_inflates_past_the_limit_is_refused() {
        let mut d = Deflater::new().unwrap();
        let big = "x".repeat(MAX_HEADER_BLOCK / 2);
        let mut out = Vec::new();
        // Encoding refuses it too, so build the oversized block through two big values.
        assert!(d.encode(&[("a", &big), ("b", &big)], &mut out).is_err());
        let mut z = Compress::new(Compression::default(), true);
        z.set_dictionary(DICTIONARY).unwrap();
        let mut plain = 1u32.to_be_bytes().to_vec();
        plain.extend_from_slice(&1u32.to_be_bytes());
        plain.push(b'a');
        plain.extend_from_slice(&(2 * MAX_HEADER_BLOCK as u32).to_be_bytes());
        plain.resize(plain.len() + 2 * MAX_HEADER_BLOCK, b'x');
        let mut block = Vec::with_capacity(plain.len());
        z.compress_vec(&plain, &mut block, FlushCompress::Sync)
            .unwrap();
        let e = Inflater::new().decode(&block).unwrap_err();
        assert!(e.to_string().contains("more than"), "{e}");
    }
}
