//! Routes, one module per resource, merged here.

use crate::AppState;
use axum::Router;

pub mod health;
pub mod layers;
pub mod meta;

/// All routes.
pub fn router() -> Router<AppState> {
    Router::new().merge(health::router()).merge(meta::router()).merge(layers::router())
}
