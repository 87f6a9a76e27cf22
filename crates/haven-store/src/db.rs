//! The one query layer over both backends.
//!
//! Queries are written once, in SQL both SQLite and PostgreSQL accept (`$1` placeholders,
//! standard types), and run through [`on_pool!`] / [`on_tx!`], which expand the same code for
//! each driver. Where the dialects differ (DDL, upserts), the difference lives in
//! [`crate::dialect`] and the per-backend migration folders, nowhere else.

use crate::url::{Backend, DatabaseUrl};
use crate::StoreError;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, Postgres, Sqlite, SqlitePool, Transaction};
use std::str::FromStr;
use std::time::Duration;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// A pool of connections to one of the two backends. Cheap to clone.
#[derive(Debug, Clone)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// An open transaction on either backend. Dropped without `commit`, it rolls back, so a
/// failed write never half-applies.
#[derive(Debug)]
pub enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

/// Runs the same expression against whichever pool `db` holds.
#[macro_export]
macro_rules! on_pool {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::Db::Sqlite($pool) => $body,
            $crate::Db::Postgres($pool) => $body,
        }
    };
}

/// Runs the same expression against whichever connection the transaction holds.
#[macro_export]
macro_rules! on_tx {
    ($tx:expr, $conn:ident => $body:expr) => {
        match $tx {
            $crate::Tx::Sqlite(t) => {
                let $conn = &mut **t;
                $body
            }
            $crate::Tx::Postgres(t) => {
                let $conn = &mut **t;
                $body
            }
        }
    };
}

/// How to open the database.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// Create a missing SQLite file (and its folder). Off for `serve`, so a mistyped path is
    /// refused instead of silently starting an empty database.
    pub create_if_missing: bool,
    /// Upper bound on pooled connections.
    pub max_connections: u32,
    /// How long to wait for a connection before reporting the database unreachable.
    pub acquire_timeout: Duration,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self {
            create_if_missing: false,
            max_connections: 10,
            acquire_timeout: Duration::from_secs(5),
        }
    }
}

/// Takes group and other access away from a SQLite database created before Haven made its
/// files private (its -wal and -shm follow the database file's permissions when created).
fn restrict_sqlite_files(path: &std::path::Path) {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    let mut shm = path.as_os_str().to_owned();
    shm.push("-shm");
    for file in [path.to_path_buf(), wal.into(), shm.into()] {
        match crate::private_fs::restrict(&file) {
            Ok(true) => {
                tracing::warn!(file = %file.display(), "made the database file readable by Haven's account only")
            }
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(file = %file.display(), error = %e, "cannot restrict the database file's permissions")
            }
        }
    }
}

impl Db {
    /// Opens a pool. SQLite gets WAL, foreign keys, a busy timeout and full fsync on commit
    /// (a lost record can lose a court case); PostgreSQL a bounded pool.
    #[tracing::instrument(skip_all, fields(url = %url))]
    pub async fn connect(url: &DatabaseUrl, options: &ConnectOptions) -> Result<Db, StoreError> {
        match url.backend() {
            Backend::Sqlite => {
                if let Some(path) = url.sqlite_path() {
                    if !path.exists() {
                        if !options.create_if_missing {
                            return Err(StoreError::Config(format!(
                                "the SQLite database {} does not exist; run `haven migrate` to create it, or check --database-url",
                                path.display()
                            )));
                        }
                        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                            crate::private_fs::create_dir_all(parent).map_err(|e| {
                                StoreError::Unavailable(format!(
                                    "cannot create the folder {}: {e}",
                                    parent.display()
                                ))
                            })?;
                        }
                        // Created empty and private here: SQLite gives its -wal and -shm
                        // files the database file's permissions.
                        crate::private_fs::create_new_file(&path).map_err(|e| {
                            StoreError::Unavailable(format!(
                                "cannot create the database {}: {e}",
                                path.display()
                            ))
                        })?;
                    }
                    restrict_sqlite_files(&path);
                }
                let connect = SqliteConnectOptions::from_str(url.expose())
                    .map_err(|e| StoreError::Config(format!("invalid SQLite URL: {e}")))?
                    .create_if_missing(options.create_if_missing)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Full)
                    .foreign_keys(true)
                    // Deleted and overwritten content is zeroed in the file, so an erased
                    // survivor's key bytes do not linger in free space.
                    .pragma("secure_delete", "on")
                    .busy_timeout(Duration::from_secs(10));
                let pool = SqlitePoolOptions::new()
                    .max_connections(options.max_connections.clamp(1, 16))
                    .acquire_timeout(options.acquire_timeout)
                    .connect_with(connect)
                    .await
                    .map_err(|e| StoreError::Unavailable(e.to_string()))?;
                Ok(Db::Sqlite(pool))
            }
            Backend::Postgres => {
                let connect = PgConnectOptions::from_str(url.expose())
                    .map_err(|e| StoreError::Config(format!("invalid PostgreSQL URL: {e}")))?
                    .application_name("haven");
                let pool = PgPoolOptions::new()
                    .max_connections(options.max_connections.max(1))
                    .min_connections(0)
                    .acquire_timeout(options.acquire_timeout)
                    .connect_with(connect)
                    .await
                    .map_err(|e| StoreError::Unavailable(e.to_string()))?;
                Ok(Db::Postgres(pool))
            }
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// Applies every embedded migration not yet applied; returns how many ran.
    #[tracing::instrument(skip_all)]
    pub async fn migrate(&self) -> Result<usize, StoreError> {
        let before = self.applied_migrations().await?;
        match self {
            Db::Sqlite(pool) => SQLITE_MIGRATIONS.run(pool).await?,
            Db::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await?,
        }
        let after = self.applied_migrations().await?;
        Ok(after.saturating_sub(before))
    }

