//! Services delivered to her: counselling, tests, school enrolment, training. Each belongs to
//! an area of her plan. A medical result is sealed apart from the outcome and read by exactly
//! one function, [`service`], after the policy's `ReadMedicalResult`: no list, export or
//! notification ever carries it.

use crate::case_access::{self, open_text, Case};
use crate::clock::{new_id, now};
use crate::crypto::{DataKey, Keyring};
use crate::users::User;
use crate::{on_pool, on_tx, Db, StoreError};
use chrono::{DateTime, NaiveDate, Utc};
use haven_core::casework::{check_service_date, check_service_text, PlanArea, ServiceKind};
use haven_core::policy::Action;
use haven_core::{OrgId, RequestContext, SurvivorId, UserId, ValidationError};
use uuid::Uuid;

/// What a worker records.
#[derive(Debug, Clone)]
pub struct ServiceInput {
    pub kind: ServiceKind,
    pub delivered_on: NaiveDate,
    /// The staff member who delivered it, or
    pub provider_user: Option<UserId>,
    /// the partner organisation that did.
    pub provider_org: Option<OrgId>,
    pub outcome: String,
    /// Only for medical services.
    pub medical_result: Option<String>,
}

/// A service as the user may see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceView {
    pub id: Uuid,
    pub kind: ServiceKind,
    pub area: PlanArea,
    pub delivered_on: NaiveDate,
    pub provider: String,
    pub recorded_at: DateTime<Utc>,
    /// What came of it (services the user may not read are not listed at all).
    pub outcome: Option<String>,
    /// Only ever filled by [`service`], for her assigned caseworker.
    pub medical_result: Option<String>,
}

#[derive(sqlx::FromRow)]
struct ServiceRow {
    id: Uuid,
    kind: String,
    delivered_on: NaiveDate,
    provider_user: Option<Uuid>,
    provider_org: Option<Uuid>,
    outcome: Vec<u8>,
    recorded_at: DateTime<Utc>,
}

/// The outcome column list: deliberately without `medical_result`.
const LIST_COLUMNS: &str =
    "id, kind, delivered_on, provider_user, provider_org, outcome, recorded_at";

