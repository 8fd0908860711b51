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
    /// No route under `/api` has that path.
    #[error("no API route `{0}` (see /api/v1/openapi.json)")]
    NoRoute(String),
    /// The query string does not parse (e.g. a number that is not one).
    #[error("query: {0}")]
    BadQuery(String),
    /// Nothing with that id.
    #[error("{kind} `{id}` not found")]
    NotFound {
        /// What was looked for.
        kind: &'static str,
        /// The id.
        id: String,
    },
    /// No valid credentials: a wrong or expired token, a malformed `Authorization` header, or a
    /// wrong name or password at login.
    #[error("{0}")]
    Unauthorized(String),
    /// Signed in, but the role may not do this.
    #[error("this needs the role `{needed}` or higher; you are `{have}`")]
    Forbidden {
        /// The lowest role allowed.
        needed: wangge_store::Role,
        /// The caller's role.
        have: wangge_store::Role,
    },
    /// The request body is wrong (malformed JSON, a missing field, too large, wrong content type).
    #[error("request body: {message}")]
    BadBody {
        /// 400, 413, 415 or 422.
        status: StatusCode,
        /// What is wrong.
        message: String,
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
            Self::BadQuery(_) => crate::extract::BAD_QUERY,
            Self::NoRoute(_) => StatusCode::NOT_FOUND,
            Self::NotFound { .. } => StatusCode::NOT_FOUND,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden { .. } => StatusCode::FORBIDDEN,
            Self::BadBody { status, .. } => *status,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
    /// A stable code the web app can switch on.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadParam { .. } => "BadParameter",
            Self::BadQuery(_) => "BadQuery",
            Self::NoRoute(_) => "NoRoute",
            Self::NotFound { .. } => "NotFound",
            Self::Unauthorized(_) => "Unauthorized",
            Self::Forbidden { .. } => "Forbidden",
            Self::BadBody { status, .. } if *status == StatusCode::PAYLOAD_TOO_LARGE => "PayloadTooLarge",
            Self::BadBody { status, .. } if *status == StatusCode::UNSUPPORTED_MEDIA_TYPE => "UnsupportedMediaType",
            Self::BadBody { .. } => "BadBody",
            Self::Internal(_) => "Internal",
        }
    }
}

impl From<wangge_store::StoreError> for ApiError {
    fn from(e: wangge_store::StoreError) -> Self {
        match e {
            wangge_store::StoreError::Invalid { reason, .. } => {
                Self::BadBody { status: StatusCode::UNPROCESSABLE_ENTITY, message: reason }
            }
            wangge_store::StoreError::NotFound { what, name } => Self::NotFound { kind: what, id: name },
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<axum::extract::rejection::JsonRejection> for ApiError {
    fn from(r: axum::extract::rejection::JsonRejection) -> Self {
        use axum::extract::rejection::JsonRejection as J;
        let message = match &r {
            J::MissingJsonContentType(_) => "expected `Content-Type: application/json`".to_string(),
            _ => r.body_text(),
        };
        let status = r.status();
        // A body over the limit surfaces as a 413 inside the rejection; keep it.
        Self::BadBody { status: if status.is_client_error() { status } else { StatusCode::BAD_REQUEST }, message }
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
