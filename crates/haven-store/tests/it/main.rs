//! Store tests, each run against SQLite and (when configured) PostgreSQL.

mod accounts;
mod schema;
