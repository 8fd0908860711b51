//! GeoJSON layers by bounding box: `GET /api/v1/{buildings,facilities,basemap,compounds,communities,streets,network}`
//! with `bbox=minlon,minlat,maxlon,maxlat` (optional: the whole city), `coords=wgs84|gcj02|bd09`
//! (the system of both the bbox and the answer) and `limit` (at most the server's limit).

use crate::auth::Caller;
use crate::extract::ApiQuery;
use crate::{ApiError, AppState};
use axum::Json;
use axum::extract::State;
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use geojson::Feature;
use serde::Deserialize;
use utoipa_axum::{router::OpenApiRouter, routes};
use wangge_core::chinacoords::CoordSystem;
use wangge_core::features::{self, HouseholdPrivacy};
use wangge_core::geometry::Bbox;
use wangge_core::model::RegionLevel;

/// The layer routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(buildings))
        .routes(routes!(facilities))
        .routes(routes!(basemap))
        .routes(routes!(compounds))
        .routes(routes!(communities))
        .routes(routes!(streets))
        .routes(routes!(network))
}

/// Query parameters shared by the layer routes.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LayerQuery {
    /// `minlon,minlat,maxlon,maxlat` in the `coords` system (default: everything).
    bbox: Option<String>,
    /// `wgs84` (default), `gcj02` or `bd09`: the system of the bbox and of the answer.
    coords: Option<String>,
    /// At most this many features (and at most the server's limit); when more matched, the answer
    /// carries `truncated: true` and `next`, the URL of the next page.
    limit: Option<usize>,
    /// Skip this many matching features (paging; features come in source-id order).
    offset: Option<usize>,
}

struct Parsed {
    bbox: Bbox,
    sys: CoordSystem,
    limit: usize,
    offset: usize,
}

fn parse(q: &LayerQuery, s: &AppState) -> Result<Parsed, ApiError> {
    let sys = super::coords(q.coords.as_deref())?;
    let bbox = match &q.bbox {
        None => Bbox { min_lon: -180.0, min_lat: -90.0, max_lon: 180.0, max_lat: 90.0 },
        Some(t) => {
            let b = Bbox::parse(t).map_err(|reason| ApiError::BadParam { param: "bbox", reason })?;
            let (x0, y0) = sys.to_wgs84(b.min_lon, b.min_lat);
            let (x1, y1) = sys.to_wgs84(b.max_lon, b.max_lat);
            Bbox { min_lon: x0.min(x1), min_lat: y0.min(y1), max_lon: x0.max(x1), max_lat: y0.max(y1) }
        }
    };
    let limit = match q.limit {
        Some(0) => return Err(ApiError::BadParam { param: "limit", reason: "must be at least 1".into() }),
        Some(n) => n.min(s.feature_limit),
        None => s.feature_limit,
    };
    Ok(Parsed { bbox, sys, limit, offset: q.offset.unwrap_or(0) })
}

/// The same request with `offset` set to `offset` (the other parameters kept as sent).
fn page_url(uri: &Uri, offset: usize) -> String {
    let kept: Vec<&str> =
        uri.query().unwrap_or_default().split('&').filter(|kv| !kv.is_empty() && !kv.starts_with("offset=")).collect();
    let mut query = kept.join("&");
    if !query.is_empty() {
        query.push('&');
    }
    format!("{}?{query}offset={offset}", uri.path())
}

/// Builds the collection from the matching items (items of one sorted layer, so address order is
/// source-id order and pages are stable): `limit` of them from `offset`, with `truncated` and the
/// `next` page's URL when more matched.
fn answer<T>(mut items: Vec<&T>, p: &Parsed, uri: &Uri, to_feature: impl Fn(&T) -> Feature) -> Response {
    items.sort_unstable_by_key(|t| std::ptr::from_ref::<T>(*t) as usize);
    let matched = items.len();
    let end = p.offset.saturating_add(p.limit).min(matched);
    let features: Vec<Feature> = items.into_iter().skip(p.offset).take(p.limit).map(to_feature).collect();
    let mut fc = features::collection(features);
    let members = fc.foreign_members.get_or_insert_default();
    members.insert("matched".into(), serde_json::json!(matched));
    if end < matched {
        members.insert("truncated".into(), serde_json::Value::Bool(true));
        members.insert("next".into(), serde_json::Value::String(page_url(uri, end)));
    }
    Json(fc).into_response()
}

#[utoipa::path(get, path = "/api/v1/buildings", tag = "layers", params(LayerQuery),
    responses((status = 200, description = "Buildings; household numbers (households, households_source, households_estimated, units) only for leaders and planners as a GeoJSON FeatureCollection", content_type = "application/geo+json"), (status = 400, description = "A malformed parameter (JSON error naming it)"), (status = 401, description = "A wrong or expired bearer token")))]
/// Buildings: household numbers (counts, their source, units) only for leaders and planners.
async fn buildings(
    State(s): State<AppState>,
    uri: Uri,
    caller: Caller,
    ApiQuery(q): ApiQuery<LayerQuery>,
) -> Result<Response, ApiError> {
    let p = parse(&q, &s)?;
    let privacy = if caller.sees_households() { HouseholdPrivacy::Show } else { HouseholdPrivacy::Hide };
    Ok(answer(s.atlas().buildings_in(&p.bbox), &p, &uri, |b| features::building(b, p.sys, privacy)))
}

