//! Routes, one module per resource, merged here. Every `/api/v1` route is registered through
//! [`OpenApiRouter`] from its `#[utoipa::path]` annotation, so the router and the OpenAPI document
//! come from the same place; `GET /api/v1/openapi.json` serves the document.

use crate::AppState;
use axum::{Extension, Json, Router};
use std::sync::Arc;
use utoipa::openapi::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_axum::{router::OpenApiRouter, routes};

pub mod circles;
pub mod features;
pub mod health;
pub mod jobs;
pub mod layers;
pub mod meta;
pub mod plans;
pub mod registers;
pub mod responsible;
pub mod session;
pub mod tiles;

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
    ("GET", "/api/v1/nearest"),
    ("GET", "/api/v1/isochrones"),
    ("GET", "/api/v1/coverage"),
    ("GET", "/api/v1/uncovered"),
    ("GET", "/api/v1/sites"),
    ("GET", "/api/v1/buildings/{id}"),
    ("GET", "/api/v1/compounds/{id}"),
    ("GET", "/api/v1/facilities/{id}"),
    ("GET", "/api/v1/grids/{id}"),
    ("GET", "/api/v1/search"),
    ("GET", "/api/v1/plans"),
    ("GET", "/api/v1/plans/{name}"),
    ("GET", "/api/v1/plans/{name}/grids"),
    ("GET", "/api/v1/plans/{name}/assignment"),
    ("GET", "/api/v1/plans/{name}/diff"),
    ("POST", "/api/v1/plans/{name}/copy"),
    ("POST", "/api/v1/plans/{name}/edits"),
    ("GET", "/api/v1/plans/{name}/edits"),
    ("POST", "/api/v1/plans/{name}/undo"),
    ("POST", "/api/v1/plans/{name}/redo"),
    ("POST", "/api/v1/plans/{name}/publish"),
    ("PUT", "/api/v1/buildings/{id}/households"),
    ("POST", "/api/v1/facilities"),
    ("PUT", "/api/v1/facilities/{id}"),
    ("DELETE", "/api/v1/facilities/{id}"),
    ("GET", "/api/v1/audit"),
    ("POST", "/api/v1/jobs"),
    ("GET", "/api/v1/jobs"),
    ("GET", "/api/v1/jobs/{id}"),
    ("DELETE", "/api/v1/jobs/{id}"),
    ("GET", "/api/v1/jobs/{id}/events"),
    ("GET", "/api/v1/openapi.json"),
    ("GET", "/tiles/{layer}/{z}/{x}/{y}.mvt"),
    ("GET", "/tiles/{layer}.json"),
    ("GET", "/style.json"),
];

/// The `/api/v1` routes with their OpenAPI document.
pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(meta::router())
        .merge(layers::router())
        .merge(session::router())
        .merge(responsible::router())
        .merge(tiles::router())
        .merge(circles::router())
        .merge(features::router())
        .merge(plans::router())
        .merge(jobs::router())
        .merge(registers::router())
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

/// A required coordinate parameter within ±`range` (400 naming it otherwise).
pub(crate) fn number(param: &'static str, v: Option<&str>, range: f64) -> Result<f64, crate::ApiError> {
    let v = v.ok_or_else(|| crate::ApiError::BadParam { param, reason: "is required".into() })?;
    let x: f64 =
        v.trim().parse().map_err(|_| crate::ApiError::BadParam { param, reason: format!("`{v}` is not a number") })?;
    if !x.is_finite() || x.abs() > range {
        return Err(crate::ApiError::BadParam { param, reason: format!("{v} is outside -{range}..{range}") });
    }
    Ok(x)
}

/// The `lon`/`lat`/`coords` parameters as a WGS-84 point and the caller's system.
pub(crate) fn point(
    lon: Option<&str>,
    lat: Option<&str>,
    coords: Option<&str>,
) -> Result<(geo::Point<f64>, wangge_core::chinacoords::CoordSystem), crate::ApiError> {
    let sys = self::coords(coords)?;
    let lon = number("lon", lon, 180.0)?;
    let lat = number("lat", lat, 90.0)?;
    let (x, y) = sys.to_wgs84(lon, lat);
    Ok((geo::Point::new(x, y), sys))
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
