//! The JSON API under `/api/v1`, plus `/healthz` and `/readyz`.

pub mod account;
pub mod audit;
pub mod auth;
pub mod casework;
pub mod crisis;
pub mod directory;
pub mod health;
pub mod json;
pub mod legal;
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
    ("get", "/api/v1/survivors/{id}/history"),
    ("post", "/api/v1/survivors/{id}/break-glass"),
    ("post", "/api/v1/survivors/{id}/erase"),
    ("post", "/api/v1/survivors/{id}/shares"),
    ("delete", "/api/v1/survivors/{id}/shares/{share_id}"),
    ("put", "/api/v1/survivors/{id}/assignees"),
    ("get", "/api/v1/survivors/{id}/access"),
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
    ("get", "/api/v1/legal/cases"),
    ("post", "/api/v1/legal/cases"),
    ("get", "/api/v1/legal/cases/{id}"),
    ("post", "/api/v1/legal/cases/{id}/suspects"),
    ("post", "/api/v1/legal/cases/{id}/charges"),
    ("post", "/api/v1/legal/cases/{id}/survivors"),
    (
        "post",
        "/api/v1/legal/cases/{id}/survivors/{survivor_id}/decisions",
    ),
    ("post", "/api/v1/legal/cases/{id}/stages"),
    ("post", "/api/v1/legal/cases/{id}/hearings"),
    (
        "put",
        "/api/v1/legal/cases/{id}/hearings/{hearing_id}/accompaniment/{survivor_id}",
    ),
    ("post", "/api/v1/legal/cases/{id}/sessions"),
    ("post", "/api/v1/legal/cases/{id}/deadlines"),
    ("post", "/api/v1/legal/cases/{id}/outcomes"),
    ("post", "/api/v1/legal/cases/{id}/evidence"),
    ("post", "/api/v1/legal/cases/{id}/items"),
    ("post", "/api/v1/legal/cases/{id}/bundle"),
    ("post", "/api/v1/legal/cases/{id}/bundle/manifest"),
    ("get", "/api/v1/legal/evidence/{id}"),
    ("get", "/api/v1/legal/evidence/{id}/content"),
    ("get", "/api/v1/legal/evidence/{id}/verify"),
    ("post", "/api/v1/legal/evidence/{id}/custody"),
    ("post", "/api/v1/legal/evidence/{id}/legal-hold"),
    ("get", "/api/v1/legal/hearings"),
    ("get", "/api/v1/legal/figures"),
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
    ("get", "/api/v1/survivors/{id}/case-file"),
    ("get", "/api/v1/survivors/{id}/plan"),
    ("post", "/api/v1/survivors/{id}/plan"),
    ("get", "/api/v1/survivors/{id}/services"),
    ("post", "/api/v1/survivors/{id}/services"),
    ("get", "/api/v1/services/{id}"),
    ("get", "/api/v1/survivors/{id}/follow-ups"),
    ("post", "/api/v1/survivors/{id}/follow-ups"),
    ("post", "/api/v1/follow-ups/{id}/complete"),
    ("get", "/api/v1/follow-ups/overdue"),
    ("get", "/api/v1/follow-up-schedule"),
    ("put", "/api/v1/follow-up-schedule"),
    ("get", "/api/v1/caseload"),
    ("get", "/api/v1/caseloads"),
    ("get", "/api/v1/caseloads/{user_id}"),
    ("put", "/api/v1/survivors/{id}/caseworker"),
    ("get", "/api/v1/survivors/{id}/risks"),
    ("post", "/api/v1/survivors/{id}/risks"),
    ("get", "/api/v1/survivors/{id}/incidents"),
    ("post", "/api/v1/survivors/{id}/incidents"),
    ("post", "/api/v1/survivors/{id}/closure"),
    ("post", "/api/v1/survivors/{id}/reopen"),
    ("get", "/api/v1/survivors/{id}/notes"),
    ("post", "/api/v1/survivors/{id}/notes"),
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
        .route("/api/v1/survivors/{id}/access", get(survivors::access))
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
        .merge(legal_router())
        .merge(referrals::router())
        .merge(casework::router())
}

fn legal_router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/legal/cases",
            get(legal::list_cases).post(legal::create_case),
        )
        .route("/api/v1/legal/cases/{id}", get(legal::read_case))
        .route(
            "/api/v1/legal/cases/{id}/suspects",
            post(legal::add_suspect),
        )
        .route("/api/v1/legal/cases/{id}/charges", post(legal::add_charge))
        .route(
            "/api/v1/legal/cases/{id}/survivors",
            post(legal::link_survivor),
        )
        .route(
            "/api/v1/legal/cases/{id}/survivors/{survivor_id}/decisions",
            post(legal::record_decision),
        )
        .route("/api/v1/legal/cases/{id}/stages", post(legal::record_stage))
        .route(
            "/api/v1/legal/cases/{id}/hearings",
            post(legal::schedule_hearing),
        )
        .route(
            "/api/v1/legal/cases/{id}/hearings/{hearing_id}/accompaniment/{survivor_id}",
            put(legal::plan_accompaniment),
        )
        .route(
            "/api/v1/legal/cases/{id}/sessions",
            post(legal::record_session),
        )
        .route(
            "/api/v1/legal/cases/{id}/deadlines",
            post(legal::add_deadline),
        )
        .route(
            "/api/v1/legal/cases/{id}/outcomes",
            post(legal::record_outcome),
        )
        .route("/api/v1/legal/cases/{id}/items", post(legal::add_physical))
        .route("/api/v1/legal/cases/{id}/bundle", post(legal::bundle))
        .route(
            "/api/v1/legal/cases/{id}/bundle/manifest",
            post(legal::bundle_manifest),
        )
        .route("/api/v1/legal/evidence/{id}", get(legal::read_item))
        .route("/api/v1/legal/evidence/{id}/content", get(legal::content))
        .route("/api/v1/legal/evidence/{id}/verify", get(legal::verify))
        .route("/api/v1/legal/evidence/{id}/custody", post(legal::transfer))
        .route(
            "/api/v1/legal/evidence/{id}/legal-hold",
            post(legal::legal_hold),
        )
        .route("/api/v1/legal/hearings", get(legal::calendar))
        .route("/api/v1/legal/figures", get(legal::figures))
}

/// Evidence uploads (API and form): streamed, with the locker's own size limit instead of the
/// global body limit, and without the request time-out (a large video takes a while).
pub fn upload_router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/legal/cases/{id}/evidence", post(legal::upload))
        .route(
            "/legal/cases/{id}/evidence",
            post(crate::pages::legal::upload),
        )
        .layer(axum::extract::DefaultBodyLimit::disable())
}
