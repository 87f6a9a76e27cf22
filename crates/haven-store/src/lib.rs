//! Haven's persistence layer: one query layer over SQLite and PostgreSQL, migrations,
//! accounts and sessions.
//!
//! Queries are written once and run on either backend through [`on_pool!`] and [`on_tx!`].
//! Functions here are the only way the rest of Haven touches the database.

pub mod audit;
pub mod clock;
pub mod db;
pub mod demo;
pub mod dialect;
pub mod error;
pub mod orgs;
pub mod password;
pub mod sessions;
pub mod settings;
pub mod stats;
#[cfg(feature = "test-support")]
pub mod testing;
pub mod url;
pub mod users;

pub use db::{ConnectOptions, Db, Tx};
pub use error::StoreError;
pub use password::{HashCost, PasswordHasher};
pub use url::{Backend, DatabaseUrl};
