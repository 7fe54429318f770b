//! The streaming verbs: watch and logs, printed as they arrive, ended cleanly by Ctrl-C or by
//! the reader of stdout going away.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

use incluster::Error;
use incluster::core::http::interrupt;
use incluster::core::logs::{LogOptions, LogStream};
use incluster::core::watch::{Watch, WatchOptions};

use crate::args::{Args, client, expect_args};
use crate::failure::Failure;
use crate::output::Output;

/// Set by SIGINT/SIGTERM: the stream loop sees it within [`interrupt::SLICE`] and ends cleanly.
static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
}

fn install_stop_handlers() {
    // SAFETY: installing a handler that only stores to an atomic is async-signal-safe.
    unsafe {
        libc::signal(libc::SIGINT, on_signal as *const () as libc::sighandler_t);
        libc::signal(libc::SIGTERM, on_signal as *const () as libc::sighandler_t);
    }
}

/// Whether the reader of stdout went away (`| head` exited). A pipe whose read end is closed
/// reports POLLERR, a socket POLLHUP; files and terminals in use report neither. Asked while
/// the stream waits for data, so an idle stream ends at once instead of at the next write.
fn stdout_hung_up() -> bool {
    let mut fd = libc::pollfd {
        fd: libc::STDOUT_FILENO,
        // No events asked for: POLLERR and POLLHUP are always reported.
        events: 0,
        revents: 0,
    };
    // SAFETY: one valid pollfd, its count, and a zero timeout (never blocks).
    let n = unsafe { libc::poll(&mut fd, 1, 0) };
    n == 1 && fd.revents & (libc::POLLERR | libc::POLLHUP) != 0
}

/// Whether the stream should end quietly: Ctrl-C, SIGTERM, or nobody reads stdout any more.
fn stopped() -> bool {
    STOP.load(Ordering::SeqCst) || stdout_hung_up()
}

/// Run a stream loop with [`stopped`] checked while it waits; a stop ends it with success,
/// as a closed pipe always has.
fn run_stream(f: impl FnOnce() -> Result<(), Failure>) -> Result<(), Failure> {
    install_stop_handlers();
    match interrupt::with_check(stopped, f) {
        Err(Failure::Lib(Error::Cancelled)) if stopped() => Ok(()),
        r => r,
    }
}

/// `incluster watch PATH`: one line per event until Ctrl-C (or the end, with --no-resume).
/// `-o` and `--pointer` apply to the event as printed, `{"type":...,"object":...}`.
pub fn watch(a: &Args) -> Result<(), Failure> {
    let mut opts = WatchOptions::default();
    for (k, v) in &a.params {
        opts.set(k, v)?;
    }
    if let Some(s) = &a.selector {
        opts.label_selector = Some(s.clone());
    }
    if let Some(s) = &a.field_selector {
        opts.field_selector = Some(s.clone());
    }
    if let Some(rv) = &a.since {
        opts.resource_version = Some(rv.clone());
    }
    opts.deliver_bookmarks |= a.bookmarks;
    opts.resume &= !a.no_resume;
    let render = Output::new(a)?;
    let client = client(a)?;
    let usage = "incluster watch PATH|TYPE[/NAME]|TYPE NAME [-A] [options]";
    let path = crate::target::resolve(a, &client, usage)?.path;
    run_stream(|| {
        let mut w = Watch::new(&client, &path, opts)?;
        let mut out = std::io::stdout().lock();
        while let Some(ev) = w.next_event()? {
            let mut line = Vec::with_capacity(ev.object.len() + 32);
            line.extend_from_slice(b"{\"type\":\"");
            line.extend_from_slice(ev.kind.as_str().as_bytes());
            line.extend_from_slice(b"\",\"object\":");
            line.extend_from_slice(&ev.object);
            line.extend_from_slice(b"}\n");
            if !render.is_plain() {
                match render.render_event(&line)? {
                    Some(r) => line = r,
                    None => continue,
                }
            }
            // Each event is flushed at once, so a pipe (`| while read`) sees it as it happens.
            if out.write_all(&line).and_then(|_| out.flush()).is_err() {
                return Ok(()); // the reader went away (`| head`)
            }
        }
        Ok(())
    })
}

/// `incluster logs POD`: the log, followed with -f until the container ends or Ctrl-C.
pub fn logs(a: &Args) -> Result<(), Failure> {
    expect_args(a, 1, "incluster logs POD [options]")?;
    let since_seconds = match &a.since {
        Some(d) => Some(
            humantime::parse_duration(d)
                .map_err(|e| Failure::Usage(format!("--since {d:?}: {e} (use 5s, 2m, 3h)")))?
                .as_secs(),
        ),
        None => None,
    };
    let opts = LogOptions {
        container: a.container.clone(),
        follow: a.follow,
        previous: a.previous,
        since_seconds,
        since_time: a.since_time.clone(),
        timestamps: a.timestamps,
        tail_lines: a.tail,
        limit_bytes: a.limit_bytes,
        resume: a.follow && !a.no_resume,
        ..LogOptions::default()
    };
    let client = client(a)?;
    let ns = client.namespace().to_owned();
    run_stream(|| {
        let mut s = LogStream::open(&client, &ns, &a.positional[0], opts)?;
        let mut out = std::io::stdout().lock();
        loop {
            let lines = s.next_lines(4096)?;
            if lines.is_empty() {
                return Ok(());
            }
            // Written as soon as they arrived: a follower sees each line at once.
            if out
                .write_all(&lines.data)
                .and_then(|_| out.flush())
                .is_err()
            {
                return Ok(());
            }
        }
    })
}
