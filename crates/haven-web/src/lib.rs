//! Haven's HTTP layer: the JSON API under `/api/v1`, the server-rendered HTML UI, sessions,
//! CSRF, security headers and translations.

pub mod api;
pub mod auth;
pub mod connections;
pub mod error;
pub mod i18n;
pub mod login_flow;
pub mod pages;
pub mod qr;
pub mod request_id;
pub mod security_headers;
pub mod state;

pub use state::{AppState, WebConfig};

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::Router;
use std::future::Future;
use tokio::net::TcpListener;
use tower_http::compression::CompressionLayer;
use tower_http::timeout::TimeoutLayer;

/// The whole application: API, pages, and the layers every request passes through.
pub fn app(state: AppState) -> Router {
    let config = state.config.clone();
    Router::new()
        .merge(api::router())
        .merge(pages::router())
        .layer(DefaultBodyLimit::max(config.body_limit))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            config.request_timeout,
        ))
        // Evidence uploads stream gigabytes: their own size limit (the locker's), no 30 s cut.
        .merge(api::upload_router())
        .fallback(pages::fallback)
        .with_state(state)
        .layer(CompressionLayer::new())
        .layer(axum::middleware::from_fn_with_state(
            config.behind_tls,
            auth::tls_scope,
        ))
        .layer(axum::middleware::from_fn_with_state(
            config.behind_tls,
            security_headers::middleware,
        ))
        .layer(axum::middleware::from_fn(request_id::middleware))
}

/// Serves until `shutdown` resolves, then stops accepting, lets in-flight requests finish
/// and returns. Connections are held within the configured limits (see `connections`).
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = connections::Limits {
        max_connections: state.config.max_connections,
        header_read_timeout: state.config.header_read_timeout,
    };
    connections::serve(listener, app(state), limits, shutdown).await
}
