//! Login throttling: how many recent failures an account or a client address may have before
//! further sign-in attempts are refused, and for how long.
//!
//! The rule is pure: the store counts failures (in the database, so every instance behind a
//! load balancer sees the same counts) and this module decides from those counts and `now`.

use chrono::{DateTime, Duration, Utc};

/// Limits on failed sign-ins. A password guesser gets 5 tries per account and 20 per address
/// every 15 minutes; a person who mistypes a few times is not locked out for long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottlePolicy {
    /// Failures for one account within `window` before its sign-ins are refused.
    pub account_limit: usize,
    /// Failures from one client address within `window` before its sign-ins are refused.
    pub address_limit: usize,
    /// How far back failures count.
    pub window: Duration,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        Self {
            account_limit: 5,
            address_limit: 20,
            window: Duration::minutes(15),
        }
    }
}

/// Recent failures, oldest first, as the store found them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecentFailures {
    pub account: Vec<DateTime<Utc>>,
    pub address: Vec<DateTime<Utc>>,
}

impl ThrottlePolicy {
    /// The earliest failure time that still counts at `now`.
    pub fn since(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now - self.window
    }

    /// `Ok` when a sign-in attempt may go ahead; otherwise how many seconds to wait (at
    /// least 1). The wait ends when enough failures have left the sliding window.
    pub fn check(&self, failures: &RecentFailures, now: DateTime<Utc>) -> Result<(), u64> {
        let wait = |times: &[DateTime<Utc>], limit: usize| -> Option<Duration> {
            let recent: Vec<&DateTime<Utc>> =
                times.iter().filter(|t| **t > self.since(now)).collect();
            if limit == 0 || recent.len() < limit {
                return None;
            }
            // The attempt becomes possible when the failure that put the count at the limit
            // leaves the window.
            let index = recent.len() - limit;
            recent.get(index).map(|t| **t + self.window - now)
        };
        let longest = [
            wait(&failures.account, self.account_limit),
            wait(&failures.address, self.address_limit),
        ]
        .into_iter()
        .flatten()
        .max();
        match longest {
            None => Ok(()),
            Some(d) => Err(u64::try_from(d.num_seconds()).unwrap_or(0).max(1)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(m: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, 9, m, s).unwrap()
    }

    #[test]
    fn four_failures_still_allow_a_fifth_try() {
        let p = ThrottlePolicy::default();
        let f = RecentFailures {
            account: vec![at(0, 0); 4],
            address: vec![],
        };
        assert_eq!(p.check(&f, at(1, 0)), Ok(()));
    }

    #[test]
    fn five_failures_lock_the_account_until_the_oldest_leaves_the_window() {
        let p = ThrottlePolicy::default();
        let f = RecentFailures {
            account: vec![at(0, 0), at(1, 0), at(2, 0), at(3, 0), at(4, 0)],
            address: vec![],
        };
        assert_eq!(p.check(&f, at(5, 0)), Err(10 * 60));
        assert_eq!(p.check(&f, at(15, 1)), Ok(()));
    }

    #[test]
    fn the_address_limit_is_separate_and_higher() {
        let p = ThrottlePolicy::default();
        let f = RecentFailures {
            account: vec![],
            address: vec![at(0, 0); 19],
        };
        assert_eq!(p.check(&f, at(1, 0)), Ok(()));
        let f = RecentFailures {
            account: vec![],
            address: vec![at(0, 0); 20],
        };
        assert_eq!(p.check(&f, at(1, 0)), Err(14 * 60));
    }

    #[test]
    fn old_failures_do_not_count_and_waits_are_never_zero() {
        let p = ThrottlePolicy::default();
        let f = RecentFailures {
            account: vec![at(0, 0); 5],
            address: vec![],
        };
        assert_eq!(
            p.check(&f, at(14, 59) + Duration::milliseconds(999)),
            Err(1)
        );
        assert_eq!(p.check(&f, at(15, 0)), Ok(()));
    }
}