/// Records a service. Refused before her rescue, in the future, or with a medical result on a
/// service that is not medical; written with its audit event in one transaction.
#[tracing::instrument(skip_all, fields(user = %user.id, survivor = %id))]
pub async fn record(
    db: &Db,
    keyring: &Keyring,
    user: &User,
    ctx: &RequestContext,
    id: SurvivorId,
    input: &ServiceInput,
) -> Result<Uuid, StoreError> {
    let at = now();
    let case = Case::open(db, user, id, at).await?;
    case.require_not_erased()?;
    let area = input.kind.area();
    case.require_write(user, area)?;
    check_service_date(
        input.delivered_on,
        case.rescued_on(db).await?,
        crate::clock::team_date(at),
    )?;
    check_service_text("outcome", &input.outcome)?;
    let result = input
        .medical_result
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    if let Some(result) = result {
        if !input.kind.has_medical_result() {
            return Err(ValidationError::new(
                "medical_result",
                format!(
                    "a {} has no medical result; write what happened under outcome",
                    input.kind
                ),
            )
            .into());
        }
        check_service_text("medical_result", result)?;
    }
    if input.provider_user.is_some() && input.provider_org.is_some() {
        return Err(ValidationError::new(
            "provider",
            "name either the staff member or the partner organisation who delivered it, not both",
        )
        .into());
    }
    if let Some(org) = input.provider_org {
        let exists: Option<Uuid> = on_pool!(db, pool => sqlx::query_scalar("SELECT id FROM organisations WHERE id = $1")
            .bind(org.as_uuid())
            .fetch_optional(pool)
            .await?);
        if exists.is_none() {
            return Err(ValidationError::new("provider_org", "no such organisation").into());
        }
    }
    if let Some(provider) = input.provider_user {
        let exists: Option<Uuid> = on_pool!(db, pool => sqlx::query_scalar("SELECT id FROM users WHERE id = $1")
            .bind(provider.as_uuid())
            .fetch_optional(pool)
            .await?);
        if exists.is_none() {
            return Err(ValidationError::new("provider_user", "no such staff member").into());
        }
    }
    let key = case.key(db, keyring).await?;
    let sid = new_id();
    let outcome = key.seal(sid, "service.outcome", input.outcome.trim());
    let medical = result.map(|r| key.seal(sid, "service.medical_result", r));
    let mut tx = db.begin().await?;
    on_tx!(&mut tx, conn => sqlx::query(
        "INSERT INTO care_services (id, survivor_id, kind, area, delivered_on, provider_user, provider_org, outcome, medical_result, recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(sid)
    .bind(case.id())
    .bind(input.kind.as_str())
    .bind(area.as_str())
    .bind(input.delivered_on)
    .bind(input.provider_user.map(|u| u.as_uuid()))
    .bind(input.provider_org.map(|o| o.as_uuid()))
    .bind(outcome.as_bytes())
    .bind(medical.as_ref().map(|m| m.as_bytes().to_vec()))
    .bind(user.id.as_uuid())
    .bind(at)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    let fields: &[&str] = if medical.is_some() {
        &["outcome", "medical_result"]
    } else {
        &["outcome"]
    };
    case_access::audit(&mut tx, ctx, "service.record", case.id(), fields, None).await?;
    tx.commit().await?;
    Ok(sid)
}

/// Areas a partner was referred for, from her latest plan.
pub(crate) async fn partner_areas(
    db: &Db,
    survivor: Uuid,
    org: Uuid,
) -> Result<Vec<PlanArea>, StoreError> {
    let areas: Vec<String> = on_pool!(db, pool => sqlx::query_scalar(
        "SELECT area FROM case_plan_areas WHERE survivor_id = $1 AND responsible_org = $2
           AND version = (SELECT max(version) FROM case_plans WHERE survivor_id = $1)",
    )
    .bind(survivor)
    .bind(org)
    .fetch_all(pool)
    .await?);
    Ok(areas
        .iter()
        .filter_map(|a| PlanArea::parse(a).ok())
        .collect())
}

async fn provider_names(
    db: &Db,
    rows: &[ServiceRow],
) -> Result<std::collections::HashMap<Uuid, String>, StoreError> {
    let mut ids: Vec<Uuid> = rows.iter().filter_map(|r| r.provider_user).collect();
    let mut names = case_access::user_names(db, &ids).await?;
    ids = rows.iter().filter_map(|r| r.provider_org).collect();
    ids.sort();
    ids.dedup();
    for org in ids {
        let name: Option<String> = on_pool!(db, pool => sqlx::query_scalar("SELECT name FROM organisations WHERE id = $1")
            .bind(org)
            .fetch_optional(pool)
            .await?);
        if let Some(name) = name {
            names.insert(org, name);
        }
    }
    Ok(names)
}

/// Her services inside an opened case, without medical results (the caller audits): those in
/// areas whose class the user may read; a partner only those in the areas referred to it.
pub(crate) async fn list_in(
    db: &Db,
    key: &DataKey,
    case: &Case,
    user: &User,
) -> Result<Vec<ServiceView>, StoreError> {
    views(db, key, case, user, None).await
}

/// Her services the user may see, or only the one named by `only` (so reading one service
/// does not open every outcome of hers).
async fn views(
    db: &Db,
    key: &DataKey,
    case: &Case,
    user: &User,
    only: Option<Uuid>,
) -> Result<Vec<ServiceView>, StoreError> {
    let one = if only.is_some() { " AND id = $2" } else { "" };
    let sql = format!(
        "SELECT {LIST_COLUMNS} FROM care_services WHERE survivor_id = $1{one} ORDER BY delivered_on DESC, recorded_at DESC"
    );
    let rows: Vec<ServiceRow> = on_pool!(db, pool => {
        let query = sqlx::query_as(&sql).bind(case.id());
        match only {
            Some(id) => query.bind(id),
            None => query,
        }
        .fetch_all(pool)
        .await?
    });
    let referred = if case.as_partner() {
        partner_areas(db, case.id(), user.org_id.as_uuid()).await?
    } else {
        Vec::new()
    };
    let names = provider_names(db, &rows).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let kind = ServiceKind::parse(&row.kind)?;
        let area = kind.area();
        let visible = if case.as_partner() {
            referred.contains(&area)
        } else {
            case.allows(user, Action::Read(area.class()))
        };
        // A service in an area the user may not read is left out, not shown blank: that she
        // had a test at a clinic is itself information about her.
        if !visible {
            continue;
        }
        let outcome = Some(open_text(key, row.id, "service.outcome", row.outcome)?);
        out.push(ServiceView {
            id: row.id,
            kind,
            area,
            delivered_on: row.delivered_on,
            provider: row
                .provider_user
                .or(row.provider_org)
                .and_then(|p| names.get(&p).cloned())
                .unwrap_or_default(),
            recorded_at: row.recorded_at,
            outcome,
            medical_result: None,
        });
    }
    Ok(out)
}

/// Her services (never with medical results). Audited.
pub async fn list(
    db: &Db,
    keyring: &Keyring,
    user: &User,
    ctx: &RequestContext,
    id: SurvivorId,
) -> Result<Vec<ServiceView>, StoreError> {
    let case = Case::open(db, user, id, now()).await?;
    let key = case.key(db, keyring).await?;
    let out = list_in(db, &key, &case, user).await?;
    case_access::audit_read(db, ctx, "service.list", case.id(), &["outcome"]).await?;
    Ok(out)
}

/// One service, with its medical result when the user is her assigned caseworker. The only
/// read of a medical result; audited with the field named when it was read.
pub async fn service(
    db: &Db,
    keyring: &Keyring,
    user: &User,
    ctx: &RequestContext,
    service: Uuid,
) -> Result<ServiceView, StoreError> {
    let survivor: Option<Uuid> = on_pool!(db, pool => sqlx::query_scalar("SELECT survivor_id FROM care_services WHERE id = $1")
        .bind(service)
        .fetch_optional(pool)
        .await?);
    let Some(survivor) = survivor else {
        return Err(StoreError::NotFound("service"));
    };
    let case = Case::open(db, user, SurvivorId::from_uuid(survivor), now()).await?;
    let key = case.key(db, keyring).await?;
    let Some(mut view) = views(db, &key, &case, user, Some(service))
        .await?
        .into_iter()
        .next()
    else {
        return Err(StoreError::NotFound("service"));
    };
    let mut fields = vec!["outcome"];
    if view.kind.has_medical_result() && case.allows(user, Action::ReadMedicalResult) {
        let sealed: Option<Vec<u8>> = on_pool!(db, pool => sqlx::query_scalar(
            "SELECT medical_result FROM care_services WHERE id = $1",
        )
        .bind(service)
        .fetch_one(pool)
        .await?);
        if let Some(sealed) = sealed {
            view.medical_result = Some(open_text(&key, service, "service.medical_result", sealed)?);
            fields.push("medical_result");
        }
    }
    case_access::audit_read(db, ctx, "service.read", case.id(), &fields).await?;
    Ok(view)
}
