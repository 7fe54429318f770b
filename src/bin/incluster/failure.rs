//! How the command fails: the failure classes, their messages on stderr and the exit codes
//! scripts test.

use incluster::Error;

/// Exit codes scripts can test that are the CLI's own; those of library errors come from the
/// core's classification (`incluster::core::error::ErrorClass::exit_code`: 2 usage, 3
/// configuration, 4 TLS/transport/timeout, 5 HTTP 4xx, 6 HTTP 5xx, 1 anything else).
pub mod exit {
    /// Success.
    pub const OK: u8 = 0;
    /// Any other error (decoding), `can-i`'s no, no value at `--pointer`.
    pub const OTHER: u8 = 1;
    /// Bad arguments.
    pub const USAGE: u8 = 2;
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
    /// Exit with this code, nothing more to print: `exec` passing the command's own code on
    /// (as `kubectl exec` does), `lease run` its command's code or its own codes for a lost
    /// leadership and a wait that timed out.
    Exit(u8),
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

/// The exit code for a library error: the core's classification decides it, as it decides the
/// C result code and the Python exception class of the same error.
pub fn exit_code(e: &Error) -> u8 {
    e.class().exit_code()
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
        Err(Failure::Exit(code)) => code,
        Err(Failure::Absent(p)) => {
            eprintln!("incluster: no value at {p}");
            exit::OTHER
        }
    }
}
