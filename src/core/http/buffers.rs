//! Connection buffers that a parked stream gives back.
//!
//! ureq's `LazyBuffers` allocate on first use and keep their buffers as long as the connection
//! lives. A watch or log stream keeps its connection for hours, mostly waiting; with a
//! thousand of them open in one process (`incluster.aio`), buffers that hold no data but stay
//! allocated are most of the process's memory. [`SlimBuffers`] behave as `LazyBuffers` (the
//! same sizes, the same input semantics as ureq's `ConsumeBuf`), and add
//! [`SlimBuffers::release_idle`], which frees both buffers when no unread input is left in
//! them. The transports call it when a socket wait inside `interrupt::nonblocking` is refused:
//! the stream is about to park until its socket is readable. Released buffers go to a small
//! pool of the thread's ([`take_buffer`], [`give_buffer`]; the line framer's too), from which
//! the next stream to wake on that thread takes them: a thousand parked streams hold none,
//! and waking one costs no allocation or zeroing. A blocking read never releases, so the sync
//! paths allocate as before.

use std::cell::RefCell;

use ureq::unversioned::transport::Buffers;

/// How many released buffers a thread keeps for reuse, and the largest it keeps.
const POOL_BUFFERS: usize = 8;
const POOL_MAX_BYTES: usize = 64 * 1024;

thread_local! {
    /// Buffers that parked streams gave back on this thread, for the next stream that wakes
    /// here: an event loop wakes one stream after another, so a handful serve them all, and
    /// a woken stream neither allocates nor zeroes its buffers again.
    static POOL: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
}

/// A buffer of exactly `len` bytes: a released one of that size from this thread's pool (its
/// bytes are stale but initialised; every user overwrites before it reads), else a zeroed one.
pub fn take_buffer(len: usize) -> Vec<u8> {
    POOL.with(|p| {
        let mut p = p.borrow_mut();
        match p.iter().position(|b| b.len() == len) {
            Some(i) => p.swap_remove(i),
            None => vec![0; len],
        }
    })
}

/// Give a buffer back to this thread's pool (dropped if the pool is full or it is large).
pub fn give_buffer(b: Vec<u8>) {
    if b.is_empty() || b.len() > POOL_MAX_BYTES {
        return;
    }
    POOL.with(|p| {
        let mut p = p.borrow_mut();
        if p.len() < POOL_BUFFERS {
            p.push(b);
        }
    });
}

/// Input and output buffers of one transport layer, allocated on first use and freed by
/// [`SlimBuffers::release_idle`].
#[derive(Debug)]
pub struct SlimBuffers {
    input_size: usize,
    output_size: usize,
    input: Vec<u8>,
    /// End of the bytes read into `input`.
    filled: usize,
    /// End of the bytes of `input` already consumed.
    consumed: usize,
    output: Vec<u8>,
    /// Whether the last consume took bytes (ureq's `can_use_input`).
    progress: bool,
}

/// The scratch space ureq needs when streaming a request body (as `LazyBuffers`).
const MIN_TMP_SIZE: usize = 10 * 1024;

impl SlimBuffers {
    /// Buffers of these sizes, not allocated yet.
    pub fn new(input_size: usize, output_size: usize) -> Self {
        SlimBuffers {
            input_size: input_size.max(1),
            output_size: output_size.max(1),
            input: Vec::new(),
            filled: 0,
            consumed: 0,
            output: Vec::new(),
            progress: false,
        }
    }

    /// Free both buffers if no unread input is left; they are allocated again when next used.
    /// Only between requests' I/O steps: nothing that ureq wrote to the output is pending
    /// then (it transmits what it writes before it waits for input).
    pub fn release_idle(&mut self) {
        if self.consumed == self.filled {
            give_buffer(std::mem::take(&mut self.input));
            self.filled = 0;
            self.consumed = 0;
            give_buffer(std::mem::take(&mut self.output));
        }
    }

    /// Bytes held by the buffers now (for tests).
    pub fn allocated(&self) -> usize {
        self.input.len() + self.output.len()
    }

