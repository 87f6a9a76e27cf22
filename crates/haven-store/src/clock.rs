//! The store is an edge: it reads the clock and mints IDs, so the domain does not have to.
//!
//! It also knows where the team works. Dates people mean ("today", "overdue", "not in the
//! future", her age) are dates in the team's time zone, never the UTC date: between 17:00 and
//! 24:00 UTC it is already tomorrow in Phnom Penh. The offset is process-wide configuration,
//! like a time zone, set once at start-up from `utc_offset_minutes`.

use chrono::{DateTime, FixedOffset, NaiveDate, Offset, SubsecRound, Utc};
use std::sync::atomic::{AtomicI32, Ordering};
use uuid::Uuid;

/// Where the team works unless configured otherwise: Cambodia, UTC+7, no daylight saving.
pub const DEFAULT_TEAM_OFFSET_SECONDS: i32 = 7 * 3600;

static TEAM_OFFSET_SECONDS: AtomicI32 = AtomicI32::new(DEFAULT_TEAM_OFFSET_SECONDS);

/// The default team offset as a value (UTC+7).
pub fn default_team_offset() -> FixedOffset {
    FixedOffset::east_opt(DEFAULT_TEAM_OFFSET_SECONDS).unwrap_or(Utc.fix())
}

/// Sets where the team works, for every "today" the store judges (start-up configuration).
pub fn set_team_offset(offset: FixedOffset) {
    TEAM_OFFSET_SECONDS.store(offset.local_minus_utc(), Ordering::Relaxed);
}

/// Where the team works.
pub fn team_offset() -> FixedOffset {
    FixedOffset::east_opt(TEAM_OFFSET_SECONDS.load(Ordering::Relaxed))
        .unwrap_or_else(default_team_offset)
}

/// Now, in UTC, truncated to microseconds so a value reads back equal from both backends
/// (PostgreSQL keeps microseconds).
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// The date an instant falls on where the team works.
pub fn team_date(at: DateTime<Utc>) -> NaiveDate {
    local_date(at, team_offset())
}

/// Today's date where the team works.
pub fn team_today() -> NaiveDate {
    team_date(now())
}

/// The date an instant falls on at a given offset.
pub fn local_date(at: DateTime<Utc>, offset: FixedOffset) -> NaiveDate {
    at.with_timezone(&offset).date_naive()
}

/// A new time-ordered ID (UUIDv7).
pub fn new_id() -> Uuid {
    Uuid::now_v7()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap_or_default()
    }

    #[test]
    fn late_evening_utc_is_tomorrow_in_phnom_penh() {
        let cambodia = default_team_offset();
        let day = |d| NaiveDate::from_ymd_opt(2026, 12, d).unwrap_or_default();
        assert_eq!(local_date(at("2026-12-01T16:30:00Z"), cambodia), day(1));
        assert_eq!(local_date(at("2026-12-01T17:30:00Z"), cambodia), day(2));
        assert_eq!(local_date(at("2026-12-01T23:59:00Z"), cambodia), day(2));
    }
}
