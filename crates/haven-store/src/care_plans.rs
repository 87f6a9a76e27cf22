//! Her individual plan over the seven areas. Every save adds a version (nothing is edited in
//! place), so a review can show what changed. Each area's needs, goals and her own words are
//! sealed with her data key as one document; the area, its status and who owns it stay in
//! clear for the policy and for lists.

use crate::case_access::{self, open_text, Case};
use crate::clock::now;
use crate::crypto::{DataKey, Keyring};
use crate::follow_ups;
use crate::users::User;
use crate::{on_pool, on_tx, Db, StoreError, Tx};
use chrono::{DateTime, Months, NaiveDate, Utc};
use haven_core::casework::{
    check_plan, diff, AreaPlan, AreaStatus, FollowUpKind, Goal, PlanArea, PlanChange, Responsible,
};
use haven_core::policy::Action;
use haven_core::{RequestContext, SurvivorId, ValidationError};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// How long after a plan (or its review) the next review falls due.
pub const REVIEW_EVERY_MONTHS: u32 = 3;

/// One version of the plan, as the user may see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanVersion {
    pub version: i64,
    pub started_on: NaiveDate,
    pub is_review: bool,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    /// The areas the user may read, in the fixed area order.
    pub areas: Vec<AreaPlan>,
    /// How many areas exist that the user may not read (partners see only theirs).
    pub withheld: usize,
}

/// A line of the version history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionSummary {
    pub version: i64,
    pub is_review: bool,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

/// The plan: the version asked for (the latest by default), all versions, and what changed
/// from the version before it (only in areas the user may read).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanView {
    pub current: PlanVersion,
    pub latest_version: i64,
    pub versions: Vec<VersionSummary>,
    pub changes: Vec<PlanChange>,
}

/// What a save brings.
#[derive(Debug, Clone)]
pub struct PlanInput {
    /// The version the worker started from; `None` for her first plan. A save based on an
    /// older version is refused, so two workers never overwrite each other.
    pub based_on_version: Option<i64>,
    pub started_on: NaiveDate,
    /// Whether this save records a plan review (completes the review that was due).
    pub is_review: bool,
    pub areas: Vec<AreaPlan>,
}

/// The sealed part of an area.
#[derive(Serialize, Deserialize)]
struct SealedArea {
    needs: String,
    goals: Vec<Goal>,
    her_words: String,
}

fn area_field(version: i64, area: PlanArea) -> String {
    format!("plan.{version}.{}", area.as_str())
}