#[utoipa::path(get, path = "/api/v1/facilities", tag = "layers", params(LayerQuery),
    responses((status = 200, description = "Facilities as a GeoJSON FeatureCollection", content_type = "application/geo+json"), (status = 400, description = "A malformed parameter (JSON error naming it)"), (status = 401, description = "A wrong or expired bearer token")))]
async fn facilities(
    State(s): State<AppState>,
    uri: Uri,
    ApiQuery(q): ApiQuery<LayerQuery>,
) -> Result<Response, ApiError> {
    let p = parse(&q, &s)?;
    Ok(answer(s.atlas().facilities_in(&p.bbox), &p, &uri, |f| features::facility(f, p.sys)))
}

#[utoipa::path(get, path = "/api/v1/basemap", tag = "layers", params(LayerQuery),
    responses((status = 200, description = "Basemap features (roads, water, parks, landuse) as a GeoJSON FeatureCollection", content_type = "application/geo+json"), (status = 400, description = "A malformed parameter (JSON error naming it)"), (status = 401, description = "A wrong or expired bearer token")))]
async fn basemap(State(s): State<AppState>, uri: Uri, ApiQuery(q): ApiQuery<LayerQuery>) -> Result<Response, ApiError> {
    let p = parse(&q, &s)?;
    Ok(answer(s.atlas().basemap_in(&p.bbox), &p, &uri, |f| features::basemap(f, p.sys)))
}

#[utoipa::path(get, path = "/api/v1/network", tag = "layers", params(LayerQuery),
    responses((status = 200, description = "Walking network edges as a GeoJSON FeatureCollection", content_type = "application/geo+json"), (status = 400, description = "A malformed parameter (JSON error naming it)"), (status = 401, description = "A wrong or expired bearer token")))]
async fn network(State(s): State<AppState>, uri: Uri, ApiQuery(q): ApiQuery<LayerQuery>) -> Result<Response, ApiError> {
    let p = parse(&q, &s)?;
    Ok(answer(s.atlas().edges_in(&p.bbox), &p, &uri, |e| features::edge(e, p.sys)))
}

#[utoipa::path(get, path = "/api/v1/compounds", tag = "layers", params(LayerQuery),
    responses((status = 200, description = "Compounds (小区) as a GeoJSON FeatureCollection", content_type = "application/geo+json"), (status = 400, description = "A malformed parameter (JSON error naming it)"), (status = 401, description = "A wrong or expired bearer token")))]
async fn compounds(
    State(s): State<AppState>,
    uri: Uri,
    ApiQuery(q): ApiQuery<LayerQuery>,
) -> Result<Response, ApiError> {
    let p = parse(&q, &s)?;
    let rect = p.bbox.rect();
    let atlas = s.atlas();
    let hits: Vec<_> = atlas.layers().compounds.iter().filter(|c| intersects_bbox(&c.area, &rect)).collect();
    Ok(answer(hits, &p, &uri, |c| features::compound(c, p.sys)))
}

async fn regions(s: AppState, uri: Uri, q: LayerQuery, level: RegionLevel) -> Result<Response, ApiError> {
    let p = parse(&q, &s)?;
    let rect = p.bbox.rect();
    let atlas = s.atlas();
    let hits: Vec<_> =
        atlas.layers().regions.iter().filter(|r| r.level == level && intersects_bbox(&r.area, &rect)).collect();
    Ok(answer(hits, &p, &uri, |r| features::region(r, p.sys)))
}

#[utoipa::path(get, path = "/api/v1/communities", tag = "layers", params(LayerQuery),
    responses((status = 200, description = "Communities (社区) as a GeoJSON FeatureCollection", content_type = "application/geo+json"), (status = 400, description = "A malformed parameter (JSON error naming it)"), (status = 401, description = "A wrong or expired bearer token")))]
async fn communities(
    State(s): State<AppState>,
    uri: Uri,
    ApiQuery(q): ApiQuery<LayerQuery>,
) -> Result<Response, ApiError> {
    regions(s, uri, q, RegionLevel::Community).await
}

#[utoipa::path(get, path = "/api/v1/streets", tag = "layers", params(LayerQuery),
    responses((status = 200, description = "Streets (街道) as a GeoJSON FeatureCollection", content_type = "application/geo+json"), (status = 400, description = "A malformed parameter (JSON error naming it)"), (status = 401, description = "A wrong or expired bearer token")))]
async fn streets(State(s): State<AppState>, uri: Uri, ApiQuery(q): ApiQuery<LayerQuery>) -> Result<Response, ApiError> {
    regions(s, uri, q, RegionLevel::Street).await
}

fn intersects_bbox(area: &geo::MultiPolygon<f64>, rect: &geo::Rect<f64>) -> bool {
    use geo::{BoundingRect, Intersects};
    area.bounding_rect().is_some_and(|r| r.intersects(rect))
}
