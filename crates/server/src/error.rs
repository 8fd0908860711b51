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
    /// The request is well formed but cannot be answered for this data (e.g. a point too far from
    /// any walkable way, or a city without a walking network).
    #[error("{0}")]
    Unprocessable(String),
    /// The client is over its rate limit.
    #[error("{0}")]
    TooManyRequests(String),
    /// A tile request that cannot be served: malformed or out-of-range coordinates, an unknown
    /// layer, plan or metric (the message names it).
    #[error("{0}")]
    Tile(wangge_tiles::TileError),
    /// The request was based on a state that is no longer current (e.g. a stale plan version) or
    /// does not allow it; `current` (answered as a top-level `"current"`) is the current state.
    #[error("{message}")]
    Conflict {
        /// A stable code, e.g. `StaleVersion`.
        code: &'static str,
        /// What is wrong.
        message: String,
        /// The current state of the resource.
        current: serde_json::Value,
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
            Self::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Tile(e) if e.is_not_found() => StatusCode::NOT_FOUND,
            Self::Tile(_) => StatusCode::BAD_REQUEST,
            Self::Conflict { .. } => StatusCode::CONFLICT,
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
            Self::Unprocessable(_) => "Unprocessable",
            Self::TooManyRequests(_) => "TooManyRequests",
            Self::Tile(e) => tile_error_code(e),
            Self::Conflict { code, .. } => code,
            Self::Internal(_) => "Internal",
        }
    }
}

/// The stable code of a tile error.
fn tile_error_code(e: &wangge_tiles::TileError) -> &'static str {
    use wangge_tiles::TileError as T;
    match e {
        T::ZoomOutOfRange { .. } | T::TileOutOfRange { .. } => "TileOutOfRange",
        T::BadCoordinate { .. } => "BadTileCoordinate",
        T::UnknownLayer { .. } => "UnknownLayer",
        T::DuplicateLayer { .. } => "BadParameter",
        T::UnknownVariant { layer: "grids", .. } => "UnknownPlan",
        T::UnknownVariant { .. } => "UnknownMetric",
        T::NoActivePlan => "NoActivePlan",
        _ => "BadTile",
    }
}

impl From<wangge_tiles::TileError> for ApiError {
    fn from(e: wangge_tiles::TileError) -> Self {
        use wangge_tiles::TileError as T;
        match e {
            T::Encode(_) | T::Update(_) => Self::Internal(e.to_string()),
            other => Self::Tile(other),
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
            wangge_store::StoreError::Stale { name, expected, current } => Self::Conflict {
                code: "StaleVersion",
                message: format!("plan `{name}` is at version {current}, not {expected}: reload it and edit again"),
                current: json!({ "name": name, "version": current }),
            },
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
        let mut body = json!({ "error": { "code": self.code(), "message": self.to_string() } });
        if let Self::Conflict { current, .. } = &self {
            body["current"] = current.clone();
        }
        (self.status_code(), Json(body)).into_response()
    }
}
