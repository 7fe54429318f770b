//! exec and attach: run a command in a container (or attach to its main process) over a
//! WebSocket, with the Kubernetes channel protocol.
//!
//! Subprotocols, best first: `v5.channel.k8s.io` (adds the close message `[255, channel]`
//! that half-closes stdin, so `cat` sees EOF) and `v4.channel.k8s.io` (no stdin close: a
//! caller who needs one gets an error saying so). Channels: 0 stdin, 1 stdout, 2 stderr,
//! 3 error (a `Status`: `Success`, or `Failure` with reason `NonZeroExitCode` and the code in
//! `details.causes[reason=ExitCode]`), 4 resize (`{"Width":..,"Height":..}`).

pub mod options;
pub mod run;

use std::time::{Duration, Instant};

use crate::core::api::status::Status;
use crate::core::client::Client;
use crate::core::error::{ApiError, Error, Result};
pub use crate::core::ws::{MAX_MESSAGE, PING_PERIOD, SessionCancel, ping_deadline};
use crate::core::ws::{Out, Sender, Session};
pub use options::{AttachOptions, ExecOptions};

/// The exec subprotocols we offer, best first.
pub const PROTOCOLS: [&str; 2] = ["v5.channel.k8s.io", "v4.channel.k8s.io"];

/// Largest piece of stdin sent in one message. The API server's WebSocket side reads each
/// message whole into a fresh buffer and unmasks it before it copies it on toward the kubelet,
/// so fewer, larger messages cost it less per byte (figures in `benches/report.md`); kubectl
/// sends its reads of stdin as they come.
pub const STDIN_MESSAGE: usize = 128 * 1024;

const STDIN: u8 = 0;
const STDOUT: u8 = 1;
const STDERR: u8 = 2;
const ERROR: u8 = 3;
const RESIZE: u8 = 4;
const CLOSE: u8 = 255;

/// Output of the command, one message at a time, in arrival order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Bytes the command wrote to stdout (with a tty: everything it wrote).
    Stdout(Vec<u8>),
    /// Bytes the command wrote to stderr.
    Stderr(Vec<u8>),
}

/// How the command ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExitStatus {
    /// The exit code: 0 for success.
    pub code: i32,
    /// The server's message (empty on success).
    pub message: String,
}

impl ExitStatus {
    /// Whether the command exited with 0.
    pub fn success(&self) -> bool {
        self.code == 0
    }
}

/// Parse the error channel's `Status` into an exit status, or the error it reports (the
/// container is gone, the executable was not found, ...).
pub fn parse_exit(body: &[u8], request: &str) -> Result<ExitStatus> {
    // The kubelet's error-channel Status has no `kind` (it is written as a bare
    // metav1.Status), so the usual check for `"kind":"Status"` is relaxed here.
    let status = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .filter(|v| v.get("status").is_some_and(serde_json::Value::is_string))
        .and_then(|mut v| {
            v["kind"] = "Status".into();
            Status::from_value(&v)
        })
        .ok_or_else(|| {
            Error::Decode(format!(
                "{request}: the error channel carried no Status: {:?}",
                String::from_utf8_lossy(&body[..body.len().min(200)])
            ))
        })?;
    if status.status == "Success" {
        return Ok(ExitStatus {
            code: 0,
            message: String::new(),
        });
    }
    if status.reason == "NonZeroExitCode"
        && let Some(code) = status
            .details
            .as_ref()
            .and_then(|d| d.causes.iter().find(|c| c.reason == "ExitCode"))
            .and_then(|c| c.message.trim().parse::<i32>().ok())
    {
        return Ok(ExitStatus {
            code,
            message: status.message,
        });
    }
    let code = if status.code == 0 { 500 } else { status.code };
    Err(Error::Api(Box::new(ApiError {
        status: code,
        reason: if status.reason.is_empty() {
            "InternalError".into()
        } else {
            status.reason.clone()
        },
        message: status.message.clone(),
        details: Some(status),
        request: request.to_owned(),
        body: body.to_vec(),
    })))
}

/// The writing half of an exec session: stdin, stdin close, resize. Clone it to write from
/// another thread than the one reading the output.
#[derive(Debug, Clone)]
pub struct ExecWriter {
    sender: Sender,
    v5: bool,
    tty: bool,
}

impl ExecWriter {
    /// Send bytes to the command's stdin (split into messages; waits while the server is
    /// not taking them: back-pressure).
    pub fn write(&self, data: &[u8]) -> Result<()> {
        for chunk in data.chunks(STDIN_MESSAGE) {
            let mut m = Vec::with_capacity(chunk.len() + 1);
            m.push(STDIN);
            m.extend_from_slice(chunk);
            self.sender.send(Out::Binary(m))?;
        }
        Ok(())
    }

    /// Close the command's stdin (it sees end of file). Needs `v5.channel.k8s.io`.
    pub fn close_stdin(&self) -> Result<()> {
        if !self.v5 {
            return Err(Error::invalid(
                "the server speaks only v4.channel.k8s.io, which cannot close stdin: the \
                 command will not see end of file (Kubernetes 1.30+ speaks v5)",
            ));
        }
        self.sender.send(Out::Binary(vec![CLOSE, STDIN]))
    }

