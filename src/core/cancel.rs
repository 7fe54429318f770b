//! Cancelling a stream from anywhere: the callback, another thread, or a dropped handle.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::core::error::{Error, Result};
use crate::core::http::interrupt;

/// A flag shared between a stream and whoever may stop it. Cheap to clone, thread-safe.
#[derive(Debug, Clone, Default)]
pub struct CancelHandle(Arc<AtomicBool>);

impl CancelHandle {
    /// A handle not yet cancelled.
    pub fn new() -> Self {
        Self::default()
    }

    /// Stop the stream: a blocked read returns within [`interrupt::SLICE`]. Idempotent.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether [`CancelHandle::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    /// Run `f` so that its socket waits stop when this handle is cancelled.
    pub fn guard<R>(&self, f: impl FnOnce() -> R) -> R {
        let flag = self.0.clone();
        interrupt::with_check(move || flag.load(Ordering::SeqCst), f)
    }

    /// Sleep for `d`, waking early (with [`Error::Cancelled`]) if cancelled or interrupted.
    pub fn sleep(&self, d: Duration) -> Result<()> {
        let end = Instant::now() + d;
        loop {
            if self.is_cancelled() || self.guard(interrupt::interrupted) {
                return Err(Error::Cancelled);
            }
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(());
            }
            std::thread::sleep(left.min(interrupt::SLICE));
        }
    }
}
