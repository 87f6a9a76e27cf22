//! The store is an edge: it reads the clock and mints IDs, so the domain does not have to.

use chrono::{DateTime, SubsecRound, Utc};
use uuid::Uuid;

/// Now, in UTC, truncated to microseconds so a value reads back equal from both backends
/// (PostgreSQL keeps microseconds).
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// A new time-ordered ID (UUIDv7).
pub fn new_id() -> Uuid {
    Uuid::now_v7()
}
