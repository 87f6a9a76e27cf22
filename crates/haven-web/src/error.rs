//! The JSON error type of the API and the one place store errors become HTTP statuses.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use haven_store::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

/// An error answered to an API client: `{"error": {"code", "message", "request_id"}}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// A stable, machine-readable code such as `bad_request` or `not_found`.
    pub code: String,
    /// What went wrong, in words for a person.
    pub message: String,
    /// Quote this when reporting a problem; it finds the request in the logs.
    pub request_id: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub fn unauthenticated() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "sign in first: send a bearer token from POST /api/v1/auth/login",
        )
    }

    pub fn forbidden() -> ApiError {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "your role does not allow this",
        )
    }

    pub fn not_found(what: &str) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} not found"),
        )
    }

    fn internal() -> ApiError {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Haven could not complete this request and nothing was changed; quote the request ID to your administrator",
        )
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> ApiError {
        match err {
            StoreError::Invalid(v) => ApiError::bad_request(v.to_string()),
            StoreError::NotFound(what) => ApiError::not_found(what),
            StoreError::Forbidden(message) => {
                ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
            }
            StoreError::Conflict(message) => {
                ApiError::new(StatusCode::CONFLICT, "conflict", message)
            }
            StoreError::BadCredentials => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "bad_credentials",
                "unknown username or wrong password",
            ),
            StoreError::Unavailable(cause) => {
                tracing::error!(%cause, "database unavailable");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "the database cannot be reached right now; nothing was changed, please try again shortly",
                )
            }
            other => {
                // The whole cause chain goes to the log; the user gets a reference.
                let mut chain = other.to_string();
                let mut source = std::error::Error::source(&other);
                while let Some(cause) = source {
                    chain.push_str(": ");
                    chain.push_str(&cause.to_string());
                    source = cause.source();
                }
                tracing::error!(error = %chain, "request failed");
                ApiError::internal()
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_owned(),
                message: self.message,
                request_id: crate::request_id::current(),
            },
        };
        (self.status, Json(body)).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use haven_core::ValidationError;

    #[test]
    fn store_errors_map_to_the_documented_statuses() {
        let cases: Vec<(StoreError, StatusCode, &str)> = vec![
            (
                StoreError::Invalid(ValidationError::new("username", "too short")),
                StatusCode::BAD_REQUEST,
                "bad_request",
            ),
            (
                StoreError::NotFound("user"),
                StatusCode::NOT_FOUND,
                "not_found",
            ),
            (
                StoreError::Conflict("taken".into()),
                StatusCode::CONFLICT,
                "conflict",
            ),
            (
                StoreError::BadCredentials,
                StatusCode::UNAUTHORIZED,
                "bad_credentials",
            ),
            (
                StoreError::Unavailable("down".into()),
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
            ),
            (
                StoreError::Internal("boom".into()),
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
            ),
        ];
        for (err, status, code) in cases {
            let api = ApiError::from(err);
            assert_eq!((api.status, api.code), (status, code));
        }
    }

    #[test]
    fn internal_details_never_reach_the_client() {
        let api = ApiError::from(StoreError::Internal("secret table layout".into()));
        assert!(!api.message.contains("secret"));
    }

    #[test]
    fn validation_messages_reach_the_client() {
        let api = ApiError::from(StoreError::Invalid(ValidationError::new(
            "password",
            "must be at least 12 characters",
        )));
        assert_eq!(api.message, "password: must be at least 12 characters");
    }
}
