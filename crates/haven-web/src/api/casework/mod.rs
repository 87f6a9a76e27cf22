//! Long-term case management over the API: her plan, services, follow-ups, caseloads, risk,
//! incidents, closure and case notes. Every answer comes from the case-management store
//! modules, which apply the access policy and audit each read and write; a survivor, service
//! or follow-up the caller may not see is a 404.
//!
//! Inputs arrive as plain strings and are parsed here into domain values, so a bad date or an
//! unknown area is refused with a sentence naming the field, never a serde message.

pub mod caseload;
pub mod closure;
pub mod file;
pub mod follow_ups;
pub mod notes;
pub mod plan;
pub mod risk;
pub mod services;

use crate::error::ApiError;
use crate::state::AppState;
use axum::http::StatusCode;
use chrono::NaiveDate;
use haven_core::{SurvivorId, UserId, Username, ValidationError};
use haven_store::users::User;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// The routes of this module (listed in [`super::ROUTES`] too).
pub fn router() -> axum::Router<AppState> {
    use axum::routing::{get, post, put};
    axum::Router::new()
        .route("/api/v1/survivors/{id}/case-file", get(file::read))
        .route(
            "/api/v1/survivors/{id}/plan",
            get(plan::read).post(plan::save),
        )
        .route(
            "/api/v1/survivors/{id}/services",
            get(services::list).post(services::record),
        )
        .route("/api/v1/services/{id}", get(services::read))
        .route(
            "/api/v1/survivors/{id}/follow-ups",
            get(follow_ups::list).post(follow_ups::add),
        )
        .route(
            "/api/v1/follow-ups/{id}/complete",
            post(follow_ups::complete),
        )
        .route("/api/v1/follow-ups/overdue", get(caseload::team_overdue))
        .route(
            "/api/v1/follow-up-schedule",
            get(follow_ups::schedule).put(follow_ups::set_schedule),
        )
        .route("/api/v1/caseload", get(caseload::own))
        .route("/api/v1/caseloads", get(caseload::team))
        .route("/api/v1/caseloads/{user_id}", get(caseload::worker))
        .route("/api/v1/survivors/{id}/caseworker", put(caseload::reassign))
        .route(
            "/api/v1/survivors/{id}/risks",
            get(risk::list).post(risk::assess),
        )
        .route(
            "/api/v1/survivors/{id}/incidents",
            get(risk::incidents).post(risk::report),
        )
        .route("/api/v1/survivors/{id}/closure", post(closure::close))
        .route("/api/v1/survivors/{id}/reopen", post(closure::reopen))
        .route(
            "/api/v1/survivors/{id}/notes",
            get(notes::list).post(notes::add),
        )
}

/// The answer to a create: the new record's ID.
#[derive(Debug, Serialize, ToSchema)]
pub struct Created {
    pub id: String,
}

/// An ID in a path that does not parse names no record: the same answer as one the caller
/// may not see.
pub(crate) fn survivor_id(raw: &str) -> Result<SurvivorId, ApiError> {
    raw.trim()
        .parse()
        .map_err(|_| ApiError::not_found("survivor"))
}

pub(crate) fn path_uuid(raw: &str, what: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw.trim()).map_err(|_| ApiError::not_found(what))
}

pub(crate) fn bad(e: ValidationError) -> ApiError {
    ApiError::bad_request(e.to_string())
}

/// A calendar date written as YYYY-MM-DD.
pub(crate) fn date(field: &str, raw: &str) -> Result<NaiveDate, ApiError> {
    NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d").map_err(|_| {
        ApiError::bad_request(format!(
            "{field}: '{}' is not a date; write it as YYYY-MM-DD, e.g. 2026-03-15",
            raw.trim()
        ))
    })
}

/// An optional date: absent or blank is `None`.
pub(crate) fn optional_date(field: &str, raw: Option<&str>) -> Result<Option<NaiveDate>, ApiError> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(raw) => date(field, raw).map(Some),
    }
}

/// An ID given in a body: malformed is a 400 naming the field (the caller typed it).
pub(crate) fn body_uuid(field: &str, raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw.trim()).map_err(|_| {
        ApiError::bad_request(format!(
            "{field}: '{}' is not a valid identifier",
            raw.trim()
        ))
    })
}

/// A staff member of the caller's organisation, named by user ID or by username. Whether she
/// may take the task (active, the right role) is the store's to decide; here only that the
/// name means someone.
pub(crate) async fn staff(
    state: &AppState,
    caller: &User,
    field: &str,
    raw: &str,
) -> Result<UserId, ApiError> {
    let raw = raw.trim();
    if let Ok(id) = Uuid::parse_str(raw) {
        return Ok(UserId::from_uuid(id));
    }
    let unknown = || {
        ApiError::bad_request(format!(
            "{field}: '{raw}' is not a staff member of your organisation"
        ))
    };
    let username = Username::parse(raw).map_err(|_| unknown())?;
    haven_store::users::find_by_username(&state.db, &username)
        .await?
        .filter(|u| u.org_id == caller.org_id)
        .map(|u| u.id)
        .ok_or_else(unknown)
}

/// A 404 that says what is missing when the survivor herself was found.
pub(crate) fn nothing_yet(code: &'static str, message: &str) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, code, message)
}
