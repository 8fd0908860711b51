//! One feature by id, and search by name:
//!
//! - `GET /api/v1/buildings/{id}`, `/compounds/{id}`, `/facilities/{id}` (everyone; a building's
//!   household numbers only for leaders and planners), `/grids/{id}?plan=` (the active plan's grid,
//!   or a named plan's; households only for leaders and planners).
//! - `GET /api/v1/search?q=&limit=` (everyone): buildings, compounds, facilities, communities,
//!   streets and grids whose name or id contains the text, best matches first.

use crate::auth::Caller;
use crate::extract::ApiQuery;
use crate::{ApiError, AppState};
use axum::Json;
use axum::extract::{Path, State};
use geo::{BoundingRect, Geometry, Point};
use geojson::Feature;
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;
use utoipa_axum::{router::OpenApiRouter, routes};
use wangge_core::features::{self, HouseholdPrivacy};
use wangge_core::plan::PlanRecord;

/// The routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(building))
        .routes(routes!(compound))
        .routes(routes!(facility))
        .routes(routes!(grid))
        .routes(routes!(search))
}

/// The item of a layer sorted by source id (every layer of an [`wangge_core::Atlas`] is).
fn by_id<'a, T>(items: &'a [T], id: &str, key: impl Fn(&T) -> &str) -> Option<&'a T> {
    items.binary_search_by(|x| key(x).cmp(id)).ok().map(|i| &items[i])
}

/// Query with only `coords`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CoordsQuery {
    /// `wgs84` (default), `gcj02` or `bd09`.
    coords: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/buildings/{id}", tag = "features", params(("id" = String, Path, description = "Building source id"), CoordsQuery), security((), ("bearer" = [])),
    responses((status = 200, description = "The building as a GeoJSON Feature, with `grid` (its grid in the active plan); household numbers only for leaders and planners", content_type = "application/geo+json"),
        (status = 400, description = "Bad coords"), (status = 401, description = "A wrong or expired token"), (status = 404, description = "No such building")))]
async fn building(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<CoordsQuery>,
) -> Result<Json<Feature>, ApiError> {
    let sys = super::coords(q.coords.as_deref())?;
    let atlas = s.atlas();
    let b = by_id(&atlas.layers().buildings, &id, |b| &b.source_id)
        .ok_or_else(|| ApiError::NotFound { kind: "building", id: id.clone() })?;
    let privacy = if caller.sees_households() { HouseholdPrivacy::Show } else { HouseholdPrivacy::Hide };
    let mut f = features::building(b, sys, privacy);
    if let Some(plan) = s.active_plan().await? {
        let mut grids: Vec<&str> =
            plan.assignments.iter().filter(|a| a.building == id).map(|a| a.grid.as_str()).collect();
        grids.dedup();
        let props = f.properties.get_or_insert_default();
        props.insert("plan".into(), json!(plan.name));
        props.insert("grid".into(), if grids.len() == 1 { json!(grids[0]) } else { json!(grids) });
    }
    Ok(Json(f))
}

#[utoipa::path(get, path = "/api/v1/compounds/{id}", tag = "features", params(("id" = String, Path, description = "Compound source id"), CoordsQuery), security((), ("bearer" = [])),
    responses((status = 200, description = "The compound as a GeoJSON Feature", content_type = "application/geo+json"),
        (status = 400, description = "Bad coords"), (status = 401, description = "A wrong or expired token"), (status = 404, description = "No such compound")))]
async fn compound(
    State(s): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<CoordsQuery>,
) -> Result<Json<Feature>, ApiError> {
    let sys = super::coords(q.coords.as_deref())?;
    let atlas = s.atlas();
    let c = by_id(&atlas.layers().compounds, &id, |c| &c.source_id)
        .ok_or_else(|| ApiError::NotFound { kind: "compound", id: id.clone() })?;
    Ok(Json(features::compound(c, sys)))
}

