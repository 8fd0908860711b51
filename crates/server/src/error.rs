//! One API error type, turned into a JSON body `{ "error": { "code", "message" } }` with the right status.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// Errors a handler can answer with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// A query parameter is wrong (names the parameter).
    #[error("parameter `{param}`: {reason}")]
    BadParam {
        /// Parameter name.
        param: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// Nothing with that id.
    #[error("{kind} `{id}` not found")]
    NotFound {
        /// What was looked for.
        kind: &'static str,
        /// The id.
        id: String,
    },
    /// Something failed inside; logged, answered with a generic message.
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    /// The HTTP status.
    pub fn status_code(&self) -> StatusCode {
        match self {
            Self::BadParam { .. } => StatusCode::BAD_REQUEST,
            Self::NotFound { .. } => StatusCode::NOT_FOUND,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
    /// A stable code the web app can switch on.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadParam { .. } => "BadParameter",
            Self::NotFound { .. } => "NotFound",
            Self::Internal(_) => "Internal",
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Self::Internal(detail) = &self {
            tracing::error!(%detail, "internal error");
        }
        (self.status_code(), Json(json!({ "error": { "code": self.code(), "message": self.to_string() } })))
            .into_response()
    }
}
