//! Services delivered to her. A list never carries a medical result, not even a sign that one
//! exists; only the one-service read has the field, filled for her assigned caseworker.

use super::{bad, body_uuid, date, path_uuid, staff, survivor_id, Created};
use crate::api::json::ApiJson;
use crate::auth::ApiUser;
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, NaiveDate, Utc};
use haven_core::casework::ServiceKind;
use haven_core::OrgId;
use haven_store::care_services::{self, ServiceInput, ServiceView};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
pub struct ServiceBody {
    /// counselling, medical_check, sti_hiv_test, treatment, school_enrolment,
    /// vocational_training, literacy, life_skills, job_placement, court_accompaniment,
    /// family_visit, home_visit or shelter.
    pub kind: String,
    /// When it was delivered (YYYY-MM-DD): not before her rescue, not in the future.
    pub delivered_on: String,
    /// The staff member who delivered it (user ID or username), or
    #[serde(default)]
    pub provider_user: Option<String>,
    /// the partner organisation that did.
    #[serde(default)]
    pub provider_organisation_id: Option<String>,
    #[serde(default)]
    pub outcome: String,
    /// Only for medical services (a test result, a diagnosis). Read back only by her assigned
    /// caseworker, through `GET /api/v1/services/{id}`.
    #[serde(default)]
    pub medical_result: Option<String>,
}

/// A service in a list or in her case file: never a medical result.
#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceItem {
    pub id: String,
    pub kind: String,
    /// The plan area it serves.
    pub area: String,
    pub delivered_on: NaiveDate,
    pub provider: String,
    pub recorded_at: DateTime<Utc>,
    /// Absent when the caller may not read what is written in its area.
    pub outcome: Option<String>,
}

/// One service, with its medical result when the caller is her assigned caseworker.
#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceDetail {
    pub id: String,
    pub kind: String,
    pub area: String,
    pub delivered_on: NaiveDate,
    pub provider: String,
    pub recorded_at: DateTime<Utc>,
    pub outcome: Option<String>,
    /// Only for her assigned caseworker; absent for everyone else.
    pub medical_result: Option<String>,
}

/// The list shape leaves the medical result out by construction.
pub(crate) fn service_out(s: ServiceView) -> ServiceItem {
    ServiceItem {
        id: s.id.to_string(),
        kind: s.kind.as_str().into(),
        area: s.area.as_str().into(),
        delivered_on: s.delivered_on,
        provider: s.provider,
        recorded_at: s.recorded_at,
        outcome: s.outcome,
    }
}

/// Her services, newest first (a partner sees only those in the areas referred to it).
#[utoipa::path(get, path = "/api/v1/survivors/{id}/services", tag = "casework", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = [ServiceItem]), (status = 401, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
) -> Result<Json<Vec<ServiceItem>>, ApiError> {
    let list = care_services::list(
        &state.db,
        state.keyring()?,
        &caller.user,
        &caller.context(),
        survivor_id(&id)?,
    )
    .await?;
    Ok(Json(list.into_iter().map(service_out).collect()))
}

/// Record a service delivered to her (her caseworker). Refused before her rescue, in the
/// future, or with a medical result on a service that is not medical.
#[utoipa::path(post, path = "/api/v1/survivors/{id}/services", tag = "casework", params(("id" = String, Path)), request_body = ServiceBody, security(("bearer" = [])),
    responses((status = 201, body = Created), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn record(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ServiceBody>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let id = survivor_id(&id)?;
    let provider_user = match body.provider_user.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(raw) => Some(staff(&state, &caller.user, "provider_user", raw).await?),
    };
    let provider_org = match body.provider_organisation_id.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(raw) => Some(OrgId::from_uuid(body_uuid(
            "provider_organisation_id",
            raw,
        )?)),
    };
    let input = ServiceInput {
        kind: ServiceKind::parse(&body.kind).map_err(bad)?,
        delivered_on: date("delivered_on", &body.delivered_on)?,
        provider_user,
        provider_org,
        outcome: body.outcome,
        medical_result: body.medical_result,
    };
    let service = care_services::record(
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
            id: service.to_string(),
        }),
    ))
}

/// One service. Its medical result is there only for her assigned caseworker, and reading it
/// is audited with the field named.
#[utoipa::path(get, path = "/api/v1/services/{id}", tag = "casework", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = ServiceDetail), (status = 401, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn read(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
) -> Result<Json<ServiceDetail>, ApiError> {
    let service = path_uuid(&id, "service")?;
    let s = care_services::service(
        &state.db,
        state.keyring()?,
        &caller.user,
        &caller.context(),
        service,
    )
    .await?;
    Ok(Json(ServiceDetail {
        id: s.id.to_string(),
        kind: s.kind.as_str().into(),
        area: s.area.as_str().into(),
        delivered_on: s.delivered_on,
        provider: s.provider,
        recorded_at: s.recorded_at,
        outcome: s.outcome,
        medical_result: s.medical_result,
    }))
}
