//! The fixed pool of worker threads that run `incluster.aio`'s requests.
//!
//! Fixed, not one thread per call: a thousand concurrent requests must not mean a thousand
//! threads. Calls beyond the pool's size wait in a queue, where cancelling one costs nothing.
//! The workers start on the first call and live as long as the process; between calls they
//! wait on the queue, never on the GIL.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};

use once_cell::sync::OnceCell;

/// How many worker threads run calls. Each spends its call waiting on a socket with the GIL
/// released, so a few keep many requests moving; more would mostly contend for the GIL when
/// converting answers.
pub const THREADS: usize = 4;

/// One queued call.
pub type Job = Box<dyn FnOnce() + Send + 'static>;

static QUEUE: OnceCell<Mutex<Sender<Job>>> = OnceCell::new();
static BUSY: AtomicUsize = AtomicUsize::new(0);

/// Start the workers (once); an error only when not even one thread could be started.
fn queue() -> std::io::Result<&'static Mutex<Sender<Job>>> {
    QUEUE.get_or_try_init(|| {
        let (tx, rx) = channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        let mut started = 0;
        let mut last_err = None;
        for i in 0..THREADS {
            let rx = rx.clone();
            let wake = new_wake_fd();
            match std::thread::Builder::new()
                .name(format!("incluster-aio-{i}"))
                .spawn(move || {
                    WAKE.with(|w| w.set(wake));
                    work(&rx)
                }) {
                Ok(_) => started += 1,
                Err(e) => {
                    if let Some(fd) = wake {
                        // SAFETY: the eventfd made above, which no thread got.
                        unsafe { libc::close(fd) };
                    }
                    last_err = Some(e)
                }
            }
        }
        match (started, last_err) {
            (0, Some(e)) => Err(e),
            _ => Ok(Mutex::new(tx)),
        }
    })
}

/// A worker: take calls from the queue until the process ends.
fn work(rx: &Mutex<Receiver<Job>>) {
    loop {
        let job = {
            let Ok(rx) = rx.lock() else { return };
            match rx.recv() {
                Ok(job) => job,
                Err(_) => return,
            }
        };
        // A job settles its own future even when it panics; this only keeps the thread alive.
        let _ = std::panic::catch_unwind(AssertUnwindSafe(job));
        BUSY.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Queue `job` for a worker.
pub fn submit(job: Job) -> std::io::Result<()> {
    let queue = queue()?;
    BUSY.fetch_add(1, Ordering::SeqCst);
    let sent = queue
        .lock()
        .map_err(|_| std::io::Error::other("the worker queue is poisoned"))
        .and_then(|tx| {
            tx.send(job)
                .map_err(|_| std::io::Error::other("the worker threads are gone"))
        });
    if sent.is_err() {
        BUSY.fetch_sub(1, Ordering::SeqCst);
    }
    sent
}

thread_local! {
    /// This worker's wake fd (see [`wake_fd`]).
    static WAKE: std::cell::Cell<Option<i32>> = const { std::cell::Cell::new(None) };
}

/// A new eventfd for a worker (see [`wake_fd`]); `None` if none could be made.
fn new_wake_fd() -> Option<i32> {
    // SAFETY: creates a new descriptor; no pointers involved.
    let fd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
    (fd >= 0).then_some(fd)
}

/// The calling worker's eventfd, which a cancelled call writes to so that the socket wait of
/// the request under way ends at once (`interrupt::with_wake_fd`). One per worker, made with
/// the pool (so the first call finds every descriptor the pool will ever hold) and kept for
/// the process's life (the workers never end), so a late write can never land on a reused
/// descriptor. `None` off the workers, or if the eventfd could not be made: then a
/// cancellation is noticed at the next `interrupt::SLICE` instead.
pub fn wake_fd() -> Option<i32> {
    WAKE.with(|w| w.get())
}

/// Calls queued or running.
pub fn busy() -> usize {
    BUSY.load(Ordering::SeqCst)
}
