//! Legal cases: one per prosecution. Suspects, charges, the survivors who complain or
//! testify and their informed choices, stages, hearings and accompaniment, testimony
//! preparation, deadlines and outcomes. Evidence lives in [`crate::evidence`].
//!
//! Who may do what is `haven_core::legal::CaseAccess`: lawyers and managers work cases,
//! investigators see suspects, stages and evidence (never her decisions, sessions or
//! statements), aftercare staff see only the hearings of survivors assigned to them, and
//! partner staff, administrators and auditors see nothing. A case the user may not see is
//! "not found". Every read and write is audited in the same transaction as the data.
//!
//! Free text about people (suspects' names and aliases, what was explained to her, what a
//! preparation session covered) is sealed with the case's own data key.

// Rows are decoded as tuples next to the query that names their columns; actions take the
// acting user, the audit context and the case as separate arguments, like the rest of the store.
#![allow(clippy::type_complexity, clippy::too_many_arguments)]

use crate::clock::{new_id, now};
use crate::crypto::{DataKey, Keyring, Sealed};
use crate::error::conflict_on_unique;
use crate::survivors;
use crate::users::User;
use crate::{on_pool, on_tx, Db, StoreError, Tx};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use haven_core::legal::{
    self, Attendance, Capacity, CaseAccess, InformedDecision, Participation, Stage, SuspectRole,
};
use haven_core::policy::Action;
use haven_core::{FieldClass, OrgKind, Reference, RequestContext, SurvivorField, SurvivorId};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use uuid::Uuid;

/// How far ahead reminders look.
pub const REMINDER_WINDOW: Duration = Duration::days(7);

macro_rules! exec {
    ($tx:expr, $query:expr) => {
        on_tx!($tx, conn => $query.execute(conn).await.map(|r| r.rows_affected()))
    };
}
pub(crate) use exec;

/// What the user may do with legal cases.
pub fn access(user: &User) -> CaseAccess {
    CaseAccess::of(&user.roles, user.org_kind == OrgKind::Own)
}

fn refuse() -> StoreError {
    StoreError::Forbidden("your role does not work on legal cases".to_owned())
}

pub(crate) async fn audit(
    tx: &mut Tx,
    ctx: &RequestContext,
    action: &str,
    entity: &str,
    id: Uuid,
    fields: &[&str],
) -> Result<(), StoreError> {
    crate::audit::append(
        tx,
        ctx,
        &crate::audit::AuditRecord {
            action,
            entity,
            entity_id: Some(id.to_string()),
            fields,
            reason: None,
        },
    )
    .await
}

/// Audits a read in a transaction of its own.
pub(crate) async fn audit_read(
    db: &Db,
    ctx: &RequestContext,
    action: &str,
    entity: &str,
    id: Uuid,
    fields: &[&str],
) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    audit(&mut tx, ctx, action, entity, id, fields).await?;
    tx.commit().await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct CaseRow {
    pub(crate) id: Uuid,
    pub(crate) reference: String,
    pub(crate) title: String,
    pub(crate) owner_org: Uuid,
    pub(crate) intervention_id: Option<Uuid>,
    pub(crate) court: String,
    pub(crate) prosecutor: String,
    pub(crate) judge: String,
    pub(crate) master_key_id: Uuid,
    pub(crate) wrapped_key: Vec<u8>,
    pub(crate) created_at: DateTime<Utc>,
}

const CASE_COLUMNS: &str = "id, reference, title, owner_org, intervention_id, court, prosecutor, \
     judge, master_key_id, wrapped_key, created_at";

/// The case, when `user` may see it (any access but none, same organisation).
pub(crate) async fn visible_case(
    db: &Db,
    user: &User,
    id: Uuid,
    needed: fn(CaseAccess) -> bool,
) -> Result<CaseRow, StoreError> {
    let level = access(user);
    if !level.sees_case() {
        return Err(StoreError::NotFound("legal case"));
    }
    let sql = format!("SELECT {CASE_COLUMNS} FROM legal_cases WHERE id = $1");
    let row: Option<CaseRow> =
        on_pool!(db, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?);
    let row = row
        .filter(|r| r.owner_org == user.org_id.as_uuid())
        .ok_or(StoreError::NotFound("legal case"))?;
    if !needed(level) {
        return Err(refuse());
    }
    Ok(row)
}

pub(crate) fn case_key(keyring: &Keyring, row: &CaseRow) -> Result<DataKey, StoreError> {
    keyring
        .unwrap(row.master_key_id, &row.wrapped_key, row.id)
        .map_err(|e| StoreError::Internal(format!("legal case {}: {e}", row.id)))
}

/// Her own data key, for text about her in legal work (sealed with it, not the case key, so
/// erasing her record makes that text unreadable too). An erased record has none: nothing
/// more can be recorded about her.
async fn her_key(db: &Db, keyring: &Keyring, survivor: SurvivorId) -> Result<DataKey, StoreError> {
    survivors::data_key(db, keyring, survivor.as_uuid())
        .await?
        .ok_or_else(|| {
            StoreError::Conflict(
                "her record was erased: nothing more can be recorded about her".to_owned(),
            )
        })
}

