//! Newline framing over a byte stream: complete lines out, partial lines carried over.
//!
//! Several lines may arrive in one read and one line may span many reads; the framer keeps the
//! unfinished tail until its newline arrives. A line longer than the limit is reported instead of
//! growing the buffer without bound.

/// Splits a byte stream into lines (without their `\n`).
#[derive(Debug)]
pub struct LineFramer {
    /// Zeroed once as it grows, then reused: reads go into it without clearing it again.
    buf: Vec<u8>,
    /// Start of the first unconsumed byte.
    start: usize,
    /// End of the bytes read.
    end: usize,
    /// Bytes already scanned for a newline (from `start`), so a long line is not rescanned.
    scanned: usize,
    max_line: usize,
}

/// A line grew past the limit before its newline arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineTooLong {
    /// The limit in bytes.
    pub max: usize,
}

/// How much a read asks for at once.
pub const READ_SIZE: usize = 64 * 1024;

impl LineFramer {
    /// A framer refusing lines longer than `max_line` bytes.
    pub fn new(max_line: usize) -> Self {
        LineFramer {
            buf: Vec::new(),
            start: 0,
            end: 0,
            scanned: 0,
            max_line: max_line.max(1),
        }
    }

    /// The next complete line, if one is buffered.
    pub fn next_line(&mut self) -> Result<Option<&[u8]>, LineTooLong> {
        let pending = &self.buf[self.start + self.scanned..self.end];
        match memchr::memchr(b'\n', pending) {
            Some(i) => {
                let from = self.start;
                let end = self.start + self.scanned + i;
                if end - from > self.max_line {
                    // Left in place: the caller may take it in pieces (`take_prefix`).
                    self.scanned = 0;
                    return Err(LineTooLong { max: self.max_line });
                }
                self.start = end + 1;
                self.scanned = 0;
                Ok(Some(&self.buf[from..end]))
            }
            None => {
                self.scanned = self.end - self.start;
                if self.scanned > self.max_line {
                    return Err(LineTooLong { max: self.max_line });
                }
                Ok(None)
            }
        }
    }

    /// Hand the complete buffered lines to `f` in order (without their newlines), at most `max`
    /// of them, in one scan of the buffer. Stops before a line longer than the limit, which
    /// [`LineFramer::next_line`] then reports. Returns the count and their bytes, newlines
    /// included.
    pub fn take_lines(&mut self, max: usize, f: &mut dyn FnMut(&[u8])) -> (usize, usize) {
        let first = self.start;
        let mut from = self.start;
        let mut n = 0;
        let scan = self.start + self.scanned;
        for i in memchr::memchr_iter(b'\n', &self.buf[scan..self.end]) {
            let end = scan + i;
            if n == max || end - from > self.max_line {
                break;
            }
            f(&self.buf[from..end]);
            from = end + 1;
            n += 1;
        }
        if n > 0 {
            self.start = from;
            self.scanned = 0;
        }
        (n, from - first)
    }

    /// Whether [`LineFramer::next_line`] has something to say without more bytes: a complete
    /// line is buffered, or the partial one is already over the limit. Scans only the bytes
    /// that arrived since the last look, so waiting for a long line costs one pass over it.
    pub fn line_ready(&mut self) -> bool {
        let pending = &self.buf[self.start + self.scanned..self.end];
        if memchr::memchr(b'\n', pending).is_some() {
            return true;
        }
        self.scanned = self.end - self.start;
        self.scanned > self.max_line
    }

