//! Haven's persistence layer: one query layer over SQLite and PostgreSQL, migrations,
//! accounts and sessions.
//!
//! Queries are written once and run on either backend through [`on_pool!`] and [`on_tx!`].
//! Functions here are the only way the rest of Haven touches the database.

pub mod access;
pub mod audit;
pub mod care_plans;
pub mod care_services;
pub(crate) mod case_access;
pub mod case_closures;
pub mod case_file;
pub mod case_notes;
pub mod case_risk;
pub mod clock;
pub mod crisis;
pub mod crypto;
pub mod db;
pub mod demo;
pub mod demo_casework;
pub mod demo_crisis;
pub mod demo_legal;
pub mod demo_partners;
pub mod dialect;
pub mod error;
pub mod evidence;
pub mod follow_ups;
pub mod interventions;
pub mod legal;
pub mod legal_bundle;
pub mod login_throttle;
pub mod notifications;
pub mod orgs;
pub mod partner_profiles;
pub mod partner_services;
pub mod password;
pub mod pending_logins;
pub mod private_fs;
pub mod referrals;
pub mod sessions;
pub mod settings;
pub mod stats;
pub mod survivors;
#[cfg(feature = "test-support")]
pub mod testing;
#[cfg(feature = "test-support")]
pub mod testing_referrals;
pub mod totp;
pub mod url;
pub mod users;

pub use crypto::Keyring;
pub use db::{ConnectOptions, Db, Tx};
pub use error::StoreError;
pub use password::{HashCost, PasswordHasher};
pub use url::{Backend, DatabaseUrl};