#[utoipa::path(get, path = "/api/v1/facilities/{id}", tag = "features", params(("id" = String, Path, description = "Facility source id"), CoordsQuery), security((), ("bearer" = [])),
    responses((status = 200, description = "The facility as a GeoJSON Feature", content_type = "application/geo+json"),
        (status = 400, description = "Bad coords"), (status = 401, description = "A wrong or expired token"), (status = 404, description = "No such facility")))]
async fn facility(
    State(s): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<CoordsQuery>,
) -> Result<Json<Feature>, ApiError> {
    let sys = super::coords(q.coords.as_deref())?;
    let atlas = s.atlas();
    let f = by_id(&atlas.layers().facilities, &id, |f| &f.source_id)
        .ok_or_else(|| ApiError::NotFound { kind: "facility", id: id.clone() })?;
    Ok(Json(features::facility(f, sys)))
}

/// Query of `GET /api/v1/grids/{id}`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GridQuery {
    /// A plan name (default: the active plan).
    plan: Option<String>,
    /// `wgs84` (default), `gcj02` or `bd09`.
    coords: Option<String>,
}

/// The named plan, or the active one.
pub(crate) async fn plan_or_active(s: &AppState, name: Option<&str>) -> Result<Arc<PlanRecord>, ApiError> {
    match name {
        Some(n) => s
            .store
            .load_plan(n)
            .await?
            .map(Arc::new)
            .ok_or_else(|| ApiError::NotFound { kind: "plan", id: n.to_string() }),
        None => s.active_plan().await?.ok_or_else(|| ApiError::NotFound { kind: "active plan", id: "-".into() }),
    }
}

#[utoipa::path(get, path = "/api/v1/grids/{id}", tag = "grids", params(("id" = String, Path, description = "Grid id (code)"), GridQuery), security((), ("bearer" = [])),
    responses((status = 200, description = "The grid as a GeoJSON Feature: plan, community, buildings; households only for leaders and planners", content_type = "application/geo+json"),
        (status = 400, description = "Bad coords"), (status = 401, description = "A wrong or expired token"), (status = 404, description = "No such plan or grid")))]
async fn grid(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<GridQuery>,
) -> Result<Json<Feature>, ApiError> {
    let sys = super::coords(q.coords.as_deref())?;
    let plan = plan_or_active(&s, q.plan.as_deref()).await?;
    let g =
        plan.grids.iter().find(|g| g.grid == id).ok_or_else(|| ApiError::NotFound { kind: "grid", id: id.clone() })?;
    let mut props = json!({ "grid": g.grid, "plan": plan.name, "community": g.community, "buildings": g.buildings });
    if caller.sees_households() {
        props["households"] = json!(g.households);
        props["quota_min"] = json!(plan.quota_min);
        props["quota_max"] = json!(plan.quota_max);
    }
    let mut f = Feature {
        bbox: None,
        geometry: g.area.as_ref().map(|a| features::geometry(&Geometry::Polygon(a.clone()), sys)),
        id: Some(geojson::feature::Id::String(g.grid.clone())),
        properties: props.as_object().cloned(),
        foreign_members: None,
    };
    if f.geometry.is_none() {
        f.properties.get_or_insert_default().insert("outline".into(), Value::Null);
    }
    Ok(Json(f))
}

/// Query of `GET /api/v1/search`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// The text (at least one character; matched case-insensitively against names and ids).
    q: Option<String>,
    /// At most this many hits (default 20, at most 100).
    limit: Option<usize>,
    /// `wgs84` (default), `gcj02` or `bd09`: the system of the answer's points and boxes.
    coords: Option<String>,
}

/// How well `text` matches `needle` (lowercase): exact 0, prefix 1, contained 2.
fn rank(text: &str, needle: &str) -> Option<u8> {
    let t = text.to_lowercase();
    if t == needle {
        Some(0)
    } else if t.starts_with(needle) {
        Some(1)
    } else if t.contains(needle) {
        Some(2)
    } else {
        None
    }
}

fn best(name: Option<&str>, id: &str, needle: &str) -> Option<u8> {
    let by_name = name.and_then(|n| rank(n, needle));
    let by_id = rank(id, needle).map(|r| r + 3);
    by_name.into_iter().chain(by_id).min()
}

