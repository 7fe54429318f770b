//! Cancelling a stream from anywhere: the callback, another thread, or a dropped handle.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::core::error::{Error, Result};
use crate::core::http::interrupt;

/// A flag shared between a stream and whoever may stop it. Cheap to clone, thread-safe.
#[derive(Debug, Clone, Default)]
pub struct CancelHandle(Arc<Inner>);

#[derive(Debug, Default)]
struct Inner {
    cancelled: AtomicBool,
    /// The wake fds (`interrupt::with_wake_fd`) of the threads inside [`CancelHandle::guard`]
    /// now: [`CancelHandle::cancel`] writes each, so their socket waits end at once.
    wakes: Mutex<Vec<i32>>,
}

impl CancelHandle {
    /// A handle not yet cancelled.
    pub fn new() -> Self {
        Self::default()
    }

    /// Stop the stream: a blocked read returns at once on a thread with a wake fd (the
    /// asyncio workers), else within [`interrupt::SLICE`]. Idempotent.
    pub fn cancel(&self) {
        self.0.cancelled.store(true, Ordering::SeqCst);
        // Under the lock: a guard that has left (and unregistered) gets no late write.
        if let Ok(wakes) = self.0.wakes.lock() {
            for &fd in wakes.iter() {
                interrupt::wake(fd);
            }
        }
    }

    /// Whether [`CancelHandle::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.0.cancelled.load(Ordering::SeqCst)
    }

    /// Run `f` so that its socket waits stop when this handle is cancelled: at once when the
    /// thread has a wake fd installed, else at the next [`interrupt::SLICE`].
    pub fn guard<R>(&self, f: impl FnOnce() -> R) -> R {
        struct Unregister(Arc<Inner>, i32);
        impl Drop for Unregister {
            fn drop(&mut self) {
                if let Ok(mut wakes) = self.0.wakes.lock()
                    && let Some(i) = wakes.iter().position(|&w| w == self.1)
                {
                    wakes.swap_remove(i);
                }
            }
        }
        let _registered = interrupt::wake_fd().map(|fd| {
            if let Ok(mut wakes) = self.0.wakes.lock() {
                wakes.push(fd);
            }
            // Registered before this look: a cancel either sees the fd or is seen here.
            if self.is_cancelled() {
                interrupt::wake(fd);
            }
            Unregister(self.0.clone(), fd)
        });
        let inner = self.0.clone();
        interrupt::with_check(move || inner.cancelled.load(Ordering::SeqCst), f)
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{TcpListener, TcpStream};
    use std::os::fd::AsRawFd;

    fn eventfd() -> i32 {
        // SAFETY: creates a new fd; no pointers involved.
        let fd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
        assert!(fd >= 0);
        fd
    }

    /// A socket wait under `guard` on a thread with a wake fd, with no deadline: only a
    /// wake can end it (such waits are not sliced).
    fn guarded_wait(cancel: &CancelHandle, wake: i32) -> std::io::Result<()> {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let _server = listener.accept().unwrap();
        interrupt::with_wake_fd(wake, || {
            cancel.guard(|| crate::core::http::tcp::wait(client.as_raw_fd(), libc::POLLIN, None))
        })
    }

    #[test]
    fn cancel_wakes_a_guarded_wait_on_another_thread() {
        let cancel = CancelHandle::new();
        let wake = eventfd();
        let c2 = cancel.clone();
        let canceller = std::thread::spawn(move || {
            std::thread::sleep(interrupt::SLICE * 2);
            c2.cancel();
        });
        let r = guarded_wait(&cancel, wake);
        canceller.join().unwrap();
        assert!(interrupt::Interrupted::is(&r.unwrap_err()));
        // The guard has left: nothing is registered, a later cancel writes nothing.
        assert!(cancel.0.wakes.lock().unwrap().is_empty());
        // SAFETY: closing the eventfd this test opened.
        unsafe { libc::close(wake) };
    }

    #[test]
    fn a_handle_cancelled_before_the_guard_ends_the_first_wait() {
        let cancel = CancelHandle::new();
        cancel.cancel();
        let wake = eventfd();
        let r = guarded_wait(&cancel, wake);
        assert!(interrupt::Interrupted::is(&r.unwrap_err()));
        // SAFETY: closing the eventfd this test opened.
        unsafe { libc::close(wake) };
    }
}
