//! Interrupting blocked socket waits: a per-thread check polled while a socket waits.
//!
//! Every wait on a socket (connect, read, write) runs in slices of at most [`SLICE`] while a
//! check is installed on the thread, and calls the check between slices. The Python front
//! installs one that looks for a pending Ctrl-C; watch and log streams install one that looks at
//! their cancel handle. Without a check, a wait is one `poll` for the whole timeout.
//!
//! Inside [`with_wake_fd`] (the asyncio workers), a wait is instead one `poll` on the socket and
//! a wake fd, for the whole timeout: a cancel writes the wake fd and the wait ends at once.
//!
//! Inside [`nonblocking`], a socket wait does not wait at all: when the socket is not ready it
//! fails at once and records which socket and readiness it needed ([`Readiness`]), so an event
//! loop can watch that socket and try again (the asyncio front reads streams this way).

use std::cell::{Cell, RefCell};
use std::fmt;
use std::rc::Rc;
use std::time::Duration;

/// The longest a socket waits before asking the check again: the bound on how late an
/// interruption is noticed.
pub const SLICE: Duration = Duration::from_millis(50);

thread_local! {
    static CHECK: RefCell<Option<Rc<dyn Fn() -> bool>>> = const { RefCell::new(None) };
    /// Inside [`with_wake_fd`]: the eventfd that ends a socket wait when written.
    static WAKE: Cell<Option<i32>> = const { Cell::new(None) };
    /// Inside [`nonblocking`]: what the last socket wait that could not go on needed.
    static NONBLOCKING: Cell<Option<Option<Readiness>>> = const { Cell::new(None) };
}

/// The socket, and the readiness, a wait inside [`nonblocking`] needed and did not have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Readiness {
    /// The socket's file descriptor.
    pub fd: i32,
    /// Writable (true) or readable (false).
    pub writable: bool,
}

/// Run `f` with socket waits that never wait: a socket that is not ready fails the I/O at once
/// (as a transport error; the caller recognises it by the second value) and the returned
/// [`Readiness`] says what it needed. `None` when no wait was refused.
pub fn nonblocking<R>(f: impl FnOnce() -> R) -> (R, Option<Readiness>) {
    struct Leave(Option<Option<Readiness>>);
    impl Drop for Leave {
        fn drop(&mut self) {
            NONBLOCKING.with(|n| n.set(self.0));
        }
    }
    let outer = NONBLOCKING.with(|n| n.replace(Some(None)));
    let leave = Leave(outer);
    let r = f();
    let needed = NONBLOCKING.with(|n| n.get()).flatten();
    drop(leave);
    (r, needed)
}

/// Inside [`nonblocking`]: a socket wait must not wait.
pub(crate) fn is_nonblocking() -> bool {
    NONBLOCKING.with(|n| n.get().is_some())
}

/// Inside [`nonblocking`]: whether a socket wait was refused so far.
pub(crate) fn was_refused() -> bool {
    NONBLOCKING.with(|n| matches!(n.get(), Some(Some(_))))
}

/// Record that a wait inside [`nonblocking`] needed `fd` to be ready, and return the error that
/// ends the I/O.
pub(crate) fn not_ready(fd: i32, writable: bool) -> std::io::Error {
    NONBLOCKING.with(|n| n.set(Some(Some(Readiness { fd, writable }))));
    std::io::Error::other(NotReady)
}

/// The error of a socket wait refused inside [`nonblocking`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct NotReady;

impl fmt::Display for NotReady {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the socket is not ready (non-blocking read)")
    }
}

impl std::error::Error for NotReady {}

/// Restores the previous check when dropped (also on unwinding).
struct Restore(Option<Rc<dyn Fn() -> bool>>);

impl Drop for Restore {
    fn drop(&mut self) {
        let prev = self.0.take();
        CHECK.with(|c| *c.borrow_mut() = prev);
    }
}

/// Run `f` with `check` installed for this thread: socket waits inside `f` stop with an
/// [`Interrupted`] error as soon as `check` returns true (within [`SLICE`]). A check already
/// installed (an outer caller's) stays in force: either one firing interrupts.
pub fn with_check<R>(check: impl Fn() -> bool + 'static, f: impl FnOnce() -> R) -> R {
    let outer = CHECK.with(|c| c.borrow().clone());
    let combined: Rc<dyn Fn() -> bool> = match outer.clone() {
        Some(o) => Rc::new(move || check() || o()),
        None => Rc::new(check),
    };
    CHECK.with(|c| *c.borrow_mut() = Some(combined));
    let _restore = Restore(outer);
    f()
}

