//! Caseloads: a caseworker's survivors with overdue items first, a manager's view of every
//! caseworker's load, the team's overdue follow-ups, and moving a survivor to another
//! caseworker (audited). Team views carry references and dates only, never survivor data.

use super::{path_uuid, staff, survivor_id};
use crate::api::json::ApiJson;
use crate::auth::ApiUser;
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::NaiveDate;
use haven_core::{Role, UserId};
use haven_store::follow_ups::{self, CaseloadRow};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Serialize, ToSchema)]
pub struct CaseloadItem {
    pub survivor_id: String,
    pub reference: String,
    /// Her name, when the caller may read it.
    pub name: Option<String>,
    /// The next step due: contact, review or post_closure.
    pub next_kind: Option<String>,
    pub next_due: Option<NaiveDate>,
    /// Open follow-ups past their due date.
    pub overdue: i64,
    /// Her latest risk level: low, medium or high.
    pub risk: Option<String>,
    pub closed: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CaseloadOut {
    pub caseworker_id: String,
    /// Overdue first (most overdue first), then by the next due step, higher risk first.
    pub items: Vec<CaseloadItem>,
}

fn caseload_out(worker: UserId, rows: Vec<CaseloadRow>) -> CaseloadOut {
    CaseloadOut {
        caseworker_id: worker.to_string(),
        items: rows
            .into_iter()
            .map(|r| CaseloadItem {
                survivor_id: r.survivor.to_string(),
                reference: r.reference,
                name: r.name,
                next_kind: r.next_kind.map(|k| k.as_str().to_owned()),
                next_due: r.next_due,
                overdue: r.overdue,
                risk: r.risk.map(|l| l.as_str().to_owned()),
                closed: r.closed,
            })
            .collect(),
    }
}

async fn caseload_of(
    state: &AppState,
    caller: &ApiUser,
    worker: UserId,
) -> Result<CaseloadOut, ApiError> {
    let rows = follow_ups::caseload(
        &state.db,
        state.keyring()?,
        &caller.user,
        &caller.context(),
        worker,
        state.team_today(),
    )
    .await?;
    Ok(caseload_out(worker, rows))
}

/// The caller's own caseload (aftercare caseworkers).
#[utoipa::path(get, path = "/api/v1/caseload", tag = "casework", security(("bearer" = [])),
    responses((status = 200, body = CaseloadOut), (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody)))]
pub async fn own(
    State(state): State<AppState>,
    caller: ApiUser,
) -> Result<Json<CaseloadOut>, ApiError> {
    let worker = caller.user.id;
    Ok(Json(caseload_of(&state, &caller, worker).await?))
}

/// One caseworker's caseload (her manager; a caseworker may ask for her own).
#[utoipa::path(get, path = "/api/v1/caseloads/{user_id}", tag = "casework", params(("user_id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = CaseloadOut), (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody)))]
pub async fn worker(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(user_id): Path<String>,
) -> Result<Json<CaseloadOut>, ApiError> {
    let worker = UserId::from_uuid(path_uuid(&user_id, "caseworker")?);
    Ok(Json(caseload_of(&state, &caller, worker).await?))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WorkerLoadOut {
    pub user_id: String,
    pub name: String,
    pub survivors: i64,
    pub overdue: i64,
}

/// Every aftercare caseworker of the organisation with her caseload size and overdue
/// follow-ups, most overdue first (managers). Counts only.
#[utoipa::path(get, path = "/api/v1/caseloads", tag = "casework", security(("bearer" = [])),
    responses((status = 200, body = [WorkerLoadOut]), (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody)))]
pub async fn team(
    State(state): State<AppState>,
    caller: ApiUser,
) -> Result<Json<Vec<WorkerLoadOut>>, ApiError> {
    let loads = follow_ups::team_loads(&state.db, &caller.user, state.team_today()).await?;
    Ok(Json(
        loads
            .into_iter()
            .map(|l| WorkerLoadOut {
                user_id: l.user.to_string(),
                name: l.name,
                survivors: l.survivors,
                overdue: l.overdue,
            })
            .collect(),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OverdueQuery {
    /// 1 to 500, default 100.
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OverdueOut {
    pub follow_up_id: String,
    pub survivor_id: String,
    pub reference: String,
    pub kind: String,
    pub due_on: NaiveDate,
    pub days_overdue: i64,
    /// Who is assigned to her; empty when nobody is, which needs a manager's attention.
    pub caseworkers: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OverdueList {
    /// Oldest first.
    pub items: Vec<OverdueOut>,
    /// How many are overdue in all (the list stops at `limit`).
    pub total: i64,
}

/// The team's overdue follow-ups, oldest first (managers).
#[utoipa::path(get, path = "/api/v1/follow-ups/overdue", tag = "casework", params(OverdueQuery), security(("bearer" = [])),
    responses((status = 200, body = OverdueList), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody)))]
pub async fn team_overdue(
    State(state): State<AppState>,
    caller: ApiUser,
    query: Result<Query<OverdueQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<OverdueList>, ApiError> {
    let Query(query) =
        query.map_err(|_| ApiError::bad_request("limit must be a number between 1 and 500"))?;
    let limit = query.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::bad_request("limit must be between 1 and 500"));
    }
    let today = state.team_today();
    let (items, total) = follow_ups::team_overdue(&state.db, &caller.user, today, limit).await?;
    Ok(Json(OverdueList {
        items: items
            .into_iter()
            .map(|i| OverdueOut {
                follow_up_id: i.follow_up.to_string(),
                survivor_id: i.survivor.to_string(),
                reference: i.reference,
                kind: i.kind.as_str().into(),
                due_on: i.due_on,
                days_overdue: i.days_overdue,
                caseworkers: i.caseworkers,
            })
            .collect(),
        total,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CaseworkerBody {
    /// The caseworker who takes her on: user ID or username of an active aftercare
    /// caseworker of the organisation.
    pub caseworker: String,
}

/// Move her to another caseworker (managers); her follow-ups move with her. Audited.
#[utoipa::path(put, path = "/api/v1/survivors/{id}/caseworker", tag = "casework", params(("id" = String, Path)), request_body = CaseworkerBody, security(("bearer" = [])),
    responses((status = 204), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn reassign(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<CaseworkerBody>,
) -> Result<StatusCode, ApiError> {
    let id = survivor_id(&id)?;
    // Managers only: say so before looking at whom the body names.
    if !caller.user.roles.contains(Role::Manager) {
        return Err(ApiError::forbidden());
    }
    let to = staff(&state, &caller.user, "caseworker", &body.caseworker).await?;
    follow_ups::reassign(&state.db, &caller.user, &caller.context(), id, to).await?;
    Ok(StatusCode::NO_CONTENT)
}
