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
use geo::{Area, Intersects, Point};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use utoipa_axum::{router::OpenApiRouter, routes};
use wangge_core::atlas::BoxTree;
use wangge_core::chinacoords::CoordSystem;
use wangge_core::geometry::Bbox;
use wangge_core::model::{Region, RegionLevel};
use wangge_core::plan::{PlanGrid, PlanRecord};
use wangge_store::{GridWorker, Role, WorkerSet};

/// How long the active plan and grid workers read from the store are trusted without asking it
/// again, for writers other than this server (the CLI, another server on a shared PostGIS).
/// This server's own changes invalidate the caches at once.
pub const STORE_TTL: Duration = Duration::from_secs(1);
/// Past this age a cached answer is still used, and the store asked again in the background.
const REFRESH_AFTER: Duration = Duration::from_millis(750);

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

/// The regions of one level of an atlas snapshot, indexed by box.
#[derive(Debug, Default)]
struct LevelIndex {
    tree: BoxTree,
    /// Position in the atlas' regions, by position in the tree.
    regions: Vec<u32>,
    /// Area (square degrees, as the answer's order only needs comparing), by position in the tree.
    area: Vec<f64>,
}

impl LevelIndex {
    fn new(regions: &[Region], level: RegionLevel) -> Self {
        let of_level: Vec<u32> = (0..regions.len() as u32).filter(|&i| regions[i as usize].level == level).collect();
        let tree = BoxTree::new(of_level.iter().map(|&i| Bbox::of(&regions[i as usize].area)));
        let area = of_level.iter().map(|&i| regions[i as usize].area.unsigned_area()).collect();
        Self { tree, regions: of_level, area }
    }

    /// The smallest region of this level containing `p` (on the outline counts; ties: the first).
    fn smallest<'r>(&self, regions: &'r [Region], p: Point<f64>) -> Option<&'r Region> {
        self.tree
            .at(p)
            .filter(|&k| regions[self.regions[k] as usize].area.intersects(&p))
            .min_by(|&a, &b| self.area[a].total_cmp(&self.area[b]).then(a.cmp(&b)))
            .map(|k| &regions[self.regions[k] as usize])
    }
}

/// The communities and streets of one atlas snapshot, indexed once when the snapshot is
/// installed (see [`crate::AppState::replace_atlas`]) and read by every "who is responsible here".
#[derive(Debug, Default)]
pub struct RegionIndex {
    communities: LevelIndex,
    streets: LevelIndex,
    /// First region of each source id (a community's `parent`).
    by_id: HashMap<String, u32>,
}

impl RegionIndex {
    /// Indexes the regions of `atlas`.
    pub fn new(atlas: &wangge_core::Atlas) -> Self {
        let regions = &atlas.layers().regions;
        let mut by_id = HashMap::with_capacity(regions.len());
        for (i, r) in regions.iter().enumerate() {
            by_id.entry(r.source_id.clone()).or_insert(i as u32);
        }
        Self {
            communities: LevelIndex::new(regions, RegionLevel::Community),
            streets: LevelIndex::new(regions, RegionLevel::Street),
            by_id,
        }
    }
}

/// The active plan with an R-tree of its grids' boxes, built once per (plan, version).
#[derive(Debug)]
pub struct ActivePlan {
    /// The plan as loaded.
    pub record: Arc<PlanRecord>,
    grids: BoxTree,
}

impl ActivePlan {
    fn new(record: Arc<PlanRecord>) -> Self {
        let grids = BoxTree::new(record.grids.iter().map(|g| g.area.as_ref().and_then(Bbox::of)));
        Self { record, grids }
    }

    /// The first grid (in the plan's order) whose outline contains `p` (on the outline counts).
    pub fn grid_at(&self, p: Point<f64>) -> Option<&PlanGrid> {
        let grids = &self.record.grids;
        self.grids.at(p).filter(|&i| grids[i].area.as_ref().is_some_and(|a| a.intersects(&p))).min().map(|i| &grids[i])
    }
}

