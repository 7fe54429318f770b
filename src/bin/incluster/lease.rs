//! `incluster lease run NAME -- CMD ARGS…` and `incluster lease status NAME`: printing,
//! signals and the child process. The election itself is the library's
//! (`incluster::core::lease`).

use std::ffi::OsString;
use std::process::{Child, Command};
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::{Duration, Instant, SystemTime};

use incluster::core::error::{EXIT_LEASE_LOST, EXIT_LEASE_WAIT_TIMEOUT};
use incluster::core::lease::record;
use incluster::core::lease::{Election, ElectionConfig, LeaseEvent, Outcome};

use crate::args::{Args, client};
use crate::failure::Failure;
use crate::output::Output;

/// How often the main thread looks at the child, the signals and the leadership.
const TICK: Duration = Duration::from_millis(50);

/// The last SIGTERM/SIGINT received (0: none).
static SIGNAL: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_signal(sig: libc::c_int) {
    // Only an atomic store: async-signal-safe.
    SIGNAL.store(sig, Ordering::SeqCst);
}

/// Catch SIGTERM and SIGINT, so that the command gets them forwarded and the Lease is released
/// before exiting.
fn catch_signals() {
    for sig in [libc::SIGTERM, libc::SIGINT] {
        // SAFETY: the handler only stores to an atomic, which is async-signal-safe; the
        // function pointer has the signature `signal` expects.
        unsafe {
            libc::signal(
                sig,
                on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t,
            );
        }
    }
}

/// `incluster lease run|status ...`.
pub fn lease(a: &Args) -> Result<(), Failure> {
    match a.positional.first().map(String::as_str) {
        Some("run") => run(a),
        Some("status") => status(a),
        _ => Err(Failure::Usage(
            "usage: incluster lease run NAME [options] -- CMD [ARGS...] | incluster lease status NAME"
                .into(),
        )),
    }
}

fn name(a: &Args, usage: &str) -> Result<String, Failure> {
    match a.positional.as_slice() {
        [_, name] => Ok(name.clone()),
        _ => Err(Failure::Usage(format!("usage: {usage}"))),
    }
}

/// `incluster lease status NAME`.
fn status(a: &Args) -> Result<(), Failure> {
    let name = name(a, "incluster lease status NAME [-n NS] [-o FORMAT]")?;
    if a.command.is_some() || a.lease.any() {
        return Err(Failure::Usage(
            "lease status takes no command and no election options".into(),
        ));
    }
    let out = Output::new(a)?;
    let v = record::status(&client(a)?, None, &name)?;
    out.print_value(&v)
}

/// One line on stderr, with the time: `incluster: 2026-…Z lease ns/name: …`.
fn say(lease: &str, msg: &str) {
    let now = humantime::format_rfc3339_micros(SystemTime::now());
    eprintln!("incluster: {now} lease {lease}: {msg}");
}

