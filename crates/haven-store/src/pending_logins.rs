//! Half-finished sign-ins: the password was right and the second factor is still to come.
//!
//! The browser holds a random token (a cookie) instead of the password, so the second form
//! never carries the password. Only the token's SHA-256 is stored, and it lives 5 minutes.

use crate::clock::{new_id, now};
use crate::sessions::SessionToken;
use crate::{on_pool, Db, StoreError};
use chrono::Duration;
use haven_core::UserId;
use uuid::Uuid;

/// How long the second step may take.
pub const LIFETIME: Duration = Duration::minutes(5);

/// Starts a pending sign-in for a user whose password was right.
pub async fn create(db: &Db, user: UserId) -> Result<SessionToken, StoreError> {
    let token = SessionToken::generate();
    let at = now();
    on_pool!(db, pool => sqlx::query(
        "INSERT INTO pending_logins (id, token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(new_id())
    .bind(token.digest())
    .bind(user.as_uuid())
    .bind(at)
    .bind(at + LIFETIME)
    .execute(pool)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(token)
}

/// The user a pending sign-in belongs to, if it has not expired.
pub async fn find(db: &Db, token: &SessionToken) -> Result<Option<UserId>, StoreError> {
    let found: Option<Uuid> = on_pool!(db, pool => sqlx::query_scalar(
        "SELECT user_id FROM pending_logins WHERE token_hash = $1 AND expires_at > $2",
    )
    .bind(token.digest())
    .bind(now())
    .fetch_optional(pool)
    .await?);
    Ok(found.map(UserId::from_uuid))
}

/// Ends a pending sign-in (finished or abandoned), and sweeps expired ones.
pub async fn delete(db: &Db, token: &SessionToken) -> Result<(), StoreError> {
    on_pool!(db, pool => sqlx::query("DELETE FROM pending_logins WHERE token_hash = $1 OR expires_at <= $2")
        .bind(token.digest())
        .bind(now())
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}
