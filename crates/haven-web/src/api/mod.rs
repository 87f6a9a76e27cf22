//! The JSON API under `/api/v1`, plus `/healthz` and `/readyz`.

pub mod account;
pub mod audit;
pub mod auth;
pub mod directory;
pub mod health;
pub mod json;
pub mod openapi;
pub mod referrals;
pub mod survivors;

use crate::state::AppState;
use axum::routing::{delete, get, post, put};
use axum::Router;

/// Every API route as (method, path); the OpenAPI document must describe exactly these
/// (a test checks), so no endpoint ships undocumented.
pub const ROUTES: &[(&str, &str)] = &[
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("post", "/api/v1/auth/login"),
    ("post", "/api/v1/auth/logout"),
    ("post", "/api/v1/auth/logout-all"),
    ("get", "/api/v1/me"),
    ("get", "/api/v1/me/sessions"),
    ("delete", "/api/v1/me/sessions/{id}"),
    ("get", "/api/v1/me/totp"),
    ("post", "/api/v1/me/totp"),
    ("post", "/api/v1/me/totp/confirm"),
    ("get", "/api/v1/dashboard"),
    ("get", "/api/v1/organisations"),
    ("get", "/api/v1/users"),
    ("get", "/api/v1/audit"),
    ("get", "/api/v1/openapi.json"),
    ("get", "/api/v1/survivors"),
    ("post", "/api/v1/survivors"),
    ("get", "/api/v1/survivors/{id}"),
    ("patch", "/api/v1/survivors/{id}"),
    ("post", "/api/v1/survivors/{id}/break-glass"),
    ("post", "/api/v1/survivors/{id}/erase"),
    ("post", "/api/v1/survivors/{id}/shares"),
    ("delete", "/api/v1/survivors/{id}/shares/{share_id}"),
    ("put", "/api/v1/survivors/{id}/assignees"),
    ("get", "/api/v1/break-glass"),
    ("get", "/api/v1/partners"),
    ("get", "/api/v1/partners/{id}"),
    ("put", "/api/v1/partners/{id}"),
    ("put", "/api/v1/partners/{id}/occupancy"),
    ("get", "/api/v1/survivors/{id}/matches"),
    ("get", "/api/v1/survivors/{id}/consents"),
    ("post", "/api/v1/survivors/{id}/consents"),
    (
        "post",
        "/api/v1/survivors/{id}/consents/{consent_id}/withdraw",
    ),
    ("get", "/api/v1/survivors/{id}/placements"),
    ("get", "/api/v1/referrals"),
    ("post", "/api/v1/referrals"),
    ("get", "/api/v1/referrals/dashboard"),
    ("get", "/api/v1/referrals/{id}"),
    ("post", "/api/v1/referrals/{id}/steps"),
    ("post", "/api/v1/referrals/{id}/services"),
    ("get", "/api/v1/notifications"),
    ("post", "/api/v1/notifications/{id}/read"),
];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/api/v1/auth/login", post(auth::login))
        .route("/api/v1/auth/logout", post(auth::logout))
        .route("/api/v1/auth/logout-all", post(auth::logout_all))
        .route("/api/v1/me", get(auth::me))
        .route("/api/v1/me/sessions", get(account::list_sessions))
        .route("/api/v1/me/sessions/{id}", delete(account::revoke_session))
        .route(
            "/api/v1/me/totp",
            get(account::totp_state).post(account::totp_begin),
        )
        .route("/api/v1/me/totp/confirm", post(account::totp_confirm))
        .route("/api/v1/dashboard", get(directory::dashboard))
        .route("/api/v1/organisations", get(directory::organisations))
        .route("/api/v1/users", get(directory::users))
        .route("/api/v1/audit", get(audit::list))
        .route("/api/v1/openapi.json", get(openapi::document))
        .route(
            "/api/v1/survivors",
            get(survivors::list).post(survivors::create),
        )
        .route(
            "/api/v1/survivors/{id}",
            get(survivors::read).patch(survivors::update),
        )
        .route(
            "/api/v1/survivors/{id}/break-glass",
            post(survivors::break_glass),
        )
        .route("/api/v1/survivors/{id}/erase", post(survivors::erase))
        .route("/api/v1/survivors/{id}/shares", post(survivors::share))
        .route(
            "/api/v1/survivors/{id}/shares/{share_id}",
            delete(survivors::withdraw_share),
        )
        .route("/api/v1/survivors/{id}/assignees", put(survivors::reassign))
        .route("/api/v1/break-glass", get(survivors::break_glass_log))
        .merge(referrals::router())
}
