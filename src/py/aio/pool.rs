//! The fixed pool of worker threads that run `incluster.aio`'s requests.
//!
//! Fixed, not one thread per call: a thousand concurrent requests must not mean a thousand
//! threads. Calls beyond the pool's size wait in a queue, where cancelling one costs nothing.
//! The workers start on the first call and live as long as the process; between calls they
//! wait on the queue, never on the GIL. A forked child has none of its parent's threads: its
//! first call starts its own workers (the parent's queue, and the calls it held, are left
//! alone).

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};

/// How many worker threads run calls. Each spends its call waiting on a socket with the GIL
/// released, so a few keep many requests moving; more would mostly contend for the GIL when
/// converting answers.
pub const THREADS: usize = 4;

/// One queued call.
pub type Job = Box<dyn FnOnce() + Send + 'static>;

/// The queue to the workers, and the process generation (see [`FORKS`]) whose threads they
/// are.
struct Queue {
    forks: u64,
    tx: Sender<Job>,
}

static QUEUE: Mutex<Option<Queue>> = Mutex::new(None);
static BUSY: AtomicUsize = AtomicUsize::new(0);

/// How many forks this process is from the one that first started workers: a fork handler
/// adds one in each child. Read on every call (an atomic load, where `getpid` would be a
/// system call).
static FORKS: AtomicU64 = AtomicU64::new(0);

extern "C" fn forked() {
    // Async-signal-safe, as a fork handler must be: one atomic add.
    FORKS.fetch_add(1, Ordering::SeqCst);
}

/// Start the workers; an error only when not even one thread could be started.
fn start() -> std::io::Result<Sender<Job>> {
    static HANDLER: std::sync::Once = std::sync::Once::new();
    HANDLER.call_once(|| {
        // SAFETY: registers a plain function with no captured state as the child's fork
        // handler; it only touches an atomic. A failure (ENOMEM) leaves forked children as
        // they were: they would wait for a parent's worker.
        unsafe { libc::pthread_atfork(None, None, Some(forked)) };
    });
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
        _ => Ok(tx),
    }
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

/// Queue `job` for a worker, starting the workers on the first call in this process.
///
/// Called with the GIL held (from Python), as `os.fork` is: a child is never forked while
/// another thread holds the queue's lock here, so it never finds that lock taken for good.
pub fn submit(job: Job) -> std::io::Result<()> {
    let mut queue = QUEUE
        .lock()
        .map_err(|_| std::io::Error::other("the worker queue is poisoned"))?;
    let forks = FORKS.load(Ordering::SeqCst);
    if queue.as_ref().is_none_or(|q| q.forks != forks) {
        let tx = start()?;
        if let Some(parents) = queue.replace(Queue { forks, tx }) {
            // A forked child: the parent's calls in that queue belong to the parent (their
            // futures, their Python objects); nothing here may run or drop them.
            std::mem::forget(parents);
            BUSY.store(0, Ordering::SeqCst);
        }
    }
    let Some(q) = queue.as_ref() else {
        return Err(std::io::Error::other("the worker queue is missing"));
    };
    BUSY.fetch_add(1, Ordering::SeqCst);
    let sent =
        q.tx.send(job)
            .map_err(|_| std::io::Error::other("the worker threads are gone"));
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
