//! Routes, one module per resource, merged here. Every `/api/v1` route is registered through
//! [`OpenApiRouter`] from its `#[utoipa::path]` annotation, so the router and the OpenAPI document
//! come from the same place; `GET /api/v1/openapi.json` serves the document.

use crate::AppState;
use axum::{Extension, Json, Router};
use std::sync::Arc;
use utoipa::openapi::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_axum::{router::OpenApiRouter, routes};

pub mod health;
pub mod layers;
pub mod meta;
pub mod responsible;
pub mod session;

/// Every `/api/v1` route as (method, path): the one list the tests compare with the OpenAPI
/// document and with what the server answers. Add a route here when adding it to [`api`].
pub const API_ROUTES: &[(&str, &str)] = &[
    ("GET", "/api/v1/meta"),
    ("GET", "/api/v1/buildings"),
    ("GET", "/api/v1/facilities"),
    ("GET", "/api/v1/basemap"),
    ("GET", "/api/v1/compounds"),
    ("GET", "/api/v1/communities"),
    ("GET", "/api/v1/streets"),
    ("GET", "/api/v1/network"),
    ("POST", "/api/v1/login"),
    ("POST", "/api/v1/logout"),
    ("GET", "/api/v1/me"),
    ("GET", "/api/v1/responsible"),
    ("GET", "/api/v1/grids/{id}/workers"),
    ("PUT", "/api/v1/grids/{id}/workers"),
    ("GET", "/api/v1/grids/{id}/workers/history"),
    ("GET", "/api/v1/openapi.json"),
];

/// The `/api/v1` routes with their OpenAPI document.
pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(meta::router())
        .merge(layers::router())
        .merge(session::router())
        .merge(responsible::router())
        .routes(routes!(openapi_json))
}

/// The OpenAPI document of [`api`], with the bearer scheme and the service's name.
pub fn document(mut doc: OpenApi) -> OpenApi {
    doc.info.title = "wangge API".into();
    doc.info.version = env!("CARGO_PKG_VERSION").into();
    doc.info.description = Some(
        "Community grids and 15-minute life circles. Anonymous callers are residents: no per-building \
         household numbers. Sign in with POST /api/v1/login and send `Authorization: Bearer <token>`."
            .into(),
    );
    doc.components
        .get_or_insert_default()
        .add_security_scheme("bearer", SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()));
    doc
}

/// All routes and the OpenAPI document of the `/api/v1` ones.
pub fn router() -> (Router<AppState>, Arc<OpenApi>) {
    let (api, doc) = api().split_for_parts();
    let doc = Arc::new(document(doc));
    let router = Router::new()
        .merge(health::router())
        .merge(api)
        .route("/api/{*rest}", axum::routing::any(no_route))
        .layer(Extension(doc.clone()));
    (router, doc)
}

/// Any other path under `/api`: a JSON 404 (not the web app's index page).
async fn no_route(uri: axum::http::Uri) -> crate::ApiError {
    crate::ApiError::NoRoute(uri.path().to_string())
}

#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "meta",
    responses((status = 200, description = "This document (OpenAPI 3.1)")))]
async fn openapi_json(Extension(doc): Extension<Arc<OpenApi>>) -> Json<OpenApi> {
    Json((*doc).clone())
}

/// The `coords=` parameter: WGS-84 when absent, else wgs84, gcj02 or bd09 (400 otherwise).
pub(crate) fn coords(value: Option<&str>) -> Result<wangge_core::chinacoords::CoordSystem, crate::ApiError> {
    use wangge_core::chinacoords::CoordSystem;
    match value {
        None => Ok(CoordSystem::Wgs84),
        Some(c) => CoordSystem::parse(c).ok_or_else(|| crate::ApiError::BadParam {
            param: "coords",
            reason: format!("`{c}` is not one of wgs84, gcj02, bd09"),
        }),
    }
}
