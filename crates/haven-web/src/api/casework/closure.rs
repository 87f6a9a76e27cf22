//! Closing her case when the closure criteria are met and recorded, and re-opening it.
//! Nothing of her history is removed by either.

use super::{date, survivor_id};
use crate::api::json::ApiJson;
use crate::auth::ApiUser;
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, NaiveDate, Utc};
use haven_core::casework::ClosureCriteria;
use haven_store::case_closures::{self, ClosureInput, ClosureView};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What must be true and recorded before her case closes.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct CriteriaBody {
    /// She lives in a safe arrangement.
    #[serde(default)]
    pub safe_living: bool,
    /// She has a sustainable income, or is in school or training.
    #[serde(default)]
    pub income_or_school: bool,
    /// A final review of her plan was held (it must also exist as a plan review).
    #[serde(default)]
    pub final_review: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CloseBody {
    /// YYYY-MM-DD, not in the future.
    pub closed_on: String,
    #[serde(default)]
    pub criteria: CriteriaBody,
    /// Where she lives and how she supports herself, in words.
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Closed {
    /// The check-ins scheduled six and twelve months after closure.
    pub check_ins: Vec<NaiveDate>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClosureOut {
    pub id: String,
    pub closed_on: NaiveDate,
    pub closed_by: String,
    /// Only for those who read her psychosocial notes.
    pub note: Option<String>,
    pub reopened_at: Option<DateTime<Utc>>,
    pub reopened_by: Option<String>,
    pub reopen_reason: Option<String>,
}

pub(crate) fn closure_out(c: ClosureView) -> ClosureOut {
    ClosureOut {
        id: c.id.to_string(),
        closed_on: c.closed_on,
        closed_by: c.closed_by,
        note: c.note,
        reopened_at: c.reopened_at,
        reopened_by: c.reopened_by,
        reopen_reason: c.reopen_reason,
    }
}

/// Close her case (her caseworker). Refused, naming each criterion, while any is unmet or no
/// plan review was recorded; open contacts and reviews are cancelled and check-ins at six and
/// twelve months scheduled. 409 when it is already closed.
#[utoipa::path(post, path = "/api/v1/survivors/{id}/closure", tag = "casework", params(("id" = String, Path)), request_body = CloseBody, security(("bearer" = [])),
    responses((status = 201, body = Closed), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn close(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<CloseBody>,
) -> Result<(StatusCode, Json<Closed>), ApiError> {
    let id = survivor_id(&id)?;
    let input = ClosureInput {
        closed_on: date("closed_on", &body.closed_on)?,
        criteria: ClosureCriteria {
            safe_living: body.criteria.safe_living,
            income_or_school: body.criteria.income_or_school,
            final_review: body.criteria.final_review,
        },
        note: body.note,
    };
    let check_ins = case_closures::close(
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
        Json(Closed {
            check_ins: check_ins.to_vec(),
        }),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ReopenBody {
    /// Why her case is re-opened.
    pub reason: String,
}

/// Re-open her closed case with a reason (her caseworker); her first contact falls due within
/// the first-month interval. 409 when it is not closed.
#[utoipa::path(post, path = "/api/v1/survivors/{id}/reopen", tag = "casework", params(("id" = String, Path)), request_body = ReopenBody, security(("bearer" = [])),
    responses((status = 204), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn reopen(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ReopenBody>,
) -> Result<StatusCode, ApiError> {
    case_closures::reopen(
        &state.db,
        state.keyring()?,
        &caller.user,
        &caller.context(),
        survivor_id(&id)?,
        &body.reason,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