/// Run `f` with `fd` (an eventfd, or the read end of a pipe, non-blocking) watched by every
/// socket wait inside it, next to the socket: when `fd` becomes readable the wait asks the
/// check at once, so an interruption needs no [`SLICE`] to be noticed, and the waits are not
/// cut into slices. Whoever makes the check fire must then write to `fd` ([`wake`];
/// `CancelHandle::cancel` does it for the threads inside its `guard`, which covers every
/// stream and asyncio call), and whoever installed it empties it
/// ([`drain_wake_fd`]) once `f` is over: a fired wake stays readable so that every later wait
/// inside `f` ends too. A check that fires without a write is noticed only when the socket or
/// the deadline ends the wait.
pub fn with_wake_fd<R>(fd: i32, f: impl FnOnce() -> R) -> R {
    struct Leave(Option<i32>);
    impl Drop for Leave {
        fn drop(&mut self) {
            WAKE.with(|w| w.set(self.0));
        }
    }
    let _leave = Leave(WAKE.with(|w| w.replace(Some(fd))));
    f()
}

/// The wake fd installed by [`with_wake_fd`], if any.
pub(crate) fn wake_fd() -> Option<i32> {
    WAKE.with(|w| w.get())
}

/// Write a wake fd (8 bytes, as an eventfd takes them; a pipe takes them too). A full
/// eventfd counter or pipe (EAGAIN) is already readable, which is all a wake needs.
pub fn wake(fd: i32) {
    let one: u64 = 1;
    // SAFETY: writes the 8 bytes of a local u64; the caller keeps `fd` open while it may be
    // written (the asyncio workers' eventfds live as long as the process).
    unsafe { libc::write(fd, (&raw const one).cast(), 8) };
}

/// Empty a wake fd (an eventfd's counter, or a pipe's bytes) so it stops being readable.
pub fn drain_wake_fd(fd: i32) {
    let mut buf = [0u8; 64];
    // SAFETY: reading into a local buffer of the length given; a non-blocking fd returns
    // EAGAIN once empty.
    while unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) } > 0 {}
}

/// True when a check is installed on this thread.
pub fn active() -> bool {
    CHECK.with(|c| c.borrow().is_some())
}

/// Ask the installed check (false when there is none).
pub fn interrupted() -> bool {
    // Clone out of the cell so a check that itself does I/O cannot find the cell borrowed.
    let check = CHECK.with(|c| c.borrow().clone());
    check.is_some_and(|f| f())
}

/// The error a socket wait returns when its check fired; the core maps it to
/// [`crate::core::error::Error::Cancelled`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interrupted;

impl fmt::Display for Interrupted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("interrupted")
    }
}

impl std::error::Error for Interrupted {}

impl Interrupted {
    /// As an I/O error, the form ureq's transports return.
    pub fn io() -> std::io::Error {
        std::io::Error::other(Interrupted)
    }

    /// Whether an I/O error is this one.
    pub fn is(e: &std::io::Error) -> bool {
        e.get_ref().is_some_and(|i| i.is::<Interrupted>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inner_checks_add_to_outer_ones() {
        with_check(
            || false,
            || {
                assert!(!interrupted());
                with_check(|| true, || assert!(interrupted()));
                assert!(!interrupted());
            },
        );
    }

    #[test]
    fn nonblocking_reports_what_was_needed_and_restores() {
        assert!(!is_nonblocking());
        let ((), none) = nonblocking(|| assert!(is_nonblocking()));
        assert_eq!(none, None);
        let (e, needed) = nonblocking(|| not_ready(7, true));
        assert_eq!(
            needed,
            Some(Readiness {
                fd: 7,
                writable: true
            })
        );
        assert!(e.to_string().contains("not ready"));
        assert!(!is_nonblocking());
    }

    #[test]
    fn checks_nest_and_restore() {
        assert!(!active() && !interrupted());
        with_check(
            || true,
            || {
                assert!(interrupted());
                // The outer check stays in force inside.
                with_check(|| false, || assert!(active() && interrupted()));
                assert!(interrupted());
            },
        );
        assert!(!active());
        assert!(Interrupted::is(&Interrupted::io()));
    }
}