    /// Tell the terminal's new size (only with a tty).
    pub fn resize(&self, width: u16, height: u16) -> Result<()> {
        if !self.tty {
            return Err(Error::invalid(
                "resize needs a tty: open the session with tty set",
            ));
        }
        let mut m = vec![RESIZE];
        m.extend_from_slice(format!(r#"{{"Width":{width},"Height":{height}}}"#).as_bytes());
        self.sender.send(Out::Binary(m))
    }
}

/// A running exec or attach session. Read the output with [`ExecSession::next`] until it
/// returns `None`; then [`ExecSession::exit_status`] holds how the command ended.
#[derive(Debug)]
pub struct ExecSession {
    session: Session,
    writer: ExecWriter,
    exit: Option<ExitStatus>,
    done: bool,
    request: String,
}

impl ExecSession {
    fn open(
        client: &Client,
        path: String,
        query: Vec<(String, String)>,
        tty: bool,
    ) -> Result<Self> {
        let (session, request) = client.open_websocket(&path, query, &PROTOCOLS)?;
        let v5 = session.protocol == PROTOCOLS[0];
        let writer = ExecWriter {
            sender: session.sender(),
            v5,
            tty,
        };
        Ok(ExecSession {
            session,
            writer,
            exit: None,
            done: false,
            request,
        })
    }

    /// Start a command in a container (`POST …/pods/{pod}/exec`).
    pub fn exec(client: &Client, opts: &ExecOptions) -> Result<Self> {
        let (path, query) = opts.path_and_query(client.namespace())?;
        Self::open(client, path, query, opts.tty)
    }

    /// Attach to a container's main process (`POST …/pods/{pod}/attach`).
    pub fn attach(client: &Client, opts: &AttachOptions) -> Result<Self> {
        let (path, query) = opts.path_and_query(client.namespace())?;
        Self::open(client, path, query, opts.tty)
    }

    /// The subprotocol the server chose.
    pub fn protocol(&self) -> &str {
        &self.session.protocol
    }

    /// The writing half (clone it for another thread).
    pub fn writer(&self) -> ExecWriter {
        self.writer.clone()
    }

    /// A handle that cancels the session from any thread.
    pub fn cancel_handle(&self) -> SessionCancel {
        self.session.cancel_handle()
    }

    /// The next piece of output; `Ok(None)` when the command has ended and all its output was
    /// read (then [`ExecSession::exit_status`] is set). A `timeout` bounds this one wait.
    /// The connection closing before the exit status arrived is an error: the command may
    /// still be running.
    pub fn next(&mut self, timeout: Option<Duration>) -> Result<Option<Output>> {
        if self.done {
            return Ok(None);
        }
        let deadline = timeout.map(|t| Instant::now() + t);
        loop {
            let m = match self.session.recv(deadline) {
                Ok(m) => m,
                // A connection that breaks after the exit status lost nothing.
                Err(Error::Transport(_)) if self.exit.is_some() => None,
                Err(Error::Transport(m)) => {
                    self.done = true;
                    return Err(Error::Transport(format!(
                        "{m}; the command's exit status never arrived (the command may still \
                         be running)"
                    )));
                }
                Err(e) => return Err(e),
            };
            let Some(mut m) = m else {
                self.done = true;
                if self.exit.is_none() {
                    return Err(Error::Transport(format!(
                        "{}: the connection closed before the command's exit status arrived \
                         (the command may still be running)",
                        self.request
                    )));
                }
                return Ok(None);
            };
            let Some((&ch, data)) = m.split_first() else {
                continue;
            };
            match ch {
                STDOUT | STDERR if !data.is_empty() => {
                    // The message's own buffer, minus the channel byte: no new allocation.
                    m.remove(0);
                    return Ok(Some(if ch == STDOUT {
                        Output::Stdout(m)
                    } else {
                        Output::Stderr(m)
                    }));
                }
                STDOUT | STDERR => {}
                ERROR if data.is_empty() => {}
                ERROR => match parse_exit(data, &self.request) {
                    Ok(s) => self.exit = Some(s),
                    Err(e) => {
                        self.done = true;
                        return Err(e);
                    }
                },
                other => {
                    self.done = true;
                    self.session.cancel_handle().cancel();
                    return Err(Error::Decode(format!(
                        "{}: the server sent data on channel {other}, which exec does not have",
                        self.request
                    )));
                }
            }
        }
    }

    /// How the command ended, once [`ExecSession::next`] returned `None`.
    pub fn exit_status(&self) -> Option<&ExitStatus> {
        self.exit.as_ref()
    }

    /// Read (and drop) the remaining output and return the exit status.
    pub fn wait(&mut self) -> Result<ExitStatus> {
        while self.next(None)?.is_some() {}
        self.exit
            .clone()
            .ok_or_else(|| Error::Transport(format!("{}: no exit status", self.request)))
    }
}
