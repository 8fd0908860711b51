//! "Who is responsible here" and the grid workers (网格员):
//!
//! - `GET /api/v1/responsible?lon=&lat=[&coords=wgs84|gcj02|bd09]` (everyone): the community and
//!   street containing the point, the grid of the active plan containing it (if any) and that
//!   grid's workers in force (name, phone, role: the public 网格员 card). Household numbers only
//!   for leaders and planners.
//! - `GET /api/v1/grids/{id}/workers` (everyone): the workers in force of a grid.
//! - `GET /api/v1/grids/{id}/workers/history` (leader, planner): every set, oldest first.
//! - `PUT /api/v1/grids/{id}/workers` (planner): a new set (the previous ones stay as history).

use crate::auth::{Caller, PlannerUser};
use crate::extract::{ApiJson, ApiQuery};
use crate::{ApiError, AppState};
use axum::Json;
use axum::extract::{Path, State};
use geo::{BoundingRect, Intersects, Point};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;
use utoipa_axum::{router::OpenApiRouter, routes};
use wangge_core::atlas::AreaIndex;
use wangge_core::chinacoords::CoordSystem;
use wangge_core::model::{Region, RegionLevel};
use wangge_core::plan::PlanRecord;
use wangge_store::{GridWorker, Role, WorkerSet};

/// The routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(responsible))
        .routes(routes!(workers, set_workers))
        .routes(routes!(workers_history))
}

/// Query of `GET /api/v1/responsible` (numbers are parsed by hand to name the bad one).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PointQuery {
    /// Longitude (required), in the `coords` system.
    #[param(value_type = f64)]
    lon: Option<String>,
    /// Latitude (required), in the `coords` system.
    #[param(value_type = f64)]
    lat: Option<String>,
    /// `wgs84` (default), `gcj02` or `bd09`.
    coords: Option<String>,
}

fn region_json(r: &Region) -> Value {
    json!({ "id": r.source_id, "name": r.name, "code": r.code })
}

/// The smallest region of `level` containing `p`.
fn smallest(regions: &[Region], level: RegionLevel, p: Point<f64>) -> Option<&Region> {
    let of_level: Vec<&Region> = regions.iter().filter(|r| r.level == level).collect();
    let index = AreaIndex::new(of_level.iter().map(|r| &r.area).collect());
    index.containing(p).first().map(|&i| of_level[i])
}

fn workers_json(set: Option<&WorkerSet>) -> Value {
    match set {
        None => json!([]),
        Some(s) => json!(s.workers),
    }
}

#[utoipa::path(get, path = "/api/v1/responsible", tag = "grids", params(PointQuery), security((), ("bearer" = [])),
    responses((status = 200, description = "`{point, community, street, plan, grid, workers}`: the grid of the active plan containing the point (null if none) and its workers in force (name, phone, role); the grid's households only for leaders and planners"),
        (status = 400, description = "Malformed or missing lon/lat/coords"), (status = 401, description = "A wrong or expired token"),
        (status = 404, description = "The point is outside every community")))]
async fn responsible(
    State(s): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<PointQuery>,
) -> Result<Json<Value>, ApiError> {
    let sys = super::coords(q.coords.as_deref())?;
    let lon = super::number("lon", q.lon.as_deref(), 180.0)?;
    let lat = super::number("lat", q.lat.as_deref(), 90.0)?;
    let (x, y) = sys.to_wgs84(lon, lat);
    let p = Point::new(x, y);

    let atlas = s.atlas();
    let regions = &atlas.layers().regions;
    let community = smallest(regions, RegionLevel::Community, p)
        .ok_or_else(|| ApiError::NotFound { kind: "community containing point", id: format!("{lon},{lat}") })?;
    let street = smallest(regions, RegionLevel::Street, p)
        .or_else(|| community.parent.as_ref().and_then(|id| regions.iter().find(|r| &r.source_id == id)));

    let plan = s.active_plan().await?;
    let grid = plan.as_ref().and_then(|plan| {
        plan.grids.iter().find(|g| {
            g.area.as_ref().is_some_and(|a| a.bounding_rect().is_some_and(|r| r.intersects(&p)) && a.intersects(&p))
        })
    });
    let (grid_json, workers) = match grid {
        None => (Value::Null, json!([])),
        Some(g) => {
            let set = s.store.grid_workers(&g.grid).await?;
            let mut gj = json!({ "id": g.grid, "community": g.community, "buildings": g.buildings });
            if caller.sees_households()
                && let Some(o) = gj.as_object_mut()
            {
                o.insert("households".into(), json!(g.households));
            }
            (gj, workers_json(set.as_ref()))
        }
    };
    Ok(Json(json!({
        "point": { "lon": lon, "lat": lat, "coords": sys_name(sys) },
        "community": region_json(community),
        "street": street.map(region_json),
        "plan": plan.as_ref().map(|p| &p.name),
        "grid": grid_json,
        "workers": workers,
    })))
}

