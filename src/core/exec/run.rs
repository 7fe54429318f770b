//! Run a command to completion and collect its output (Python's `subprocess.run` shape).

use std::io::Read;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::core::client::Client;
use crate::core::error::{Error, Result};
use crate::core::exec::{ExecOptions, ExecSession, ExitStatus, Output};

/// A finished command: its exit status and everything it printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecResult {
    /// How it ended.
    pub status: ExitStatus,
    /// Everything written to stdout.
    pub stdout: Vec<u8>,
    /// Everything written to stderr.
    pub stderr: Vec<u8>,
}

/// Run `opts` to completion. With `stdin`, the command's stdin is fed from it on another
/// thread (so a command that writes while it reads never deadlocks) and closed at its end.
/// A non-zero exit is not an error; a `timeout` that runs out cancels the session.
pub fn run(
    client: &Client,
    opts: &ExecOptions,
    stdin: Option<Box<dyn Read + Send>>,
    timeout: Option<Duration>,
) -> Result<ExecResult> {
    let mut opts = opts.clone();
    opts.stdin = stdin.is_some();
    let deadline = timeout.map(|t| Instant::now() + t);
    let mut session = ExecSession::exec(client, &opts)?;
    if stdin.is_some() && session.protocol() != super::PROTOCOLS[0] {
        // Without the v5 close message the command would never see the end of its input.
        session.cancel_handle().cancel();
        return Err(session.writer().close_stdin().err().unwrap_or_else(|| {
            Error::invalid("the server cannot close stdin (v4.channel.k8s.io)")
        }));
    }
    let feed_error: Arc<Mutex<Option<Error>>> = Arc::default();
    let feeder = stdin.map(|mut input| {
        let w = session.writer();
        let err = feed_error.clone();
        std::thread::spawn(move || {
            let mut buf = vec![0u8; super::STDIN_MESSAGE];
            let r = (|| loop {
                let n = match input.read(&mut buf) {
                    Ok(0) => return w.close_stdin(),
                    Ok(n) => n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(Error::invalid(format!("reading stdin: {e}"))),
                };
                w.write(&buf[..n])?;
            })();
            if let Err(e) = r {
                *err.lock().unwrap_or_else(PoisonError::into_inner) = Some(e);
            }
        })
    });
    let mut out = ExecResult {
        status: ExitStatus {
            code: 0,
            message: String::new(),
        },
        stdout: Vec::new(),
        stderr: Vec::new(),
    };
    let result = loop {
        let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        match session.next(left) {
            Ok(Some(Output::Stdout(b))) => out.stdout.extend_from_slice(&b),
            Ok(Some(Output::Stderr(b))) => out.stderr.extend_from_slice(&b),
            Ok(None) => break Ok(()),
            Err(Error::Timeout(_)) if deadline.is_some_and(|d| Instant::now() >= d) => {
                break Err(Error::Timeout(format!(
                    "the command {:?} did not finish within {}s",
                    opts.command,
                    timeout.unwrap_or_default().as_secs_f64()
                )));
            }
            Err(e) => break Err(e),
        }
    };
    session.cancel_handle().cancel();
    if let Some(t) = feeder {
        let _ = t.join();
    }
    result?;
    // A stdin that could not be closed (a v4-only server) is the caller's to know; writes
    // refused because the command had already ended are not.
    if let Some(e @ Error::InvalidArgument(_)) = feed_error
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take()
    {
        return Err(e);
    }
    out.status = session
        .exit_status()
        .cloned()
        .ok_or_else(|| Error::Transport("no exit status".into()))?;
    Ok(out)
}
