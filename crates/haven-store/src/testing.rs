//! Test support (feature `test-support`): a fresh database per test on either backend.
//!
//! PostgreSQL tests run when `HAVEN_TEST_POSTGRES_URL` is set; each test gets a database of
//! its own, dropped afterwards. When the variable is missing they say so and skip, except
//! under CI (`CI` set), where a skipped PostgreSQL suite would hide failures, so they fail.

#![allow(clippy::panic, clippy::expect_used, clippy::unwrap_used)]

use crate::{ConnectOptions, DatabaseUrl, Db};

/// A database that exists for one test.
#[derive(Debug)]
pub struct TestDb {
    pub db: Db,
    pub url: DatabaseUrl,
    _dir: Option<tempfile::TempDir>,
    postgres: Option<(String, String)>,
}

impl TestDb {
    /// A migrated SQLite database in a temporary folder.
    pub async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("temporary folder");
        let path = dir.path().join("haven.db");
        let url = DatabaseUrl::parse(&format!("sqlite://{}", path.display())).expect("url");
        let db = Db::connect(
            &url,
            &ConnectOptions {
                create_if_missing: true,
                ..ConnectOptions::default()
            },
        )
        .await
        .expect("open SQLite");
        db.migrate().await.expect("migrate SQLite");
        TestDb {
            db,
            url,
            _dir: Some(dir),
            postgres: None,
        }
    }

    /// A migrated PostgreSQL database of its own, or `None` (with a message) when no server
    /// is configured outside CI.
    pub async fn postgres() -> Option<TestDb> {
        let test = TestDb::postgres_empty().await?;
        test.db.migrate().await.expect("migrate PostgreSQL");
        Some(test)
    }

    /// Like [`TestDb::postgres`], but with no tables at all, to test migrating from nothing.
    pub async fn postgres_empty() -> Option<TestDb> {
        let Ok(base) = std::env::var("HAVEN_TEST_POSTGRES_URL") else {
            if std::env::var_os("CI").is_some() {
                panic!(
                    "HAVEN_TEST_POSTGRES_URL is not set under CI: the PostgreSQL suite must run"
                );
            }
            eprintln!("SKIPPED: PostgreSQL test (set HAVEN_TEST_POSTGRES_URL to run it)");
            return None;
        };
        let name = format!("haven_test_{}", uuid::Uuid::now_v7().simple());
        let admin = Db::connect(
            &DatabaseUrl::parse(&base).expect("url"),
            &ConnectOptions::default(),
        )
        .await
        .expect("connect to HAVEN_TEST_POSTGRES_URL");
        if let Db::Postgres(pool) = &admin {
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(pool)
                .await
                .expect("create test database");
        }
        admin.close().await;
        let url = DatabaseUrl::parse(&with_database(&base, &name)).expect("url");
        let db = Db::connect(&url, &ConnectOptions::default())
            .await
            .expect("connect to the test database");
        Some(TestDb {
            db,
            url,
            _dir: None,
            postgres: Some((base, name)),
        })
    }
}

/// Moves every session's clocks, to test idle and absolute time-outs without waiting.
pub async fn set_session_times(
    db: &Db,
    created_at: chrono::DateTime<chrono::Utc>,
    last_seen_at: chrono::DateTime<chrono::Utc>,
) {
    crate::on_pool!(db, pool => sqlx::query("UPDATE sessions SET created_at = $1, last_seen_at = $2")
        .bind(created_at)
        .bind(last_seen_at)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))
    .expect("move session clocks");
}

/// Replaces the database name of a PostgreSQL URL.
fn with_database(base: &str, name: &str) -> String {
    let (before_query, query) = match base.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (base, None),
    };
    let (scheme, rest) = before_query
        .split_once("://")
        .unwrap_or(("postgres", before_query));
    let host = rest.split('/').next().unwrap_or(rest);
    let mut url = format!("{scheme}://{host}/{name}");
    if let Some(q) = query {
        url.push('?');
        url.push_str(q);
    }
    url
}

/// How many rows each table holds, for tests that a refused write changed nothing. The
/// migrations' own bookkeeping is left out.
pub async fn row_counts(db: &Db) -> std::collections::BTreeMap<String, i64> {
    let tables: Vec<String> = match db {
        Db::Sqlite(pool) => sqlx::query_scalar(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx%'",
        )
        .fetch_all(pool)
        .await
        .expect("tables"),
        Db::Postgres(pool) => sqlx::query_scalar(
            "SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema() AND tablename NOT LIKE '_sqlx%'",
        )
        .fetch_all(pool)
        .await
        .expect("tables"),
    };
    let mut counts = std::collections::BTreeMap::new();
    for table in tables {
        let sql = format!("SELECT count(*) FROM \"{table}\"");
        let n: i64 = crate::on_pool!(db, pool => sqlx::query_scalar(&sql).fetch_one(pool).await.expect("count"));
        counts.insert(table, n);
    }
    counts
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((base, name)) = self.postgres.take() else {
            return;
        };
        // Drop runs inside the test's runtime; a fresh one on its own thread does the
        // asynchronous clean-up.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                if let Ok(url) = DatabaseUrl::parse(&base) {
                    if let Ok(Db::Postgres(pool)) =
                        Db::connect(&url, &ConnectOptions::default()).await
                    {
                        let _ =
                            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                                .execute(&pool)
                                .await;
                        pool.close().await;
                    }
                }
            });
        })
        .join();
    }
}

/// Generates one `#[tokio::test]` per backend for each named `async fn(TestDb)`.
#[macro_export]
macro_rules! test_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name($crate::testing::TestDb::sqlite().await).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    let Some(db) = $crate::testing::TestDb::postgres().await else { return };
                    super::$name(db).await
                }
            )*
        }
    };
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn database_name_is_replaced() {
        assert_eq!(
            with_database("postgres://u:p@127.0.0.1:5432/test?sslmode=disable", "t1"),
            "postgres://u:p@127.0.0.1:5432/t1?sslmode=disable"
        );
        assert_eq!(
            with_database("postgres://localhost", "t2"),
            "postgres://localhost/t2"
        );
    }
}
