//! Instance settings: stored values over the defaults of `haven_core::Settings`.

use crate::audit::{self, AuditRecord};
use crate::clock::now;
use crate::{dialect, on_pool, on_tx, Db, StoreError};
use haven_core::{RequestContext, SettingKey, Settings};

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

/// Sets one setting after checking its value; audited (the key, not the value).
#[tracing::instrument(skip_all, fields(key = key.as_str()))]
pub async fn set(
    db: &Db,
    ctx: &RequestContext,
    key: SettingKey,
    value: &str,
) -> Result<(), StoreError> {
    let value = Settings::validate(key, value)?.to_string();
    let sql = dialect::upsert(
        db.backend(),
        "settings (key, value, updated_at) VALUES ($1, $2, $3)",
        "key",
        "value = $2, updated_at = $3",
    );
    let mut tx = db.begin().await?;
    on_tx!(&mut tx, conn => sqlx::query(&sql)
        .bind(key.as_str())
        .bind(&value)
        .bind(now())
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
    audit::append(
        &mut tx,
        ctx,
        &AuditRecord {
            action: "setting.set",
            entity: "setting",
            entity_id: Some(key.as_str().to_owned()),
            fields: &["value"],
            reason: None,
        },
    )
    .await?;
    tx.commit().await
}
