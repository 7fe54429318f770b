//! `exec` and `attach`: our stdin, stdout and stderr wired to a session's channels, and the
//! command's exit code as ours.

use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::time::Duration;

use incluster::core::exec::{
    AttachOptions, ExecOptions, ExecSession, ExecWriter, Output, STDIN_MESSAGE,
};

use crate::args::{Args, client, expect_args};
use crate::failure::Failure;

/// `incluster exec POD [-c C] [-i] [-t] -- CMD ARGS...`
pub fn exec(a: &Args) -> Result<(), Failure> {
    expect_args(a, 1, "incluster exec POD [-c C] [-i] [-t] -- CMD [ARGS]...")?;
    let command = match a.command.as_deref() {
        Some(c) if !c.is_empty() => c
            .iter()
            .map(|arg| {
                arg.to_str().map(str::to_owned).ok_or_else(|| {
                    Failure::Usage(format!("the command's argument {arg:?} is not UTF-8"))
                })
            })
            .collect::<Result<Vec<_>, _>>()?,
        _ => {
            return Err(Failure::Usage(
                "exec needs a command after --: incluster exec POD -- CMD [ARGS]...".into(),
            ));
        }
    };
    let opts = ExecOptions {
        pod: a.positional[0].clone(),
        container: a.container.clone(),
        namespace: None,
        command,
        stdin: a.stdin,
        tty: a.tty,
    };
    let c = client(a)?;
    let session = ExecSession::exec(&c, &opts)?;
    drive(session, a.stdin, a.tty)
}

/// `incluster attach POD [-c C] [-i] [-t]`
pub fn attach(a: &Args) -> Result<(), Failure> {
    expect_args(a, 1, "incluster attach POD [-c C] [-i] [-t]")?;
    let opts = AttachOptions {
        pod: a.positional[0].clone(),
        container: a.container.clone(),
        namespace: None,
        stdin: a.stdin,
        tty: a.tty,
    };
    let c = client(a)?;
    let session = ExecSession::attach(&c, &opts)?;
    drive(session, a.stdin, a.tty)
}

fn drive(mut session: ExecSession, stdin: bool, tty: bool) -> Result<(), Failure> {
    let _raw = if tty { RawTerminal::enter() } else { None };
    if tty && let Some(size) = terminal_size() {
        session.writer().resize(size.0, size.1)?;
        follow_size(session.writer(), size);
    }
    if stdin {
        let w = session.writer();
        std::thread::spawn(move || feed(w));
    }
    // Our stdout unbuffered: each message leaves in one write. std's stdout is line-buffered,
    // which copies the part of a message after its last newline and writes the message in
    // two calls, and the flush after each message left nothing for a buffer to gather.
    let mut out: Box<dyn Write> = match std::io::stdout().as_fd().try_clone_to_owned() {
        Ok(fd) => Box::new(std::fs::File::from(fd)),
        Err(_) => Box::new(std::io::stdout().lock()),
    };
    let mut err = std::io::stderr();
    while let Some(o) = session.next(None)? {
        // A closed stdout (`| head`) ends the session as kubectl's does.
        let written = match o {
            Output::Stdout(b) => out.write_all(&b).and_then(|()| out.flush()),
            Output::Stderr(b) => err.write_all(&b).and_then(|()| err.flush()),
        };
        if written.is_err() {
            return Ok(());
        }
    }
    let code = session.exit_status().map_or(0, |s| s.code);
    if code == 0 {
        Ok(())
    } else {
        // Exit codes are 0-255 on Unix; the server reports what the process returned.
        Err(Failure::Exit(u8::try_from(code).unwrap_or(1)))
    }
}

/// Copy our stdin to the command's, then close its stdin at our end of file.
fn feed(w: ExecWriter) {
    let mut input = std::io::stdin().lock();
    // One message per read: the larger the messages, the less the API server spends on each
    // byte (see STDIN_MESSAGE).
    let mut buf = vec![0u8; STDIN_MESSAGE];
    loop {
        match input.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                if w.write(&buf[..n]).is_err() {
                    return;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    if let Err(e) = w.close_stdin() {
        eprintln!("incluster: warning: {e}");
    }
}

/// Our terminal's size (columns, rows), when stdout is one.
fn terminal_size() -> Option<(u16, u16)> {
    let mut ws = libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ writes one winsize into the valid local `ws`.
    let r = unsafe { libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut ws) };
    (r == 0 && ws.ws_col > 0).then_some((ws.ws_col, ws.ws_row))
}

/// Send the terminal's new size whenever it changes (a poll, not a SIGWINCH handler, so no
/// signal-handler state is shared with the rest of the program).
fn follow_size(w: ExecWriter, mut last: (u16, u16)) {
    std::thread::spawn(move || {
        loop {
            std::thread::sleep(Duration::from_millis(250));
            if let Some(now) = terminal_size()
                && now != last
            {
                if w.resize(now.0, now.1).is_err() {
                    return;
                }
                last = now;
            }
        }
    });
}

/// Our stdin in raw mode while a tty session runs (keys go to the remote terminal as they
/// are typed); the previous mode comes back on drop.
struct RawTerminal(libc::termios);

impl RawTerminal {
    fn enter() -> Option<RawTerminal> {
        // SAFETY: isatty only inspects the descriptor.
        if unsafe { libc::isatty(libc::STDIN_FILENO) } != 1 {
            return None;
        }
        // SAFETY: an all-zero termios is a valid value for tcgetattr to overwrite.
        let mut t: libc::termios = unsafe { std::mem::zeroed() };
        // SAFETY: tcgetattr fills the valid local `t`.
        if unsafe { libc::tcgetattr(libc::STDIN_FILENO, &mut t) } != 0 {
            return None;
        }
        let saved = t;
        // SAFETY: cfmakeraw edits the valid local `t`.
        unsafe { libc::cfmakeraw(&mut t) };
        // SAFETY: `t` is a valid termios for the terminal on stdin.
        if unsafe { libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, &t) } != 0 {
            return None;
        }
        Some(RawTerminal(saved))
    }
}

impl Drop for RawTerminal {
    fn drop(&mut self) {
        // SAFETY: restores the termios read from the same terminal in `enter`.
        unsafe { libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, &self.0) };
    }
}
