//! The JSON API under `/api/v1`, plus `/healthz` and `/readyz`.

pub mod account;
pub mod audit;
pub mod auth;
pub mod crisis;
pub mod directory;
pub mod health;
pub mod json;
pub mod openapi;
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
    ("get", "/api/v1/survivors/{id}/history"),
    ("post", "/api/v1/survivors/{id}/break-glass"),
    ("post", "/api/v1/survivors/{id}/erase"),
    ("post", "/api/v1/survivors/{id}/shares"),
    ("delete", "/api/v1/survivors/{id}/shares/{share_id}"),
    ("put", "/api/v1/survivors/{id}/assignees"),
    ("get", "/api/v1/break-glass"),
    ("get", "/api/v1/interventions"),
    ("post", "/api/v1/interventions"),
    ("get", "/api/v1/interventions/{id}"),
    ("get", "/api/v1/interventions/{id}/roster"),
    ("post", "/api/v1/interventions/{id}/roster"),
    ("delete", "/api/v1/interventions/{id}/roster/{shift_id}"),
    ("post", "/api/v1/interventions/{id}/survivors"),
    ("post", "/api/v1/interventions/{id}/episodes"),
    ("get", "/api/v1/interventions/{id}/station"),
    ("get", "/api/v1/episodes/{id}"),
    ("post", "/api/v1/episodes/{id}/log"),
    ("post", "/api/v1/episodes/{id}/safeguards"),
    ("post", "/api/v1/episodes/{id}/identification"),
    ("post", "/api/v1/episodes/{id}/placement"),
    ("get", "/api/v1/alerts"),
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
        .route("/api/v1/survivors/{id}/history", get(survivors::history))
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
        .route(
            "/api/v1/interventions",
            get(crisis::list).post(crisis::create),
        )
        .route("/api/v1/interventions/{id}", get(crisis::read))
        .route(
            "/api/v1/interventions/{id}/roster",
            get(crisis::roster).post(crisis::add_shift),
        )
        .route(
            "/api/v1/interventions/{id}/roster/{shift_id}",
            delete(crisis::cancel_shift),
        )
        .route("/api/v1/interventions/{id}/survivors", post(crisis::intake))
        .route(
            "/api/v1/interventions/{id}/episodes",
            post(crisis::open_episode),
        )
        .route("/api/v1/interventions/{id}/station", get(crisis::station))
        .route("/api/v1/episodes/{id}", get(crisis::episode))
        .route("/api/v1/episodes/{id}/log", post(crisis::log))
        .route("/api/v1/episodes/{id}/safeguards", post(crisis::safeguard))
        .route(
            "/api/v1/episodes/{id}/identification",
            post(crisis::identification),
        )
        .route("/api/v1/episodes/{id}/placement", post(crisis::placement))
        .route("/api/v1/alerts", get(crisis::alerts))
}