#[derive(sqlx::FromRow)]
struct VersionRow {
    version: i64,
    started_on: NaiveDate,
    is_review: bool,
    created_by: Uuid,
    created_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct AreaRow {
    area: String,
    status: String,
    responsible_user: Option<Uuid>,
    responsible_org: Option<Uuid>,
    referral_id: Option<Uuid>,
    sealed: Vec<u8>,
}

async fn versions(db: &Db, survivor: Uuid) -> Result<Vec<VersionRow>, StoreError> {
    Ok(on_pool!(db, pool => sqlx::query_as(
        "SELECT version, started_on, is_review, created_by, created_at FROM case_plans
         WHERE survivor_id = $1 ORDER BY version",
    )
    .bind(survivor)
    .fetch_all(pool)
    .await?))
}

async fn area_rows(db: &Db, survivor: Uuid, version: i64) -> Result<Vec<AreaRow>, StoreError> {
    Ok(on_pool!(db, pool => sqlx::query_as(
        "SELECT area, status, responsible_user, responsible_org, referral_id, sealed
         FROM case_plan_areas WHERE survivor_id = $1 AND version = $2",
    )
    .bind(survivor)
    .bind(version)
    .fetch_all(pool)
    .await?))
}

/// The areas of one version that `user` may read, opened; and how many were withheld.
async fn readable_areas(
    db: &Db,
    key: &DataKey,
    case: &Case,
    user: &User,
    version: i64,
) -> Result<(Vec<AreaPlan>, usize), StoreError> {
    let mut areas = Vec::new();
    let mut withheld = 0;
    for row in area_rows(db, case.id(), version).await? {
        let area = PlanArea::parse(&row.area)?;
        if !case.reads_area(user, area, row.responsible_org) {
            withheld += 1;
            continue;
        }
        let text = open_text(key, case.id(), &area_field(version, area), row.sealed)?;
        let sealed: SealedArea = serde_json::from_str(&text)
            .map_err(|e| StoreError::Internal(format!("plan area {area}: {e}")))?;
        let responsible = match (row.responsible_user, row.responsible_org, row.referral_id) {
            (_, Some(org), Some(referral)) => Responsible::Partner { org, referral },
            (Some(user), _, _) => Responsible::Staff { user },
            _ => Responsible::Nobody,
        };
        areas.push(AreaPlan {
            area,
            status: AreaStatus::parse(&row.status)?,
            responsible,
            needs: sealed.needs,
            goals: sealed.goals,
            her_words: sealed.her_words,
        });
    }
    areas.sort_by_key(|a| a.area);
    Ok((areas, withheld))
}

/// Reads the plan inside an opened case, without auditing (the caller audits once).
pub(crate) async fn plan_in(
    db: &Db,
    key: &DataKey,
    case: &Case,
    user: &User,
    version: Option<i64>,
) -> Result<Option<PlanView>, StoreError> {
    let all = versions(db, case.id()).await?;
    let Some(latest) = all.last().map(|v| v.version) else {
        return Ok(None);
    };
    let wanted = version.unwrap_or(latest);
    let Some(row) = all.iter().find(|v| v.version == wanted) else {
        return Err(StoreError::NotFound("plan version"));
    };
    let names =
        case_access::user_names(db, &all.iter().map(|v| v.created_by).collect::<Vec<_>>()).await?;
    let name = |id: &Uuid| names.get(id).cloned().unwrap_or_default();
    let (areas, withheld) = readable_areas(db, key, case, user, wanted).await?;
    let changes = if wanted > 1 {
        let (before, _) = readable_areas(db, key, case, user, wanted - 1).await?;
        let visible: Vec<PlanArea> = areas.iter().map(|a| a.area).collect();
        let before: Vec<AreaPlan> = before
            .into_iter()
            .filter(|a| !case.as_partner() || visible.contains(&a.area))
            .collect();
        diff(&before, &areas)
    } else {
        Vec::new()
    };
    Ok(Some(PlanView {
        current: PlanVersion {
            version: row.version,
            started_on: row.started_on,
            is_review: row.is_review,
            created_by: name(&row.created_by),
            created_at: row.created_at,
            areas,
            withheld,
        },
        latest_version: latest,
        versions: all
            .iter()
            .rev()
            .map(|v| VersionSummary {
                version: v.version,
                is_review: v.is_review,
                created_by: name(&v.created_by),
                created_at: v.created_at,
            })
            .collect(),
        changes,
    }))
}

/// Her plan as `user` may see it (`None` before a first plan is written). Audited.
#[tracing::instrument(skip_all, fields(user = %user.id, survivor = %id))]
pub async fn plan(
    db: &Db,
    keyring: &Keyring,
    user: &User,
    ctx: &RequestContext,
    id: SurvivorId,
    version: Option<i64>,
) -> Result<Option<PlanView>, StoreError> {
    let case = Case::open(db, user, id, now()).await?;
    let key = case.key(db, keyring).await?;
    let view = plan_in(db, &key, &case, user, version).await?;
    case_access::audit_read(db, ctx, "plan.read", case.id(), &["plan"]).await?;
    Ok(view)
}

/// Checks who an area names as responsible: a staff member of her organisation, or a partner
/// through a referral of hers to that partner that was accepted.
async fn check_responsible(db: &Db, case: &Case, area: &AreaPlan) -> Result<(), StoreError> {
    match area.responsible {
        Responsible::Nobody => Ok(()),
        Responsible::Staff { user } => {
            let org: Option<Uuid> = on_pool!(db, pool => sqlx::query_scalar(
                "SELECT org_id FROM users WHERE id = $1 AND disabled_at IS NULL",
            )
            .bind(user)
            .fetch_optional(pool)
            .await?);
            if org == Some(case.row.owner_org) {
                Ok(())
            } else {
                Err(ValidationError::new(
                    "responsible",
                    format!(
                        "the person named responsible for {} is not an active member of her team",
                        area.area
                    ),
                )
                .into())
            }
        }
        Responsible::Partner { org, referral } => {
            let found: Option<String> = on_pool!(db, pool => sqlx::query_scalar(
                "SELECT status FROM referrals WHERE id = $1 AND survivor_id = $2 AND org_id = $3",
            )
            .bind(referral)
            .bind(case.id())
            .bind(org)
            .fetch_optional(pool)
            .await?);
            match found.as_deref() {
                Some("accepted" | "admitted") => Ok(()),
                Some(_) => Err(ValidationError::new(
                    "responsible",
                    format!(
                        "the partner's referral for {} is not accepted; a partner owns an area only once it has accepted her",
                        area.area
                    ),
                )
                .into()),
                None => Err(ValidationError::new(
                    "responsible",
                    format!("{}: no referral of hers to that partner exists", area.area),
                )
                .into()),
            }
        }
    }
}

/// Saves a new version of her plan. Validated whole before anything is written; written in
/// one transaction with its audit event. The first plan schedules her first contact and first
/// review; a review completes the review that was due and schedules the next.
#[tracing::instrument(skip_all, fields(user = %user.id, survivor = %id))]
pub async fn save(
    db: &Db,
    keyring: &Keyring,
    user: &User,
    ctx: &RequestContext,
    id: SurvivorId,
    input: &PlanInput,
) -> Result<i64, StoreError> {
    let at = now();
    let case = Case::open(db, user, id, at).await?;
    case.require_not_erased()?;
    case.require(user, Action::ManageCase)?;
    for area in &input.areas {
        case.require_write(user, area.area)?;
    }
    check_plan(input.started_on, &input.areas)?;
    for area in &input.areas {
        check_responsible(db, &case, area).await?;
    }
    let key = case.key(db, keyring).await?;
    let mut tx = db.begin().await?;
    let latest: Option<i64> = on_tx!(&mut tx, conn => sqlx::query_scalar(
        "SELECT max(version) FROM case_plans WHERE survivor_id = $1",
    )
    .bind(case.id())
    .fetch_one(conn)
    .await?);
    if latest != input.based_on_version {
        return Err(StoreError::Conflict(match latest {
            Some(v) => format!(
                "her plan was changed by someone else while you were editing (it is now at version {v}); reload it and make your changes again"
            ),
            None => "her plan has no earlier version; reload the page".into(),
        }));
    }
    if input.is_review && latest.is_none() {
        return Err(ValidationError::new(
            "is_review",
            "a review needs an existing plan; save her first plan first",
        )
        .into());
    }
    let version = latest.unwrap_or(0) + 1;
    on_tx!(&mut tx, conn => sqlx::query(
        "INSERT INTO case_plans (survivor_id, version, started_on, is_review, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(case.id())
    .bind(version)
    .bind(input.started_on)
    .bind(input.is_review)
    .bind(user.id.as_uuid())
    .bind(at)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    write_areas(&mut tx, &key, case.id(), version, &input.areas).await?;
    let today = crate::clock::team_date(at);
    if latest.is_none() {
        let schedule = follow_ups::schedule_for(db, case.row.owner_org).await?;
        let level = follow_ups::current_level(db, case.id()).await?;
        let first_contact = schedule.next_due(input.started_on, input.started_on, level);
        follow_ups::insert_in(
            &mut tx,
            case.id(),
            FollowUpKind::Contact,
            first_contact.max(today),
            user,
            at,
        )
        .await?;
        follow_ups::insert_in(
            &mut tx,
            case.id(),
            FollowUpKind::Review,
            next_review(input.started_on).max(today),
            user,
            at,
        )
        .await?;
    } else if input.is_review {
        follow_ups::complete_due_review_in(&mut tx, case.id(), today, user).await?;
        follow_ups::insert_in(
            &mut tx,
            case.id(),
            FollowUpKind::Review,
            next_review(today),
            user,
            at,
        )
        .await?;
    }
    let areas: Vec<&str> = input.areas.iter().map(|a| a.area.as_str()).collect();
    let action = if input.is_review {
        "plan.review"
    } else {
        "plan.save"
    };
    case_access::audit(&mut tx, ctx, action, case.id(), &areas, None).await?;
    tx.commit().await?;
    Ok(version)
}

fn next_review(from: NaiveDate) -> NaiveDate {
    from.checked_add_months(Months::new(REVIEW_EVERY_MONTHS))
        .unwrap_or(from)
}

async fn write_areas(
    tx: &mut Tx,
    key: &DataKey,
    survivor: Uuid,
    version: i64,
    areas: &[AreaPlan],
) -> Result<(), StoreError> {
    for area in areas {
        let document = serde_json::to_string(&SealedArea {
            needs: area.needs.trim().to_owned(),
            goals: area
                .goals
                .iter()
                .map(|g| Goal {
                    text: g.text.trim().to_owned(),
                    ..g.clone()
                })
                .collect(),
            her_words: area.her_words.trim().to_owned(),
        })
        .map_err(|e| StoreError::Internal(format!("plan area: {e}")))?;
        let sealed = key.seal(survivor, &area_field(version, area.area), &document);
        let (user, org, referral) = match area.responsible {
            Responsible::Nobody => (None, None, None),
            Responsible::Staff { user } => (Some(user), None, None),
            Responsible::Partner { org, referral } => (None, Some(org), Some(referral)),
        };
        on_tx!(&mut *tx, conn => sqlx::query(
            "INSERT INTO case_plan_areas (survivor_id, version, area, status, responsible_user, responsible_org, referral_id, sealed) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(survivor)
        .bind(version)
        .bind(area.area.as_str())
        .bind(area.status.as_str())
        .bind(user)
        .bind(org)
        .bind(referral)
        .bind(sealed.as_bytes())
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
    }
    Ok(())
}

/// Whether a plan review has ever been recorded for her (a closure criterion).
pub(crate) async fn has_review(db: &Db, survivor: Uuid) -> Result<bool, StoreError> {
    let count: i64 = on_pool!(db, pool => sqlx::query_scalar(
        "SELECT count(*) FROM case_plans WHERE survivor_id = $1 AND is_review = $2",
    )
    .bind(survivor)
    .bind(true)
    .fetch_one(pool)
    .await?);
    Ok(count > 0)
}

/// When her current plan started, if she has one.
pub(crate) async fn started_on(db: &Db, survivor: Uuid) -> Result<Option<NaiveDate>, StoreError> {
    Ok(on_pool!(db, pool => sqlx::query_scalar(
        "SELECT started_on FROM case_plans WHERE survivor_id = $1 ORDER BY version DESC LIMIT 1",
    )
    .bind(survivor)
    .fetch_optional(pool)
    .await?))
}
