//! The stream machinery shared by watches and log follows: line framing (`lines`), the delay
//! between reconnects (`backoff`) and which failures a resume waits out (`resume`).
//!
//! A stream is a state machine with two halves, so that whoever waits for it can choose how:
//! a `poll` half that produces the next item from what is already buffered and never does I/O,
//! and a blocking `wait` half that does the I/O (reads, reconnects, relists) until the poll
//! half can go on. A blocking caller loops over both; Python runs the poll half attached to
//! the interpreter and only the wait half detached from it, so it never waits on a socket
//! while holding the GIL.

pub mod backoff;
pub mod lines;
pub mod resume;

/// What the non-blocking half of a stream produced.
#[derive(Debug, PartialEq, Eq)]
pub enum Next<T> {
    /// The next item.
    Item(T),
    /// The stream is over (ended without resuming, cancelled and drained, or stopped).
    End,
    /// Nothing more without I/O: call the stream's blocking `wait` and poll again.
    NeedsIo,
}
