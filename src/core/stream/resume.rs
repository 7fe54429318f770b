//! Which failures a resuming stream (a watch, a log follow) waits out, and which end it.
//!
//! A stream that broke is reconnected. The reconnect itself can fail:
//! - unreachable or overloaded server (transport errors, timeouts, 5xx): keep trying, with
//!   backoff, until cancelled, as client-go's reflector does;
//! - 401 / 403 (and, for watches, 404): a kube-apiserver that has just restarted answers these
//!   for a few seconds, until its token authenticator, RBAC and CRD caches have synced (seen
//!   with kube-apiserver 1.36 in `tests/e2e`). They are waited out for [`AUTH_GRACE`] after the
//!   first such failure; if they persist they are real (RBAC revoked, object deleted) and end
//!   the stream with that error;
//! - anything else ends the stream at once.
//!
//! The first request of a stream is not covered: a watch or log that cannot start reports its
//! error at once.

use std::time::{Duration, Instant};

use crate::core::error::{Error, ErrorKind};

/// How long 401/403 (and the caller's extra statuses) are waited out while resuming.
pub const AUTH_GRACE: Duration = Duration::from_secs(60);

/// Tracks failed reconnects of one stream.
#[derive(Debug, Default)]
pub struct ResumeErrors {
    /// When the current run of 401/403/... answers began.
    since: Option<Instant>,
}

impl ResumeErrors {
    /// Whether to try again after the reconnect failed with `e`. `also` lists statuses that
    /// are waited out like 401/403.
    pub fn retry(&mut self, e: &Error, also: &[u16]) -> bool {
        if matches!(e.kind(), ErrorKind::Transport | ErrorKind::Timeout) || e.status() >= 500 {
            return true;
        }
        let s = e.status();
        if s == 401 || s == 403 || (s != 0 && also.contains(&s)) {
            let since = *self.since.get_or_insert_with(Instant::now);
            return since.elapsed() < AUTH_GRACE;
        }
        false
    }

    /// A reconnect succeeded: a later run of errors gets the whole grace period again.
    pub fn reset(&mut self) {
        self.since = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::error::ApiError;

    fn api(status: u16) -> Error {
        Error::Api(Box::new(ApiError {
            status,
            reason: String::new(),
            message: String::new(),
            details: None,
            request: "GET /w".into(),
            body: Vec::new(),
        }))
    }

    #[test]
    fn transport_and_server_errors_are_always_retried() {
        let mut r = ResumeErrors::default();
        assert!(r.retry(&api(503), &[]));
        assert!(r.retry(&api(500), &[]));
        assert!(r.since.is_none());
    }

    #[test]
    fn auth_errors_are_waited_out_for_the_grace_period_only() {
        let mut r = ResumeErrors::default();
        assert!(r.retry(&api(403), &[]));
        assert!(r.retry(&api(401), &[]));
        assert!(!r.retry(&api(404), &[]));
        assert!(r.retry(&api(404), &[404]));
        // The grace period ran out.
        r.since = Some(Instant::now() - AUTH_GRACE - Duration::from_millis(1));
        assert!(!r.retry(&api(403), &[]));
        r.reset();
        assert!(r.retry(&api(403), &[]));
    }

    #[test]
    fn other_errors_end_the_stream() {
        let mut r = ResumeErrors::default();
        assert!(!r.retry(&api(400), &[]));
        assert!(!r.retry(&api(422), &[404]));
    }
}
