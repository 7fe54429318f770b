//! How the command fails: the failure classes, their messages on stderr and the exit codes
//! scripts test.

use incluster::{Error, ErrorKind};

/// Exit codes scripts can test.
pub mod exit {
    /// Success.
    pub const OK: u8 = 0;
    /// Any other error (decoding), `can-i`'s no, no value at `--pointer`.
    pub const OTHER: u8 = 1;
    /// Bad arguments.
    pub const USAGE: u8 = 2;
    /// Configuration: not in a pod, missing or broken ServiceAccount files, bad URL.
    pub const CONFIG: u8 = 3;
    /// TLS, transport or timeout.
    pub const TRANSPORT: u8 = 4;
    /// The server answered 4xx.
    pub const HTTP_4XX: u8 = 5;
    /// The server answered 5xx.
    pub const HTTP_5XX: u8 = 6;
}

/// Why the command did not succeed.
pub enum Failure {
    /// Bad arguments (exit 2).
    Usage(String),
    /// The library failed; the exit code follows the error's class ([`exit_code`]).
    Lib(Error),
    /// As [`Failure::Lib`], with a hint at what to do instead, printed after the error.
    Hint(Error, String),
    /// `--pointer` found no value (exit 1).
    Absent(String),
    /// `can-i` answered no (exit 1, as `kubectl auth can-i`).
    No,
}

impl From<lexopt::Error> for Failure {
    fn from(e: lexopt::Error) -> Self {
        Failure::Usage(e.to_string())
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Lib(e)
    }
}

/// The exit code for a library error. The one place that maps error classes to exit codes,
/// so a mapping derived from the core can replace it in one edit.
pub fn exit_code(e: &Error) -> u8 {
    match e.kind() {
        ErrorKind::InvalidArgument => exit::USAGE,
        ErrorKind::Config => exit::CONFIG,
        ErrorKind::Transport | ErrorKind::Timeout | ErrorKind::Tls => exit::TRANSPORT,
        ErrorKind::Api if e.status() >= 500 => exit::HTTP_5XX,
        ErrorKind::Api => exit::HTTP_4XX,
        ErrorKind::Decode | ErrorKind::Cancelled => exit::OTHER,
    }
}

/// Print what went wrong on stderr and give the exit code.
pub fn report(outcome: Result<(), Failure>) -> u8 {
    match outcome {
        Ok(()) => exit::OK,
        Err(Failure::Usage(m)) => {
            eprintln!("incluster: {m}");
            exit::USAGE
        }
        Err(Failure::Lib(e)) => {
            eprintln!("incluster: error: {e}");
            exit_code(&e)
        }
        Err(Failure::Hint(e, hint)) => {
            eprintln!("incluster: error: {e}");
            eprintln!("incluster: hint: {hint}");
            exit_code(&e)
        }
        Err(Failure::No) => exit::OTHER,
        Err(Failure::Absent(p)) => {
            eprintln!("incluster: no value at {p}");
            exit::OTHER
        }
    }
}