    /// Room to read into: call [`LineFramer::filled`] with the count read.
    pub fn spare(&mut self) -> &mut [u8] {
        if self.start > 0 && (self.start == self.end || self.start >= self.buf.len() / 2) {
            // Move the unconsumed tail to the front so the buffer does not grow with the stream.
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.buf.is_empty() {
            // One a parked stream gave back on this thread, if any (see `release_idle`).
            self.buf = crate::core::http::buffers::take_buffer(READ_SIZE);
        } else if self.buf.len() < self.end + READ_SIZE {
            self.buf.resize(self.end + READ_SIZE, 0);
        }
        &mut self.buf[self.end..]
    }

    /// Record that `n` bytes were read into [`LineFramer::spare`].
    pub fn filled(&mut self, n: usize) {
        self.end = (self.end + n).min(self.buf.len());
    }

    /// Take the first `n` bytes of the buffered partial line (to split an overlong line).
    pub fn take_prefix(&mut self, n: usize) -> Vec<u8> {
        let end = (self.start + n).min(self.end);
        let piece = self.buf[self.start..end].to_vec();
        self.start = end;
        self.scanned = 0;
        piece
    }

    /// The unfinished last line (bytes after the last newline), if any; clears it.
    pub fn take_partial(&mut self) -> Option<Vec<u8>> {
        let rest = self.buf[self.start..self.end].to_vec();
        self.clear();
        (!rest.is_empty()).then_some(rest)
    }

    /// Forget everything buffered (a new connection starts clean).
    pub fn clear(&mut self) {
        self.start = 0;
        self.end = 0;
        self.scanned = 0;
    }

    /// Free the buffer if it holds nothing unread (a stream about to park until its socket is
    /// readable: a thousand parked streams should not each keep [`READ_SIZE`] bytes). It goes
    /// to the thread's pool of released buffers, where the next stream to wake on this thread
    /// takes it ([`LineFramer::spare`]). A partial line keeps the buffer.
    pub fn release_idle(&mut self) {
        if self.start == self.end {
            crate::core::http::buffers::give_buffer(std::mem::take(&mut self.buf));
            self.clear();
        }
    }

    /// Whether a partial line is buffered.
    pub fn has_partial(&self) -> bool {
        self.start < self.end
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(f: &mut LineFramer, data: &[u8]) {
        let spare = f.spare();
        spare[..data.len()].copy_from_slice(data);
        f.filled(data.len());
    }

    fn drain(f: &mut LineFramer) -> Vec<String> {
        let mut out = Vec::new();
        while let Some(l) = f.next_line().unwrap() {
            out.push(String::from_utf8(l.to_vec()).unwrap());
        }
        out
    }

    #[test]
    fn several_lines_in_one_chunk_and_one_line_across_chunks() {
        let mut f = LineFramer::new(1024);
        feed(&mut f, b"a\nbb\ncc");
        assert_eq!(drain(&mut f), ["a", "bb"]);
        feed(&mut f, b"c");
        assert!(drain(&mut f).is_empty());
        feed(&mut f, b"c\n\nd");
        assert_eq!(drain(&mut f), ["cccc", ""]);
        assert!(f.has_partial());
        assert_eq!(f.take_partial().unwrap(), b"d");
        assert!(!f.has_partial());
    }

    #[test]
    fn every_split_point_gives_the_same_lines() {
        let data = b"{\"type\":\"ADDED\"}\nsecond line\n\nlast\n";
        for cut in 0..data.len() {
            let mut f = LineFramer::new(64);
            feed(&mut f, &data[..cut]);
            let mut got = drain(&mut f);
            feed(&mut f, &data[cut..]);
            got.extend(drain(&mut f));
            assert_eq!(
                got,
                ["{\"type\":\"ADDED\"}", "second line", "", "last"],
                "cut {cut}"
            );
        }
    }

    #[test]
    fn take_lines_hands_out_what_next_line_would() {
        let data = b"a\nbb\n\n0123456789\nccc\ndd";
        for max in 0..7 {
            for cut in 0..data.len() {
                let mut f = LineFramer::new(8);
                let mut g = LineFramer::new(8);
                feed(&mut f, &data[..cut]);
                feed(&mut g, &data[..cut]);
                let mut taken = Vec::new();
                let (n, bytes) = f.take_lines(max, &mut |l| taken.push(l.to_vec()));
                assert_eq!(n, taken.len());
                assert_eq!(bytes, taken.iter().map(|l| l.len() + 1).sum::<usize>());
                assert!(n <= max, "max {max} cut {cut}");
                // The same lines as next_line gives, up to the overlong one; both framers
                // then go on alike.
                for l in &taken {
                    assert_eq!(g.next_line().unwrap().unwrap(), &l[..]);
                }
                feed(&mut f, &data[cut..]);
                feed(&mut g, &data[cut..]);
                loop {
                    let (a, b) = (f.next_line(), g.next_line());
                    assert_eq!(a, b, "max {max} cut {cut}");
                    match a {
                        Ok(Some(_)) => {}
                        Ok(None) => break,
                        Err(_) => {
                            assert_eq!(f.take_prefix(8), g.take_prefix(8));
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn overlong_lines_are_reported_not_buffered_forever() {
        let mut f = LineFramer::new(8);
        feed(&mut f, b"123456789");
        assert_eq!(f.next_line(), Err(LineTooLong { max: 8 }));
        let mut f = LineFramer::new(8);
        feed(&mut f, b"123456789\nok\n");
        assert_eq!(f.next_line(), Err(LineTooLong { max: 8 }));
        // Nothing was consumed: the long line can be taken in pieces, then framing goes on.
        assert_eq!(f.take_prefix(8), b"12345678");
        assert_eq!(f.next_line().unwrap().unwrap(), b"9");
        assert_eq!(f.next_line().unwrap().unwrap(), b"ok");
    }

    #[test]
    fn release_frees_an_empty_buffer_and_keeps_a_partial_line() {
        let mut f = LineFramer::new(100);
        feed(&mut f, b"ab\ncd");
        assert_eq!(drain(&mut f), ["ab"]);
        f.release_idle();
        assert_eq!(f.buf.len(), READ_SIZE, "a partial line is kept");
        feed(&mut f, b"\n");
        assert_eq!(drain(&mut f), ["cd"]);
        f.release_idle();
        assert_eq!(f.buf.capacity(), 0);
        feed(&mut f, b"ef\n");
        assert_eq!(drain(&mut f), ["ef"]);
    }

    #[test]
    fn the_buffer_does_not_grow_with_the_stream() {
        let mut f = LineFramer::new(100);
        for _ in 0..10_000 {
            feed(&mut f, b"0123456789\n");
            assert_eq!(drain(&mut f).len(), 1);
        }
        assert!(f.buf.len() <= 2 * READ_SIZE, "{}", f.buf.len());
    }
}
