//! Follow-ups (contacts, plan reviews, post-closure check-ins), the organisation's follow-up
//! schedule, caseloads and overdue lists.
//!
//! A follow-up belongs to whoever is assigned to her now (joined at read time), so a
//! reassignment moves her follow-ups with her. Completing a contact schedules the next one by
//! the schedule and her current risk level, so a contact is never simply forgotten.

use crate::case_access::{self, open_text, Case};
use crate::clock::{new_id, now};
use crate::crypto::Keyring;
use crate::survivors::subject;
use crate::users::User;
use crate::{dialect, on_pool, on_tx, Db, StoreError, Tx};
use chrono::{DateTime, NaiveDate, Utc};
use haven_core::casework::{
    caseload_order, CaseloadKey, FollowUpKind, RiskLevel, Schedule, MAX_TEXT,
};
use haven_core::policy::{decide, Action, Grant, RecordFacts};
use haven_core::{
    FieldClass, OrgId, RequestContext, Role, SurvivorField, SurvivorId, UserId, ValidationError,
};
use uuid::Uuid;

/// One follow-up, as her file shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowUpView {
    pub id: Uuid,
    pub kind: FollowUpKind,
    pub due_on: NaiveDate,
    pub done_on: Option<NaiveDate>,
    pub done_by: Option<String>,
    pub cancelled: bool,
    /// What the contact found; only for those who read her psychosocial notes.
    pub note: Option<String>,
}

impl FollowUpView {
    pub fn is_open(&self) -> bool {
        self.done_on.is_none() && !self.cancelled
    }

    pub fn is_overdue(&self, today: NaiveDate) -> bool {
        self.is_open() && self.due_on < today
    }
}

#[derive(sqlx::FromRow)]
struct FollowUpRow {
    id: Uuid,
    kind: String,
    due_on: NaiveDate,
    done_on: Option<NaiveDate>,
    done_by: Option<Uuid>,
    note: Option<Vec<u8>>,
    cancelled_at: Option<DateTime<Utc>>,
}

/// The schedule an organisation follows up by (the defaults until a manager sets one).
pub async fn schedule_for(db: &Db, org: Uuid) -> Result<Schedule, StoreError> {
    let row: Option<(i32, i32, i32)> = on_pool!(db, pool => sqlx::query_as(
        "SELECT first_month_days, first_year_days, after_days FROM follow_up_schedules WHERE org_id = $1",
    )
    .bind(org)
    .fetch_optional(pool)
    .await?);
    Ok(match row {
        Some((m, y, a)) => Schedule {
            first_month_days: u32::try_from(m).unwrap_or(7),
            first_year_days: u32::try_from(y).unwrap_or(30),
            after_days: u32::try_from(a).unwrap_or(90),
        },
        None => Schedule::default(),
    })
}

/// The schedule of the user's own organisation.
pub async fn schedule(db: &Db, user: &User) -> Result<Schedule, StoreError> {
    schedule_for(db, user.org_id.as_uuid()).await
}

