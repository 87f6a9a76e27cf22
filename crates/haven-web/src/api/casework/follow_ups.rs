//! Her follow-ups (contacts, plan reviews, check-ins after closure) and the organisation's
//! follow-up schedule. Completing a contact schedules the next by the schedule and her risk.

use super::{bad, date, optional_date, path_uuid, survivor_id, Created};
use crate::api::json::ApiJson;
use crate::auth::ApiUser;
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::NaiveDate;
use haven_core::casework::{FollowUpKind, Schedule};
use haven_core::{OrgKind, Role};
use haven_store::follow_ups::{self, FollowUpView};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct FollowUpOut {
    pub id: String,
    /// contact, review or post_closure.
    pub kind: String,
    pub due_on: NaiveDate,
    pub done_on: Option<NaiveDate>,
    pub done_by: Option<String>,
    pub cancelled: bool,
    /// Open and past its due date.
    pub overdue: bool,
    /// What the contact found; only for those who read her psychosocial notes.
    pub note: Option<String>,
}

pub(crate) fn follow_up_out(f: FollowUpView, today: NaiveDate) -> FollowUpOut {
    FollowUpOut {
        id: f.id.to_string(),
        kind: f.kind.as_str().into(),
        due_on: f.due_on,
        overdue: f.is_overdue(today),
        done_on: f.done_on,
        done_by: f.done_by,
        cancelled: f.cancelled,
        note: f.note,
    }
}

/// Her follow-ups, by due date (not for partners: follow-up is her caseworker's work).
#[utoipa::path(get, path = "/api/v1/survivors/{id}/follow-ups", tag = "casework", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = [FollowUpOut]), (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
) -> Result<Json<Vec<FollowUpOut>>, ApiError> {
    let list = follow_ups::list(
        &state.db,
        state.keyring()?,
        &caller.user,
        &caller.context(),
        survivor_id(&id)?,
    )
    .await?;
    let today = state.team_today();
    Ok(Json(
        list.into_iter().map(|f| follow_up_out(f, today)).collect(),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct FollowUpBody {
    /// contact or review (check-ins after closure are scheduled by the closure).
    pub kind: String,
    /// YYYY-MM-DD, today or later.
    pub due_on: String,
}

/// Schedule a contact or a plan review for her (her caseworker).
#[utoipa::path(post, path = "/api/v1/survivors/{id}/follow-ups", tag = "casework", params(("id" = String, Path)), request_body = FollowUpBody, security(("bearer" = [])),
    responses((status = 201, body = Created), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn add(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<FollowUpBody>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let id = survivor_id(&id)?;
    let kind = FollowUpKind::parse(&body.kind).map_err(bad)?;
    let due_on = date("due_on", &body.due_on)?;
    let follow_up =
        follow_ups::add(&state.db, &caller.user, &caller.context(), id, kind, due_on).await?;
    Ok((
        StatusCode::CREATED,
        Json(Created {
            id: follow_up.to_string(),
        }),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CompleteBody {
    /// The day it happened (YYYY-MM-DD); today when absent.
    #[serde(default)]
    pub done_on: Option<String>,
    /// What the contact found.
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Completed {
    /// When her next contact is due, if completing this one scheduled it.
    pub next_contact_due: Option<NaiveDate>,
}

/// Record a follow-up as done. A contact schedules her next contact (not after her case was
/// closed); 409 when it was already done or cancelled.
#[utoipa::path(post, path = "/api/v1/follow-ups/{id}/complete", tag = "casework", params(("id" = String, Path)), request_body = CompleteBody, security(("bearer" = [])),
    responses((status = 200, body = Completed), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn complete(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<CompleteBody>,
) -> Result<Json<Completed>, ApiError> {
    let follow_up = path_uuid(&id, "follow-up")?;
    let done_on =
        optional_date("done_on", body.done_on.as_deref())?.unwrap_or_else(|| state.team_today());
    let next = follow_ups::complete(
        &state.db,
        state.keyring()?,
        &caller.user,
        &caller.context(),
        follow_up,
        done_on,
        &body.note,
    )
    .await?;
    Ok(Json(Completed {
        next_contact_due: next,
    }))
}

/// Days between contacts, by phase since her plan started. High risk means weekly whatever
/// the phase, medium at most fortnightly.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct ScheduleBody {
    /// In her first month (default 7).
    pub first_month_days: i64,
    /// In her first year (default 30).
    pub first_year_days: i64,
    /// After her first year (default 90).
    pub after_days: i64,
}

fn schedule_out(s: Schedule) -> ScheduleBody {
    ScheduleBody {
        first_month_days: i64::from(s.first_month_days),
        first_year_days: i64::from(s.first_year_days),
        after_days: i64::from(s.after_days),
    }
}

/// The caseworkers and managers of the own organisation follow the schedule; nobody else has
/// one to read.
fn require_casework_staff(caller: &ApiUser) -> Result<(), ApiError> {
    let roles = &caller.user.roles;
    if caller.user.org_kind == OrgKind::Own
        && (roles.contains(Role::Aftercare) || roles.contains(Role::Manager))
    {
        Ok(())
    } else {
        Err(ApiError::forbidden())
    }
}

/// The organisation's follow-up schedule (caseworkers and managers).
#[utoipa::path(get, path = "/api/v1/follow-up-schedule", tag = "casework", security(("bearer" = [])),
    responses((status = 200, body = ScheduleBody), (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody)))]
pub async fn schedule(
    State(state): State<AppState>,
    caller: ApiUser,
) -> Result<Json<ScheduleBody>, ApiError> {
    require_casework_staff(&caller)?;
    Ok(Json(schedule_out(
        follow_ups::schedule(&state.db, &caller.user).await?,
    )))
}

/// Set the organisation's follow-up schedule (managers). Each interval 1 to 365 days, never
/// longer in an earlier phase than in a later one.
#[utoipa::path(put, path = "/api/v1/follow-up-schedule", tag = "casework", request_body = ScheduleBody, security(("bearer" = [])),
    responses((status = 200, body = ScheduleBody), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody)))]
pub async fn set_schedule(
    State(state): State<AppState>,
    caller: ApiUser,
    ApiJson(body): ApiJson<ScheduleBody>,
) -> Result<Json<ScheduleBody>, ApiError> {
    let days = |field: &str, value: i64| {
        u32::try_from(value)
            .map_err(|_| ApiError::bad_request(format!("{field}: must be between 1 and 365 days")))
    };
    let schedule = Schedule {
        first_month_days: days("first_month_days", body.first_month_days)?,
        first_year_days: days("first_year_days", body.first_year_days)?,
        after_days: days("after_days", body.after_days)?,
    };
    follow_ups::set_schedule(&state.db, &caller.user, &caller.context(), schedule).await?;
    Ok(Json(schedule_out(
        follow_ups::schedule(&state.db, &caller.user).await?,
    )))
}
