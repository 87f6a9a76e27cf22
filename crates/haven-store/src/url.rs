//! Database URLs: which backend, where, and a form that is safe to log.

use crate::StoreError;
use std::fmt;
use std::path::PathBuf;

/// The two supported backends, chosen from the URL scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub const fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// A parsed database URL. Its `Display` and `Debug` hide any password, so it can be logged.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    raw: String,
    backend: Backend,
}

impl DatabaseUrl {
    /// Accepts `sqlite://PATH`, `sqlite:PATH`, `postgres://...` and `postgresql://...`.
    pub fn parse(input: &str) -> Result<DatabaseUrl, StoreError> {
        let raw = input.trim().to_owned();
        let backend = if raw.starts_with("sqlite:") {
            Backend::Sqlite
        } else if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(StoreError::Config(format!(
                "database URL '{}' is not supported: use sqlite://PATH or postgres://USER@HOST/DB",
                redact(&raw)
            )));
        };
        let url = DatabaseUrl { raw, backend };
        if backend == Backend::Sqlite && url.sqlite_path().is_none() {
            return Err(StoreError::Config(
                "the SQLite URL names no file: use sqlite://PATH/TO/haven.db".to_owned(),
            ));
        }
        Ok(url)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The connection string with its password, for the driver only.
    pub fn expose(&self) -> &str {
        &self.raw
    }

    /// The file of a SQLite database (`None` for PostgreSQL or an in-memory database).
    pub fn sqlite_path(&self) -> Option<PathBuf> {
        let rest = self.raw.strip_prefix("sqlite:")?;
        let rest = rest.strip_prefix("//").unwrap_or(rest);
        let path = rest.split('?').next().unwrap_or_default();
        if path.is_empty() || path == ":memory:" {
            return None;
        }
        Some(PathBuf::from(path))
    }
}

/// Replaces the password of `scheme://user:password@host` with `***`.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((credentials, host)) = rest.split_once('@') else {
        return url.to_owned();
    };
    match credentials.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact(&self.raw))
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({})", redact(&self.raw))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backends_come_from_the_scheme() {
        assert_eq!(
            DatabaseUrl::parse("sqlite://./data/haven.db")
                .unwrap()
                .backend(),
            Backend::Sqlite
        );
        assert_eq!(
            DatabaseUrl::parse("postgresql://haven@db/haven")
                .unwrap()
                .backend(),
            Backend::Postgres
        );
        assert!(DatabaseUrl::parse("mysql://x").is_err());
        assert!(DatabaseUrl::parse("sqlite://").is_err());
    }

    #[test]
    fn sqlite_paths() {
        let url = DatabaseUrl::parse("sqlite://./haven-data/haven.db?mode=rwc").unwrap();
        assert_eq!(
            url.sqlite_path(),
            Some(PathBuf::from("./haven-data/haven.db"))
        );
        let url = DatabaseUrl::parse("sqlite:/var/lib/haven.db").unwrap();
        assert_eq!(url.sqlite_path(), Some(PathBuf::from("/var/lib/haven.db")));
    }

    #[test]
    fn passwords_never_print() {
        let url = DatabaseUrl::parse("postgres://haven:s3cret@db:5432/haven").unwrap();
        assert_eq!(url.to_string(), "postgres://haven:***@db:5432/haven");
        assert!(!format!("{url:?}").contains("s3cret"));
        assert!(url.expose().contains("s3cret"));
    }
}
