//! Instance settings: stored values over the defaults of `haven_core::Settings`.

use crate::clock::now;
use crate::{dialect, on_pool, Db, StoreError};
use haven_core::{SettingKey, Settings};

/// The settings in force.
pub async fn load(db: &Db) -> Result<Settings, StoreError> {
    let rows: Vec<(String, String)> = on_pool!(db, pool => sqlx::query_as(
        "SELECT key, value FROM settings ORDER BY key LIMIT 1000",
    )
    .fetch_all(pool)
    .await?);
    let mut settings = Settings::default();
    for (key, value) in rows {
        settings.apply(&key, &value);
    }
    Ok(settings)
}

/// Sets one setting after checking its value.
#[tracing::instrument(skip_all, fields(key = key.as_str()))]
pub async fn set(db: &Db, key: SettingKey, value: &str) -> Result<(), StoreError> {
    let value = Settings::validate(key, value)?.to_string();
    let sql = dialect::upsert(
        db.backend(),
        "settings (key, value, updated_at) VALUES ($1, $2, $3)",
        "key",
        "value = $2, updated_at = $3",
    );
    on_pool!(db, pool => sqlx::query(&sql)
        .bind(key.as_str())
        .bind(&value)
        .bind(now())
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}