/// `incluster lease run NAME -- CMD ARGS...`.
fn run(a: &Args) -> Result<(), Failure> {
    let usage = "incluster lease run NAME [options] -- CMD [ARGS...]";
    let name = name(a, usage)?;
    let command = match a.command.as_deref() {
        Some([cmd, args @ ..]) => (cmd.clone(), args.to_vec()),
        _ => {
            return Err(Failure::Usage(format!(
                "lease run needs a command after `--`: {usage}"
            )));
        }
    };
    if a.output.is_some() || a.pointer.is_some() {
        return Err(Failure::Usage(
            "lease run does not take -o or --pointer".into(),
        ));
    }
    let o = &a.lease;
    let mut cfg = ElectionConfig::new(&name);
    cfg.identity = o.identity.clone();
    cfg.lease_duration = o.duration.unwrap_or(cfg.lease_duration);
    cfg.renew_deadline = o.renew_deadline.unwrap_or(cfg.renew_deadline);
    cfg.retry_period = o.retry_period.unwrap_or(cfg.retry_period);
    cfg.wait_timeout = o.wait_timeout;
    let grace = o.grace_period.unwrap_or(Duration::from_secs(10));
    let c = client(a)?;
    let label = format!("{}/{name}", c.namespace());
    catch_signals();
    let l = label.clone();
    let election = Election::start(&c, cfg, move |ev| match ev {
        LeaseEvent::NewLeader(id) => say(&l, &format!("the leader is {id}")),
        LeaseEvent::Started => say(&l, "became the leader"),
        LeaseEvent::Stopped(why) => say(&l, &format!("stopped leading: {why}")),
        LeaseEvent::Retrying(why) => say(&l, &why),
    })?;
    say(&label, &format!("contending as {}", election.identity()));
    // Wait for leadership, a signal, or the end of the election.
    loop {
        if let Some(sig) = signal() {
            election.stop();
            say(&label, &format!("signal {sig} before leading: exiting"));
            return Err(Failure::Exit(128 + sig as u8));
        }
        if election.wait_leader(Some(TICK))? {
            break;
        }
        if let Some(outcome) = election.outcome() {
            return match outcome? {
                Outcome::WaitTimedOut => {
                    say(
                        &label,
                        "--wait-timeout ran out before leadership: the command did not run",
                    );
                    Err(Failure::Exit(EXIT_LEASE_WAIT_TIMEOUT))
                }
                other => Err(Failure::Exit(other.exit_code())),
            };
        }
    }
    let mut child = match Command::new(&command.0).args(&command.1).spawn() {
        Ok(c) => c,
        Err(e) => {
            election.stop();
            say(&label, &format!("cannot run {:?}: {e}", command.0));
            return Err(Failure::Exit(127));
        }
    };
    say(&label, &format!("started the command (pid {})", child.id()));
    loop {
        if let Some(code) = exited(&mut child)? {
            election.stop();
            say(
                &label,
                &format!("the command exited ({code}); the Lease is released"),
            );
            return Err(Failure::Exit(code));
        }
        if let Some(sig) = signal() {
            say(&label, &format!("signal {sig}: passing it to the command"));
            send(&child, sig);
            let code = stop_child(&mut child, &label, grace, false)?;
            election.stop();
            return Err(Failure::Exit(code));
        }
        if !election.is_leader() {
            say(&label, "leadership lost: stopping the command (SIGTERM)");
            let _ = stop_child(&mut child, &label, grace, true)?;
            election.stop();
            return Err(Failure::Exit(EXIT_LEASE_LOST));
        }
        std::thread::sleep(TICK);
    }
}

/// The signal caught since the last call, if any.
fn signal() -> Option<i32> {
    match SIGNAL.swap(0, Ordering::SeqCst) {
        0 => None,
        s => Some(s),
    }
}

fn send(child: &Child, sig: i32) {
    if let Ok(pid) = libc::pid_t::try_from(child.id()) {
        // SAFETY: kill(2) with our own child's pid; no memory is involved.
        unsafe {
            libc::kill(pid, sig);
        }
    }
}

/// The child's exit code if it has exited (128 + N when a signal N ended it, as shells say).
fn exited(child: &mut Child) -> Result<Option<u8>, Failure> {
    use std::os::unix::process::ExitStatusExt;
    let status = child.try_wait().map_err(wait_failed)?;
    Ok(status.map(|s| match (s.code(), s.signal()) {
        (Some(c), _) => c as u8,
        (None, Some(sig)) => 128u8.wrapping_add(sig as u8),
        _ => 1,
    }))
}

/// Stop the child: SIGTERM (if `term`), then SIGKILL after `grace`; its exit code.
fn stop_child(child: &mut Child, label: &str, grace: Duration, term: bool) -> Result<u8, Failure> {
    if term {
        send(child, libc::SIGTERM);
    }
    let end = Instant::now() + grace;
    while Instant::now() < end {
        if let Some(code) = exited(child)? {
            return Ok(code);
        }
        // A second signal to incluster goes to the command too.
        if let Some(sig) = signal() {
            send(child, sig);
        }
        std::thread::sleep(TICK);
    }
    say(label, "the command outlived the grace period: SIGKILL");
    let _ = child.kill();
    let status = child.wait().map_err(wait_failed)?;
    Ok(status.code().map_or(137, |c| c as u8))
}

fn wait_failed(e: std::io::Error) -> Failure {
    eprintln!("incluster: cannot wait for the command: {e}");
    Failure::Exit(1)
}

/// The arguments after the first `--` (the command of `lease run` and `exec`), options
/// included, as kubectl exec takes them.
pub fn split_command(argv: &[OsString]) -> Option<(Vec<OsString>, Vec<OsString>)> {
    let i = argv.iter().position(|a| a == "--")?;
    Some((argv[..i].to_vec(), argv[i + 1..].to_vec()))
}
