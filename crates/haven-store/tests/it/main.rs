//! Store tests, each run against SQLite and (when configured) PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod accounts;
mod audit;
mod casework;
mod crisis;
mod demo_crisis;
mod files;
mod identity;
mod keys;
mod legal_keys;
mod referrals;
mod schema;
