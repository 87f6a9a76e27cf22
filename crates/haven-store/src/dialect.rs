//! The few places where SQLite and PostgreSQL SQL differ, kept together.
//!
//! Everything else is written once in SQL both accept.

use crate::url::Backend;

/// `INSERT ... ON CONFLICT (key) DO UPDATE SET ...`. Both engines accept this form today;
/// it lives here so a future backend with another spelling changes one function.
pub fn upsert(backend: Backend, insert: &str, conflict_key: &str, update: &str) -> String {
    match backend {
        Backend::Sqlite | Backend::Postgres => {
            format!("INSERT INTO {insert} ON CONFLICT ({conflict_key}) DO UPDATE SET {update}")
        }
    }
}

/// Aggregates text values of a group into one comma-separated string.
pub fn string_agg(backend: Backend, expr: &str) -> String {
    match backend {
        Backend::Sqlite => format!("group_concat({expr}, ',')"),
        Backend::Postgres => format!("string_agg({expr}, ',')"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upsert_reads_as_sql() {
        assert_eq!(
            upsert(Backend::Postgres, "t (k, v) VALUES ($1, $2)", "k", "v = $2"),
            "INSERT INTO t (k, v) VALUES ($1, $2) ON CONFLICT (k) DO UPDATE SET v = $2"
        );
    }
}
