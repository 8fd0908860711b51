//! GeoJSON layers by bounding box: `GET /api/v1/{buildings,facilities,basemap,compounds,communities,streets,network}`
//! with `bbox=minlon,minlat,maxlon,maxlat` (optional: the whole city), `coords=wgs84|gcj02|bd09`
//! (the system of both the bbox and the answer) and `limit` (at most the server's limit).

use crate::auth::Caller;
use crate::extract::ApiQuery;
use crate::{ApiError, AppState};
use axum::Json;
use axum::extract::State;
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
    /// At most this many features (and at most the server's limit); `truncated` is set when more matched.
    limit: Option<usize>,
}

struct Parsed {
    bbox: Bbox,
    sys: CoordSystem,
    limit: usize,
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
    Ok(Parsed { bbox, sys, limit })
}

/// Builds the collection from the matching items, at most `limit`, marking `truncated` when more matched.
fn answer<T>(items: Vec<&T>, limit: usize, to_feature: impl Fn(&T) -> Feature) -> Response {
    let truncated = items.len() > limit;
    let features: Vec<Feature> = items.into_iter().take(limit).map(to_feature).collect();
    let mut fc = features::collection(features);
    if truncated {
        fc.foreign_members.get_or_insert_default().insert("truncated".into(), serde_json::Value::Bool(true));
    }
    Json(fc).into_response()
}

#[utoipa::path(get, path = "/api/v1/buildings", tag = "layers", params(LayerQuery),
    responses((status = 200, description = "Buildings; household numbers (households, households_source, households_estimated, units) only for leaders and planners as a GeoJSON FeatureCollection", content_type = "application/geo+json"), (status = 400, description = "A malformed parameter (JSON error naming it)"), (status = 401, description = "A wrong or expired bearer token")))]
/// Buildings: household numbers (counts, their source, units) only for leaders and planners.
async fn buildings(
    State(s): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<LayerQuery>,
) -> Result<Response, ApiError> {
    let p = parse(&q, &s)?;
    let privacy = if caller.sees_households() { HouseholdPrivacy::Show } else { HouseholdPrivacy::Hide };
    Ok(answer(s.atlas().buildings_in(&p.bbox), p.limit, |b| features::building(b, p.sys, privacy)))
}

#[utoipa::path(get, path = "/api/v1/facilities", tag = "layers", params(LayerQuery),
    responses((status = 200, description = "Facilities as a GeoJSON FeatureCollection", content_type = "application/geo+json"), (status = 400, description = "A malformed parameter (JSON error naming it)"), (status = 401, description = "A wrong or expired bearer token")))]
async fn facilities(State(s): State<AppState>, ApiQuery(q): ApiQuery<LayerQuery>) -> Result<Response, ApiError> {
    let p = parse(&q, &s)?;
    Ok(answer(s.atlas().facilities_in(&p.bbox), p.limit, |f| features::facility(f, p.sys)))
}

#[utoipa::path(get, path = "/api/v1/basemap", tag = "layers", params(LayerQuery),
    responses((status = 200, description = "Basemap features (roads, water, parks, landuse) as a GeoJSON FeatureCollection", content_type = "application/geo+json"), (status = 400, description = "A malformed parameter (JSON error naming it)"), (status = 401, description = "A wrong or expired bearer token")))]
async fn basemap(State(s): State<AppState>, ApiQuery(q): ApiQuery<LayerQuery>) -> Result<Response, ApiError> {
    let p = parse(&q, &s)?;
    Ok(answer(s.atlas().basemap_in(&p.bbox), p.limit, |f| features::basemap(f, p.sys)))
}

#[utoipa::path(get, path = "/api/v1/network", tag = "layers", params(LayerQuery),
    responses((status = 200, description = "Walking network edges as a GeoJSON FeatureCollection", content_type = "application/geo+json"), (status = 400, description = "A malformed parameter (JSON error naming it)"), (status = 401, description = "A wrong or expired bearer token")))]
async fn network(State(s): State<AppState>, ApiQuery(q): ApiQuery<LayerQuery>) -> Result<Response, ApiError> {
    let p = parse(&q, &s)?;
    Ok(answer(s.atlas().edges_in(&p.bbox), p.limit, |e| features::edge(e, p.sys)))
}

#[utoipa::path(get, path = "/api/v1/compounds", tag = "layers", params(LayerQuery),
    responses((status = 200, description = "Compounds (小区) as a GeoJSON FeatureCollection", content_type = "application/geo+json"), (status = 400, description = "A malformed parameter (JSON error naming it)"), (status = 401, description = "A wrong or expired bearer token")))]
async fn compounds(State(s): State<AppState>, ApiQuery(q): ApiQuery<LayerQuery>) -> Result<Response, ApiError> {
    let p = parse(&q, &s)?;
    let rect = p.bbox.rect();
    let atlas = s.atlas();
    let hits: Vec<_> = atlas.layers().compounds.iter().filter(|c| intersects_bbox(&c.area, &rect)).collect();
    Ok(answer(hits, p.limit, |c| features::compound(c, p.sys)))
}

async fn regions(s: AppState, q: LayerQuery, level: RegionLevel) -> Result<Response, ApiError> {
    let p = parse(&q, &s)?;
    let rect = p.bbox.rect();
    let atlas = s.atlas();
    let hits: Vec<_> =
        atlas.layers().regions.iter().filter(|r| r.level == level && intersects_bbox(&r.area, &rect)).collect();
    Ok(answer(hits, p.limit, |r| features::region(r, p.sys)))
}

#[utoipa::path(get, path = "/api/v1/communities", tag = "layers", params(LayerQuery),
    responses((status = 200, description = "Communities (社区) as a GeoJSON FeatureCollection", content_type = "application/geo+json"), (status = 400, description = "A malformed parameter (JSON error naming it)"), (status = 401, description = "A wrong or expired bearer token")))]
async fn communities(State(s): State<AppState>, ApiQuery(q): ApiQuery<LayerQuery>) -> Result<Response, ApiError> {
    regions(s, q, RegionLevel::Community).await
}

#[utoipa::path(get, path = "/api/v1/streets", tag = "layers", params(LayerQuery),
    responses((status = 200, description = "Streets (街道) as a GeoJSON FeatureCollection", content_type = "application/geo+json"), (status = 400, description = "A malformed parameter (JSON error naming it)"), (status = 401, description = "A wrong or expired bearer token")))]
async fn streets(State(s): State<AppState>, ApiQuery(q): ApiQuery<LayerQuery>) -> Result<Response, ApiError> {
    regions(s, q, RegionLevel::Street).await
}

fn intersects_bbox(area: &geo::MultiPolygon<f64>, rect: &geo::Rect<f64>) -> bool {
    use geo::{BoundingRect, Intersects};
    area.bounding_rect().is_some_and(|r| r.intersects(rect))
}
