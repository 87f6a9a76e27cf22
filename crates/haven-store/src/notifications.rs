//! In-app notifications: each step of a referral tells the other side. A notification names
//! the referral, the step and the partner organisation, never anything about the survivor.
//! (Email is not sent: a message outside Haven could leak that a girl was referred.)

use crate::audit::{self, AuditRecord};
use crate::clock::{new_id, now};
use crate::users::User;
use crate::{on_pool, on_tx, Db, StoreError, Tx};
use chrono::{DateTime, Utc};
use haven_core::notification::NotificationKind;
use haven_core::{OrgKind, RequestContext};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Notification {
    pub id: Uuid,
    /// What happened, e.g. `referral.sent`, `referral.accepted`, `consent.withdrawn`.
    pub kind: String,
    pub referral_id: Option<Uuid>,
    /// The partner organisation concerned.
    pub org_name: String,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
    /// The survivor's record an alert is about (an incident), by ID and reference only.
    pub survivor_id: Option<Uuid>,
    pub survivor_reference: Option<String>,
}

/// Notifies each of `users` inside the caller's transaction.
pub async fn notify_in(
    tx: &mut Tx,
    users: &[Uuid],
    kind: NotificationKind,
    referral: Option<Uuid>,
    org_name: &str,
) -> Result<(), StoreError> {
    let at = now();
    let mut seen = Vec::new();
    for user in users {
        if seen.contains(user) {
            continue;
        }
        seen.push(*user);
        on_tx!(&mut *tx, conn => sqlx::query(
            "INSERT INTO notifications (id, user_id, kind, referral_id, org_name, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(new_id())
        .bind(user)
        .bind(kind.as_str())
        .bind(referral)
        .bind(org_name)
        .bind(at)
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
    }
    Ok(())
}

/// Alerts each of `users` about a survivor's record inside the caller's transaction. The
/// notification carries her record's ID (the list shows its reference), never what happened.
pub async fn notify_survivor_in(
    tx: &mut Tx,
    users: &[Uuid],
    kind: NotificationKind,
    survivor: Uuid,
) -> Result<(), StoreError> {
    let at = now();
    let mut seen = Vec::new();
    for user in users {
        if seen.contains(user) {
            continue;
        }
        seen.push(*user);
        on_tx!(&mut *tx, conn => sqlx::query(
            "INSERT INTO notifications (id, user_id, kind, survivor_id, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(new_id())
        .bind(user)
        .bind(kind.as_str())
        .bind(survivor)
        .bind(at)
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
    }
    Ok(())
}

/// Which of the user's notifications are shown: partner staff see one about a referral only
/// while they may still see that referral (so a withdrawn consent takes her out of their
/// notifications too), and never one about a survivor's record.
fn shown(user: &User) -> String {
    if user.org_kind == OrgKind::Partner {
        format!(
            "n.survivor_id IS NULL AND (n.referral_id IS NULL OR EXISTS (SELECT 1 FROM referrals r
             WHERE r.id = n.referral_id AND r.status <> 'draft' AND {}))",
            crate::referrals::PARTNER_SEES_REFERRAL
        )
    } else {
        "TRUE".to_owned()
    }
}

/// The user's notifications, unread first, newest first.
pub async fn list(db: &Db, user: &User, limit: u32) -> Result<Vec<Notification>, StoreError> {
    let sql = format!(
        "SELECT n.id, n.kind, n.referral_id, n.org_name, n.created_at, n.read_at, n.survivor_id, s.reference AS survivor_reference
         FROM notifications n LEFT JOIN survivors s ON s.id = n.survivor_id
         WHERE n.user_id = $1 AND {} ORDER BY CASE WHEN n.read_at IS NULL THEN 0 ELSE 1 END, n.created_at DESC LIMIT $2",
        shown(user)
    );
    Ok(on_pool!(db, pool => sqlx::query_as(&sql)
    .bind(user.id.as_uuid())
    .bind(i64::from(limit.clamp(1, 200)))
    .fetch_all(pool)
    .await?))
}

/// How many notifications the user has not read (of those shown).
pub async fn unread(db: &Db, user: &User) -> Result<i64, StoreError> {
    let sql = format!(
        "SELECT count(*) FROM notifications n WHERE n.user_id = $1 AND n.read_at IS NULL AND {}",
        shown(user)
    );
    Ok(on_pool!(db, pool => sqlx::query_scalar(&sql)
    .bind(user.id.as_uuid())
    .fetch_one(pool)
    .await?))
}

/// Marks one of the user's own notifications read.
pub async fn mark_read(
    db: &Db,
    user: &User,
    ctx: &RequestContext,
    id: Uuid,
) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    let done = on_tx!(&mut tx, conn => sqlx::query(
        "UPDATE notifications SET read_at = $1 WHERE id = $2 AND user_id = $3 AND read_at IS NULL",
    )
    .bind(now())
    .bind(id)
    .bind(user.id.as_uuid())
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    if done == 0 {
        let exists: i64 = on_tx!(&mut tx, conn => sqlx::query_scalar(
            "SELECT count(*) FROM notifications WHERE id = $1 AND user_id = $2",
        )
        .bind(id)
        .bind(user.id.as_uuid())
        .fetch_one(conn)
        .await?);
        if exists == 0 {
            return Err(StoreError::NotFound("notification"));
        }
        return Ok(());
    }
    audit::append(
        &mut tx,
        ctx,
        &AuditRecord {
            action: "notification.read",
            entity: "notification",
            entity_id: Some(id.to_string()),
            fields: &[],
            reason: None,
        },
    )
    .await?;
    tx.commit().await
}