/// The active plan as last read from the store (see [`PlanCache::get`]).
#[derive(Debug, Default)]
pub struct PlanCache {
    inner: Mutex<PlanCacheInner>,
    /// Held while the store is asked: one reader at a time, the others wait for its answer (a
    /// cold or invalidated cache under load asks the store once, not once per request).
    load: tokio::sync::Mutex<()>,
}

#[derive(Debug, Default)]
struct PlanCacheInner {
    /// Bumped by every invalidation: a read that started before it is not stored.
    generation: u64,
    /// When the store was last asked (before the question), if the answer is still valid.
    checked: Option<Instant>,
    /// The answer then (`None`: no plan was active).
    plan: Option<Arc<ActivePlan>>,
    /// A background refresh is under way.
    refreshing: bool,
}

/// Clears `refreshing` however the refresh ends (a dropped request included).
struct RefreshGuard<'a>(&'a Mutex<PlanCacheInner>);

impl Drop for RefreshGuard<'_> {
    fn drop(&mut self) {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).refreshing = false;
    }
}

impl PlanCache {
    /// Forgets the active plan: the next [`PlanCache::get`] asks the store.
    pub fn invalidate(&self) {
        let mut c = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        c.generation += 1;
        c.checked = None;
        c.plan = None;
    }

    /// The active plan: from memory when this server changed no plan since the store was last
    /// asked and that was less than [`STORE_TTL`] ago (past three quarters of it, one background task asks
    /// the store again, so that under load no request waits for it); else the store is asked
    /// which plan is active, by one request at a time while the others wait, and the plan is
    /// loaded again only when its name or version changed.
    pub async fn get(
        self: &Arc<Self>,
        store: &Arc<dyn wangge_store::Store>,
    ) -> Result<Option<Arc<ActivePlan>>, ApiError> {
        {
            let mut c = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(t) = c.checked
                && t.elapsed() < STORE_TTL
            {
                if t.elapsed() >= REFRESH_AFTER && !c.refreshing {
                    c.refreshing = true;
                    let (cache, store) = (self.clone(), store.clone());
                    // On a blocking thread: the plan listing parses every plan's report (megabytes
                    // for a large plan), which must not hold up a worker thread's requests.
                    let handle = tokio::runtime::Handle::current();
                    tokio::task::spawn_blocking(move || {
                        let _guard = RefreshGuard(&cache.inner);
                        if let Err(e) = handle.block_on(cache.ask(&*store, true)) {
                            tracing::warn!("refreshing the active plan: {e}");
                        }
                    });
                }
                return Ok(c.plan.clone());
            }
        }
        self.ask(&**store, false).await
    }

    /// Asks the store (one caller at a time). Unless `always`, an answer that became fresh while
    /// waiting for the turn is taken instead.
    async fn ask(&self, store: &dyn wangge_store::Store, always: bool) -> Result<Option<Arc<ActivePlan>>, ApiError> {
        let _load = self.load.lock().await;
        let (generation, previous) = {
            let c = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
            if !always
                && let Some(t) = c.checked
                && t.elapsed() < STORE_TTL
            {
                return Ok(c.plan.clone());
            }
            (c.generation, c.plan.clone())
        };
        let asked = Instant::now();
        let plans = store.plans().await?;
        let plan =
            match plans.into_iter().find(|p| p.status == wangge_core::plan::PlanStatus::Active) {
                None => None,
                Some(head) => match previous {
                    Some(p) if p.record.name == head.name && p.record.version == head.version => Some(p),
                    _ => match store.load_plan(&head.name).await? {
                        None => None,
                        Some(full) => {
                            let record = Arc::new(full);
                            Some(Arc::new(tokio::task::spawn_blocking(move || ActivePlan::new(record)).await.map_err(
                                |e| ApiError::Internal(format!("indexing the grids of the active plan: {e}")),
                            )?))
                        }
                    },
                },
            };
        let mut c = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if c.generation == generation {
            c.checked = Some(asked);
            c.plan = plan.clone();
        }
        Ok(plan)
    }
}

/// Grid workers in force as last read from the store, by grid (see [`WorkersCache::get`]).
#[derive(Debug, Default)]
pub struct WorkersCache {
    inner: Mutex<WorkersInner>,
}

