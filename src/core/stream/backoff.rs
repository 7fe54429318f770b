//! Jittered exponential backoff between reconnects, as client-go's reflector does it.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A small, seeded xorshift generator: jitter needs spread, not security.
#[derive(Debug)]
pub struct Jitter(u64);

impl Jitter {
    /// Seeded from the clock and an address, so processes and watches differ.
    pub fn new() -> Self {
        let t = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        let here = &t as *const u64 as u64;
        Jitter((t ^ here.rotate_left(32)) | 1)
    }

    /// A number in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        (x >> 11) as f64 / (1u64 << 53) as f64
    }
}

impl Default for Jitter {
    fn default() -> Self {
        Self::new()
    }
}

/// Delays 0.8 s, 1.6 s, 3.2 s, ... up to a cap, each plus up to 100 % jitter (capped too),
/// starting over after a healthy period.
#[derive(Debug)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    reset_after: Duration,
    current: Duration,
    last_failure: Option<Instant>,
    jitter: Jitter,
}

impl Backoff {
    /// A backoff with these bounds.
    pub fn new(initial: Duration, max: Duration, reset_after: Duration) -> Self {
        Backoff {
            initial,
            max,
            reset_after,
            current: initial,
            last_failure: None,
            jitter: Jitter::new(),
        }
    }

    /// The delay before the next attempt, after a failure now.
    pub fn next_delay(&mut self) -> Duration {
        let now = Instant::now();
        if self
            .last_failure
            .is_some_and(|t| now.duration_since(t) >= self.reset_after)
        {
            self.current = self.initial;
        }
        self.last_failure = Some(now);
        let base = self.current;
        self.current = (self.current * 2).min(self.max);
        base.mul_f64(1.0 + self.jitter.unit()).min(self.max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_with_jitter_up_to_the_cap() {
        let mut b = Backoff::new(
            Duration::from_millis(800),
            Duration::from_secs(30),
            Duration::from_secs(120),
        );
        let mut base: f64 = 0.8;
        for _ in 0..10 {
            let d = b.next_delay().as_secs_f64();
            assert!(
                d >= base.min(30.0) - 1e-9 && d <= (2.0 * base).min(30.0) + 1e-9,
                "{d}"
            );
            base *= 2.0;
        }
        assert!(b.next_delay() <= Duration::from_secs(30));
    }

    #[test]
    fn starts_over_after_a_healthy_period() {
        let mut b = Backoff::new(
            Duration::from_millis(10),
            Duration::from_secs(1),
            Duration::from_millis(30),
        );
        for _ in 0..5 {
            b.next_delay();
        }
        std::thread::sleep(Duration::from_millis(40));
        assert!(b.next_delay() <= Duration::from_millis(20));
    }
}
