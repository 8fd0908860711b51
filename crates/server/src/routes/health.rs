//! `GET /healthz`.

use crate::AppState;
use axum::{Json, Router, routing::get};
use serde_json::{Value, json};

/// The health route.
pub fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(health))
}

async fn health() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}
