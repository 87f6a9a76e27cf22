//! Failed sign-ins, counted in the database so the limits hold across every instance.
//!
//! The decision (how many, for how long) is `haven_core::ThrottlePolicy`; this module only
//! records and reads. The account key is the username as typed, lower-cased, whether or not
//! the account exists, so throttling answers the same for unknown and real accounts.

use crate::clock::{new_id, now};
use crate::{on_pool, Db, StoreError};
use chrono::{DateTime, Duration, Utc};
use haven_core::{RecentFailures, ThrottlePolicy};

/// Failures are kept this long, then swept; longer than any window so counts stay exact.
const KEEP: Duration = Duration::days(1);

/// The key failures of a typed username are counted under.
pub fn account_key(typed: &str) -> String {
    typed.trim().to_lowercase().chars().take(64).collect()
}

/// Recent failures for this account and this address, oldest first.
pub async fn recent(
    db: &Db,
    policy: &ThrottlePolicy,
    account: &str,
    addr: Option<&str>,
) -> Result<RecentFailures, StoreError> {
    let since = policy.since(now());
    let limit = i64::try_from(policy.account_limit.max(policy.address_limit)).unwrap_or(100) + 1;
    let account_times: Vec<DateTime<Utc>> = on_pool!(db, pool => sqlx::query_scalar(
        "SELECT at FROM login_failures WHERE account = $1 AND at > $2 ORDER BY at DESC LIMIT $3",
    )
    .bind(account_key(account))
    .bind(since)
    .bind(limit)
    .fetch_all(pool)
    .await?);
    let address_times: Vec<DateTime<Utc>> = match addr {
        Some(addr) => on_pool!(db, pool => sqlx::query_scalar(
            "SELECT at FROM login_failures WHERE client_addr = $1 AND at > $2 ORDER BY at DESC LIMIT $3",
        )
        .bind(addr)
        .bind(since)
        .bind(limit)
        .fetch_all(pool)
        .await?),
        None => Vec::new(),
    };
    let oldest_first = |mut v: Vec<DateTime<Utc>>| {
        v.reverse();
        v
    };
    Ok(RecentFailures {
        account: oldest_first(account_times),
        address: oldest_first(address_times),
    })
}

/// Records one failed sign-in, and sweeps failures too old to matter.
#[tracing::instrument(skip_all)]
pub async fn record_failure(db: &Db, account: &str, addr: Option<&str>) -> Result<(), StoreError> {
    let at = now();
    on_pool!(db, pool => sqlx::query(
        "INSERT INTO login_failures (id, account, client_addr, at) VALUES ($1, $2, $3, $4)",
    )
    .bind(new_id())
    .bind(account_key(account))
    .bind(addr)
    .bind(at)
    .execute(pool)
    .await
    .map(|r| r.rows_affected()))?;
    on_pool!(db, pool => sqlx::query("DELETE FROM login_failures WHERE at < $1")
        .bind(at - KEEP)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Forgets an account's failures after it signs in successfully. The address's failures
/// stay: one good password does not excuse guessing at other accounts.
pub async fn clear_account(db: &Db, account: &str) -> Result<(), StoreError> {
    on_pool!(db, pool => sqlx::query("DELETE FROM login_failures WHERE account = $1")
        .bind(account_key(account))
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}
