//! When to try a request again, and how long to wait.

use std::time::Duration;

/// Parse `Retry-After` as delta-seconds (the only form the API server sends). Anything else
/// counts as one second, as in client-go.
pub fn parse_retry_after(value: &str) -> Duration {
    value
        .trim()
        .parse::<u64>()
        .map(Duration::from_secs)
        .unwrap_or(Duration::from_secs(1))
}

/// Statuses the server uses to say "try again later".
pub fn is_retryable_status(status: u16) -> bool {
    matches!(status, 429 | 503 | 504)
}

/// Attempts for an idempotent GET whose connection broke before an answer came back.
pub const RESET_ATTEMPTS: u32 = 3;

/// Delay before the `attempt`-th retry of a reset connection (0-based): 10 ms, 40 ms, 160 ms.
pub fn reset_backoff(attempt: u32) -> Duration {
    Duration::from_millis(10u64 << (2 * attempt.min(5)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_forms() {
        assert_eq!(parse_retry_after("3"), Duration::from_secs(3));
        assert_eq!(parse_retry_after(" 0 "), Duration::ZERO);
        assert_eq!(parse_retry_after("soon"), Duration::from_secs(1));
        assert!(is_retryable_status(429) && !is_retryable_status(500));
    }
}
