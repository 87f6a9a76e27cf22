//! The JSON API under `/api/v1`, plus `/healthz` and `/readyz`.

pub mod audit;
pub mod auth;
pub mod directory;
pub mod health;
pub mod json;
pub mod openapi;

use crate::state::AppState;
use axum::routing::{get, post};
use axum::Router;

/// Every API route as (method, path); the OpenAPI document must describe exactly these
/// (a test checks), so no endpoint ships undocumented.
pub const ROUTES: &[(&str, &str)] = &[
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("post", "/api/v1/auth/login"),
    ("post", "/api/v1/auth/logout"),
    ("get", "/api/v1/me"),
    ("get", "/api/v1/dashboard"),
    ("get", "/api/v1/organisations"),
    ("get", "/api/v1/users"),
    ("get", "/api/v1/audit"),
    ("get", "/api/v1/openapi.json"),
];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/api/v1/auth/login", post(auth::login))
        .route("/api/v1/auth/logout", post(auth::logout))
        .route("/api/v1/me", get(auth::me))
        .route("/api/v1/dashboard", get(directory::dashboard))
        .route("/api/v1/organisations", get(directory::organisations))
        .route("/api/v1/users", get(directory::users))
        .route("/api/v1/audit", get(audit::list))
        .route("/api/v1/openapi.json", get(openapi::document))
}
