//! Binds a key file to a database: key check values are recorded on first use and compared at
//! every start, so the wrong key file stops start-up instead of garbling data.

use super::keyfile::Key;
use super::Keyring;
use crate::clock::now;
use crate::{on_pool, Db, StoreError};
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// Checks the key file against the keys this database has seen, and records new ones.
#[tracing::instrument(skip_all)]
pub async fn verify_or_register(db: &Db, keyring: &Keyring) -> Result<(), StoreError> {
    let registered: Vec<(Uuid, String, Vec<u8>, DateTime<Utc>)> = on_pool!(db, pool => sqlx::query_as(
        "SELECT id, purpose, check_value, created_at FROM key_registry ORDER BY created_at LIMIT 10000",
    )
    .fetch_all(pool)
    .await?);
    let newest_wrap = registered
        .iter()
        .filter(|(_, purpose, _, _)| purpose == "wrap")
        .max_by_key(|(_, _, _, created)| *created)
        .map(|(id, _, _, created)| (*id, *created));
    let known: Vec<(Uuid, String, Vec<u8>)> = registered
        .into_iter()
        .map(|(id, purpose, check, _)| (id, purpose, check))
        .collect();
    let ours: Vec<(&Key, &str)> = std::iter::once((keyring.index(), "index"))
        .chain(keyring.wrapping_keys().map(|k| (k, "wrap")))
        .collect();
    for (key, _) in &ours {
        if let Some((_, _, check)) = known.iter().find(|(id, _, _)| *id == key.id) {
            if *check != key.check_value() {
                return Err(StoreError::Config(format!(
                    "the key file does not match this database: key {} has a different value. Use the key file this database was created with.",
                    key.id
                )));
            }
        }
    }
    if !known.is_empty() {
        let index_known = known
            .iter()
            .any(|(id, p, _)| p == "index" && *id == keyring.index().id);
        let wrap_known = keyring
            .wrapping_keys()
            .any(|k| known.iter().any(|(id, p, _)| p == "wrap" && *id == k.id));
        if !index_known || !wrap_known {
            return Err(StoreError::Config(
                "the key file belongs to another database: none of its keys encrypted this one. Use the key file this database was created with.".to_owned(),
            ));
        }
    }
    // A key file from before a rotation still holds keys this database knows, but not the
    // master key its data keys are now wrapped with: every survivor read would fail.
    if let Some((newest, rotated_at)) = newest_wrap {
        if !keyring.wrapping_keys().any(|k| k.id == newest) {
            return Err(StoreError::Config(format!(
                "this key file was replaced by rotation on {}: it lacks the current master key {newest}. Use the current key file (if that rotation was interrupted, run `haven keys rotate` again to finish it).",
                rotated_at.format("%Y-%m-%d %H:%M UTC")
            )));
        }
    }
    for (key, purpose) in ours {
        if !known.iter().any(|(id, _, _)| *id == key.id) {
            on_pool!(db, pool => sqlx::query(
                "INSERT INTO key_registry (id, purpose, check_value, created_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(key.id)
            .bind(purpose)
            .bind(key.check_value())
            .bind(now())
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        }
    }
    Ok(())
}

/// How many data keys are still wrapped by a key other than the current one.
pub async fn pending_rewrap(db: &Db, keyring: &Keyring) -> Result<i64, StoreError> {
    let survivors: i64 = on_pool!(db, pool => sqlx::query_scalar(
        "SELECT count(*) FROM survivor_keys WHERE wrapped_key IS NOT NULL AND master_key_id <> $1",
    )
    .bind(keyring.current().id)
    .fetch_one(pool)
    .await?);
    Ok(survivors + crate::legal::pending_rewrap(db, keyring).await?)
}

/// Re-wraps up to `batch` data keys under the current master key, in one transaction; returns
/// how many. Data is not touched. Call until it returns 0; an interruption loses nothing, and
/// the next run carries on where this one stopped.
pub async fn rewrap_batch(db: &Db, keyring: &Keyring, batch: u32) -> Result<u64, StoreError> {
    let mut tx = db.begin().await?;
    let rows: Vec<(Uuid, Uuid, Vec<u8>)> = crate::on_tx!(&mut tx, conn => sqlx::query_as(
        "SELECT survivor_id, master_key_id, wrapped_key FROM survivor_keys
         WHERE wrapped_key IS NOT NULL AND master_key_id <> $1 ORDER BY survivor_id LIMIT $2",
    )
    .bind(keyring.current().id)
    .bind(i64::from(batch))
    .fetch_all(conn)
    .await?);
    let mut count = rows.len() as u64;
    for (survivor, key_id, wrapped) in rows {
        let data_key = keyring
            .unwrap(key_id, &wrapped, survivor)
            .map_err(|e| StoreError::Internal(format!("survivor {survivor}: {e}")))?;
        let (new_id, new_wrapped) = keyring.wrap(&data_key, survivor);
        crate::on_tx!(&mut tx, conn => sqlx::query(
            "UPDATE survivor_keys SET master_key_id = $1, wrapped_key = $2 WHERE survivor_id = $3",
        )
        .bind(new_id)
        .bind(new_wrapped)
        .bind(survivor)
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
    }
    if count < u64::from(batch) {
        let left = u32::try_from(u64::from(batch) - count).unwrap_or(0);
        count += crate::legal::rewrap_batch(&mut tx, keyring, left).await?;
    }
    tx.commit().await?;
    Ok(count)
}