/// Sets the organisation's schedule. Managers only; audited.
pub async fn set_schedule(
    db: &Db,
    user: &User,
    ctx: &RequestContext,
    schedule: Schedule,
) -> Result<(), StoreError> {
    require_manager(user)?;
    let schedule = schedule.check()?;
    let sql = dialect::upsert(
        db.backend(),
        "follow_up_schedules (org_id, first_month_days, first_year_days, after_days, updated_at, updated_by) VALUES ($1, $2, $3, $4, $5, $6)",
        "org_id",
        "first_month_days = $2, first_year_days = $3, after_days = $4, updated_at = $5, updated_by = $6",
    );
    let mut tx = db.begin().await?;
    on_tx!(&mut tx, conn => sqlx::query(&sql)
        .bind(user.org_id.as_uuid())
        .bind(i64::from(schedule.first_month_days))
        .bind(i64::from(schedule.first_year_days))
        .bind(i64::from(schedule.after_days))
        .bind(now())
        .bind(user.id.as_uuid())
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
    crate::audit::append(
        &mut tx,
        ctx,
        &crate::audit::AuditRecord {
            action: "follow_up.schedule",
            entity: "organisation",
            entity_id: Some(user.org_id.to_string()),
            fields: &["first_month_days", "first_year_days", "after_days"],
            reason: None,
        },
    )
    .await?;
    tx.commit().await
}

fn require_manager(user: &User) -> Result<(), StoreError> {
    if user.roles.contains(Role::Manager) && user.org_kind == haven_core::OrgKind::Own {
        Ok(())
    } else {
        Err(StoreError::Forbidden(
            "only a manager may do this".to_owned(),
        ))
    }
}

/// Her risk level from her latest assessment (low before any).
pub(crate) async fn current_level(db: &Db, survivor: Uuid) -> Result<RiskLevel, StoreError> {
    let sql = format!("SELECT ({LEVEL_OF_S}) FROM survivors s WHERE s.id = $1");
    let level: Option<Option<String>> = on_pool!(db, pool => sqlx::query_scalar(&sql)
    .bind(survivor)
    .fetch_optional(pool)
    .await?);
    Ok(level
        .flatten()
        .and_then(|l| RiskLevel::parse(&l).ok())
        .unwrap_or(RiskLevel::Low))
}

/// Adds a follow-up inside the caller's transaction.
pub(crate) async fn insert_in(
    tx: &mut Tx,
    survivor: Uuid,
    kind: FollowUpKind,
    due_on: NaiveDate,
    user: &User,
    at: DateTime<Utc>,
) -> Result<Uuid, StoreError> {
    let id = new_id();
    on_tx!(&mut *tx, conn => sqlx::query(
        "INSERT INTO follow_ups (id, survivor_id, kind, due_on, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(survivor)
    .bind(kind.as_str())
    .bind(due_on)
    .bind(user.id.as_uuid())
    .bind(at)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(id)
}

/// Completes the earliest open review (a plan review was just held).
pub(crate) async fn complete_due_review_in(
    tx: &mut Tx,
    survivor: Uuid,
    today: NaiveDate,
    user: &User,
) -> Result<(), StoreError> {
    let due: Option<Uuid> = on_tx!(&mut *tx, conn => sqlx::query_scalar(
        "SELECT id FROM follow_ups WHERE survivor_id = $1 AND kind = 'review' AND done_on IS NULL AND cancelled_at IS NULL ORDER BY due_on LIMIT 1",
    )
    .bind(survivor)
    .fetch_optional(conn)
    .await?);
    if let Some(id) = due {
        on_tx!(&mut *tx, conn => sqlx::query(
            "UPDATE follow_ups SET done_on = $1, done_by = $2 WHERE id = $3",
        )
        .bind(today)
        .bind(user.id.as_uuid())
        .bind(id)
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
    }
    Ok(())
}

/// Cancels her open contacts and reviews (her case was closed).
pub(crate) async fn cancel_open_in(
    tx: &mut Tx,
    survivor: Uuid,
    at: DateTime<Utc>,
) -> Result<u64, StoreError> {
    on_tx!(&mut *tx, conn => sqlx::query(
        "UPDATE follow_ups SET cancelled_at = $1 WHERE survivor_id = $2 AND kind IN ('contact', 'review') AND done_on IS NULL AND cancelled_at IS NULL",
    )
    .bind(at)
    .bind(survivor)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))
    .map_err(StoreError::from)
}

/// Brings her next open contact forward when her risk level calls for closer contact.
pub(crate) async fn tighten_in(
    tx: &mut Tx,
    survivor: Uuid,
    due_by: NaiveDate,
) -> Result<(), StoreError> {
    on_tx!(&mut *tx, conn => sqlx::query(
        "UPDATE follow_ups SET due_on = $1 WHERE survivor_id = $2 AND kind = 'contact' AND done_on IS NULL AND cancelled_at IS NULL AND due_on > $1",
    )
    .bind(due_by)
    .bind(survivor)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Whether the user's access is the kind that follows her up: her caseworkers, the crisis
/// team, a manager's oversight or break-glass. Legal staff and partners come to her record
/// for other reasons and see none of her follow-ups.
fn keeps_follow_ups(case: &Case) -> bool {
    matches!(
        case.grant,
        Grant::Assigned | Grant::CrisisTeam | Grant::ManagerOversight | Grant::BreakGlass
    )
}

/// Her follow-ups, inside an opened case (the caller audits).
pub(crate) async fn list_in(
    db: &Db,
    key: Option<&crate::crypto::DataKey>,
    case: &Case,
    user: &User,
) -> Result<Vec<FollowUpView>, StoreError> {
    if !keeps_follow_ups(case) {
        return Ok(Vec::new());
    }
    let rows: Vec<FollowUpRow> = on_pool!(db, pool => sqlx::query_as(
        "SELECT id, kind, due_on, done_on, done_by, note, cancelled_at FROM follow_ups
         WHERE survivor_id = $1 ORDER BY due_on, created_at",
    )
    .bind(case.id())
    .fetch_all(pool)
    .await?);
    let names = case_access::user_names(
        db,
        &rows.iter().filter_map(|r| r.done_by).collect::<Vec<_>>(),
    )
    .await?;
    let reads_notes =
        !case.as_partner() && case.allows(user, Action::Read(FieldClass::Psychosocial));
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let note = match (reads_notes, key, row.note) {
            (true, Some(key), Some(sealed)) => {
                Some(open_text(key, row.id, "follow_up.note", sealed)?)
            }
            _ => None,
        };
        out.push(FollowUpView {
            id: row.id,
            kind: FollowUpKind::parse(&row.kind)?,
            due_on: row.due_on,
            done_on: row.done_on,
            done_by: row.done_by.and_then(|u| names.get(&u).cloned()),
            cancelled: row.cancelled_at.is_some(),
            note,
        });
    }
    Ok(out)
}

/// Her follow-ups. Partners see none (her follow-up is her caseworker's work). Audited.
pub async fn list(
    db: &Db,
    keyring: &Keyring,
    user: &User,
    ctx: &RequestContext,
    id: SurvivorId,
) -> Result<Vec<FollowUpView>, StoreError> {
    let case = Case::open(db, user, id, now()).await?;
    if !keeps_follow_ups(&case) {
        return Err(StoreError::Forbidden(
            "her follow-ups are kept by her caseworker".into(),
        ));
    }
    let key = case.key(db, keyring).await?;
    let out = list_in(db, Some(&key), &case, user).await?;
    case_access::audit_read(db, ctx, "follow_up.list", case.id(), &["follow_ups"]).await?;
    Ok(out)
}

/// Schedules a contact or review for her. The date may not lie in the past.
pub async fn add(
    db: &Db,
    user: &User,
    ctx: &RequestContext,
    id: SurvivorId,
    kind: FollowUpKind,
    due_on: NaiveDate,
) -> Result<Uuid, StoreError> {
    let at = now();
    let case = Case::open(db, user, id, at).await?;
    case.require_not_erased()?;
    case.require(user, Action::ManageCase)?;
    if kind == FollowUpKind::PostClosure {
        return Err(ValidationError::new(
            "kind",
            "post-closure check-ins are scheduled when her case is closed",
        )
        .into());
    }
    if due_on < crate::clock::team_date(at) {
        return Err(ValidationError::new(
            "due_on",
            format!("{due_on} is in the past; schedule a follow-up for today or later"),
        )
        .into());
    }
    let mut tx = db.begin().await?;
    let fid = insert_in(&mut tx, case.id(), kind, due_on, user, at).await?;
    case_access::audit(&mut tx, ctx, "follow_up.add", case.id(), &["due_on"], None).await?;
    tx.commit().await?;
    Ok(fid)
}

/// Whose follow-up this is (no data: the ID of her record), so a page addressed under one
/// survivor can refuse a follow-up of another.
pub async fn survivor_of(db: &Db, follow_up: Uuid) -> Result<Option<SurvivorId>, StoreError> {
    let id: Option<Uuid> = on_pool!(db, pool => sqlx::query_scalar("SELECT survivor_id FROM follow_ups WHERE id = $1")
        .bind(follow_up)
        .fetch_optional(pool)
        .await?);
    Ok(id.map(SurvivorId::from_uuid))
}

/// Records a follow-up as done, with what was found; a completed contact schedules the next
/// by the schedule and her risk level (not after her case was closed). Returns the next due
/// date, if one was scheduled.
pub async fn complete(
    db: &Db,
    keyring: &Keyring,
    user: &User,
    ctx: &RequestContext,
    follow_up: Uuid,
    done_on: NaiveDate,
    note: &str,
) -> Result<Option<NaiveDate>, StoreError> {
    let at = now();
    #[allow(clippy::type_complexity)]
    let found: Option<(Uuid, String, Option<NaiveDate>, Option<DateTime<Utc>>)> = on_pool!(db, pool => sqlx::query_as(
        "SELECT survivor_id, kind, done_on, cancelled_at FROM follow_ups WHERE id = $1",
    )
    .bind(follow_up)
    .fetch_optional(pool)
    .await?);
    let Some((survivor, kind, done, cancelled)) = found else {
        return Err(StoreError::NotFound("follow-up"));
    };
    let case = Case::open(db, user, SurvivorId::from_uuid(survivor), at).await?;
    case.require_not_erased()?;
    case.require(user, Action::ManageCase)?;
    if done.is_some() || cancelled.is_some() {
        return Err(StoreError::Conflict(
            "this follow-up is already done or was cancelled".into(),
        ));
    }
    if done_on > crate::clock::team_date(at) {
        return Err(
            ValidationError::new("done_on", "a follow-up cannot be done in the future").into(),
        );
    }
    if note.chars().count() > MAX_TEXT {
        return Err(ValidationError::new(
            "note",
            format!("is too long (at most {MAX_TEXT} characters)"),
        )
        .into());
    }
    let kind = FollowUpKind::parse(&kind)?;
    let key = case.key(db, keyring).await?;
    let sealed = key.seal(follow_up, "follow_up.note", note.trim());
    let next =
        if kind == FollowUpKind::Contact && !crate::case_closures::is_closed(db, survivor).await? {
            let schedule = schedule_for(db, case.row.owner_org).await?;
            let level = current_level(db, survivor).await?;
            let started = crate::care_plans::started_on(db, survivor)
                .await?
                .unwrap_or(case.row.created_at.date_naive());
            Some(
                schedule
                    .next_due(started, done_on, level)
                    .max(crate::clock::team_date(at)),
            )
        } else {
            None
        };
    let mut tx = db.begin().await?;
    let changed = on_tx!(&mut tx, conn => sqlx::query(
        "UPDATE follow_ups SET done_on = $1, done_by = $2, note = $3 WHERE id = $4 AND done_on IS NULL AND cancelled_at IS NULL",
    )
    .bind(done_on)
    .bind(user.id.as_uuid())
    .bind(sealed.as_bytes())
    .bind(follow_up)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    if changed == 0 {
        return Err(StoreError::Conflict(
            "this follow-up was completed by someone else a moment ago".into(),
        ));
    }
    if let Some(due) = next {
        insert_in(&mut tx, survivor, FollowUpKind::Contact, due, user, at).await?;
    }
    case_access::audit(
        &mut tx,
        ctx,
        "follow_up.complete",
        survivor,
        &["note"],
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(next)
}

/// One line of a caseworker's caseload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseloadRow {
    pub survivor: SurvivorId,
    pub reference: String,
    /// Her name, when the viewer may read it.
    pub name: Option<String>,
    pub next_kind: Option<FollowUpKind>,
    pub next_due: Option<NaiveDate>,
    /// Open follow-ups past their due date.
    pub overdue: i64,
    pub risk: Option<RiskLevel>,
    pub closed: bool,
}

#[derive(sqlx::FromRow)]
struct CaseloadDbRow {
    id: Uuid,
    reference: String,
    owner_org: Uuid,
    erased_at: Option<DateTime<Utc>>,
    next_due: Option<NaiveDate>,
    next_kind: Option<String>,
    overdue: i64,
    closed: i64,
    level: Option<String>,
}

/// The open follow-ups of the survivor `s` of a query, soonest first (shared by the next due
/// date and its kind, so both name the same follow-up).
const OPEN_OF_S: &str =
    "FROM follow_ups f WHERE f.survivor_id = s.id AND f.done_on IS NULL AND f.cancelled_at IS NULL";

/// Her latest risk level, for the survivor `s` of a query (the caseload and
/// [`current_level`] read it the same way).
const LEVEL_OF_S: &str = "SELECT r.level FROM risk_assessments r WHERE r.survivor_id = s.id \
     ORDER BY r.assessed_on DESC, r.created_at DESC LIMIT 1";

/// A caseworker's caseload: her survivors, overdue first, then by the next due step. The
/// caseworker sees her own; a manager sees any worker's of the organisation. Audited as one
/// read (names are decrypted).
pub async fn caseload(
    db: &Db,
    keyring: &Keyring,
    user: &User,
    ctx: &RequestContext,
    worker: UserId,
    today: NaiveDate,
) -> Result<Vec<CaseloadRow>, StoreError> {
    if worker != user.id {
        require_manager(user)?;
        let org: Option<Uuid> = on_pool!(db, pool => sqlx::query_scalar("SELECT org_id FROM users WHERE id = $1")
            .bind(worker.as_uuid())
            .fetch_optional(pool)
            .await?);
        if org != Some(user.org_id.as_uuid()) {
            return Err(StoreError::NotFound("caseworker"));
        }
    } else if !user.roles.contains(Role::Aftercare) {
        return Err(StoreError::Forbidden(
            "a caseload belongs to aftercare caseworkers".into(),
        ));
    }
    // One query for every line: her next step and its kind, what is overdue, whether her
    // case is closed and her risk level, instead of further look-ups per survivor.
    let sql = format!(
        "SELECT s.id, s.reference, s.owner_org, s.erased_at,
                (SELECT f.due_on {OPEN_OF_S} ORDER BY f.due_on, f.created_at LIMIT 1) AS next_due,
                (SELECT f.kind {OPEN_OF_S} ORDER BY f.due_on, f.created_at LIMIT 1) AS next_kind,
                (SELECT count(*) {OPEN_OF_S} AND f.due_on < $2) AS overdue,
                (SELECT count(*) FROM case_closures c WHERE c.survivor_id = s.id AND c.reopened_at IS NULL) AS closed,
                ({LEVEL_OF_S}) AS level
         FROM survivor_assignments a JOIN survivors s ON s.id = a.survivor_id
         WHERE a.user_id = $1"
    );
    let rows: Vec<CaseloadDbRow> = on_pool!(db, pool => sqlx::query_as(&sql)
    .bind(worker.as_uuid())
    .bind(today)
    .fetch_all(pool)
    .await?);
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let facts = RecordFacts {
            owner_org: Some(OrgId::from_uuid(row.owner_org)),
            assignees: vec![worker],
            ..RecordFacts::default()
        };
        let reads_name = row.erased_at.is_none()
            && decide(
                &subject(user),
                Action::Read(FieldClass::Identity),
                &facts,
                now(),
            )
            .is_allowed();
        let name = if reads_name {
            name_of(db, keyring, row.id).await?
        } else {
            None
        };
        out.push(CaseloadRow {
            survivor: SurvivorId::from_uuid(row.id),
            reference: row.reference,
            name,
            next_kind: row.next_kind.and_then(|k| FollowUpKind::parse(&k).ok()),
            next_due: row.next_due,
            overdue: row.overdue,
            risk: row.level.and_then(|l| RiskLevel::parse(&l).ok()),
            closed: row.closed > 0,
        });
    }
    out.sort_by(|a, b| {
        caseload_order(
            &CaseloadKey {
                overdue: a.overdue,
                next_due: a.next_due,
                level: a.risk,
            },
            &CaseloadKey {
                overdue: b.overdue,
                next_due: b.next_due,
                level: b.risk,
            },
        )
        .then_with(|| a.reference.cmp(&b.reference))
    });
    let mut tx = db.begin().await?;
    crate::audit::append(
        &mut tx,
        ctx,
        &crate::audit::AuditRecord {
            action: "caseload.read",
            entity: "user",
            entity_id: Some(worker.to_string()),
            fields: &["name"],
            reason: None,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(out)
}

/// Her name, decrypted (the caller has checked the policy).
async fn name_of(db: &Db, keyring: &Keyring, survivor: Uuid) -> Result<Option<String>, StoreError> {
    let sealed: Option<Vec<u8>> = on_pool!(db, pool => sqlx::query_scalar(
        "SELECT sealed FROM survivor_fields WHERE survivor_id = $1 AND field = $2",
    )
    .bind(survivor)
    .bind(SurvivorField::Name.as_str())
    .fetch_optional(pool)
    .await?);
    let Some(sealed) = sealed else {
        return Ok(None);
    };
    let Some(key) = crate::survivors::data_key(db, keyring, survivor).await? else {
        return Ok(None);
    };
    open_text(&key, survivor, SurvivorField::Name.as_str(), sealed).map(Some)
}

/// A caseworker's load, for the manager's team view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerLoad {
    pub user: UserId,
    pub name: String,
    pub survivors: i64,
    pub overdue: i64,
}

/// Every aftercare caseworker of the manager's organisation, with her caseload size and
/// overdue follow-ups, most overdue first. Counts only, no survivor data.
pub async fn team_loads(
    db: &Db,
    user: &User,
    today: NaiveDate,
) -> Result<Vec<WorkerLoad>, StoreError> {
    require_manager(user)?;
    let org = user.org_id.as_uuid();
    let workers: Vec<(Uuid, String)> = on_pool!(db, pool => sqlx::query_as(
        "SELECT u.id, u.display_name FROM users u JOIN user_roles r ON r.user_id = u.id AND r.role = 'aftercare'
         WHERE u.org_id = $1 AND u.disabled_at IS NULL",
    )
    .bind(org)
    .fetch_all(pool)
    .await?);
    // Two grouped counts instead of two per worker: the overdue one walks only the open,
    // overdue follow-ups (a partial index), not every worker's whole history.
    let sizes: Vec<(Uuid, i64)> = on_pool!(db, pool => sqlx::query_as(
        "SELECT user_id, count(*) FROM survivor_assignments GROUP BY user_id",
    )
    .fetch_all(pool)
    .await?);
    let overdue: Vec<(Uuid, i64)> = on_pool!(db, pool => sqlx::query_as(
        "SELECT a.user_id, count(*) FROM follow_ups f JOIN survivor_assignments a ON a.survivor_id = f.survivor_id
         WHERE f.done_on IS NULL AND f.cancelled_at IS NULL AND f.due_on < $1 GROUP BY a.user_id",
    )
    .bind(today)
    .fetch_all(pool)
    .await?);
    let sizes: std::collections::HashMap<Uuid, i64> = sizes.into_iter().collect();
    let overdue: std::collections::HashMap<Uuid, i64> = overdue.into_iter().collect();
    let mut out: Vec<WorkerLoad> = workers
        .into_iter()
        .map(|(id, name)| WorkerLoad {
            user: UserId::from_uuid(id),
            name,
            survivors: sizes.get(&id).copied().unwrap_or(0),
            overdue: overdue.get(&id).copied().unwrap_or(0),
        })
        .collect();
    out.sort_by(|a, b| b.overdue.cmp(&a.overdue).then_with(|| a.name.cmp(&b.name)));
    Ok(out)
}

/// One overdue follow-up on the team's list. References and dates only: no survivor data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverdueItem {
    pub follow_up: Uuid,
    pub survivor: SurvivorId,
    pub reference: String,
    pub kind: FollowUpKind,
    pub due_on: NaiveDate,
    pub days_overdue: i64,
    /// Who is assigned to her (empty: nobody, which is itself a finding).
    pub caseworkers: Vec<String>,
}

/// The team's overdue follow-ups, oldest first (at most `limit`), and how many there are in
/// all. For managers of the organisation.
pub async fn team_overdue(
    db: &Db,
    user: &User,
    today: NaiveDate,
    limit: u32,
) -> Result<(Vec<OverdueItem>, i64), StoreError> {
    require_manager(user)?;
    let org = user.org_id.as_uuid();
    // Every survivor belongs to the one organisation that runs the instance (partners cannot
    // register survivors), so the count needs no join: it stays inside the partial index.
    let total: i64 = on_pool!(db, pool => sqlx::query_scalar(
        "SELECT count(*) FROM follow_ups WHERE done_on IS NULL AND cancelled_at IS NULL AND due_on < $1",
    )
    .bind(today)
    .fetch_one(pool)
    .await?);
    // One page of overdue follow-ups with who is assigned to each (one row per assignee).
    #[allow(clippy::type_complexity)]
    let rows: Vec<(Uuid, Uuid, String, String, NaiveDate, Option<String>)> = on_pool!(db, pool => sqlx::query_as(
        "SELECT p.fid, p.sid, p.reference, p.kind, p.due_on, u.display_name FROM (
             SELECT f.id AS fid, s.id AS sid, s.reference, f.kind, f.due_on
             FROM follow_ups f JOIN survivors s ON s.id = f.survivor_id
             WHERE f.done_on IS NULL AND f.cancelled_at IS NULL AND f.due_on < $1 AND s.owner_org = $2
             ORDER BY f.due_on, s.reference LIMIT $3) p
         LEFT JOIN survivor_assignments a ON a.survivor_id = p.sid
         LEFT JOIN users u ON u.id = a.user_id
         ORDER BY p.due_on, p.reference, p.fid, u.display_name",
    )
    .bind(today)
    .bind(org)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?);
    let mut out: Vec<OverdueItem> = Vec::with_capacity(rows.len());
    for (fid, sid, reference, kind, due_on, caseworker) in rows {
        if let Some(last) = out.last_mut().filter(|item| item.follow_up == fid) {
            last.caseworkers.extend(caseworker);
            continue;
        }
        out.push(OverdueItem {
            follow_up: fid,
            survivor: SurvivorId::from_uuid(sid),
            reference,
            kind: FollowUpKind::parse(&kind)?,
            due_on,
            days_overdue: (today - due_on).num_days(),
            caseworkers: caseworker.into_iter().collect(),
        });
    }
    Ok((out, total))
}

/// Moves her from one caseworker to another (managers only; audited by the survivor store).
/// The new caseworker must be an active aftercare worker of the organisation.
pub async fn reassign(
    db: &Db,
    user: &User,
    ctx: &RequestContext,
    id: SurvivorId,
    to: UserId,
) -> Result<(), StoreError> {
    require_manager(user)?;
    let found: Option<(Uuid, i64)> = on_pool!(db, pool => sqlx::query_as(
        "SELECT u.org_id, (SELECT count(*) FROM user_roles r WHERE r.user_id = u.id AND r.role = 'aftercare')
         FROM users u WHERE u.id = $1 AND u.disabled_at IS NULL",
    )
    .bind(to.as_uuid())
    .fetch_optional(pool)
    .await?);
    match found {
        Some((org, aftercare)) if org == user.org_id.as_uuid() && aftercare > 0 => {}
        _ => {
            return Err(ValidationError::new(
                "to",
                "choose an active aftercare caseworker of your organisation",
            )
            .into())
        }
    }
    crate::survivors::reassign(db, user, ctx, id, &[to]).await
}
