//! Interrupting blocked socket waits: a per-thread check polled while a socket waits.
//!
//! Every wait on a socket (connect, read, write) runs in slices of at most [`SLICE`] while a
//! check is installed on the thread, and calls the check between slices. The Python front
//! installs one that looks for a pending Ctrl-C; watch and log streams install one that looks at
//! their cancel handle. Without a check, a wait is one `poll` for the whole timeout.

use std::cell::RefCell;
use std::fmt;
use std::rc::Rc;
use std::time::Duration;

/// The longest a socket waits before asking the check again: the bound on how late an
/// interruption is noticed.
pub const SLICE: Duration = Duration::from_millis(50);

thread_local! {
    static CHECK: RefCell<Option<Rc<dyn Fn() -> bool>>> = const { RefCell::new(None) };
}

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
