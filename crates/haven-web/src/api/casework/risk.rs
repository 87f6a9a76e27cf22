//! Risk assessments and incidents. An assessment's level drives how often she is followed up;
//! an incident alerts the team lead at once (the alert names her reference, never what
//! happened).

use super::{bad, date, survivor_id, Created};
use crate::api::json::ApiJson;
use crate::auth::ApiUser;
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, NaiveDate, Utc};
use haven_core::casework::{IncidentKind, RiskFactors, RiskLevel};
use haven_store::case_risk::{self, IncidentInput, IncidentView, RiskInput, RiskView};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The known drivers of re-trafficking. Contact from a suspect is high risk by itself, as are
/// any two factors together; one factor is medium.
#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
pub struct FactorsBody {
    /// Her family presses her to earn money.
    #[serde(default)]
    pub family_pressure: bool,
    /// A suspect or a recruiter has contacted her or her family.
    #[serde(default)]
    pub suspect_contact: bool,
    /// She or her family owes money.
    #[serde(default)]
    pub debt: bool,
    /// She has dropped out of school or training.
    #[serde(default)]
    pub school_dropout: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RiskBody {
    /// YYYY-MM-DD, not in the future.
    pub assessed_on: String,
    #[serde(default)]
    pub factors: FactorsBody,
    /// low, medium or high: the assessor may raise the level the factors give, never lower it.
    #[serde(default)]
    pub judged_level: Option<String>,
    #[serde(default)]
    pub notes: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Assessed {
    /// The level recorded: low, medium or high.
    pub level: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RiskOut {
    pub id: String,
    pub assessed_on: NaiveDate,
    pub level: String,
    pub factors: FactorsBody,
    pub notes: String,
    pub assessed_by: String,
}

pub(crate) fn risk_out(r: RiskView) -> RiskOut {
    RiskOut {
        id: r.id.to_string(),
        assessed_on: r.assessed_on,
        level: r.level.as_str().into(),
        factors: FactorsBody {
            family_pressure: r.factors.family_pressure,
            suspect_contact: r.factors.suspect_contact,
            debt: r.factors.debt,
            school_dropout: r.factors.school_dropout,
        },
        notes: r.notes,
        assessed_by: r.assessed_by,
    }
}

/// Her risk assessments, newest first (those who read her psychosocial notes).
#[utoipa::path(get, path = "/api/v1/survivors/{id}/risks", tag = "casework", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = [RiskOut]), (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
) -> Result<Json<Vec<RiskOut>>, ApiError> {
    let list = case_risk::risks(
        &state.db,
        state.keyring()?,
        &caller.user,
        &caller.context(),
        survivor_id(&id)?,
    )
    .await?;
    Ok(Json(list.into_iter().map(risk_out).collect()))
}

/// Record a risk assessment (her caseworker). A level above low brings her next contact
/// forward at once.
#[utoipa::path(post, path = "/api/v1/survivors/{id}/risks", tag = "casework", params(("id" = String, Path)), request_body = RiskBody, security(("bearer" = [])),
    responses((status = 201, body = Assessed), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn assess(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RiskBody>,
) -> Result<(StatusCode, Json<Assessed>), ApiError> {
    let id = survivor_id(&id)?;
    let input = RiskInput {
        assessed_on: date("assessed_on", &body.assessed_on)?,
        factors: RiskFactors {
            family_pressure: body.factors.family_pressure,
            suspect_contact: body.factors.suspect_contact,
            debt: body.factors.debt,
            school_dropout: body.factors.school_dropout,
        },
        judged: match body.judged_level.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(level) => Some(RiskLevel::parse(level).map_err(bad)?),
        },
        notes: body.notes,
    };
    let level = case_risk::assess(
        &state.db,
        state.keyring()?,
        &caller.user,
        &caller.context(),
        id,
        &input,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(Assessed {
            level: level.as_str().into(),
        }),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct IncidentBody {
    /// threat, ran_away, suspected_retrafficking or other.
    pub kind: String,
    /// YYYY-MM-DD, not in the future.
    pub occurred_on: String,
    /// What happened.
    pub account: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IncidentOut {
    pub id: String,
    pub kind: String,
    pub occurred_on: NaiveDate,
    pub account: String,
    pub reported_by: String,
    pub reported_at: DateTime<Utc>,
}

pub(crate) fn incident_out(i: IncidentView) -> IncidentOut {
    IncidentOut {
        id: i.id.to_string(),
        kind: i.kind.as_str().into(),
        occurred_on: i.occurred_on,
        account: i.account,
        reported_by: i.reported_by,
        reported_at: i.reported_at,
    }
}

/// Her incidents, newest first (those who read her psychosocial notes).
#[utoipa::path(get, path = "/api/v1/survivors/{id}/incidents", tag = "casework", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = [IncidentOut]), (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody)))]
pub async fn incidents(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
) -> Result<Json<Vec<IncidentOut>>, ApiError> {
    let list = case_risk::incidents(
        &state.db,
        state.keyring()?,
        &caller.user,
        &caller.context(),
        survivor_id(&id)?,
    )
    .await?;
    Ok(Json(list.into_iter().map(incident_out).collect()))
}

/// Report an incident (her caseworker): a threat, running away, suspected re-trafficking. The
/// managers of her organisation are alerted in the same transaction.
#[utoipa::path(post, path = "/api/v1/survivors/{id}/incidents", tag = "casework", params(("id" = String, Path)), request_body = IncidentBody, security(("bearer" = [])),
    responses((status = 201, body = Created), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn report(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<IncidentBody>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let id = survivor_id(&id)?;
    let input = IncidentInput {
        kind: IncidentKind::parse(&body.kind).map_err(bad)?,
        occurred_on: date("occurred_on", &body.occurred_on)?,
        account: body.account,
    };
    let incident = case_risk::report_incident(
        &state.db,
        state.keyring()?,
        &caller.user,
        &caller.context(),
        id,
        &input,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(Created {
            id: incident.to_string(),
        }),
    ))
}