    /// Each buffer only when it is used: a parked stream that wakes to read needs no output.
    fn ensure_output(&mut self) {
        if self.output.is_empty() {
            self.output = take_buffer(self.output_size);
        } else if self.output.len() < self.output_size {
            self.output.resize(self.output_size, 0);
        }
    }

    fn ensure_input(&mut self) {
        if self.input.is_empty() {
            self.input = take_buffer(self.input_size);
        } else if self.input.len() < self.input_size {
            self.input.resize(self.input_size, 0);
        }
    }

    /// Make room at the end of the input (as `ConsumeBuf::maybe_shift`).
    fn shift(&mut self) {
        if self.consumed == 0 {
            return;
        }
        if self.consumed == self.filled {
            self.consumed = 0;
            self.filled = 0;
        } else if self.filled > self.input.len() / 2 {
            self.input.copy_within(self.consumed..self.filled, 0);
            self.filled -= self.consumed;
            self.consumed = 0;
        }
    }
}

impl Buffers for SlimBuffers {
    fn output(&mut self) -> &mut [u8] {
        self.ensure_output();
        &mut self.output
    }

    fn input(&self) -> &[u8] {
        &self.input[self.consumed..self.filled]
    }

    fn input_append_buf(&mut self) -> &mut [u8] {
        self.ensure_input();
        self.shift();
        &mut self.input[self.filled..]
    }

    fn input_appended(&mut self, amount: usize) {
        self.filled = (self.filled + amount).min(self.input.len());
    }

    fn input_consume(&mut self, amount: usize) {
        self.progress = amount > 0;
        self.consumed = (self.consumed + amount).min(self.filled);
    }

    fn tmp_and_output(&mut self) -> (&mut [u8], &mut [u8]) {
        self.ensure_input();
        self.ensure_output();
        self.shift();
        let free = self.input.len() - self.filled;
        if free < MIN_TMP_SIZE {
            self.input.resize(self.filled + MIN_TMP_SIZE, 0);
        }
        (&mut self.input[self.filled..], &mut self.output)
    }

    fn can_use_input(&self) -> bool {
        self.consumed < self.filled && self.progress
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_consumes_and_releases_only_when_nothing_is_unread() {
        let mut b = SlimBuffers::new(16, 8);
        assert_eq!(b.allocated(), 0);
        b.input_append_buf()[..5].copy_from_slice(b"hello");
        b.input_appended(5);
        assert_eq!(b.input(), b"hello");
        b.input_consume(2);
        assert!(b.can_use_input());
        // Only the input was needed so far; unread input survives a release.
        assert_eq!(b.allocated(), 16);
        b.release_idle();
        assert_eq!(b.input(), b"llo");
        assert_eq!(b.allocated(), 16);
        b.input_consume(3);
        b.release_idle();
        assert_eq!(b.allocated(), 0);
        assert!(b.input().is_empty() && !b.can_use_input());
        // And it works again after.
        b.output()[..2].copy_from_slice(b"ok");
        assert_eq!(&b.output()[..2], b"ok");
        assert_eq!(b.input_append_buf().len(), 16);
    }

    #[test]
    fn released_buffers_are_reused_on_the_same_thread() {
        let mut a = SlimBuffers::new(4096, 1024);
        a.input_append_buf()[..3].copy_from_slice(b"abc");
        a.input_appended(3);
        a.input_consume(3);
        let first = a.input.as_ptr();
        a.release_idle();
        let mut b = SlimBuffers::new(4096, 1024);
        // The same allocation, handed to the next stream that reads on this thread.
        assert_eq!(b.input_append_buf().as_ptr(), first.cast_mut());
        assert_eq!(b.input_append_buf().len(), 4096);
    }

    #[test]
    fn the_input_shifts_as_ureqs_does() {
        let mut b = SlimBuffers::new(8, 8);
        b.input_append_buf()[..6].copy_from_slice(b"abcdef");
        b.input_appended(6);
        b.input_consume(4);
        // Over half full: the unread tail moves to the front.
        assert_eq!(b.input_append_buf().len(), 6);
        assert_eq!(b.input(), b"ef");
        let (tmp, out) = b.tmp_and_output();
        assert!(tmp.len() >= MIN_TMP_SIZE && out.len() == 8);
    }
}
