//! `GET /healthz` (the process answers) and `GET /readyz` (and its store answers too).

use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router, routing::get};
use serde_json::{Value, json};

/// The health routes.
pub fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(health)).route("/readyz", get(ready))
}

async fn health() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// How long the store may take to answer before the server is reported not ready.
const READY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);

async fn ready(State(s): State<AppState>) -> Response {
    let backend = s.store.backend();
    match tokio::time::timeout(READY_TIMEOUT, s.store.datasets()).await {
        Ok(Ok(_)) => Json(json!({ "status": "ready", "store": backend })).into_response(),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness: the store does not answer");
            not_ready(backend, "the store does not answer")
        }
        Err(_) => not_ready(backend, "the store did not answer in time"),
    }
}

fn not_ready(backend: &str, message: &str) -> Response {
    let body = json!({ "status": "not ready", "store": backend, "error": { "code": "NotReady", "message": message } });
    (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response()
}