#[utoipa::path(get, path = "/api/v1/search", tag = "features", params(SearchQuery), security((), ("bearer" = [])),
    responses((status = 200, description = "`{hits: [{kind, id, name, lon, lat, bbox}]}`: kind is building, compound, facility, community, street or grid (of the active plan); exact names first, then prefixes, then contained text, then ids"),
        (status = 400, description = "Missing q, bad limit or coords"), (status = 401, description = "A wrong or expired token")))]
async fn search(State(s): State<AppState>, ApiQuery(q): ApiQuery<SearchQuery>) -> Result<Json<Value>, ApiError> {
    let sys = super::coords(q.coords.as_deref())?;
    let needle = q.q.as_deref().map(str::trim).unwrap_or_default().to_lowercase();
    if needle.is_empty() {
        return Err(ApiError::BadParam { param: "q", reason: "is required (the text to look for)".into() });
    }
    let limit = match q.limit {
        Some(n) if n == 0 || n > 100 => {
            return Err(ApiError::BadParam { param: "limit", reason: format!("{n} is outside 1..100") });
        }
        Some(n) => n,
        None => 20,
    };
    let atlas = s.atlas();
    let layers = atlas.layers();
    // (rank, kind order, name, hit)
    let mut hits: Vec<(u8, u8, String, Value)> = Vec::new();
    let mut push = |r: u8, order: u8, kind: &str, id: &str, name: Option<&str>, g: Geometry<f64>| {
        let Some(rect) = g.bounding_rect() else { return };
        let c = geo::Centroid::centroid(&g).unwrap_or(Point::from(rect.center()));
        let (x, y) = sys.from_wgs84(c.x(), c.y());
        let (x0, y0) = sys.from_wgs84(rect.min().x, rect.min().y);
        let (x1, y1) = sys.from_wgs84(rect.max().x, rect.max().y);
        let r7 = |v: f64| (v * 1e7).round() / 1e7;
        hits.push((
            r,
            order,
            name.unwrap_or(id).to_string(),
            json!({ "kind": kind, "id": id, "name": name, "lon": r7(x), "lat": r7(y),
                "bbox": [r7(x0.min(x1)), r7(y0.min(y1)), r7(x0.max(x1)), r7(y0.max(y1))] }),
        ));
    };
    for r in &layers.regions {
        if let Some(k) = best(Some(&r.name), &r.source_id, &needle)
            .or_else(|| r.code.as_deref().and_then(|c| rank(c, &needle)).map(|k| k + 3))
        {
            let kind = match r.level {
                wangge_core::model::RegionLevel::Street => "street",
                _ => "community",
            };
            push(k, 0, kind, &r.source_id, Some(&r.name), Geometry::MultiPolygon(r.area.clone()));
        }
    }
    for c in &layers.compounds {
        if let Some(k) = best(c.name.as_deref(), &c.source_id, &needle) {
            push(k, 1, "compound", &c.source_id, c.name.as_deref(), Geometry::MultiPolygon(c.area.clone()));
        }
    }
    for f in &layers.facilities {
        if let Some(k) = best(f.name.as_deref(), &f.source_id, &needle) {
            push(k, 2, "facility", &f.source_id, f.name.as_deref(), Geometry::Point(f.location));
        }
    }
    for b in &layers.buildings {
        if let Some(k) = best(b.name.as_deref(), &b.source_id, &needle) {
            push(k, 3, "building", &b.source_id, b.name.as_deref(), b.shape.to_geometry());
        }
    }
    if let Some(plan) = s.active_plan().await? {
        for g in &plan.grids {
            if let (Some(k), Some(area)) = (rank(&g.grid, &needle), &g.area) {
                push(k, 4, "grid", &g.grid, None, Geometry::Polygon(area.clone()));
            }
        }
    }
    hits.sort_by(|a, b| (a.0, a.1, &a.2).cmp(&(b.0, b.1, &b.2)));
    let truncated = hits.len() > limit;
    let hits: Vec<Value> = hits.into_iter().take(limit).map(|h| h.3).collect();
    Ok(Json(json!({ "hits": hits, "truncated": truncated })))
}
