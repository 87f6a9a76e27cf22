//! Test support for referrals (feature `test-support`): completes the demo survivor
//! PP-2026-001's intake (a 14-year-old Vietnamese girl, identified as a minor) where demo
//! data does not provide it yet.

#![allow(clippy::panic, clippy::expect_used, clippy::unwrap_used)]

use crate::clock::{new_id, now};
use crate::{on_pool, survivors, users, Db, Keyring};
use haven_core::{RequestContext, SurvivorField, SurvivorId, Username};
use uuid::Uuid;

/// The ID of a demo survivor by reference.
pub async fn survivor_id(db: &Db, reference: &str) -> SurvivorId {
    let id: Uuid = on_pool!(db, pool => sqlx::query_scalar("SELECT id FROM survivors WHERE reference = $1")
        .bind(reference)
        .fetch_one(pool)
        .await
        .expect("demo survivor"));
    SurvivorId::from_uuid(id)
}

pub async fn user(db: &Db, username: &str) -> users::User {
    users::find_by_username(db, &Username::parse(username).unwrap())
        .await
        .unwrap()
        .expect("demo user")
}

/// Sets sex, languages and home region on a survivor, as her caseworker `by`, and records
/// an identification screening with the given minor status.
pub async fn complete_intake(
    db: &Db,
    keyring: &Keyring,
    by: &str,
    reference: &str,
    fields: &[(SurvivorField, &str)],
    minor_status: &str,
) -> SurvivorId {
    let id = survivor_id(db, reference).await;
    let caseworker = user(db, by).await;
    let changes: Vec<(SurvivorField, String)> =
        fields.iter().map(|(f, v)| (*f, (*v).to_owned())).collect();
    let version = survivors::read(
        db,
        keyring,
        &caseworker,
        &RequestContext::system("test"),
        id,
    )
    .await
    .unwrap()
    .version;
    survivors::update(
        db,
        keyring,
        &caseworker,
        &RequestContext::system("test"),
        id,
        &changes,
        version,
    )
    .await
    .unwrap();
    let (key_id, wrapped): (Uuid, Vec<u8>) = on_pool!(db, pool => sqlx::query_as(
        "SELECT master_key_id, wrapped_key FROM survivor_keys WHERE survivor_id = $1",
    )
    .bind(id.as_uuid())
    .fetch_one(pool)
    .await
    .unwrap());
    let key = keyring.unwrap(key_id, &wrapped, id.as_uuid()).unwrap();
    let row = new_id();
    let details = key.seal(id.as_uuid(), "identification", "{}");
    on_pool!(db, pool => sqlx::query(
        "INSERT INTO identifications (id, survivor_id, minor_status, decision, details, screened_by, screened_at)
         VALUES ($1, $2, $3, 'victim', $4, $5, $6)",
    )
    .bind(row)
    .bind(id.as_uuid())
    .bind(minor_status)
    .bind(details.as_bytes())
    .bind(caseworker.id.as_uuid())
    .bind(now())
    .execute(pool)
    .await
    .map(|r| r.rows_affected())
    .unwrap());
    id
}

/// PP-2026-001 as the referral scenario needs her: female, Vietnamese-speaking, from An
/// Giang, identified as certainly a minor.
pub async fn prepare_hoa(db: &Db, keyring: &Keyring) -> SurvivorId {
    complete_intake(
        db,
        keyring,
        "aftercare",
        "PP-2026-001",
        &[
            (SurvivorField::Sex, "female"),
            (SurvivorField::Languages, "vi"),
            (SurvivorField::HomeRegion, "An Giang"),
        ],
        "certain",
    )
    .await
}

/// Records an identification screening whose details are a placeholder (tests only read the
/// minor status).
pub async fn mark_minor(db: &Db, survivor: SurvivorId, minor_status: &str) {
    on_pool!(db, pool => sqlx::query(
        "INSERT INTO identifications (id, survivor_id, minor_status, decision, details, screened_at)
         VALUES ($1, $2, $3, 'victim', $4, $5)",
    )
    .bind(new_id())
    .bind(survivor.as_uuid())
    .bind(minor_status)
    .bind(b"placeholder".to_vec())
    .bind(now())
    .execute(pool)
    .await
    .map(|r| r.rows_affected())
    .unwrap());
}