fn sys_name(sys: CoordSystem) -> &'static str {
    match sys {
        CoordSystem::Wgs84 => "wgs84",
        CoordSystem::Gcj02 => "gcj02",
        CoordSystem::Bd09 => "bd09",
    }
}

#[utoipa::path(get, path = "/api/v1/grids/{id}/workers", tag = "grids", params(("id" = String, Path, description = "Grid id (plan-independent)")),
    responses((status = 200, description = "`{grid, valid_from, workers}`: the set in force"), (status = 404, description = "No workers were ever set for this grid")))]
async fn workers(State(s): State<AppState>, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let set = s.store.grid_workers(&id).await?;
    let set = set.ok_or_else(|| ApiError::NotFound { kind: "workers of grid", id: id.clone() })?;
    Ok(Json(json!({ "grid": set.grid, "valid_from": set.valid_from, "workers": set.workers })))
}

#[utoipa::path(get, path = "/api/v1/grids/{id}/workers/history", tag = "grids", params(("id" = String, Path, description = "Grid id")), security(("bearer" = [])),
    responses((status = 200, description = "Every set, oldest first (leader, planner)"), (status = 401, description = "Not signed in"), (status = 403, description = "A resident")))]
async fn workers_history(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Vec<WorkerSet>>, ApiError> {
    caller.require(Role::Leader)?;
    Ok(Json(s.store.grid_worker_history(&id).await?))
}

/// The body of `PUT /api/v1/grids/{id}/workers`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetWorkers {
    /// The grid's workers from now on (may be empty): `{name, phone, role}` each.
    #[schema(value_type = Vec<Object>)]
    pub workers: Vec<GridWorker>,
    /// From when (RFC 3339 date or time); default: now.
    #[serde(default)]
    pub valid_from: Option<String>,
}

#[utoipa::path(put, path = "/api/v1/grids/{id}/workers", tag = "grids", params(("id" = String, Path, description = "Grid id")), request_body = SetWorkers, security(("bearer" = [])),
    responses((status = 200, description = "The stored set with its version; earlier sets stay as history (planner)"), (status = 401, description = "Not signed in"),
        (status = 403, description = "Not a planner"), (status = 400, description = "Malformed JSON"), (status = 422, description = "A worker without a name, an empty valid_from, a wrong field")))]
async fn set_workers(
    State(s): State<AppState>,
    PlannerUser(user): PlannerUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SetWorkers>,
) -> Result<Json<WorkerSet>, ApiError> {
    let set = s.store.set_grid_workers(&id, &body.workers, body.valid_from.as_deref(), &user.name).await?;
    Ok(Json(set))
}

/// The active plan, reloaded from the store only when the plan in force or its version changed.
pub(crate) async fn active_plan_cached(
    store: &dyn wangge_store::Store,
    cache: &tokio::sync::RwLock<Option<Arc<PlanRecord>>>,
) -> Result<Option<Arc<PlanRecord>>, ApiError> {
    let plans = store.plans().await?;
    let Some(head) = plans.into_iter().find(|p| p.status == wangge_core::plan::PlanStatus::Active) else {
        return Ok(None);
    };
    if let Some(p) = cache.read().await.as_ref()
        && p.name == head.name
        && p.version == head.version
    {
        return Ok(Some(p.clone()));
    }
    let Some(full) = store.load_plan(&head.name).await? else { return Ok(None) };
    let full = Arc::new(full);
    *cache.write().await = Some(full.clone());
    Ok(Some(full))
}
