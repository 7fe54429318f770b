//! An optional client-side rate limit: a token bucket shared by all threads of a client.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::core::config::RateLimit;

/// A token bucket. `acquire` blocks until a request may go.
#[derive(Debug)]
pub struct TokenBucket {
    qps: f64,
    burst: f64,
    state: Mutex<(f64, Instant)>,
}

impl TokenBucket {
    /// A full bucket for `limit`.
    pub fn new(limit: RateLimit) -> Self {
        let burst = f64::from(limit.burst.max(1));
        TokenBucket {
            qps: limit.qps.max(f64::MIN_POSITIVE),
            burst,
            state: Mutex::new((burst, Instant::now())),
        }
    }

    /// Take one token, sleeping as long as needed.
    pub fn acquire(&self) {
        let wait = {
            let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
            let now = Instant::now();
            let refill = now.duration_since(s.1).as_secs_f64() * self.qps;
            s.0 = (s.0 + refill).min(self.burst) - 1.0;
            s.1 = now;
            // A negative balance is this caller's place in the queue.
            // A tiny qps could ask for more than a Duration holds: wait the longest one can.
            (s.0 < 0.0)
                .then(|| Duration::try_from_secs_f64(-s.0 / self.qps).unwrap_or(Duration::MAX))
        };
        if let Some(w) = wait {
            std::thread::sleep(w);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_paced() {
        let b = TokenBucket::new(RateLimit {
            qps: 50.0,
            burst: 3,
        });
        let start = Instant::now();
        for _ in 0..3 {
            b.acquire();
        }
        assert!(start.elapsed() < Duration::from_millis(15));
        for _ in 0..5 {
            b.acquire();
        }
        // Five more at 50/s need at least ~100 ms in all.
        assert!(
            start.elapsed() >= Duration::from_millis(95),
            "{:?}",
            start.elapsed()
        );
    }
}
