//! The caller's own account: open sessions, and enrolling a TOTP second factor.

use crate::api::json::ApiJson;
use crate::auth::ApiUser;
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use haven_core::SessionId;
use haven_store::sessions;
use haven_store::totp::{self, TotpStatus};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// The name authenticator apps show above the code.
pub const TOTP_ISSUER: &str = "Haven";

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionInfo {
    pub id: String,
    /// `browser` or `api`.
    pub kind: &'static str,
    /// `full` or `read`.
    pub scope: &'static str,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub client_addr: Option<String>,
    /// True for the session making this request.
    pub current: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionList {
    pub items: Vec<SessionInfo>,
}

/// The caller's open sessions, newest first.
#[utoipa::path(get, path = "/api/v1/me/sessions", tag = "account", security(("bearer" = [])),
    responses(
        (status = 200, description = "Open sessions (at most 100)", body = SessionList),
        (status = 401, description = "Not signed in", body = crate::error::ErrorBody)))]
pub async fn list_sessions(
    State(state): State<AppState>,
    caller: ApiUser,
) -> Result<Json<SessionList>, ApiError> {
    let settings = state.settings().await?;
    let now = haven_store::clock::now();
    let items = sessions::list_open(&state.db, caller.user.id)
        .await?
        .into_iter()
        // Sessions past their idle time-out are dead even if not yet marked so.
        .filter(|s| {
            settings
                .session
                .check(s.created_at, s.last_seen_at, false, now)
                .is_ok()
        })
        .map(|s| SessionInfo {
            id: s.id.to_string(),
            kind: s.kind.as_str(),
            scope: s.scope.as_str(),
            created_at: s.created_at,
            last_seen_at: s.last_seen_at,
            expires_at: s.expires_at,
            client_addr: s.client_addr.clone(),
            current: s.id == caller.session.id,
        })
        .collect();
    Ok(Json(SessionList { items }))
}

/// End one of the caller's own sessions (another user's session is a 404).
#[utoipa::path(delete, path = "/api/v1/me/sessions/{id}", tag = "account", security(("bearer" = [])),
    params(("id" = String, Path, description = "Session ID from GET /api/v1/me/sessions")),
    responses(
        (status = 204, description = "Session ended"),
        (status = 401, description = "Not signed in", body = crate::error::ErrorBody),
        (status = 403, description = "`insufficient_scope`: a read-only token", body = crate::error::ErrorBody),
        (status = 404, description = "No such open session of yours", body = crate::error::ErrorBody)))]
pub async fn revoke_session(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = Uuid::parse_str(id.trim()).map_err(|_| ApiError::not_found("session"))?;
    sessions::revoke_own(
        &state.db,
        &caller.ctx,
        caller.user.id,
        SessionId::from_uuid(id),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TotpState {
    /// `off`, `pending` (secret issued, not confirmed) or `on`.
    pub status: &'static str,
    /// Whether this account must use two-step sign-in under the current settings.
    pub required: bool,
    /// Unused recovery codes left (when on).
    pub recovery_codes_left: Option<u32>,
}

/// Whether the caller uses two-step sign-in.
#[utoipa::path(get, path = "/api/v1/me/totp", tag = "account", security(("bearer" = [])),
    responses(
        (status = 200, description = "Second-factor status", body = TotpState),
        (status = 401, description = "Not signed in", body = crate::error::ErrorBody)))]
pub async fn totp_state(
    State(state): State<AppState>,
    caller: ApiUser,
) -> Result<Json<TotpState>, ApiError> {
    let settings = state.settings().await?;
    let status = totp::status(&state.db, caller.user.id).await?;
    Ok(Json(TotpState {
        status: match status {
            TotpStatus::Off => "off",
            TotpStatus::Pending => "pending",
            TotpStatus::On { .. } => "on",
        },
        required: settings.totp.required_for(&caller.user.roles),
        recovery_codes_left: match status {
            TotpStatus::On {
                recovery_codes_left,
            } => Some(recovery_codes_left),
            _ => None,
        },
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TotpEnrolment {
    /// The secret in base32, for typing into the app by hand.
    pub secret: String,
    /// The `otpauth://` address the QR code holds.
    pub otpauth_url: String,
    /// The QR code as a `data:image/svg+xml;base64,...` URI.
    pub qr_code: String,
}

/// Start enrolling an authenticator app: issues a new secret (replacing an unconfirmed one).
#[utoipa::path(post, path = "/api/v1/me/totp", tag = "account", security(("bearer" = [])),
    responses(
        (status = 200, description = "Secret issued; confirm it with a code", body = TotpEnrolment),
        (status = 401, description = "Not signed in", body = crate::error::ErrorBody),
        (status = 403, description = "`insufficient_scope`: a read-only token", body = crate::error::ErrorBody),
        (status = 409, description = "Two-step sign-in is already on", body = crate::error::ErrorBody)))]
pub async fn totp_begin(
    State(state): State<AppState>,
    caller: ApiUser,
) -> Result<Json<TotpEnrolment>, ApiError> {
    let secret = totp::begin_enrolment(&state.db, state.keyring()?, caller.user.id).await?;
    let otpauth_url = secret.otpauth_url(TOTP_ISSUER, caller.user.username.as_str());
    let qr_code = crate::qr::svg_data_uri(&otpauth_url).unwrap_or_default();
    Ok(Json(TotpEnrolment {
        secret: secret.base32().to_owned(),
        otpauth_url,
        qr_code,
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct TotpConfirm {
    /// The current six-digit code from the app.
    pub code: String,
}

impl std::fmt::Debug for TotpConfirm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpConfirm(***)")
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecoveryCodes {
    /// Ten single-use codes for when the phone is lost. Shown this once; store them safely.
    pub recovery_codes: Vec<String>,
}

/// Finish enrolling with a code from the app; returns the recovery codes, once.
#[utoipa::path(post, path = "/api/v1/me/totp/confirm", tag = "account", security(("bearer" = [])),
    request_body = TotpConfirm,
    responses(
        (status = 200, description = "Two-step sign-in is on", body = RecoveryCodes),
        (status = 400, description = "Malformed request or wrong code", body = crate::error::ErrorBody),
        (status = 401, description = "Not signed in", body = crate::error::ErrorBody),
        (status = 403, description = "`insufficient_scope`: a read-only token", body = crate::error::ErrorBody),
        (status = 409, description = "Nothing to confirm (start with POST /api/v1/me/totp)", body = crate::error::ErrorBody)))]
pub async fn totp_confirm(
    State(state): State<AppState>,
    caller: ApiUser,
    ApiJson(request): ApiJson<TotpConfirm>,
) -> Result<Json<RecoveryCodes>, ApiError> {
    let codes = totp::confirm_enrolment(
        &state.db,
        state.keyring()?,
        &caller.ctx,
        caller.user.id,
        &request.code,
    )
    .await?;
    Ok(Json(RecoveryCodes {
        recovery_codes: codes.iter().map(|c| c.expose().to_owned()).collect(),
    }))
}
