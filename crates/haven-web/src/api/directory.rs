//! Organisations, staff accounts and the dashboard counts.

use crate::auth::ApiUser;
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::Json;
use haven_core::{OrgKind, Role};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Serialize, ToSchema)]
pub struct Dashboard {
    pub partner_organisations: i64,
    pub active_users: i64,
    pub open_sessions: i64,
    /// Active staff per role.
    pub users_by_role: Vec<RoleCount>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RoleCount {
    pub role: String,
    pub count: i64,
}

/// Aggregate counts for the home page. Any signed-in user.
#[utoipa::path(get, path = "/api/v1/dashboard", tag = "directory", security(("bearer" = [])),
    responses(
        (status = 200, description = "Counts", body = Dashboard),
        (status = 401, description = "Not signed in", body = crate::error::ErrorBody)))]
pub async fn dashboard(
    State(state): State<AppState>,
    _caller: ApiUser,
) -> Result<Json<Dashboard>, ApiError> {
    let counts = haven_store::stats::dashboard(&state.db).await?;
    Ok(Json(Dashboard {
        partner_organisations: counts.partner_organisations,
        active_users: counts.active_users,
        open_sessions: counts.open_sessions,
        users_by_role: counts
            .users_by_role
            .into_iter()
            .map(|(role, count)| RoleCount {
                role: role.as_str().to_owned(),
                count,
            })
            .collect(),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrganisationInfo {
    pub id: String,
    pub name: String,
    /// `own` or `partner`.
    pub kind: String,
}

/// The own organisation and the partner NGOs. Any signed-in user.
#[utoipa::path(get, path = "/api/v1/organisations", tag = "directory", security(("bearer" = [])),
    responses(
        (status = 200, description = "Organisations, own first", body = [OrganisationInfo]),
        (status = 401, description = "Not signed in", body = crate::error::ErrorBody)))]
pub async fn organisations(
    State(state): State<AppState>,
    _caller: ApiUser,
) -> Result<Json<Vec<OrganisationInfo>>, ApiError> {
    let orgs = haven_store::orgs::list(&state.db).await?;
    Ok(Json(
        orgs.into_iter()
            .map(|o| OrganisationInfo {
                id: o.id.to_string(),
                name: o.name,
                kind: match o.kind {
                    OrgKind::Own => "own",
                    OrgKind::Partner => "partner",
                }
                .to_owned(),
            })
            .collect(),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Page {
    /// At most this many items (1 to 200, default 50).
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A cursor is the username that ended the previous page, so it names an existing account;
/// anything else would silently answer an empty or wrong page.
async fn known_username(state: &AppState, cursor: &str) -> Result<String, ApiError> {
    let refused =
        || ApiError::bad_request("cursor must be the next_cursor of a previous page of accounts");
    let username = haven_core::Username::parse(cursor).map_err(|_| refused())?;
    haven_store::users::find_by_username(&state.db, &username)
        .await?
        .map(|user| user.username.to_string())
        .ok_or_else(refused)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserList {
    pub items: Vec<UserSummary>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserSummary {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub organisation: String,
    pub roles: Vec<String>,
    pub disabled: bool,
}

/// Staff accounts, by username. Administrators only.
#[utoipa::path(get, path = "/api/v1/users", tag = "directory", params(Page), security(("bearer" = [])),
    responses(
        (status = 200, description = "One page of accounts", body = UserList),
        (status = 400, description = "Bad paging parameters", body = crate::error::ErrorBody),
        (status = 401, description = "Not signed in", body = crate::error::ErrorBody),
        (status = 403, description = "Not an administrator", body = crate::error::ErrorBody)))]
pub async fn users(
    State(state): State<AppState>,
    caller: ApiUser,
    page: Result<Query<Page>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<UserList>, ApiError> {
    if !caller.user.roles.contains(Role::Admin) {
        return Err(ApiError::forbidden());
    }
    let Query(page) = page.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let limit = page.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::bad_request("limit must be between 1 and 200"));
    }
    let after = match page.cursor.as_deref() {
        None => None,
        Some(cursor) => Some(known_username(&state, cursor).await?),
    };
    let found = haven_store::users::list(&state.db, after.as_deref(), limit).await?;
    let next_cursor = (found.len() == limit as usize)
        .then(|| found.last().map(|u| u.username.to_string()))
        .flatten();
    Ok(Json(UserList {
        items: found
            .into_iter()
            .map(|u| UserSummary {
                id: u.id.to_string(),
                username: u.username.to_string(),
                display_name: u.display_name,
                organisation: u.org_name,
                roles: u.roles.iter().map(|r| r.as_str().to_owned()).collect(),
                disabled: u.disabled,
            })
            .collect(),
        next_cursor,
    }))
}