#[derive(Debug, Default)]
struct WorkersInner {
    generation: u64,
    /// By grid: when the store was asked, its answer, and whether a background refresh runs.
    sets: HashMap<String, (Instant, Option<Arc<WorkerSet>>, bool)>,
}

/// Most grids whose workers are kept (the map is emptied beyond it).
const WORKERS_KEPT: usize = 200_000;

impl WorkersCache {
    /// Forgets every grid's workers (after this server stored a new set).
    pub fn invalidate(&self) {
        let mut c = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        c.generation += 1;
        c.sets.clear();
    }

    /// The workers in force of `grid`: from memory when read less than [`STORE_TTL`] ago and no
    /// set was stored through this server since (past three quarters of it, a background task asks the
    /// store again, so that under load no request waits for it), else from the store.
    pub async fn get(
        self: &Arc<Self>,
        store: &Arc<dyn wangge_store::Store>,
        grid: &str,
    ) -> Result<Option<Arc<WorkerSet>>, ApiError> {
        let generation = {
            let mut c = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
            let generation = c.generation;
            if let Some((t, set, refreshing)) = c.sets.get_mut(grid)
                && t.elapsed() < STORE_TTL
            {
                if t.elapsed() >= REFRESH_AFTER && !*refreshing {
                    *refreshing = true;
                    let (cache, store, grid) = (self.clone(), store.clone(), grid.to_string());
                    tokio::spawn(async move {
                        let asked = Instant::now();
                        let set = store.grid_workers(&grid).await;
                        match set {
                            Ok(set) => cache.put(generation, grid, asked, set.map(Arc::new)),
                            Err(e) => {
                                tracing::warn!("refreshing the workers of grid {grid}: {e}");
                                let mut c = cache.inner.lock().unwrap_or_else(PoisonError::into_inner);
                                if let Some(entry) = c.sets.get_mut(&grid) {
                                    entry.2 = false;
                                }
                            }
                        }
                    });
                }
                return Ok(set.clone());
            }
            generation
        };
        let asked = Instant::now();
        let set = store.grid_workers(grid).await?.map(Arc::new);
        self.put(generation, grid.to_string(), asked, set.clone());
        Ok(set)
    }

    /// Keeps the answer the store gave at `asked`, unless an invalidation came since.
    fn put(&self, generation: u64, grid: String, asked: Instant, set: Option<Arc<WorkerSet>>) {
        let mut c = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if c.generation != generation {
            return;
        }
        if c.sets.len() >= WORKERS_KEPT {
            c.sets.clear();
        }
        c.sets.insert(grid, (asked, set, false));
    }
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

    let (atlas, index) = s.atlas_and_regions();
    let regions = &atlas.layers().regions;
    let community = index
        .communities
        .smallest(regions, p)
        .ok_or_else(|| ApiError::NotFound { kind: "community containing point", id: format!("{lon},{lat}") })?;
    let street = index
        .streets
        .smallest(regions, p)
        .or_else(|| community.parent.as_ref().and_then(|id| index.by_id.get(id)).map(|&i| &regions[i as usize]));

    let plan = s.active_plan_indexed().await?;
    let grid = plan.as_ref().and_then(|plan| plan.grid_at(p));
    let (grid_json, workers) = match grid {
        None => (Value::Null, json!([])),
        Some(g) => {
            let set = s.workers_cache.get(&s.store, &g.grid).await?;
            let mut gj = json!({ "id": g.grid, "community": g.community, "buildings": g.buildings });
            if caller.sees_households()
                && let Some(o) = gj.as_object_mut()
            {
                o.insert("households".into(), json!(g.households));
            }
            (gj, workers_json(set.as_deref()))
        }
    };
    Ok(Json(json!({
        "point": { "lon": lon, "lat": lat, "coords": sys_name(sys) },
        "community": region_json(community),
        "street": street.map(region_json),
        "plan": plan.as_ref().map(|p| &p.record.name),
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
    let set = s.store.set_grid_workers(&id, &body.workers, body.valid_from.as_deref(), &user.name).await;
    // Invalidated whatever the outcome (a failure may still have stored the set).
    s.workers_cache.invalidate();
    Ok(Json(set?))
}
