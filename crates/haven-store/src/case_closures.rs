//! Closing and re-opening her case. A case closes only when the closure criteria are met and
//! recorded (a final review must exist as a plan version, not only as a tick); closing cancels
//! the contacts and reviews still due and schedules check-ins at six and twelve months.
//! Re-opening stamps the closure; nothing of her history is removed.

use crate::case_access::{self, open_text, Case};
use crate::clock::{new_id, now};
use crate::crypto::{DataKey, Keyring};
use crate::follow_ups;
use crate::users::User;
use crate::{on_pool, on_tx, Db, StoreError};
use chrono::{DateTime, NaiveDate, Utc};
use haven_core::casework::{post_closure_check_ins, ClosureCriteria, FollowUpKind, MAX_TEXT};
use haven_core::policy::Action;
use haven_core::{FieldClass, RequestContext, SurvivorId, ValidationError};
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct ClosureInput {
    pub closed_on: NaiveDate,
    pub criteria: ClosureCriteria,
    /// Where she lives and how she supports herself, in words.
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClosureView {
    pub id: Uuid,
    pub closed_on: NaiveDate,
    pub closed_by: String,
    pub note: Option<String>,
    pub reopened_at: Option<DateTime<Utc>>,
    pub reopened_by: Option<String>,
    pub reopen_reason: Option<String>,
}

/// Whether her case is closed now.
pub async fn is_closed(db: &Db, survivor: Uuid) -> Result<bool, StoreError> {
    let count: i64 = on_pool!(db, pool => sqlx::query_scalar(
        "SELECT count(*) FROM case_closures WHERE survivor_id = $1 AND reopened_at IS NULL",
    )
    .bind(survivor)
    .fetch_one(pool)
    .await?);
    Ok(count > 0)
}

/// Closes her case; returns the two check-in dates scheduled.
pub async fn close(
    db: &Db,
    keyring: &Keyring,
    user: &User,
    ctx: &RequestContext,
    id: SurvivorId,
    input: &ClosureInput,
) -> Result<[NaiveDate; 2], StoreError> {
    let at = now();
    let case = Case::open(db, user, id, at).await?;
    case.require_not_erased()?;
    case.require(user, Action::ManageCase)?;
    if is_closed(db, case.id()).await? {
        return Err(StoreError::Conflict("her case is already closed".into()));
    }
    input.criteria.check()?;
    if !crate::care_plans::has_review(db, case.id()).await? {
        return Err(ValidationError::new(
            "final_review",
            "no review of her plan has been recorded; hold the final review (save her plan as a review) before closing",
        )
        .into());
    }
    if input.closed_on > crate::clock::team_date(at) {
        return Err(
            ValidationError::new("closed_on", "a case cannot be closed in the future").into(),
        );
    }
    if input.note.trim().is_empty() {
        return Err(ValidationError::new(
            "note",
            "describe her living arrangement and her income or schooling",
        )
        .into());
    }
    if input.note.chars().count() > MAX_TEXT {
        return Err(ValidationError::new(
            "note",
            format!("is too long (at most {MAX_TEXT} characters)"),
        )
        .into());
    }
    let key = case.key(db, keyring).await?;
    let cid = new_id();
    let sealed = key.seal(cid, "closure.note", input.note.trim());
    let check_ins = post_closure_check_ins(input.closed_on);
    let mut tx = db.begin().await?;
    on_tx!(&mut tx, conn => sqlx::query(
        "INSERT INTO case_closures (id, survivor_id, closed_on, safe_living, income_or_school, final_review, sealed, closed_by, closed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(cid)
    .bind(case.id())
    .bind(input.closed_on)
    .bind(true)
    .bind(true)
    .bind(true)
    .bind(sealed.as_bytes())
    .bind(user.id.as_uuid())
    .bind(at)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))
    .map_err(|e| crate::error::conflict_on_unique(e, "her case is already closed"))?;
    follow_ups::cancel_open_in(&mut tx, case.id(), at).await?;
    for due in check_ins {
        follow_ups::insert_in(&mut tx, case.id(), FollowUpKind::PostClosure, due, user, at).await?;
    }
    case_access::audit(
        &mut tx,
        ctx,
        "case.close",
        case.id(),
        &["criteria", "note"],
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(check_ins)
}

/// Re-opens her closed case with a reason; her first contact is due within the first-month
/// interval. The closure and everything before it stay.
pub async fn reopen(
    db: &Db,
    keyring: &Keyring,
    user: &User,
    ctx: &RequestContext,
    id: SurvivorId,
    reason: &str,
) -> Result<(), StoreError> {
    let at = now();
    let case = Case::open(db, user, id, at).await?;
    case.require_not_erased()?;
    case.require(user, Action::ManageCase)?;
    if reason.trim().chars().count() < 5 {
        return Err(ValidationError::new("reason", "say why her case is re-opened").into());
    }
    if reason.chars().count() > MAX_TEXT {
        return Err(ValidationError::new(
            "reason",
            format!("is too long (at most {MAX_TEXT} characters)"),
        )
        .into());
    }
    let open: Option<Uuid> = on_pool!(db, pool => sqlx::query_scalar(
        "SELECT id FROM case_closures WHERE survivor_id = $1 AND reopened_at IS NULL",
    )
    .bind(case.id())
    .fetch_optional(pool)
    .await?);
    let Some(cid) = open else {
        return Err(StoreError::Conflict("her case is not closed".into()));
    };
    let key = case.key(db, keyring).await?;
    let sealed = key.seal(cid, "closure.reopen_reason", reason.trim());
    let schedule = follow_ups::schedule_for(db, case.row.owner_org).await?;
    let today = crate::clock::team_date(at);
    let due = today
        .checked_add_days(chrono::Days::new(u64::from(schedule.first_month_days)))
        .unwrap_or(today);
    let mut tx = db.begin().await?;
    let changed = on_tx!(&mut tx, conn => sqlx::query(
        "UPDATE case_closures SET reopened_at = $1, reopened_by = $2, reopen_reason = $3 WHERE id = $4 AND reopened_at IS NULL",
    )
    .bind(at)
    .bind(user.id.as_uuid())
    .bind(sealed.as_bytes())
    .bind(cid)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    if changed == 0 {
        return Err(StoreError::Conflict(
            "her case was re-opened a moment ago".into(),
        ));
    }
    follow_ups::insert_in(&mut tx, case.id(), FollowUpKind::Contact, due, user, at).await?;
    case_access::audit(&mut tx, ctx, "case.reopen", case.id(), &["reason"], None).await?;
    tx.commit().await
}

/// Her closures, newest first, inside an opened case.
pub(crate) async fn closures_in(
    db: &Db,
    key: &DataKey,
    case: &Case,
    user: &User,
) -> Result<Vec<ClosureView>, StoreError> {
    #[allow(clippy::type_complexity)]
    let rows: Vec<(
        Uuid,
        NaiveDate,
        Uuid,
        Vec<u8>,
        Option<DateTime<Utc>>,
        Option<Uuid>,
        Option<Vec<u8>>,
    )> = on_pool!(db, pool => sqlx::query_as(
        "SELECT id, closed_on, closed_by, sealed, reopened_at, reopened_by, reopen_reason FROM case_closures
         WHERE survivor_id = $1 ORDER BY closed_at DESC",
    )
    .bind(case.id())
    .fetch_all(pool)
    .await?);
    let reads = !case.as_partner() && case.allows(user, Action::Read(FieldClass::Psychosocial));
    let mut ids: Vec<Uuid> = rows.iter().map(|r| r.2).collect();
    ids.extend(rows.iter().filter_map(|r| r.5));
    let names = case_access::user_names(db, &ids).await?;
    let mut out = Vec::with_capacity(rows.len());
    for (cid, closed_on, by, sealed, reopened_at, reopened_by, reason) in rows {
        let note = if reads {
            Some(open_text(key, cid, "closure.note", sealed)?)
        } else {
            None
        };
        let reopen_reason = match (reads, reason) {
            (true, Some(r)) => Some(open_text(key, cid, "closure.reopen_reason", r)?),
            _ => None,
        };
        out.push(ClosureView {
            id: cid,
            closed_on,
            closed_by: names.get(&by).cloned().unwrap_or_default(),
            note,
            reopened_at,
            reopened_by: reopened_by.and_then(|u| names.get(&u).cloned()),
            reopen_reason,
        });
    }
    Ok(out)
}
