//! A per-address request limit in a sliding window, kept in memory: each
//! replica limits on its own, which bounds a client at (replicas × limit).

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct RateLimiter {
    window: Duration,
    limit: usize,
    hits: Mutex<HashMap<IpAddr, VecDeque<Instant>>>,
}

impl Default for RateLimiter {
    /// Ten donation forms a minute from one address: more than a household
    /// behind one router sends, too few to test stolen cards at a useful rate.
    fn default() -> Self {
        RateLimiter::per_minute(10)
    }
}

impl RateLimiter {
    pub fn per_minute(limit: u32) -> Self {
        RateLimiter::new(Duration::from_secs(60), limit as usize)
    }

    pub fn new(window: Duration, limit: usize) -> Self {
        RateLimiter {
            window,
            limit,
            hits: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one request from `ip`; false when it is over the limit (a
    /// refused request is not counted).
    pub fn allow(&self, ip: IpAddr) -> bool {
        let now = Instant::now();
        let mut hits = self.hits.lock().unwrap_or_else(|p| p.into_inner());
        // Bound memory under a flood of distinct addresses.
        if hits.len() > 100_000 {
            hits.retain(|_, times| {
                times
                    .back()
                    .is_some_and(|t| now.duration_since(*t) < self.window)
            });
        }
        let times = hits.entry(ip).or_default();
        while times
            .front()
            .is_some_and(|t| now.duration_since(*t) >= self.window)
        {
            times.pop_front();
        }
        if times.len() >= self.limit {
            return false;
        }
        times.push_back(now);
        true
    }

    /// How long a refused client should wait, in whole seconds.
    pub fn window_secs(&self) -> u64 {
        self.window.as_secs().max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_address_within_the_window() {
        let limiter = RateLimiter::new(Duration::from_secs(60), 2);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        assert!(limiter.allow(a));
        assert!(limiter.allow(a));
        assert!(!limiter.allow(a), "the third in a minute");
        assert!(limiter.allow(b), "another address");
        let passed = RateLimiter::new(Duration::ZERO, 1);
        assert!(passed.allow(a));
        assert!(passed.allow(a), "the window has passed");
    }
}
