//! The store's one error enum. `haven-web` maps it to HTTP in exactly one place.

use haven_core::ValidationError;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A setting or URL is wrong; the message names it and what is accepted.
    #[error("{0}")]
    Config(String),
    /// The database cannot be reached or opened.
    #[error("cannot reach the database: {0}")]
    Unavailable(String),
    /// A value a person supplied was refused.
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// The thing asked for does not exist (or the caller may not know it exists).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The caller may see the record but not do this; the message says why.
    #[error("{0}")]
    Forbidden(String),
    /// The write clashes with existing data (a taken username, say).
    #[error("{0}")]
    Conflict(String),
    /// The credentials or session are not valid. Deliberately says no more than that.
    #[error("unknown username or wrong password")]
    BadCredentials,
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        match &err {
            sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::Tls(_) => {
                StoreError::Unavailable(err.to_string())
            }
            _ => StoreError::Database(err),
        }
    }
}

/// Maps a unique-constraint violation to a `Conflict` with a message for people.
pub(crate) fn conflict_on_unique(err: sqlx::Error, message: &str) -> StoreError {
    match &err {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::Conflict(message.to_owned())
        }
        _ => StoreError::from(err),
    }
}
