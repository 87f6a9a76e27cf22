//! Risk assessments and incidents. An assessment's level drives how often she is followed up
//! (a higher level brings her next contact forward at once); an incident alerts the team lead
//! (the managers of her organisation) in the same transaction that records it.

use crate::case_access::{self, open_text, Case};
use crate::clock::{new_id, now};
use crate::crypto::{DataKey, Keyring};
use crate::follow_ups;
use crate::users::User;
use crate::{on_pool, on_tx, Db, StoreError};
use chrono::{DateTime, Days, NaiveDate, Utc};
use haven_core::casework::{assessed_level, IncidentKind, RiskFactors, RiskLevel, MAX_TEXT};
use haven_core::policy::Action;
use haven_core::{FieldClass, RequestContext, SurvivorId, ValidationError};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct RiskInput {
    pub assessed_on: NaiveDate,
    pub factors: RiskFactors,
    /// The assessor may raise the level the factors give, never lower it.
    pub judged: Option<RiskLevel>,
    pub notes: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskView {
    pub id: Uuid,
    pub assessed_on: NaiveDate,
    pub level: RiskLevel,
    pub factors: RiskFactors,
    pub notes: String,
    pub assessed_by: String,
}

#[derive(Serialize, Deserialize)]
struct SealedRisk {
    factors: RiskFactors,
    notes: String,
}

#[derive(Debug, Clone)]
pub struct IncidentInput {
    pub kind: IncidentKind,
    pub occurred_on: NaiveDate,
    pub account: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentView {
    pub id: Uuid,
    pub kind: IncidentKind,
    pub occurred_on: NaiveDate,
    pub account: String,
    pub reported_by: String,
    pub reported_at: DateTime<Utc>,
}

#[derive(Serialize, Deserialize)]
struct SealedIncident {
    kind: IncidentKind,
    account: String,
}

fn check_day(field: &'static str, day: NaiveDate, today: NaiveDate) -> Result<(), ValidationError> {
    if day > today {
        return Err(ValidationError::new(
            field,
            format!("{day} is in the future"),
        ));
    }
    Ok(())
}

fn check_long(field: &'static str, text: &str) -> Result<(), ValidationError> {
    if text.chars().count() > MAX_TEXT {
        return Err(ValidationError::new(
            field,
            format!("is too long (at most {MAX_TEXT} characters)"),
        ));
    }
    Ok(())
}

/// Records an assessment and returns the level it set. A level above low brings her next
/// contact forward to within the interval that level asks for.
pub async fn assess(
    db: &Db,
    keyring: &Keyring,
    user: &User,
    ctx: &RequestContext,
    id: SurvivorId,
    input: &RiskInput,
) -> Result<RiskLevel, StoreError> {
    let at = now();
    let case = Case::open(db, user, id, at).await?;
    case.require_not_erased()?;
    case.require(user, Action::ManageCase)?;
    check_day(
        "assessed_on",
        input.assessed_on,
        crate::clock::team_date(at),
    )?;
    check_long("notes", &input.notes)?;
    let level = assessed_level(input.factors, input.judged);
    let key = case.key(db, keyring).await?;
    let rid = new_id();
    let document = serde_json::to_string(&SealedRisk {
        factors: input.factors,
        notes: input.notes.trim().to_owned(),
    })
    .map_err(|e| StoreError::Internal(format!("risk: {e}")))?;
    let sealed = key.seal(rid, "risk", &document);
    let schedule = follow_ups::schedule_for(db, case.row.owner_org).await?;
    let started = crate::care_plans::started_on(db, case.id())
        .await?
        .unwrap_or(case.row.created_at.date_naive());
    let today = crate::clock::team_date(at);
    let interval = schedule.interval((today - started).num_days(), level);
    let due_by = today
        .checked_add_days(Days::new(u64::from(interval)))
        .unwrap_or(today);
    let mut tx = db.begin().await?;
    on_tx!(&mut tx, conn => sqlx::query(
        "INSERT INTO risk_assessments (id, survivor_id, assessed_on, level, sealed, assessed_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(rid)
    .bind(case.id())
    .bind(input.assessed_on)
    .bind(level.as_str())
    .bind(sealed.as_bytes())
    .bind(user.id.as_uuid())
    .bind(at)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    follow_ups::tighten_in(&mut tx, case.id(), due_by).await?;
    case_access::audit(
        &mut tx,
        ctx,
        "risk.assess",
        case.id(),
        &["factors", "notes"],
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(level)
}

pub(crate) async fn risks_in(
    db: &Db,
    key: &DataKey,
    case: &Case,
    user: &User,
) -> Result<Vec<RiskView>, StoreError> {
    if case.as_partner() || !case.allows(user, Action::Read(FieldClass::Psychosocial)) {
        return Ok(Vec::new());
    }
    let rows: Vec<(Uuid, NaiveDate, String, Vec<u8>, Uuid)> = on_pool!(db, pool => sqlx::query_as(
        "SELECT id, assessed_on, level, sealed, assessed_by FROM risk_assessments
         WHERE survivor_id = $1 ORDER BY assessed_on DESC, created_at DESC",
    )
    .bind(case.id())
    .fetch_all(pool)
    .await?);
    let names = case_access::user_names(db, &rows.iter().map(|r| r.4).collect::<Vec<_>>()).await?;
    let mut out = Vec::with_capacity(rows.len());
    for (rid, assessed_on, level, sealed, by) in rows {
        let text = open_text(key, rid, "risk", sealed)?;
        let sealed: SealedRisk = serde_json::from_str(&text)
            .map_err(|e| StoreError::Internal(format!("risk {rid}: {e}")))?;
        out.push(RiskView {
            id: rid,
            assessed_on,
            level: RiskLevel::parse(&level)?,
            factors: sealed.factors,
            notes: sealed.notes,
            assessed_by: names.get(&by).cloned().unwrap_or_default(),
        });
    }
    Ok(out)
}

/// Her risk assessments, newest first. Audited.
pub async fn risks(
    db: &Db,
    keyring: &Keyring,
    user: &User,
    ctx: &RequestContext,
    id: SurvivorId,
) -> Result<Vec<RiskView>, StoreError> {
    let case = Case::open(db, user, id, now()).await?;
    case.require(user, Action::Read(FieldClass::Psychosocial))?;
    let key = case.key(db, keyring).await?;
    let out = risks_in(db, &key, &case, user).await?;
    case_access::audit_read(db, ctx, "risk.list", case.id(), &["factors", "notes"]).await?;
    Ok(out)
}

/// Records an incident and alerts the team lead at once (the notification names her record's
/// reference, never what happened). Returns the incident's ID.
pub async fn report_incident(
    db: &Db,
    keyring: &Keyring,
    user: &User,
    ctx: &RequestContext,
    id: SurvivorId,
    input: &IncidentInput,
) -> Result<Uuid, StoreError> {
    let at = now();
    let case = Case::open(db, user, id, at).await?;
    case.require_not_erased()?;
    case.require(user, Action::ManageCase)?;
    check_day(
        "occurred_on",
        input.occurred_on,
        crate::clock::team_date(at),
    )?;
    if input.account.trim().is_empty() {
        return Err(ValidationError::new("account", "say what happened").into());
    }
    check_long("account", &input.account)?;
    let key = case.key(db, keyring).await?;
    let iid = new_id();
    let document = serde_json::to_string(&SealedIncident {
        kind: input.kind,
        account: input.account.trim().to_owned(),
    })
    .map_err(|e| StoreError::Internal(format!("incident: {e}")))?;
    let sealed = key.seal(iid, "incident", &document);
    let leads: Vec<Uuid> = on_pool!(db, pool => sqlx::query_scalar(
        "SELECT u.id FROM users u JOIN user_roles r ON r.user_id = u.id AND r.role = 'manager'
         WHERE u.org_id = $1 AND u.disabled_at IS NULL",
    )
    .bind(case.row.owner_org)
    .fetch_all(pool)
    .await?);
    let mut tx = db.begin().await?;
    on_tx!(&mut tx, conn => sqlx::query(
        "INSERT INTO incidents (id, survivor_id, occurred_on, sealed, reported_by, reported_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(iid)
    .bind(case.id())
    .bind(input.occurred_on)
    .bind(sealed.as_bytes())
    .bind(user.id.as_uuid())
    .bind(at)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    crate::notifications::notify_survivor_in(
        &mut tx,
        &leads,
        haven_core::notification::NotificationKind::IncidentReported,
        case.id(),
    )
    .await?;
    case_access::audit(
        &mut tx,
        ctx,
        "incident.report",
        case.id(),
        &["kind", "account"],
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(iid)
}

pub(crate) async fn incidents_in(
    db: &Db,
    key: &DataKey,
    case: &Case,
    user: &User,
) -> Result<Vec<IncidentView>, StoreError> {
    if case.as_partner() || !case.allows(user, Action::Read(FieldClass::Psychosocial)) {
        return Ok(Vec::new());
    }
    #[allow(clippy::type_complexity)]
    let rows: Vec<(Uuid, NaiveDate, Vec<u8>, Uuid, DateTime<Utc>)> = on_pool!(db, pool => sqlx::query_as(
        "SELECT id, occurred_on, sealed, reported_by, reported_at FROM incidents
         WHERE survivor_id = $1 ORDER BY occurred_on DESC, reported_at DESC",
    )
    .bind(case.id())
    .fetch_all(pool)
    .await?);
    let names = case_access::user_names(db, &rows.iter().map(|r| r.3).collect::<Vec<_>>()).await?;
    let mut out = Vec::with_capacity(rows.len());
    for (iid, occurred_on, sealed, by, reported_at) in rows {
        let text = open_text(key, iid, "incident", sealed)?;
        let sealed: SealedIncident = serde_json::from_str(&text)
            .map_err(|e| StoreError::Internal(format!("incident {iid}: {e}")))?;
        out.push(IncidentView {
            id: iid,
            kind: sealed.kind,
            occurred_on,
            account: sealed.account,
            reported_by: names.get(&by).cloned().unwrap_or_default(),
            reported_at,
        });
    }
    Ok(out)
}

/// Her incidents, newest first. Audited.
pub async fn incidents(
    db: &Db,
    keyring: &Keyring,
    user: &User,
    ctx: &RequestContext,
    id: SurvivorId,
) -> Result<Vec<IncidentView>, StoreError> {
    let case = Case::open(db, user, id, now()).await?;
    case.require(user, Action::Read(FieldClass::Psychosocial))?;
    let key = case.key(db, keyring).await?;
    let out = incidents_in(db, &key, &case, user).await?;
    case_access::audit_read(db, ctx, "incident.list", case.id(), &["kind", "account"]).await?;
    Ok(out)
}