    /// The number of migrations embedded in this binary for this backend.
    pub fn known_migrations(&self) -> usize {
        match self {
            Db::Sqlite(_) => SQLITE_MIGRATIONS.iter().count(),
            Db::Postgres(_) => POSTGRES_MIGRATIONS.iter().count(),
        }
    }

    async fn applied_migrations(&self) -> Result<usize, StoreError> {
        let table_exists: bool = match self {
            Db::Sqlite(pool) => {
                sqlx::query_scalar::<_, i64>(
                    "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
                )
                .fetch_one(pool)
                .await?
                    > 0
            }
            Db::Postgres(pool) => {
                sqlx::query_scalar::<_, bool>("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
                    .fetch_one(pool)
                    .await?
            }
        };
        if !table_exists {
            return Ok(0);
        }
        let count: i64 = on_pool!(self, pool => sqlx::query_scalar(
            "SELECT count(*) FROM _sqlx_migrations WHERE success"
        )
        .fetch_one(pool)
        .await?);
        Ok(usize::try_from(count).unwrap_or(0))
    }

    /// Readiness: the database answers a trivial query.
    pub async fn ping(&self) -> Result<(), StoreError> {
        on_pool!(self, pool => sqlx::query("SELECT 1").execute(pool).await.map(|r| r.rows_affected())?);
        Ok(())
    }

    /// Opens a transaction. On SQLite it starts `BEGIN IMMEDIATE`, taking the write lock at
    /// once: a deferred transaction that reads and then writes (as every audit append does)
    /// cannot be upgraded once another writer holds the lock and would fail with
    /// `SQLITE_BUSY` at once, bypassing the busy timeout. Taken up front, the lock is waited
    /// for, so concurrent writers queue instead of failing.
    pub async fn begin(&self) -> Result<Tx, StoreError> {
        Ok(match self {
            Db::Sqlite(pool) => Tx::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?),
            Db::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }

    /// Copies the write-ahead log into the SQLite file and empties it, so bytes that a commit
    /// overwrote (an erased key) are gone from the log too, not only from the file. A reader
    /// still holding an old snapshot makes the truncation wait (busy timeout) and then fail,
    /// reported as unavailable. Nothing to do on PostgreSQL, whose old row versions vacuum
    /// reclaims.
    pub async fn checkpoint(&self) -> Result<(), StoreError> {
        if let Db::Sqlite(pool) = self {
            let (busy, _, _): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)")
                .fetch_one(pool)
                .await?;
            if busy != 0 {
                return Err(StoreError::Unavailable(
                    "the database log could not be emptied while other readers were busy"
                        .to_owned(),
                ));
            }
        }
        Ok(())
    }

    /// Waits for connections in use to be returned, then closes them all.
    pub async fn close(&self) {
        on_pool!(self, pool => pool.close().await);
    }
}

impl Tx {
    pub async fn commit(self) -> Result<(), StoreError> {
        match self {
            Tx::Sqlite(t) => t.commit().await?,
            Tx::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }
}