/// The data keys of the survivors linked to a case, in one query; an erased survivor has
/// none, so text about her cannot be opened and is not shown.
async fn case_survivor_keys(
    db: &Db,
    keyring: &Keyring,
    case_id: Uuid,
) -> Result<HashMap<Uuid, DataKey>, StoreError> {
    let rows: Vec<(Uuid, Uuid, Vec<u8>)> = on_pool!(db, pool => sqlx::query_as(
        "SELECT k.survivor_id, k.master_key_id, k.wrapped_key FROM survivor_keys k
         JOIN legal_case_survivors cs ON cs.survivor_id = k.survivor_id
         WHERE cs.case_id = $1 AND k.wrapped_key IS NOT NULL")
        .bind(case_id)
        .fetch_all(pool)
        .await?);
    let mut keys = HashMap::with_capacity(rows.len());
    for (survivor, key_id, wrapped) in rows {
        let key = keyring
            .unwrap(key_id, &wrapped, survivor)
            .map_err(|e| StoreError::Internal(format!("survivor {survivor}: {e}")))?;
        keys.insert(survivor, key);
    }
    Ok(keys)
}

fn open_text(key: &DataKey, record: Uuid, field: &str, bytes: Vec<u8>) -> String {
    key.open(record, field, &Sealed::new(bytes))
        .unwrap_or_else(|_| "[unreadable]".to_owned())
}

/// A new case as typed by a lawyer.
#[derive(Debug, Clone, Default)]
pub struct NewCase {
    pub reference: String,
    pub title: String,
    pub court: String,
    pub prosecutor: String,
    pub judge: String,
    pub intervention_id: Option<Uuid>,
}

fn optional_text(field: &'static str, value: &str, max: usize) -> Result<String, StoreError> {
    if value.trim().is_empty() {
        Ok(String::new())
    } else {
        Ok(legal::text(field, value, max)?)
    }
}

/// Opens a case; its creator becomes one of its lawyers.
#[tracing::instrument(skip_all, fields(user = %user.id))]
pub async fn create_case(
    db: &Db,
    keyring: &Keyring,
    user: &User,
    ctx: &RequestContext,
    new: &NewCase,
) -> Result<Uuid, StoreError> {
    if !access(user).works_case() {
        return Err(refuse());
    }
    let reference = Reference::parse(&new.reference)?;
    let title = legal::text("title", &new.title, 200)?;
    let court = optional_text("court", &new.court, 200)?;
    let prosecutor = optional_text("prosecutor", &new.prosecutor, 200)?;
    let judge = optional_text("judge", &new.judge, 200)?;
    let id = new_id();
    let at = now();
    let (key_id, wrapped) = keyring.wrap(&DataKey::generate(), id);
    let mut tx = db.begin().await?;
    exec!(&mut tx, sqlx::query(
        "INSERT INTO legal_cases (id, reference, title, owner_org, intervention_id, court, prosecutor, judge,
             master_key_id, wrapped_key, created_by, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)")
        .bind(id)
        .bind(reference.as_str())
        .bind(&title)
        .bind(user.org_id.as_uuid())
        .bind(new.intervention_id)
        .bind(&court)
        .bind(&prosecutor)
        .bind(&judge)
        .bind(key_id)
        .bind(&wrapped)
        .bind(user.id.as_uuid())
        .bind(at))
    .map_err(|e| {
        conflict_on_unique(
            e,
            &format!("the case reference {} is already in use", reference.as_str()),
        )
    })?;
    if user.roles.contains(haven_core::Role::Legal) {
        exec!(
            &mut tx,
            sqlx::query("INSERT INTO legal_case_lawyers (case_id, user_id) VALUES ($1, $2)")
                .bind(id)
                .bind(user.id.as_uuid())
        )?;
    }
    audit(
        &mut tx,
        ctx,
        "legal_case.create",
        "legal_case",
        id,
        &["reference", "title", "court", "prosecutor", "judge"],
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// A line of the case list.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct CaseSummary {
    pub id: Uuid,
    pub reference: String,
    pub title: String,
    pub court: String,
    pub created_at: DateTime<Utc>,
}

/// One page of cases, oldest first.
pub async fn list_cases(
    db: &Db,
    user: &User,
    after: Option<Uuid>,
    limit: u32,
) -> Result<Vec<CaseSummary>, StoreError> {
    if !access(user).sees_case() {
        return Err(refuse());
    }
    Ok(on_pool!(db, pool => sqlx::query_as(
        "SELECT id, reference, title, court, created_at FROM legal_cases
         WHERE owner_org = $1 AND id > $2 ORDER BY id LIMIT $3",
    )
    .bind(user.org_id.as_uuid())
    .bind(after.unwrap_or(Uuid::nil()))
    .bind(i64::from(limit.clamp(1, 200)))
    .fetch_all(pool)
    .await?))
}

/// Adds a suspect: name, aliases (sealed) and role in the crime.
pub async fn add_suspect(
    db: &Db,
    keyring: &Keyring,
    user: &User,
    ctx: &RequestContext,
    case_id: Uuid,
    name: &str,
    aliases: &str,
    role: SuspectRole,
) -> Result<Uuid, StoreError> {
    let case = visible_case(db, user, case_id, CaseAccess::works_case).await?;
    let name = legal::text("name", name, 200)?;
    let aliases = if aliases.trim().is_empty() {
        String::new()
    } else {
        legal::text("aliases", aliases, 500)?
    };
    let key = case_key(keyring, &case)?;
    let id = new_id();
    let mut tx = db.begin().await?;
    exec!(&mut tx, sqlx::query(
        "INSERT INTO legal_suspects (id, case_id, sealed_name, sealed_aliases, role, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(id)
        .bind(case.id)
        .bind(key.seal(id, "name", &name).as_bytes())
        .bind(key.seal(id, "aliases", &aliases).as_bytes())
        .bind(role.as_str())
        .bind(now()))?;
    audit(
        &mut tx,
        ctx,
        "legal_case.suspect.add",
        "legal_case",
        case.id,
        &["name", "aliases", "role"],
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Adds a charge under an article of the 2008 law, optionally against one suspect.
pub async fn add_charge(
    db: &Db,
    user: &User,
    ctx: &RequestContext,
    case_id: Uuid,
    article: &str,
    suspect: Option<Uuid>,
) -> Result<Uuid, StoreError> {
    let case = visible_case(db, user, case_id, CaseAccess::works_case).await?;
    let article = legal::article(article)?;
    if let Some(suspect) = suspect {
        ensure_suspect(db, case.id, suspect).await?;
    }
    let id = new_id();
    let mut tx = db.begin().await?;
    exec!(&mut tx, sqlx::query(
        "INSERT INTO legal_charges (id, case_id, suspect_id, article, added_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(id)
        .bind(case.id)
        .bind(suspect)
        .bind(article.code)
        .bind(now()))?;
    audit(
        &mut tx,
        ctx,
        "legal_case.charge.add",
        "legal_case",
        case.id,
        &["article"],
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

async fn ensure_suspect(db: &Db, case_id: Uuid, suspect: Uuid) -> Result<(), StoreError> {
    let found: i64 = on_pool!(db, pool => sqlx::query_scalar(
        "SELECT count(*) FROM legal_suspects WHERE id = $1 AND case_id = $2")
        .bind(suspect)
        .bind(case_id)
        .fetch_one(pool)
        .await?);
    if found == 0 {
        return Err(haven_core::ValidationError::new(
            "suspect_id",
            "is not a suspect of this case",
        )
        .into());
    }
    Ok(())
}

/// Links a survivor the lawyer may see as complainant or witness.
pub async fn link_survivor(
    db: &Db,
    user: &User,
    ctx: &RequestContext,
    case_id: Uuid,
    survivor: SurvivorId,
    capacity: Capacity,
) -> Result<(), StoreError> {
    let case = visible_case(db, user, case_id, CaseAccess::works_case).await?;
    survivors::ensure_may(db, user, survivor, Action::See)
        .await
        .map_err(|_| {
            haven_core::ValidationError::new(
                "survivor_id",
                "no survivor you may see has this identifier (she must consent to share with the legal team first)",
            )
        })?;
    let mut tx = db.begin().await?;
    exec!(&mut tx, sqlx::query(
        "INSERT INTO legal_case_survivors (case_id, survivor_id, capacity, added_at) VALUES ($1, $2, $3, $4)")
        .bind(case.id)
        .bind(survivor.as_uuid())
        .bind(capacity.as_str())
        .bind(now()))
    .map_err(|e| conflict_on_unique(e, "she is already part of this case"))?;
    audit(
        &mut tx,
        ctx,
        "legal_case.survivor.link",
        "legal_case",
        case.id,
        &["survivor_id", "capacity"],
    )
    .await?;
    tx.commit().await
}

async fn linked(db: &Db, case_id: Uuid, survivor: SurvivorId) -> Result<(), StoreError> {
    let n: i64 = on_pool!(db, pool => sqlx::query_scalar(
        "SELECT count(*) FROM legal_case_survivors WHERE case_id = $1 AND survivor_id = $2")
        .bind(case_id)
        .bind(survivor.as_uuid())
        .fetch_one(pool)
        .await?);
    if n == 0 {
        return Err(StoreError::NotFound("survivor in this case"));
    }
    Ok(())
}

/// Her current decision in a case, if any was recorded.
async fn current_decision(
    db: &Db,
    case_id: Uuid,
    survivor: Uuid,
) -> Result<Option<(Participation, DateTime<Utc>)>, StoreError> {
    let row: Option<(String, DateTime<Utc>)> = on_pool!(db, pool => sqlx::query_as(
        "SELECT decision, decided_at FROM legal_decisions WHERE case_id = $1 AND survivor_id = $2
         ORDER BY decided_at DESC, id DESC LIMIT 1")
        .bind(case_id)
        .bind(survivor)
        .fetch_optional(pool)
        .await?);
    Ok(row.and_then(|(d, at)| Participation::parse(&d).ok().map(|p| (p, at))))
}

/// Refuses any contact about the case once she has withdrawn.
async fn ensure_not_withdrawn(
    db: &Db,
    case_id: Uuid,
    survivor: SurvivorId,
) -> Result<(), StoreError> {
    if let Some((Participation::Withdrawn, at)) =
        current_decision(db, case_id, survivor.as_uuid()).await?
    {
        return Err(StoreError::Conflict(format!(
            "she withdrew from this case on {}: she must not be contacted about it again",
            at.format("%Y-%m-%d")
        )));
    }
    Ok(())
}

/// Whether she is a minor, when the user may read her date of birth (not audited here: the
/// caller reads her record through `survivors::read`, which is).
fn minor_from(view: &survivors::SurvivorView, today: NaiveDate) -> Option<bool> {
    view.fields
        .get(&SurvivorField::DateOfBirth)
        .and_then(|dob| NaiveDate::parse_from_str(dob, "%Y-%m-%d").ok())
        .map(|dob| legal::is_minor(dob, today))
}

/// Records her informed decision (a new entry; earlier ones stay as history). A minor's
/// decision needs her guardian named. Whether she is a minor is read from her record.
#[allow(clippy::too_many_arguments)]
pub async fn record_decision(
    db: &Db,
    keyring: &Keyring,
    user: &User,
    ctx: &RequestContext,
    case_id: Uuid,
    survivor: SurvivorId,
    decision: &InformedDecision,
    minor_if_unknown: bool,
) -> Result<Uuid, StoreError> {
    let case = visible_case(db, user, case_id, CaseAccess::works_case).await?;
    linked(db, case.id, survivor).await?;
    let at = now();
    let minor = match survivors::read(db, keyring, user, ctx, survivor).await {
        Ok(view) => minor_from(&view, crate::clock::team_date(at)).unwrap_or(minor_if_unknown),
        Err(_) => minor_if_unknown,
    };
    let checked = legal::check_decision(decision, minor)?;
    let key = her_key(db, keyring, survivor).await?;
    let id = new_id();
    let detail = serde_json::json!({
        "explained_by": checked.explained_by,
        "explained": checked.explained,
        "guardian": checked.guardian,
    })
    .to_string();
    let mut tx = db.begin().await?;
    exec!(&mut tx, sqlx::query(
        "INSERT INTO legal_decisions (id, case_id, survivor_id, decision, language, sealed_detail, decided_at, recorded_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
        .bind(id)
        .bind(case.id)
        .bind(survivor.as_uuid())
        .bind(checked.decision.as_str())
        .bind(&checked.language)
        .bind(key.seal(id, "detail", &detail).as_bytes())
        .bind(at)
        .bind(user.id.as_uuid()))?;
    audit(
        &mut tx,
        ctx,
        &format!("legal_case.decision.{}", checked.decision.as_str()),
        "legal_case",
        case.id,
        &[
            "survivor_id",
            "decision",
            "language",
            "explained_by",
            "explained",
            "guardian",
        ],
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Records a stage, refused when out of order (a verdict before a trial).
pub async fn record_stage(
    db: &Db,
    keyring: &Keyring,
    user: &User,
    ctx: &RequestContext,
    case_id: Uuid,
    stage: Stage,
    on: NaiveDate,
    note: &str,
) -> Result<Uuid, StoreError> {
    let case = visible_case(db, user, case_id, CaseAccess::works_case).await?;
    let note = optional_text("note", note, 2000)?;
    let recorded = stages(db, None, case.id).await?;
    let history: Vec<(Stage, NaiveDate)> =
        recorded.iter().map(|s| (s.stage, s.occurred_on)).collect();
    legal::check_stage(&history, stage, on)?;
    let key = case_key(keyring, &case)?;
    let id = new_id();
    let mut tx = db.begin().await?;
    exec!(&mut tx, sqlx::query(
        "INSERT INTO legal_stages (id, case_id, stage, occurred_on, sealed_note, recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .bind(id)
        .bind(case.id)
        .bind(stage.as_str())
        .bind(on)
        .bind(key.seal(id, "note", &note).into_bytes())
        .bind(user.id.as_uuid())
        .bind(now()))?;
    audit(
        &mut tx,
        ctx,
        "legal_case.stage.add",
        "legal_case",
        case.id,
        &["stage", "occurred_on", "note"],
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// A recorded stage.
#[derive(Debug, Clone, Serialize)]
pub struct StageView {
    pub id: Uuid,
    pub stage: Stage,
    pub occurred_on: NaiveDate,
    pub note: String,
}

/// The stages of a case; their notes are opened when the case key is given (checks of the
/// order need none).
async fn stages(
    db: &Db,
    key: Option<&DataKey>,
    case_id: Uuid,
) -> Result<Vec<StageView>, StoreError> {
    let rows: Vec<(Uuid, String, NaiveDate, Vec<u8>)> = on_pool!(db, pool => sqlx::query_as(
        "SELECT id, stage, occurred_on, sealed_note FROM legal_stages WHERE case_id = $1 ORDER BY occurred_on, recorded_at")
        .bind(case_id)
        .fetch_all(pool)
        .await?);
    Ok(rows
        .into_iter()
        .filter_map(|(id, stage, occurred_on, note)| {
            Stage::parse(&stage).ok().map(|stage| StageView {
                id,
                stage,
                occurred_on,
                note: key
                    .map(|k| open_text(k, id, "note", note))
                    .unwrap_or_default(),
            })
        })
        .collect())
}

/// A hearing to schedule.
#[derive(Debug, Clone)]
pub struct NewHearing {
    pub stage: Stage,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub court: String,
    pub room: String,
}

pub async fn schedule_hearing(
    db: &Db,
    keyring: &Keyring,
    user: &User,
    ctx: &RequestContext,
    case_id: Uuid,
    new: &NewHearing,
) -> Result<Uuid, StoreError> {
    schedule_hearing_with_plans(db, keyring, user, ctx, case_id, new, &[]).await
}

/// An accompaniment plan given with a new hearing.
#[derive(Debug, Clone)]
pub struct NewPlan {
    pub survivor: SurvivorId,
    pub companions: String,
    pub transport: String,
    pub separate_waiting_room: bool,
}

/// Schedules a hearing together with the accompaniment plans for it, in one transaction:
/// everything is checked first (her link to the case, her choice, the texts), so a refused
/// plan leaves no hearing behind.
pub async fn schedule_hearing_with_plans(
    db: &Db,
    keyring: &Keyring,
    user: &User,
    ctx: &RequestContext,
    case_id: Uuid,
    new: &NewHearing,
    plans: &[NewPlan],
) -> Result<Uuid, StoreError> {
    let case = visible_case(db, user, case_id, CaseAccess::works_case).await?;
    let court = legal::text("court", &new.court, 200)?;
    let room = optional_text("room", &new.room, 100)?;
    if new.ends_at <= new.starts_at {
        return Err(haven_core::ValidationError::new(
            "ends_at",
            "the hearing must end after it starts",
        )
        .into());
    }
    let mut checked = Vec::with_capacity(plans.len());
    for plan in plans {
        if checked
            .iter()
            .any(|c: &(SurvivorId, DataKey, String, String, bool)| c.0 == plan.survivor)
        {
            return Err(haven_core::ValidationError::new(
                "survivor_id",
                "give one accompaniment plan per survivor",
            )
            .into());
        }
        linked(db, case.id, plan.survivor).await?;
        ensure_not_withdrawn(db, case.id, plan.survivor).await?;
        checked.push((
            plan.survivor,
            her_key(db, keyring, plan.survivor).await?,
            legal::text("companions", &plan.companions, 500)?,
            legal::text("transport", &plan.transport, 500)?,
            plan.separate_waiting_room,
        ));
    }
    let id = new_id();
    let at = now();
    let mut tx = db.begin().await?;
    exec!(&mut tx, sqlx::query(
        "INSERT INTO legal_hearings (id, case_id, stage, starts_at, ends_at, court, room, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
        .bind(id)
        .bind(case.id)
        .bind(new.stage.as_str())
        .bind(new.starts_at)
        .bind(new.ends_at)
        .bind(&court)
        .bind(&room)
        .bind(at))?;
    audit(
        &mut tx,
        ctx,
        "legal_case.hearing.add",
        "legal_case",
        case.id,
        &["stage", "starts_at", "ends_at", "court", "room"],
    )
    .await?;
    for (survivor, key, companions, transport, separate) in &checked {
        exec!(&mut tx, sqlx::query(
            "INSERT INTO legal_accompaniment (hearing_id, survivor_id, sealed_companions, sealed_transport, separate_waiting_room, updated_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(id)
            .bind(survivor.as_uuid())
            .bind(key.seal(id, "companions", companions).into_bytes())
            .bind(key.seal(id, "transport", transport).into_bytes())
            .bind(*separate)
            .bind(at))?;
        audit(
            &mut tx,
            ctx,
            "legal_case.accompaniment.set",
            "legal_case",
            case.id,
            &[
                "hearing_id",
                "survivor_id",
                "companions",
                "transport",
                "separate_waiting_room",
            ],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(id)
}

/// Who goes with her to a hearing, how she travels, and whether a waiting room apart from
/// the accused is arranged.
#[derive(Debug, Clone, Serialize)]
pub struct Accompaniment {
    pub survivor_id: Uuid,
    pub reference: String,
    pub companions: String,
    pub transport: String,
    pub separate_waiting_room: bool,
}

#[allow(clippy::too_many_arguments)]
pub async fn plan_accompaniment(
    db: &Db,
    keyring: &Keyring,
    user: &User,
    ctx: &RequestContext,
    case_id: Uuid,
    hearing_id: Uuid,
    survivor: SurvivorId,
    companions: &str,
    transport: &str,
    separate_waiting_room: bool,
) -> Result<(), StoreError> {
    let case = visible_case(db, user, case_id, CaseAccess::works_case).await?;
    let n: i64 = on_pool!(db, pool => sqlx::query_scalar(
        "SELECT count(*) FROM legal_hearings WHERE id = $1 AND case_id = $2")
        .bind(hearing_id)
        .bind(case.id)
        .fetch_one(pool)
        .await?);
    if n == 0 {
        return Err(StoreError::NotFound("hearing"));
    }
    linked(db, case.id, survivor).await?;
    ensure_not_withdrawn(db, case.id, survivor).await?;
    let companions = legal::text("companions", companions, 500)?;
    let transport = legal::text("transport", transport, 500)?;
    let key = her_key(db, keyring, survivor).await?;
    let sql = crate::dialect::upsert(
        db.backend(),
        "legal_accompaniment (hearing_id, survivor_id, sealed_companions, sealed_transport, separate_waiting_room, updated_at) VALUES ($1, $2, $3, $4, $5, $6)",
        "hearing_id, survivor_id",
        "sealed_companions = $3, sealed_transport = $4, separate_waiting_room = $5, updated_at = $6",
    );
    let mut tx = db.begin().await?;
    exec!(
        &mut tx,
        sqlx::query(&sql)
            .bind(hearing_id)
            .bind(survivor.as_uuid())
            .bind(key.seal(hearing_id, "companions", &companions).into_bytes())
            .bind(key.seal(hearing_id, "transport", &transport).into_bytes())
            .bind(separate_waiting_room)
            .bind(now())
    )?;
    audit(
        &mut tx,
        ctx,
        "legal_case.accompaniment.set",
        "legal_case",
        case.id,
        &[
            "hearing_id",
            "survivor_id",
            "companions",
            "transport",
            "separate_waiting_room",
        ],
    )
    .await?;
    tx.commit().await
}

/// A testimony preparation session or a court visit.
#[allow(clippy::too_many_arguments)]
pub async fn record_session(
    db: &Db,
    keyring: &Keyring,
    user: &User,
    ctx: &RequestContext,
    case_id: Uuid,
    survivor: SurvivorId,
    kind: &str,
    held_at: DateTime<Utc>,
    staff: &str,
    covered: &str,
) -> Result<Uuid, StoreError> {
    let case = visible_case(db, user, case_id, CaseAccess::works_case).await?;
    if !matches!(kind, "preparation" | "court_visit") {
        return Err(
            haven_core::ValidationError::new("kind", "choose preparation or court_visit").into(),
        );
    }
    linked(db, case.id, survivor).await?;
    ensure_not_withdrawn(db, case.id, survivor).await?;
    let staff = legal::text("staff", staff, 300)?;
    let covered = legal::text("covered", covered, 5000)?;
    let key = her_key(db, keyring, survivor).await?;
    let id = new_id();
    let mut tx = db.begin().await?;
    exec!(&mut tx, sqlx::query(
        "INSERT INTO legal_sessions (id, case_id, survivor_id, kind, held_at, sealed_staff, sealed_covered, recorded_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
        .bind(id)
        .bind(case.id)
        .bind(survivor.as_uuid())
        .bind(kind)
        .bind(held_at)
        .bind(key.seal(id, "staff", &staff).as_bytes())
        .bind(key.seal(id, "covered", &covered).as_bytes())
        .bind(user.id.as_uuid()))?;
    audit(
        &mut tx,
        ctx,
        "legal_case.session.add",
        "legal_case",
        case.id,
        &["survivor_id", "kind", "held_at", "staff", "covered"],
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// A deadline set by the court.
pub async fn add_deadline(
    db: &Db,
    keyring: &Keyring,
    user: &User,
    ctx: &RequestContext,
    case_id: Uuid,
    title: &str,
    due_at: DateTime<Utc>,
) -> Result<Uuid, StoreError> {
    let case = visible_case(db, user, case_id, CaseAccess::works_case).await?;
    let title = legal::text("title", title, 300)?;
    let key = case_key(keyring, &case)?;
    let id = new_id();
    let mut tx = db.begin().await?;
    exec!(&mut tx, sqlx::query(
        "INSERT INTO legal_deadlines (id, case_id, sealed_title, due_at, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(id)
        .bind(case.id)
        .bind(key.seal(id, "title", &title).into_bytes())
        .bind(due_at)
        .bind(now()))?;
    audit(
        &mut tx,
        ctx,
        "legal_case.deadline.add",
        "legal_case",
        case.id,
        &["title", "due_at"],
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// A judgment against one accused.
#[derive(Debug, Clone)]
pub struct NewOutcome {
    pub suspect_id: Uuid,
    pub convicted: bool,
    pub sentence_months: Option<i64>,
    pub compensation_ordered: i64,
    pub compensation_paid: i64,
    pub decided_on: NaiveDate,
}

pub async fn record_outcome(
    db: &Db,
    user: &User,
    ctx: &RequestContext,
    case_id: Uuid,
    new: &NewOutcome,
) -> Result<Uuid, StoreError> {
    let case = visible_case(db, user, case_id, CaseAccess::works_case).await?;
    ensure_suspect(db, case.id, new.suspect_id).await?;
    let invalid = |field, message| Err(haven_core::ValidationError::new(field, message).into());
    if !stages(db, None, case.id)
        .await?
        .iter()
        .any(|s| s.stage == Stage::Verdict)
    {
        return invalid("result", "record the verdict stage before its outcome");
    }
    if new.compensation_ordered < 0 || new.compensation_paid < 0 {
        return invalid("compensation", "amounts cannot be negative");
    }
    if new
        .sentence_months
        .is_some_and(|m| !(0..=1200).contains(&m))
    {
        return invalid("sentence_months", "must be between 0 and 1200 months");
    }
    if !new.convicted && new.sentence_months.is_some() {
        return invalid("sentence_months", "an acquittal carries no sentence");
    }
    let id = new_id();
    let mut tx = db.begin().await?;
    exec!(&mut tx, sqlx::query(
        "INSERT INTO legal_outcomes (id, case_id, suspect_id, result, sentence_months, compensation_ordered, compensation_paid, decided_on, recorded_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
        .bind(id)
        .bind(case.id)
        .bind(new.suspect_id)
        .bind(if new.convicted { "convicted" } else { "acquitted" })
        .bind(new.sentence_months)
        .bind(new.compensation_ordered)
        .bind(new.compensation_paid)
        .bind(new.decided_on)
        .bind(now()))?;
    audit(
        &mut tx,
        ctx,
        "legal_case.outcome.add",
        "legal_case",
        case.id,
        &[
            "suspect_id",
            "result",
            "sentence_months",
            "compensation_ordered",
            "compensation_paid",
        ],
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

// ---- The case file ----

#[derive(Debug, Clone, Serialize)]
pub struct SuspectView {
    pub id: Uuid,
    pub name: String,
    pub aliases: String,
    pub role: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ChargeView {
    pub id: Uuid,
    pub article: String,
    pub title: String,
    pub suspect_id: Option<Uuid>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DecisionView {
    pub decision: Participation,
    pub language: String,
    pub explained_by: String,
    pub explained: String,
    pub guardian: Option<String>,
    pub decided_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CaseSurvivor {
    pub survivor_id: Uuid,
    pub reference: String,
    pub capacity: String,
    /// Her record was erased: nothing about her (plans, sessions, what she was told) can be
    /// read any more, and the case file says so instead.
    pub erased: bool,
    /// Her current choice (hidden from investigators).
    pub participation: Option<Participation>,
    pub withdrawn: bool,
    /// Her name, when she shared it with the legal team and has not withdrawn.
    pub name: Option<String>,
    pub minor: Option<bool>,
    /// Every decision, oldest first (lawyers and managers only).
    pub decisions: Vec<DecisionView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct HearingView {
    pub id: Uuid,
    pub stage: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub court: String,
    pub room: String,
    pub accompaniment: Vec<Accompaniment>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SessionView {
    pub id: Uuid,
    pub reference: String,
    pub kind: String,
    pub held_at: DateTime<Utc>,
    pub staff: String,
    pub covered: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct DeadlineView {
    pub kind: String,
    pub title: String,
    pub due: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct OutcomeView {
    pub suspect_id: Uuid,
    pub result: String,
    pub sentence_months: Option<i64>,
    pub compensation_ordered: i64,
    pub compensation_paid: i64,
    pub decided_on: NaiveDate,
}

#[derive(Debug, Clone, Serialize)]
pub struct TimelineEntry {
    pub at: DateTime<Utc>,
    /// `stage`, `hearing`, `session`, `decision`, `evidence`.
    pub kind: String,
    /// The stage name, the court, the session kind, the decision, or the evidence title.
    pub label: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct NoContactView {
    pub survivor_reference: String,
    pub accused_case: String,
    pub court: String,
    pub hearing_id: Uuid,
}

/// The whole case file as `user` may see it.
#[derive(Debug, Clone, Serialize)]
pub struct CaseFile {
    pub id: Uuid,
    pub reference: String,
    pub title: String,
    pub intervention_id: Option<Uuid>,
    pub court: String,
    pub prosecutor: String,
    pub judge: String,
    pub created_at: DateTime<Utc>,
    /// True for lawyers and managers; investigators get a partial view.
    pub full_view: bool,
    /// References of survivors who withdrew: never contact them about this case.
    pub withdrawn: Vec<String>,
    pub lawyers: Vec<String>,
    pub suspects: Vec<SuspectView>,
    pub charges: Vec<ChargeView>,
    pub survivors: Vec<CaseSurvivor>,
    pub stages: Vec<StageView>,
    pub hearings: Vec<HearingView>,
    pub sessions: Vec<SessionView>,
    pub deadlines: Vec<DeadlineView>,
    pub outcomes: Vec<OutcomeView>,
    pub evidence: Vec<crate::evidence::EvidenceSummary>,
    pub missing: Vec<legal::Missing>,
    pub no_contact: Vec<NoContactView>,
    pub timeline: Vec<TimelineEntry>,
}

/// Reads the case file. Survivors' records are read through [`survivors::read`], which
/// applies her consent field by field and audits the read.
#[tracing::instrument(skip_all, fields(user = %user.id, case = %case_id))]
pub async fn case_file(
    db: &Db,
    keyring: &Keyring,
    user: &User,
    ctx: &RequestContext,
    case_id: Uuid,
) -> Result<CaseFile, StoreError> {
    let case = visible_case(db, user, case_id, CaseAccess::sees_case).await?;
    let full = access(user).works_case();
    let key = case_key(keyring, &case)?;
    let at = now();

    let lawyers: Vec<String> = on_pool!(db, pool => sqlx::query_scalar(
        "SELECT u.display_name FROM legal_case_lawyers l JOIN users u ON u.id = l.user_id WHERE l.case_id = $1 ORDER BY u.display_name")
        .bind(case.id)
        .fetch_all(pool)
        .await?);
    let suspect_rows: Vec<(Uuid, Vec<u8>, Vec<u8>, String)> = on_pool!(db, pool => sqlx::query_as(
        "SELECT id, sealed_name, sealed_aliases, role FROM legal_suspects WHERE case_id = $1 ORDER BY id")
        .bind(case.id)
        .fetch_all(pool)
        .await?);
    let suspects: Vec<SuspectView> = suspect_rows
        .into_iter()
        .map(|(id, name, aliases, role)| SuspectView {
            id,
            name: open_text(&key, id, "name", name),
            aliases: open_text(&key, id, "aliases", aliases),
            role,
        })
        .collect();
    let charge_rows: Vec<(Uuid, String, Option<Uuid>)> = on_pool!(db, pool => sqlx::query_as(
        "SELECT id, article, suspect_id FROM legal_charges WHERE case_id = $1 ORDER BY added_at")
        .bind(case.id)
        .fetch_all(pool)
        .await?);
    let charges: Vec<ChargeView> = charge_rows
        .into_iter()
        .map(|(id, article, suspect_id)| ChargeView {
            title: legal::article(&article)
                .map(|a| a.title.to_owned())
                .unwrap_or_default(),
            id,
            article,
            suspect_id,
        })
        .collect();

    // Survivors, her decisions and what her record tells (through her consent).
    let her_keys = case_survivor_keys(db, keyring, case.id).await?;
    let linked_rows: Vec<(Uuid, String, String)> = on_pool!(db, pool => sqlx::query_as(
        "SELECT cs.survivor_id, s.reference, cs.capacity FROM legal_case_survivors cs
         JOIN survivors s ON s.id = cs.survivor_id WHERE cs.case_id = $1 ORDER BY s.reference")
        .bind(case.id)
        .fetch_all(pool)
        .await?);
    let decision_rows: Vec<(Uuid, Uuid, String, String, Vec<u8>, DateTime<Utc>)> = on_pool!(db, pool => sqlx::query_as(
        "SELECT id, survivor_id, decision, language, sealed_detail, decided_at FROM legal_decisions
         WHERE case_id = $1 ORDER BY decided_at, id")
        .bind(case.id)
        .fetch_all(pool)
        .await?);
    let mut survivors_out = Vec::new();
    let mut withdrawn = Vec::new();
    let mut timeline = Vec::new();
    for (survivor_id, reference, capacity) in linked_rows {
        let her = her_keys.get(&survivor_id);
        let decisions: Vec<DecisionView> = decision_rows
            .iter()
            .filter(|d| d.1 == survivor_id)
            .filter_map(|(id, _, decision, language, sealed, decided_at)| {
                let her = her?;
                let detail: serde_json::Value =
                    serde_json::from_str(&open_text(her, *id, "detail", sealed.clone()))
                        .unwrap_or_default();
                let s = |k: &str| detail[k].as_str().unwrap_or_default().to_owned();
                Participation::parse(decision)
                    .ok()
                    .map(|decision| DecisionView {
                        decision,
                        language: language.clone(),
                        explained_by: s("explained_by"),
                        explained: s("explained"),
                        guardian: detail["guardian"].as_str().map(str::to_owned),
                        decided_at: *decided_at,
                    })
            })
            .collect();
        let participation = decisions.last().map(|d| d.decision);
        let is_withdrawn = participation == Some(Participation::Withdrawn);
        if is_withdrawn {
            withdrawn.push(reference.clone());
        }
        let (mut name, mut minor) = (None, None);
        if full && !is_withdrawn && her.is_some() {
            if let Ok(view) =
                survivors::read(db, keyring, user, ctx, SurvivorId::from_uuid(survivor_id)).await
            {
                name = view.fields.get(&SurvivorField::Name).cloned();
                minor = minor_from(&view, crate::clock::team_date(at));
            }
        }
        if full {
            for d in &decisions {
                timeline.push(TimelineEntry {
                    at: d.decided_at,
                    kind: "decision".into(),
                    label: format!("{reference}: {}", d.decision.as_str()),
                });
            }
        }
        survivors_out.push(CaseSurvivor {
            survivor_id,
            reference,
            capacity,
            erased: her.is_none(),
            participation: if full { participation } else { None },
            withdrawn: is_withdrawn,
            name,
            minor,
            decisions: if full { decisions } else { Vec::new() },
        });
    }

    let stage_list = stages(db, Some(&key), case.id).await?;
    for s in &stage_list {
        if let Some(t) = s.occurred_on.and_hms_opt(0, 0, 0) {
            timeline.push(TimelineEntry {
                at: t.and_utc(),
                kind: "stage".into(),
                label: s.stage.as_str().into(),
            });
        }
    }

    let hearing_rows: Vec<(Uuid, String, DateTime<Utc>, DateTime<Utc>, String, String)> = on_pool!(db, pool => sqlx::query_as(
        "SELECT id, stage, starts_at, ends_at, court, room FROM legal_hearings WHERE case_id = $1 ORDER BY starts_at")
        .bind(case.id)
        .fetch_all(pool)
        .await?);
    let plan_rows: Vec<(Uuid, Uuid, Vec<u8>, Vec<u8>, bool)> = on_pool!(db, pool => sqlx::query_as(
        "SELECT a.hearing_id, a.survivor_id, a.sealed_companions, a.sealed_transport, a.separate_waiting_room
         FROM legal_accompaniment a JOIN legal_hearings h ON h.id = a.hearing_id WHERE h.case_id = $1")
        .bind(case.id)
        .fetch_all(pool)
        .await?);
    let reference_of: HashMap<Uuid, &CaseSurvivor> =
        survivors_out.iter().map(|s| (s.survivor_id, s)).collect();
    let hearings: Vec<HearingView> = hearing_rows
        .into_iter()
        .map(|(id, stage, starts_at, ends_at, court, room)| HearingView {
            accompaniment: plan_rows
                .iter()
                .filter(|p| p.0 == id)
                .filter_map(|p| {
                    let s = reference_of.get(&p.1)?;
                    let her = her_keys.get(&p.1)?;
                    let open = |field: &str, sealed: &Vec<u8>| {
                        if full {
                            open_text(her, id, field, sealed.clone())
                        } else {
                            String::new()
                        }
                    };
                    (!s.withdrawn).then(|| Accompaniment {
                        survivor_id: p.1,
                        reference: s.reference.clone(),
                        companions: open("companions", &p.2),
                        transport: open("transport", &p.3),
                        separate_waiting_room: p.4,
                    })
                })
                .collect(),
            id,
            stage,
            starts_at,
            ends_at,
            court,
            room,
        })
        .collect();
    for h in &hearings {
        timeline.push(TimelineEntry {
            at: h.starts_at,
            kind: "hearing".into(),
            label: format!("{} {}", h.court, h.room).trim().to_owned(),
        });
    }

    let mut sessions = Vec::new();
    if full {
        let rows: Vec<(Uuid, Uuid, String, DateTime<Utc>, Vec<u8>, Vec<u8>)> = on_pool!(db, pool => sqlx::query_as(
            "SELECT id, survivor_id, kind, held_at, sealed_staff, sealed_covered FROM legal_sessions WHERE case_id = $1 ORDER BY held_at")
            .bind(case.id)
            .fetch_all(pool)
            .await?);
        for (id, survivor_id, kind, held_at, staff, covered) in rows {
            let Some(her) = her_keys.get(&survivor_id) else {
                continue;
            };
            let reference = reference_of
                .get(&survivor_id)
                .map(|s| s.reference.clone())
                .unwrap_or_default();
            timeline.push(TimelineEntry {
                at: held_at,
                kind: "session".into(),
                label: format!("{reference}: {kind}"),
            });
            sessions.push(SessionView {
                id,
                reference,
                kind,
                held_at,
                staff: open_text(her, id, "staff", staff),
                covered: open_text(her, id, "covered", covered),
            });
        }
    }

    let history: Vec<(Stage, NaiveDate)> = stage_list
        .iter()
        .map(|s| (s.stage, s.occurred_on))
        .collect();
    let mut deadlines: Vec<DeadlineView> = legal::statutory_deadlines(&history)
        .into_iter()
        .map(|d| DeadlineView {
            kind: d.kind.to_owned(),
            title: d.title,
            due: d.due,
        })
        .collect();
    let court_deadlines: Vec<(Uuid, Vec<u8>, DateTime<Utc>)> = on_pool!(db, pool => sqlx::query_as(
        "SELECT id, sealed_title, due_at FROM legal_deadlines WHERE case_id = $1 ORDER BY due_at")
        .bind(case.id)
        .fetch_all(pool)
        .await?);
    deadlines.extend(
        court_deadlines
            .into_iter()
            .map(|(id, title, due)| DeadlineView {
                kind: "court".into(),
                title: open_text(&key, id, "title", title),
                due,
            }),
    );
    deadlines.sort_by_key(|d| d.due);

    let outcome_rows: Vec<(Uuid, String, Option<i64>, i64, i64, NaiveDate)> = on_pool!(db, pool => sqlx::query_as(
        "SELECT suspect_id, result, sentence_months, compensation_ordered, compensation_paid, decided_on
         FROM legal_outcomes WHERE case_id = $1 ORDER BY decided_on")
        .bind(case.id)
        .fetch_all(pool)
        .await?);
    let outcomes = outcome_rows
        .into_iter()
        .map(
            |(suspect_id, result, sentence_months, ordered, paid, decided_on)| OutcomeView {
                suspect_id,
                result,
                sentence_months,
                compensation_ordered: ordered,
                compensation_paid: paid,
                decided_on,
            },
        )
        .collect();

    let evidence = crate::evidence::list_for_case(db, user, case.id, &key).await?;
    for e in &evidence {
        timeline.push(TimelineEntry {
            at: e.collected_at,
            kind: "evidence".into(),
            label: e.title.clone(),
        });
    }
    timeline.sort_by_key(|t| t.at);

    let missing = if full {
        let files: Vec<legal::SurvivorFile> = survivors_out
            .iter()
            .filter(|s| !s.erased)
            .map(|s| {
                let of = |category: &'static str| {
                    evidence.iter().filter(move |e| {
                        e.category == category && e.survivor_id == Some(s.survivor_id)
                    })
                };
                legal::SurvivorFile {
                    reference: s.reference.clone(),
                    takes_part: s.participation == Some(Participation::TakesPart),
                    minor: s.minor.unwrap_or(false),
                    has_medical_report: of("medical_report").next().is_some(),
                    has_age_evidence: of("age_evidence").next().is_some(),
                    statements_signed: of("statement").map(|e| e.signed).collect(),
                    hearings_without_plan: hearings
                        .iter()
                        .filter(|h| h.starts_at > at)
                        .filter(|h| {
                            !h.accompaniment
                                .iter()
                                .any(|a| a.survivor_id == s.survivor_id)
                        })
                        .count(),
                }
            })
            .collect();
        legal::missing(&files, charges.len(), suspects.len(), &history)
    } else {
        Vec::new()
    };

    let no_contact = case_no_contact(db, user, case.id).await?;

    audit_read(
        db,
        ctx,
        "legal_case.read",
        "legal_case",
        case.id,
        if full {
            &[
                "suspects",
                "survivors",
                "decisions",
                "sessions",
                "hearings",
                "evidence",
            ]
        } else {
            &["suspects", "hearings", "evidence"]
        },
    )
    .await?;
    Ok(CaseFile {
        id: case.id,
        reference: case.reference,
        title: case.title,
        intervention_id: case.intervention_id,
        court: case.court,
        prosecutor: case.prosecutor,
        judge: case.judge,
        created_at: case.created_at,
        full_view: full,
        withdrawn,
        lawyers,
        suspects,
        charges,
        survivors: survivors_out,
        stages: stage_list,
        hearings,
        sessions,
        deadlines,
        outcomes,
        evidence,
        missing,
        no_contact,
        timeline,
    })
}

/// No-contact warnings for this case's upcoming hearings.
async fn case_no_contact(
    db: &Db,
    user: &User,
    case_id: Uuid,
) -> Result<Vec<NoContactView>, StoreError> {
    let at = now();
    let cal = calendar_rows(
        db,
        user,
        at - Duration::hours(12),
        at + Duration::days(366),
        2000,
    )
    .await?;
    Ok(no_contact_of(&cal)
        .into_iter()
        .filter(|w| w.1 == case_id)
        .map(|w| w.0)
        .collect())
}

// ---- Hearings calendar ----

/// A hearing on the calendar.
#[derive(Debug, Clone, Serialize)]
pub struct CalendarEntry {
    pub hearing_id: Uuid,
    pub case_id: Uuid,
    pub case_reference: String,
    pub stage: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub court: String,
    pub room: String,
    /// References of the survivors expected (taking part, not withdrawn).
    pub survivors: Vec<String>,
    /// Survivors expected without an accompaniment plan.
    pub without_plan: Vec<String>,
}

/// A reminder for the user: a hearing or a deadline within [`REMINDER_WINDOW`].
#[derive(Debug, Clone, Serialize)]
pub struct Reminder {
    pub kind: String,
    pub due: DateTime<Utc>,
    pub case_reference: String,
    pub title: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Calendar {
    pub hearings: Vec<CalendarEntry>,
    pub reminders: Vec<Reminder>,
    pub no_contact: Vec<NoContactView>,
}

struct CalRow {
    entry: CalendarEntry,
    /// (survivor id, reference, has plan, separated)
    attendees: Vec<(Uuid, String, bool, bool)>,
    has_suspect: bool,
    lawyer: bool,
}

/// A hearing in the window, with whether its case has a suspect and whether the user is one
/// of its lawyers.
type HearingRow = (
    Uuid,
    Uuid,
    String,
    String,
    DateTime<Utc>,
    DateTime<Utc>,
    String,
    String,
    bool,
    bool,
);

/// The hearings of a window, with whether the case has a suspect and whether the user is
/// one of its lawyers.
const CALENDAR_SQL: &str =
    "SELECT h.id, h.case_id, c.reference, h.stage, h.starts_at, h.ends_at, h.court, h.room,
            EXISTS (SELECT 1 FROM legal_suspects x WHERE x.case_id = h.case_id),
            EXISTS (SELECT 1 FROM legal_case_lawyers l WHERE l.case_id = h.case_id AND l.user_id = $5)
     FROM legal_hearings h JOIN legal_cases c ON c.id = h.case_id
     WHERE c.owner_org = $1 AND h.starts_at >= $2 AND h.starts_at < $3
     ORDER BY h.starts_at, h.id LIMIT $4";

/// The SQLite form of the hearings query: the same rows, as one JSON array (IDs in hex).
const CALENDAR_JSON_SQL: &str = "SELECT json_group_array(json_array(
        hex(id), hex(case_id), reference, stage, starts_at, ends_at, court, room, has_suspect, lawyer))
     FROM (SELECT h.id, h.case_id, c.reference, h.stage, h.starts_at, h.ends_at, h.court, h.room,
                  EXISTS (SELECT 1 FROM legal_suspects x WHERE x.case_id = h.case_id) AS has_suspect,
                  EXISTS (SELECT 1 FROM legal_case_lawyers l WHERE l.case_id = h.case_id AND l.user_id = $5) AS lawyer
           FROM legal_hearings h JOIN legal_cases c ON c.id = h.case_id
           WHERE c.owner_org = $1 AND h.starts_at >= $2 AND h.starts_at < $3
           ORDER BY h.starts_at, h.id LIMIT $4)";

/// Reads [`CALENDAR_JSON_SQL`]'s value; `None` when any row is not what Haven writes.
fn calendar_json(json: &str) -> Option<Vec<HearingRow>> {
    type JsonRow = (
        String,
        String,
        String,
        String,
        String,
        String,
        String,
        String,
        i64,
        i64,
    );
    let rows: Vec<JsonRow> = serde_json::from_str(json).ok()?;
    let time = |t: &str| {
        DateTime::parse_from_rfc3339(t)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    };
    let mut out = rows
        .into_iter()
        .map(
            |(id, case, reference, stage, starts, ends, court, room, suspect, lawyer)| {
                Some((
                    Uuid::parse_str(&id).ok()?,
                    Uuid::parse_str(&case).ok()?,
                    reference,
                    stage,
                    time(&starts)?,
                    time(&ends)?,
                    court,
                    room,
                    suspect != 0,
                    lawyer != 0,
                ))
            },
        )
        .collect::<Option<Vec<HearingRow>>>()?;
    // Aggregation order is not promised by SQLite.
    out.sort_by_key(|r| (r.4, r.0));
    Some(out)
}

/// The hearings in a window and the survivors expected at each (those whose latest decision
/// is to take part), with their accompaniment plans: two queries, run side by side, each
/// bounded by the window through the `starts_at` index, instead of one look-up per related
/// table over a list of every case ID.
async fn calendar_rows(
    db: &Db,
    user: &User,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<CalRow>, StoreError> {
    let org = user.org_id.as_uuid();
    let hearings = async {
        if let Db::Sqlite(pool) = db {
            // As in `audit::verify`: sqlx hands SQLite rows over one by one at a cost that
            // dominated this read, so the window comes back as one JSON value instead. A
            // value that does not parse falls through to the portable query.
            let json: Option<String> = sqlx::query_scalar(CALENDAR_JSON_SQL)
                .bind(org)
                .bind(from)
                .bind(to)
                .bind(limit)
                .bind(user.id.as_uuid())
                .fetch_one(pool)
                .await?;
            if let Some(rows) = json.as_deref().and_then(calendar_json) {
                return Ok::<_, StoreError>(rows);
            }
        }
        let rows: Vec<HearingRow> = on_pool!(db, pool => sqlx::query_as(CALENDAR_SQL)
            .bind(org)
            .bind(from)
            .bind(to)
            .bind(limit)
            .bind(user.id.as_uuid())
            .fetch_all(pool)
            .await?);
        Ok::<_, StoreError>(rows)
    };
    let attendees = async {
        let rows: Vec<(Uuid, Uuid, String, bool, Option<bool>)> = on_pool!(db, pool => sqlx::query_as(
            "SELECT h.id, cs.survivor_id, s.reference, a.hearing_id IS NOT NULL, a.separate_waiting_room
             FROM legal_hearings h
             JOIN legal_cases c ON c.id = h.case_id
             JOIN legal_case_survivors cs ON cs.case_id = h.case_id
             JOIN survivors s ON s.id = cs.survivor_id
             LEFT JOIN legal_accompaniment a ON a.hearing_id = h.id AND a.survivor_id = cs.survivor_id
             WHERE c.owner_org = $1 AND h.starts_at >= $2 AND h.starts_at < $3 AND s.erased_at IS NULL
               AND (SELECT d.decision FROM legal_decisions d
                    WHERE d.case_id = cs.case_id AND d.survivor_id = cs.survivor_id
                    ORDER BY d.decided_at DESC, d.id DESC LIMIT 1) = 'takes_part'
             ORDER BY h.id, s.reference")
            .bind(org)
            .bind(from)
            .bind(to)
            .fetch_all(pool)
            .await?);
        Ok::<_, StoreError>(rows)
    };
    let (rows, found) = tokio::try_join!(hearings, attendees)?;
    let mut expected: HashMap<Uuid, Vec<(Uuid, String, bool, bool)>> = HashMap::new();
    for (hearing, survivor, reference, planned, separated) in found {
        expected.entry(hearing).or_default().push((
            survivor,
            reference,
            planned,
            separated.unwrap_or(false),
        ));
    }
    Ok(rows
        .into_iter()
        .map(
            |(
                hearing_id,
                case_id,
                case_reference,
                stage,
                starts_at,
                ends_at,
                court,
                room,
                has_suspect,
                lawyer,
            )| {
                let attendees = expected.remove(&hearing_id).unwrap_or_default();
                CalRow {
                    entry: CalendarEntry {
                        hearing_id,
                        case_id,
                        case_reference,
                        stage,
                        starts_at,
                        ends_at,
                        court,
                        room,
                        survivors: attendees.iter().map(|a| a.1.clone()).collect(),
                        without_plan: attendees
                            .iter()
                            .filter(|a| !a.2)
                            .map(|a| a.1.clone())
                            .collect(),
                    },
                    attendees,
                    has_suspect,
                    lawyer,
                }
            },
        )
        .collect())
}

/// Warnings, each with the case of the survivor's hearing.
fn no_contact_of(rows: &[CalRow]) -> Vec<(NoContactView, Uuid)> {
    let mut her = Vec::new();
    let mut accused = Vec::new();
    for row in rows {
        for (_, reference, _, separated) in &row.attendees {
            her.push(Attendance {
                person: (reference.clone(), row.entry.case_id),
                hearing: row.entry.hearing_id,
                court: row.entry.court.clone(),
                starts_at: row.entry.starts_at,
                ends_at: row.entry.ends_at,
                separated: *separated,
            });
        }
        if row.has_suspect {
            accused.push(Attendance {
                person: row.entry.case_reference.clone(),
                hearing: row.entry.hearing_id,
                court: row.entry.court.clone(),
                starts_at: row.entry.starts_at,
                ends_at: row.entry.ends_at,
                separated: false,
            });
        }
    }
    let mut seen = BTreeSet::new();
    legal::no_contact_warnings(&her, &accused)
        .into_iter()
        .filter(|w| seen.insert((w.survivor.0.clone(), w.survivor_hearing, w.accused.clone())))
        .map(|w| {
            (
                NoContactView {
                    survivor_reference: w.survivor.0,
                    accused_case: w.accused,
                    court: w.court,
                    hearing_id: w.survivor_hearing,
                },
                w.survivor.1,
            )
        })
        .collect()
}

/// Hearings from `from` for `days` days across every case the user may see: lawyers,
/// managers and investigators see all; aftercare staff see only hearings where a survivor
/// assigned to them is expected. Reminders are for the lawyers of the case and for the
/// aftercare staff accompanying her.
#[tracing::instrument(skip_all, fields(user = %user.id))]
pub async fn calendar(
    db: &Db,
    keyring: &Keyring,
    user: &User,
    ctx: &RequestContext,
    from: DateTime<Utc>,
    days: i64,
) -> Result<Calendar, StoreError> {
    let level = access(user);
    if level == CaseAccess::None {
        return Err(refuse());
    }
    let days = days.clamp(1, 366);
    let at = now();
    // The read is audited in its own transaction, committed before anything is returned;
    // it runs alongside the queries rather than after them, so its commit (an fsync on
    // SQLite) does not add to the wait.
    let audited = async {
        let mut tx = db.begin().await?;
        crate::audit::append(
            &mut tx,
            ctx,
            &crate::audit::AuditRecord {
                action: "legal_hearing.calendar",
                entity: "legal_hearing",
                entity_id: None,
                fields: &["starts_at", "court", "survivors"],
                reason: None,
            },
        )
        .await?;
        tx.commit().await
    };
    let assigned = async {
        if level != CaseAccess::Hearings {
            return Ok(BTreeSet::new());
        }
        let ids: Vec<Uuid> = on_pool!(db, pool => sqlx::query_scalar::<_, Uuid>(
            "SELECT survivor_id FROM survivor_assignments WHERE user_id = $1")
            .bind(user.id.as_uuid())
            .fetch_all(pool)
            .await?);
        Ok::<BTreeSet<Uuid>, StoreError>(ids.into_iter().collect())
    };
    let deadlines = async {
        if level.works_case() {
            deadline_reminders(db, keyring, user, at).await
        } else {
            Ok(Vec::new())
        }
    };
    let (rows, assigned, deadlines, ()) = tokio::try_join!(
        calendar_rows(db, user, from, from + Duration::days(days), 2000),
        assigned,
        deadlines,
        audited
    )?;
    let mut reminders = Vec::new();
    let mut hearings = Vec::new();
    let warnings = no_contact_of(&rows);
    for row in rows {
        let mine_as_aftercare = row.attendees.iter().any(|a| assigned.contains(&a.0));
        if level == CaseAccess::Hearings && !mine_as_aftercare {
            continue;
        }
        if (row.lawyer || mine_as_aftercare)
            && legal::upcoming(row.entry.starts_at, at, REMINDER_WINDOW)
        {
            reminders.push(Reminder {
                kind: "hearing".into(),
                due: row.entry.starts_at,
                case_reference: row.entry.case_reference.clone(),
                title: format!("{} {}", row.entry.court, row.entry.room)
                    .trim()
                    .to_owned(),
            });
        }
        hearings.push(row.entry);
    }
    reminders.extend(deadlines);
    reminders.sort_by_key(|r| r.due);
    let visible: BTreeSet<Uuid> = hearings.iter().map(|h| h.hearing_id).collect();
    let no_contact = warnings
        .into_iter()
        .map(|w| w.0)
        .filter(|w| visible.contains(&w.hearing_id))
        .collect();
    Ok(Calendar {
        hearings,
        reminders,
        no_contact,
    })
}

/// Court and statutory deadlines within the reminder window for the cases the user works as
/// a lawyer (managers: every case).
async fn deadline_reminders(
    db: &Db,
    keyring: &Keyring,
    user: &User,
    at: DateTime<Utc>,
) -> Result<Vec<Reminder>, StoreError> {
    let manager = user.roles.contains(haven_core::Role::Manager);
    let mut out = Vec::new();
    let court: Vec<(Uuid, Uuid, Vec<u8>, String, Uuid, Vec<u8>, DateTime<Utc>)> = on_pool!(db, pool => sqlx::query_as(
        "SELECT c.id, c.master_key_id, c.wrapped_key, c.reference, d.id, d.sealed_title, d.due_at
         FROM legal_deadlines d JOIN legal_cases c ON c.id = d.case_id
         WHERE c.owner_org = $1 AND d.due_at >= $2 AND d.due_at <= $3 AND ($4 OR EXISTS
            (SELECT 1 FROM legal_case_lawyers l WHERE l.case_id = c.id AND l.user_id = $5))")
        .bind(user.org_id.as_uuid())
        .bind(at)
        .bind(at + REMINDER_WINDOW)
        .bind(manager)
        .bind(user.id.as_uuid())
        .fetch_all(pool)
        .await?);
    // One unwrap per case with a deadline in the window, not per deadline.
    let mut keys: HashMap<Uuid, DataKey> = HashMap::new();
    for (case_id, key_id, wrapped, reference, id, title, due) in court {
        let key = match keys.entry(case_id) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => e.insert(
                keyring
                    .unwrap(key_id, &wrapped, case_id)
                    .map_err(|e| StoreError::Internal(format!("legal case {case_id}: {e}")))?,
            ),
        };
        out.push(Reminder {
            kind: "deadline".into(),
            due,
            case_reference: reference,
            title: open_text(key, id, "title", title),
        });
    }
    // Statutory deadlines run at most a few months from their stage: only cases with a stage
    // in the last 200 days can have one due now; their whole history decides which.
    let stage_rows: Vec<(Uuid, String, String, NaiveDate)> = on_pool!(db, pool => sqlx::query_as(
        "SELECT s.case_id, c.reference, s.stage, s.occurred_on FROM legal_stages s JOIN legal_cases c ON c.id = s.case_id
         WHERE c.owner_org = $1 AND ($2 OR EXISTS
            (SELECT 1 FROM legal_case_lawyers l WHERE l.case_id = c.id AND l.user_id = $3))
           AND s.case_id IN (SELECT case_id FROM legal_stages WHERE occurred_on >= $4)")
        .bind(user.org_id.as_uuid())
        .bind(manager)
        .bind(user.id.as_uuid())
        .bind((at - Duration::days(200)).date_naive())
        .fetch_all(pool)
        .await?);
    let mut by_case: BTreeMap<Uuid, (String, Vec<(Stage, NaiveDate)>)> = BTreeMap::new();
    for (case_id, reference, stage, on) in stage_rows {
        if let Ok(stage) = Stage::parse(&stage) {
            by_case
                .entry(case_id)
                .or_insert_with(|| (reference, Vec::new()))
                .1
                .push((stage, on));
        }
    }
    for (_, (reference, history)) in by_case {
        for d in legal::statutory_deadlines(&history) {
            if legal::upcoming(d.due, at, REMINDER_WINDOW) {
                out.push(Reminder {
                    kind: d.kind.to_owned(),
                    due: d.due,
                    case_reference: reference.clone(),
                    title: d.title,
                });
            }
        }
    }
    Ok(out)
}

// ---- Outcome figures ----

/// The organisation's legal indicators: convictions, acquittals, sentences, compensation,
/// time from complaint to verdict. Aggregates only; lawyers and managers.
pub async fn figures(
    db: &Db,
    user: &User,
    ctx: &RequestContext,
) -> Result<(legal::OutcomeFigures, i64), StoreError> {
    if !access(user).works_case() {
        return Err(refuse());
    }
    let rows: Vec<(Uuid, String, Option<i64>, i64, i64, NaiveDate)> = on_pool!(db, pool => sqlx::query_as(
        "SELECT o.case_id, o.result, o.sentence_months, o.compensation_ordered, o.compensation_paid, o.decided_on
         FROM legal_outcomes o JOIN legal_cases c ON c.id = o.case_id WHERE c.owner_org = $1")
        .bind(user.org_id.as_uuid())
        .fetch_all(pool)
        .await?);
    let complaints: Vec<(Uuid, NaiveDate)> = on_pool!(db, pool => sqlx::query_as(
        "SELECT s.case_id, min(s.occurred_on) FROM legal_stages s JOIN legal_cases c ON c.id = s.case_id
         WHERE c.owner_org = $1 AND s.stage = 'complaint' GROUP BY s.case_id")
        .bind(user.org_id.as_uuid())
        .fetch_all(pool)
        .await?);
    let complaint: HashMap<Uuid, NaiveDate> = complaints.into_iter().collect();
    let judgments: Vec<legal::Judgment> = rows
        .into_iter()
        .map(
            |(case_id, result, months, ordered, paid, on)| legal::Judgment {
                convicted: result == "convicted",
                sentence_months: months,
                compensation_ordered: ordered,
                compensation_paid: paid,
                days_to_verdict: complaint.get(&case_id).map(|c| (on - *c).num_days()),
            },
        )
        .collect();
    let cases: i64 = on_pool!(db, pool => sqlx::query_scalar("SELECT count(*) FROM legal_cases WHERE owner_org = $1")
        .bind(user.org_id.as_uuid())
        .fetch_one(pool)
        .await?);
    let mut tx = db.begin().await?;
    crate::audit::append(
        &mut tx,
        ctx,
        &crate::audit::AuditRecord {
            action: "legal_case.figures",
            entity: "legal_case",
            entity_id: None,
            fields: &[],
            reason: None,
        },
    )
    .await?;
    tx.commit().await?;
    Ok((legal::outcome_figures(&judgments), cases))
}

/// Whether the user may read her statements (she shared them for the legal case).
pub(crate) async fn may_read_statement(db: &Db, user: &User, survivor: Uuid) -> bool {
    survivors::ensure_may(
        db,
        user,
        SurvivorId::from_uuid(survivor),
        Action::Read(FieldClass::LegalStatement),
    )
    .await
    .is_ok()
}

/// Data keys of legal cases and evidence files still wrapped by an older master key.
pub async fn pending_rewrap(db: &Db, keyring: &Keyring) -> Result<i64, StoreError> {
    let current = keyring.current().id;
    let cases: i64 = on_pool!(db, pool => sqlx::query_scalar(
        "SELECT count(*) FROM legal_cases WHERE master_key_id <> $1")
        .bind(current)
        .fetch_one(pool)
        .await?);
    let files: i64 = on_pool!(db, pool => sqlx::query_scalar(
        "SELECT count(*) FROM evidence WHERE wrapped_key IS NOT NULL AND master_key_id <> $1")
        .bind(current)
        .fetch_one(pool)
        .await?);
    Ok(cases + files)
}

/// Re-wraps up to `batch` legal data keys (cases, then evidence files) under the current
/// master key inside `tx`; the sealed data and the files are not touched.
pub async fn rewrap_batch(tx: &mut Tx, keyring: &Keyring, batch: u32) -> Result<u64, StoreError> {
    let current = keyring.current().id;
    let mut done = 0u64;
    for (table, id_col) in [("legal_cases", "id"), ("evidence", "id")] {
        let left = i64::from(batch) - i64::try_from(done).unwrap_or(0);
        if left <= 0 {
            break;
        }
        let select = format!(
            "SELECT {id_col}, master_key_id, wrapped_key FROM {table}
             WHERE wrapped_key IS NOT NULL AND master_key_id <> $1 ORDER BY {id_col} LIMIT $2"
        );
        let rows: Vec<(Uuid, Uuid, Vec<u8>)> = on_tx!(tx, conn => sqlx::query_as(&select)
            .bind(current)
            .bind(left)
            .fetch_all(conn)
            .await?);
        let update =
            format!("UPDATE {table} SET master_key_id = $1, wrapped_key = $2 WHERE {id_col} = $3");
        for (id, key_id, wrapped) in rows {
            let key = keyring
                .unwrap(key_id, &wrapped, id)
                .map_err(|e| StoreError::Internal(format!("{table} {id}: {e}")))?;
            let (new_id, new_wrapped) = keyring.wrap(&key, id);
            exec!(
                tx,
                sqlx::query(&update).bind(new_id).bind(new_wrapped).bind(id)
            )?;
            done += 1;
        }
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// The SQLite calendar read as one JSON value must give exactly the rows of the portable
    /// query, or the calendar would silently take the slow path (or show something else).
    #[tokio::test]
    async fn the_sqlite_calendar_fast_path_reads_what_the_portable_query_reads() {
        let t = crate::testing::TestDb::sqlite().await;
        let hasher = crate::PasswordHasher::new(crate::HashCost::MINIMAL).unwrap();
        crate::demo::seed(
            &t.db,
            &hasher,
            &haven_core::Password::new("lotus river morning tea"),
        )
        .await
        .unwrap();
        let keyring = Keyring::generate();
        crate::crypto::registry::verify_or_register(&t.db, &keyring)
            .await
            .unwrap();
        crate::demo::seed_survivors(&t.db, &keyring).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let locker = crate::evidence::Locker::open(dir.path(), 1_000_000).unwrap();
        crate::demo_legal::seed_legal(&t.db, &keyring, &locker)
            .await
            .unwrap();
        let lawyer =
            crate::users::find_by_username(&t.db, &haven_core::Username::parse("legal").unwrap())
                .await
                .unwrap()
                .unwrap();
        let from = now() - Duration::days(1);
        let to = now() + Duration::days(366);
        let Db::Sqlite(pool) = &t.db else { panic!() };
        let json: Option<String> = sqlx::query_scalar(CALENDAR_JSON_SQL)
            .bind(lawyer.org_id.as_uuid())
            .bind(from)
            .bind(to)
            .bind(100_i64)
            .bind(lawyer.id.as_uuid())
            .fetch_one(pool)
            .await
            .unwrap();
        let fast = calendar_json(&json.unwrap()).expect("the fast path parses");
        let portable: Vec<HearingRow> = sqlx::query_as(CALENDAR_SQL)
            .bind(lawyer.org_id.as_uuid())
            .bind(from)
            .bind(to)
            .bind(100_i64)
            .bind(lawyer.id.as_uuid())
            .fetch_all(pool)
            .await
            .unwrap();
        assert!(!portable.is_empty(), "the demo case has a hearing");
        assert_eq!(fast, portable);
    }
}
