//! GeoJSON layers by bounding box: `GET /api/v1/{buildings,facilities,basemap,compounds,communities,streets,network}`
//! with `bbox=minlon,minlat,maxlon,maxlat` (optional: the whole city), `coords=wgs84|gcj02|bd09`
//! (the system of both the bbox and the answer) and `limit` (at most the server's limit).

use crate::{ApiError, AppState};
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router, routing::get};
use geojson::Feature;
use serde::Deserialize;
use wangge_core::chinacoords::CoordSystem;
use wangge_core::features::{self, HouseholdPrivacy};
use wangge_core::geometry::Bbox;
use wangge_core::model::RegionLevel;

/// The layer routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/buildings", get(buildings))
        .route("/api/v1/facilities", get(facilities))
        .route("/api/v1/basemap", get(basemap))
        .route("/api/v1/compounds", get(compounds))
        .route("/api/v1/communities", get(communities))
        .route("/api/v1/streets", get(streets))
        .route("/api/v1/network", get(network))
}

/// Query parameters shared by the layer routes.
#[derive(Debug, Deserialize)]
pub struct LayerQuery {
    bbox: Option<String>,
    coords: Option<String>,
    limit: Option<usize>,
}

struct Parsed {
    bbox: Bbox,
    sys: CoordSystem,
    limit: usize,
}

fn parse(q: &LayerQuery, s: &AppState) -> Result<Parsed, ApiError> {
    let sys = match &q.coords {
        None => CoordSystem::Wgs84,
        Some(c) => CoordSystem::parse(c).ok_or_else(|| ApiError::BadParam {
            param: "coords",
            reason: format!("`{c}` is not one of wgs84, gcj02, bd09"),
        })?,
    };
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

async fn buildings(State(s): State<AppState>, Query(q): Query<LayerQuery>) -> Result<Response, ApiError> {
    let p = parse(&q, &s)?;
    Ok(answer(s.atlas.buildings_in(&p.bbox), p.limit, |b| features::building(b, p.sys, HouseholdPrivacy::Show)))
}

async fn facilities(State(s): State<AppState>, Query(q): Query<LayerQuery>) -> Result<Response, ApiError> {
    let p = parse(&q, &s)?;
    Ok(answer(s.atlas.facilities_in(&p.bbox), p.limit, |f| features::facility(f, p.sys)))
}

async fn basemap(State(s): State<AppState>, Query(q): Query<LayerQuery>) -> Result<Response, ApiError> {
    let p = parse(&q, &s)?;
    Ok(answer(s.atlas.basemap_in(&p.bbox), p.limit, |f| features::basemap(f, p.sys)))
}

async fn network(State(s): State<AppState>, Query(q): Query<LayerQuery>) -> Result<Response, ApiError> {
    let p = parse(&q, &s)?;
    Ok(answer(s.atlas.edges_in(&p.bbox), p.limit, |e| features::edge(e, p.sys)))
}

async fn compounds(State(s): State<AppState>, Query(q): Query<LayerQuery>) -> Result<Response, ApiError> {
    let p = parse(&q, &s)?;
    let rect = p.bbox.rect();
    let hits: Vec<_> = s.atlas.layers().compounds.iter().filter(|c| intersects_bbox(&c.area, &rect)).collect();
    Ok(answer(hits, p.limit, |c| features::compound(c, p.sys)))
}

async fn regions(s: AppState, q: LayerQuery, level: RegionLevel) -> Result<Response, ApiError> {
    let p = parse(&q, &s)?;
    let rect = p.bbox.rect();
    let hits: Vec<_> =
        s.atlas.layers().regions.iter().filter(|r| r.level == level && intersects_bbox(&r.area, &rect)).collect();
    Ok(answer(hits, p.limit, |r| features::region(r, p.sys)))
}

async fn communities(State(s): State<AppState>, Query(q): Query<LayerQuery>) -> Result<Response, ApiError> {
    regions(s, q, RegionLevel::Community).await
}

async fn streets(State(s): State<AppState>, Query(q): Query<LayerQuery>) -> Result<Response, ApiError> {
    regions(s, q, RegionLevel::Street).await
}

fn intersects_bbox(area: &geo::MultiPolygon<f64>, rect: &geo::Rect<f64>) -> bool {
    use geo::{BoundingRect, Intersects};
    area.bounding_rect().is_some_and(|r| r.intersects(rect))
}
