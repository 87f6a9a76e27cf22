//! Store tests, each run against SQLite and (when configured) PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod accounts;
mod audit;
mod identity;
mod keys;
mod referrals;
mod schema;
