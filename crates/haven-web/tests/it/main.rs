//! HTTP and browser tests: the real app on a random port, a fresh database per test, run on
//! SQLite and (when configured) PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api;
mod audit;
mod browser;
mod browser_crisis;
mod browser_referrals;
mod casework;
mod casework_browser;
mod casework_pages;
mod connections;
mod crisis;
mod identity;
mod legal;
mod legal_browser;
mod pages;
mod referrals;
mod support;
mod survivors;
