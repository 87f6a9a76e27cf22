//! Session lifetime rules: an idle time-out and an absolute time-out, both configurable.

use chrono::{DateTime, Duration, Utc};

/// How long sessions live. Staff at a police station leave phones unattended; an idle session
/// must end on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    /// A session unused this long ends.
    pub idle: Duration,
    /// A session ends this long after login, however active.
    pub absolute: Duration,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self {
            idle: Duration::minutes(30),
            absolute: Duration::hours(12),
        }
    }
}

/// Why a session is no longer valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionEnd {
    Idle,
    Expired,
    Revoked,
}

impl SessionPolicy {
    /// Decides whether a session is still valid at `now`.
    pub fn check(
        &self,
        created_at: DateTime<Utc>,
        last_seen_at: DateTime<Utc>,
        revoked: bool,
        now: DateTime<Utc>,
    ) -> Result<(), SessionEnd> {
        if revoked {
            return Err(SessionEnd::Revoked);
        }
        if now >= created_at + self.absolute {
            return Err(SessionEnd::Expired);
        }
        if now >= last_seen_at + self.idle {
            return Err(SessionEnd::Idle);
        }
        Ok(())
    }

    /// When a session created at `created_at` ends at the latest.
    pub fn expires_at(&self, created_at: DateTime<Utc>) -> DateTime<Utc> {
        created_at + self.absolute
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, h, m, 0).unwrap()
    }

    #[test]
    fn active_session_is_valid() {
        let p = SessionPolicy::default();
        assert_eq!(p.check(at(8, 0), at(10, 0), false, at(10, 29)), Ok(()));
    }

    #[test]
    fn idle_session_ends() {
        let p = SessionPolicy::default();
        assert_eq!(
            p.check(at(8, 0), at(10, 0), false, at(10, 30)),
            Err(SessionEnd::Idle)
        );
    }

    #[test]
    fn busy_session_still_ends_at_the_absolute_limit() {
        let p = SessionPolicy::default();
        assert_eq!(
            p.check(at(8, 0), at(19, 59), false, at(20, 0)),
            Err(SessionEnd::Expired)
        );
    }

    #[test]
    fn revoked_session_ends_at_once() {
        let p = SessionPolicy::default();
        assert_eq!(
            p.check(at(8, 0), at(8, 0), true, at(8, 1)),
            Err(SessionEnd::Revoked)
        );
    }
}
