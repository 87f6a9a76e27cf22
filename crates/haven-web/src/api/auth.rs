//! API sign-in and sign-out with bearer tokens, and "who am I".

use crate::api::json::ApiJson;
use crate::auth::{client_info, user_context, ApiUser, ClientAddr};
use crate::error::ApiError;
use crate::login_flow::{self, Outcome};
use crate::state::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use haven_core::nav::sections_for;
use haven_core::Password;
use haven_store::sessions::{self, SessionKind, SessionScope};
use haven_store::users::User;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
    /// Six-digit code from the authenticator app, for accounts with a second factor; an
    /// unused recovery code is accepted here too.
    #[serde(default)]
    pub totp: Option<String>,
    /// `"full"` (the default) or `"read"`: a read token is refused on anything but GET.
    #[serde(default)]
    pub scope: Option<String>,
}

impl std::fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginRequest")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
    pub token_type: &'static str,
    /// The token ends at this time at the latest (sooner if unused for the idle time-out).
    pub expires_at: DateTime<Utc>,
    /// `full` or `read`.
    pub scope: &'static str,
    pub user: UserInfo,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserInfo {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub organisation: String,
    pub roles: Vec<String>,
    pub locale: String,
    /// The parts of the application this user is offered, as paths.
    pub sections: Vec<String>,
}

impl From<&User> for UserInfo {
    fn from(user: &User) -> UserInfo {
        UserInfo {
            id: user.id.to_string(),
            username: user.username.to_string(),
            display_name: user.display_name.clone(),
            organisation: user.org_name.clone(),
            roles: user.roles.iter().map(|r| r.as_str().to_owned()).collect(),
            locale: user.locale.code().to_owned(),
            sections: sections_for(&user.roles)
                .into_iter()
                .map(|s| s.path().to_owned())
                .collect(),
        }
    }
}

/// Sign in and receive a bearer token.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = LoginResponse),
        (status = 400, description = "Malformed request", body = crate::error::ErrorBody),
        (status = 401, description = "`bad_credentials`: unknown username, wrong password or wrong code; `totp_required`: the account needs its authenticator code in `totp`", body = crate::error::ErrorBody),
        (status = 429, description = "`too_many_attempts`: too many recent failures for this account or address; see `Retry-After` (seconds)", body = crate::error::ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    client: ClientAddr,
    headers: HeaderMap,
    ApiJson(request): ApiJson<LoginRequest>,
) -> Result<Response, ApiError> {
    if request.username.trim().is_empty() || request.password.is_empty() {
        return Err(ApiError::bad_request(
            "username and password are both required",
        ));
    }
    let scope = match request.scope.as_deref() {
        None => SessionScope::Full,
        Some(s) => SessionScope::parse(s)
            .ok_or_else(|| ApiError::bad_request("scope must be \"full\" or \"read\""))?,
    };
    let info = client_info(&headers, client);
    let password = Password::new(request.password);
    let outcome = login_flow::sign_in(
        &state,
        &request.username,
        &password,
        request.totp.as_deref(),
        info.addr.as_deref(),
    )
    .await?;
    let user = match outcome {
        Outcome::SignedIn(user) => user,
        Outcome::NeedsCode(_) => {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "totp_required",
                "this account uses two-step sign-in: send the code from the authenticator app in \"totp\"",
            ))
        }
        Outcome::Throttled(wait) => return Ok(login_flow::too_many_attempts(wait)),
    };
    let settings = state.settings().await?;
    let (token, session) = sessions::start_scoped(
        &state.db,
        &user_context(&user, client),
        user.id,
        SessionKind::Api,
        scope,
        &settings.session,
        &info,
    )
    .await?;
    Ok(Json(LoginResponse {
        token: token.expose().to_owned(),
        token_type: "Bearer",
        expires_at: session.expires_at,
        scope: scope.as_str(),
        user: UserInfo::from(&user),
    })
    .into_response())
}

/// End this token's session.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", security(("bearer" = [])),
    responses(
        (status = 204, description = "Signed out"),
        (status = 401, description = "Not signed in", body = crate::error::ErrorBody)))]
pub async fn logout(
    State(state): State<AppState>,
    caller: ApiUser,
) -> Result<StatusCode, ApiError> {
    sessions::revoke(&state.db, &caller.ctx, &caller.token).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The signed-in user, her roles and the sections she is offered.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth", security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller", body = UserInfo),
        (status = 401, description = "Not signed in", body = crate::error::ErrorBody)))]
pub async fn me(caller: ApiUser) -> Json<UserInfo> {
    Json(UserInfo::from(&caller.user))
}

/// End every session of the caller, on every device ("sign out everywhere").
#[utoipa::path(post, path = "/api/v1/auth/logout-all", tag = "auth", security(("bearer" = [])),
    responses(
        (status = 204, description = "Every session of the caller ended, this one included"),
        (status = 401, description = "Not signed in", body = crate::error::ErrorBody),
        (status = 403, description = "`insufficient_scope`: a read-only token", body = crate::error::ErrorBody)))]
pub async fn logout_all(
    State(state): State<AppState>,
    caller: ApiUser,
) -> Result<StatusCode, ApiError> {
    sessions::revoke_all(&state.db, &caller.ctx, caller.user.id).await?;
    Ok(StatusCode::NO_CONTENT)
}
