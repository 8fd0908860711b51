//! Grid plans: listing, one plan, its grids and assignment, the difference between two plans, and
//! the planner's editing of a draft with history (edit, undo, redo), copy and publication.
//!
//! Every write is versioned: the request names the version it was based on, and the store writes
//! only if the plan is still at that version (compare-and-set in one transaction), so of two
//! planners editing the same version exactly one succeeds and the other gets a 409 with the current
//! state. The history holds every edit, undo and redo with who, when and what (the atoms that
//! changed grid), which is also what undo and redo replay.

use crate::auth::Caller;
use crate::extract::{ApiJson, ApiQuery};
use crate::{ApiError, AppState};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use geo::{Coord, Geometry, LineString, MapCoords, Polygon, Validation};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use utoipa_axum::{router::OpenApiRouter, routes};
use wangge_core::Atlas;
use wangge_core::chinacoords::CoordSystem;
use wangge_core::plan::{PlanRecord, PlanStatus};
use wangge_partition::edit::GridEdit;
use wangge_planning::PlanningError;
use wangge_planning::edit::{self, Change};
use wangge_store::Role;

/// The plan routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_plans))
        .routes(routes!(plan))
        .routes(routes!(grids))
        .routes(routes!(assignment))
        .routes(routes!(diff))
        .routes(routes!(copy))
        .routes(routes!(edit_plan, plan_history))
        .routes(routes!(undo))
        .routes(routes!(redo))
        .routes(routes!(publish))
}

// ---- reading --------------------------------------------------------------------------------

async fn load(s: &AppState, name: &str) -> Result<PlanRecord, ApiError> {
    s.store.load_plan(name).await?.ok_or_else(|| ApiError::NotFound { kind: "plan", id: name.to_string() })
}

/// A plan's header; metrics and households only for callers who see households.
fn header(p: &PlanRecord, households: bool) -> Value {
    let mut v = json!({
        "name": p.name,
        "status": p.status.as_str(),
        "version": p.version,
        "quota": { "min": p.quota_min, "max": p.quota_max, "target": p.quota_target },
        "created_at": p.created_at,
    });
    if households {
        v["metrics"] = p.metrics.clone();
    }
    v
}

/// A whole plan's summary: the header with its grids (households for callers who see them).
fn summary(p: &PlanRecord, households: bool) -> Value {
    let mut v = header(p, households);
    let grids: Vec<Value> = p
        .grids
        .iter()
        .map(|g| {
            let mut gj = json!({ "grid": g.grid, "community": g.community, "buildings": g.buildings });
            if households {
                gj["households"] = json!(g.households);
                gj["quota_status"] = json!(quota_status(p, g.households));
            }
            gj
        })
        .collect();
    v["grid_count"] = json!(p.grids.len());
    v["communities"] = json!(p.grids.iter().map(|g| g.community.as_str()).collect::<BTreeSet<_>>());
    v["grids"] = json!(grids);
    v
}

fn quota_status(p: &PlanRecord, households: u64) -> &'static str {
    if households < u64::from(p.quota_min) {
        "below"
    } else if households > u64::from(p.quota_max) {
        "above"
    } else {
        "within"
    }
}

#[utoipa::path(get, path = "/api/v1/plans", tag = "plans", security((), ("bearer" = [])),
    responses((status = 200, description = "Every plan by name: status (draft, active, retired), version, quota, created_at; metrics for leaders and planners"),
        (status = 401, description = "A wrong or expired token")))]
async fn list_plans(State(s): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    let plans = s.store.plans().await?;
    let hh = caller.sees_households();
    Ok(Json(json!({ "plans": plans.iter().map(|p| header(p, hh)).collect::<Vec<_>>() })))
}

#[utoipa::path(get, path = "/api/v1/plans/{name}", tag = "plans", params(("name" = String, Path, description = "Plan name")), security((), ("bearer" = [])),
    responses((status = 200, description = "The plan: status, version, quota, metrics, its grids (households for leaders and planners)"),
        (status = 401, description = "A wrong or expired token"), (status = 404, description = "No such plan")))]
async fn plan(State(s): State<AppState>, caller: Caller, Path(name): Path<String>) -> Result<Json<Value>, ApiError> {
    let p = load(&s, &name).await?;
    Ok(Json(summary(&p, caller.sees_households())))
}

/// The `coords=` parameter.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CoordsQuery {
    /// Coordinate system of the answer: wgs84 (default), gcj02 or bd09.
    coords: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/plans/{name}/grids", tag = "plans", params(("name" = String, Path, description = "Plan name"), CoordsQuery), security((), ("bearer" = [])),
    responses((status = 200, description = "GeoJSON FeatureCollection of the grid outlines (grid_id, community, buildings; households and quota_status for leaders and planners)"),
        (status = 400, description = "A bad `coords`"), (status = 401, description = "A wrong or expired token"), (status = 404, description = "No such plan")))]
async fn grids(
    State(s): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    ApiQuery(q): ApiQuery<CoordsQuery>,
) -> Result<Json<geojson::FeatureCollection>, ApiError> {
    let sys = super::coords(q.coords.as_deref())?;
    let p = load(&s, &name).await?;
    let hh = caller.sees_households();
    let features = p
        .grids
        .iter()
        .map(|g| {
            let mut props = geojson::JsonObject::new();
            props.insert("grid_id".into(), json!(g.grid));
            props.insert("community".into(), json!(g.community));
            props.insert("buildings".into(), json!(g.buildings));
            if hh {
                props.insert("households".into(), json!(g.households));
                props.insert("quota_status".into(), json!(quota_status(&p, g.households)));
            }
            geojson::Feature {
                bbox: None,
                geometry: g.area.as_ref().map(|a| wangge_core::features::geometry(&Geometry::Polygon(a.clone()), sys)),
                id: Some(geojson::feature::Id::String(g.grid.clone())),
                properties: Some(props),
                foreign_members: None,
            }
        })
        .collect();
    let mut fc = wangge_core::features::collection(features);
    let mut extra = geojson::JsonObject::new();
    extra.insert("plan".into(), json!(p.name));
    extra.insert("version".into(), json!(p.version));
    fc.foreign_members = Some(extra);
    Ok(Json(fc))
}

#[utoipa::path(get, path = "/api/v1/plans/{name}/assignment", tag = "plans", params(("name" = String, Path, description = "Plan name")), security(("bearer" = [])),
    responses((status = 200, description = "`{plan, version, assignments: [{building, unit, grid}]}` (leader, planner)"),
        (status = 401, description = "Not signed in"), (status = 403, description = "A resident"), (status = 404, description = "No such plan")))]
async fn assignment(
    State(s): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Role::Leader)?;
    let p = load(&s, &name).await?;
    Ok(Json(json!({ "plan": p.name, "version": p.version, "assignments": p.assignments })))
}

/// The plan to compare with.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DiffQuery {
    /// The plan to compare with.
    against: Option<String>,
}

/// Every atom (building or unit) of a plan with its grid and households, from the model.
fn atoms_of(p: &PlanRecord, atlas: &Atlas) -> BTreeMap<(String, Option<String>), (String, u64)> {
    let buildings: BTreeMap<&str, &wangge_core::Building> =
        atlas.layers().buildings.iter().map(|b| (b.source_id.as_str(), b)).collect();
    let mut out = BTreeMap::new();
    for a in &p.assignments {
        let b = buildings.get(a.building.as_str());
        match (&a.unit, b) {
            (None, Some(b)) if !b.units.is_empty() => {
                for u in &b.units {
                    out.insert((a.building.clone(), Some(u.label.clone())), (a.grid.clone(), u64::from(u.households)));
                }
            }
            (None, b) => {
                out.insert(
                    (a.building.clone(), None),
                    (a.grid.clone(), b.map_or(0, |b| u64::from(b.households.count))),
                );
            }
            (Some(unit), b) => {
                let hh =
                    b.and_then(|b| b.units.iter().find(|u| &u.label == unit)).map_or(0, |u| u64::from(u.households));
                out.insert((a.building.clone(), Some(unit.clone())), (a.grid.clone(), hh));
            }
        }
    }
    out
}

#[utoipa::path(get, path = "/api/v1/plans/{name}/diff", tag = "plans", params(("name" = String, Path, description = "Plan name"), DiffQuery), security(("bearer" = [])),
    responses((status = 200, description = "`{plan, against, buildings_moved, households_moved, grids_changed, grids_added, grids_removed, moved}` (leader, planner)"),
        (status = 400, description = "`against` missing"), (status = 401, description = "Not signed in"), (status = 403, description = "A resident"),
        (status = 404, description = "No such plan (either)")))]
async fn diff(
    State(s): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    ApiQuery(q): ApiQuery<DiffQuery>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Role::Leader)?;
    let Some(against) = q.against.filter(|a| !a.is_empty()) else {
        return Err(ApiError::BadParam {
            param: "against",
            reason: "give the name of the plan to compare with".into(),
        });
    };
    let a = load(&s, &name).await?;
    let b = load(&s, &against).await?;
    let atlas = s.atlas();
    let (ma, mb) = (atoms_of(&a, &atlas), atoms_of(&b, &atlas));
    let mut moved = Vec::new();
    let mut buildings = BTreeSet::new();
    let mut households = 0u64;
    let mut changed: BTreeSet<&str> = BTreeSet::new();
    for (key, (ga, hh)) in &ma {
        match mb.get(key) {
            Some((gb, _)) if gb != ga => {
                moved.push(json!({ "building": key.0, "unit": key.1, "from": gb, "to": ga }));
                buildings.insert(key.0.as_str());
                households += hh;
                changed.insert(ga);
                changed.insert(gb);
            }
            Some(_) => {}
            None => {
                changed.insert(ga);
            }
        }
    }
    for (key, (gb, _)) in &mb {
        if !ma.contains_key(key) {
            changed.insert(gb);
        }
    }
    let ga: BTreeSet<&str> = a.grids.iter().map(|g| g.grid.as_str()).collect();
    let gb: BTreeSet<&str> = b.grids.iter().map(|g| g.grid.as_str()).collect();
    Ok(Json(json!({
        "plan": a.name,
        "against": b.name,
        "buildings_moved": buildings.len(),
        "households_moved": households,
        "grids_changed": changed,
        "grids_added": ga.difference(&gb).collect::<Vec<_>>(),
        "grids_removed": gb.difference(&ga).collect::<Vec<_>>(),
        "moved": moved,
    })))
}

// ---- writing --------------------------------------------------------------------------------

fn bad_field(field: &str, reason: impl std::fmt::Display) -> ApiError {
    ApiError::BadBody { status: StatusCode::UNPROCESSABLE_ENTITY, message: format!("field `{field}`: {reason}") }
}

/// A 409 with the plan as it stands.
async fn conflict(s: &AppState, name: &str, code: &'static str, message: String) -> ApiError {
    let current = match s.store.load_plan(name).await {
        Ok(Some(p)) => {
            let mut v = summary(&p, true);
            v["edits"] = json!(s.store.plan_edits(name).await.map(|e| e.len()).unwrap_or(0));
            v
        }
        _ => Value::Null,
    };
    ApiError::Conflict { code, message, current }
}

/// A [`wangge_store::StoreError`] from a versioned write, with a stale version answered by a 409
/// carrying the whole current state.
async fn write_error(s: &AppState, name: &str, e: wangge_store::StoreError) -> ApiError {
    match e {
        wangge_store::StoreError::Stale { expected, current, .. } => {
            conflict(
                s,
                name,
                "StaleVersion",
                format!("plan `{name}` is at version {current}, not {expected}: reload it and edit again"),
            )
            .await
        }
        other => other.into(),
    }
}

/// The plan to write, checked: it exists, is a draft, and is at `version`.
async fn writable(s: &AppState, name: &str, version: i64) -> Result<PlanRecord, ApiError> {
    let p = load(s, name).await?;
    if p.version != version {
        return Err(conflict(
            s,
            name,
            "StaleVersion",
            format!("plan `{name}` is at version {}, not {version}: reload it and edit again", p.version),
        )
        .await);
    }
    if p.status != PlanStatus::Draft {
        return Err(conflict(
            s,
            name,
            "NotDraft",
            format!(
                "plan `{name}` is {}: only drafts are edited; copy it (POST /api/v1/plans/{name}/copy) and edit the copy",
                p.status.as_str()
            ),
        )
        .await);
    }
    Ok(p)
}

fn planning_error(e: PlanningError) -> ApiError {
    match e {
        PlanningError::Engine { source: wangge_partition::PartitionError::BadEdit(m), .. } => bad_field("edit", m),
        PlanningError::Selection(m) | PlanningError::Mismatch(m) | PlanningError::Empty(m) => {
            ApiError::BadBody { status: StatusCode::UNPROCESSABLE_ENTITY, message: m }
        }
        other => ApiError::Internal(other.to_string()),
    }
}

/// An edit based on a version.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditBody {
    /// The plan version the edit is based on.
    version: i64,
    /// The edit, tagged by `op`: `move_atoms` {atoms: [{building, unit}], to}, `merge` {a, b},
    /// `split` {grid, line: [[lon, lat], …] or null}, `reassign` {area: [[[lon, lat], …]], to (a grid or "new")}.
    #[schema(value_type = Object)]
    edit: Value,
}

/// The coordinate system of drawn geometry.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EditQuery {
    /// Coordinate system of drawn lines and polygons: wgs84 (default), gcj02 or bd09.
    coords: Option<String>,
}

/// Checks a drawn coordinate and brings it to WGS84.
fn to_wgs84(field: &str, c: Coord<f64>, sys: CoordSystem) -> Result<Coord<f64>, ApiError> {
    if !c.x.is_finite() || !c.y.is_finite() || c.x.abs() > 180.0 || c.y.abs() > 90.0 {
        return Err(bad_field(field, format!("[{}, {}] is not a longitude/latitude", c.x, c.y)));
    }
    let (x, y) = sys.to_wgs84(c.x, c.y);
    Ok(Coord { x, y })
}

fn line_to_wgs84(field: &str, l: &LineString<f64>, sys: CoordSystem) -> Result<LineString<f64>, ApiError> {
    Ok(LineString(l.0.iter().map(|c| to_wgs84(field, *c, sys)).collect::<Result<_, _>>()?))
}

/// The edit as sent, parsed, with drawn geometry checked and in WGS84.
fn parse_edit(v: Value, sys: CoordSystem) -> Result<GridEdit, ApiError> {
    let op = v.get("op").and_then(Value::as_str).map(str::to_string);
    let edit: GridEdit = serde_json::from_value(v).map_err(|e| match op {
        Some(op) => bad_field("edit", format!("`{op}`: {e}")),
        None => bad_field("edit.op", format!("{e} (one of move_atoms, merge, split, reassign)")),
    })?;
    Ok(match edit {
        GridEdit::Split { grid, line } => {
            let line = match line {
                Some(l) => {
                    if l.0.len() < 2 {
                        return Err(bad_field("edit.line", "a line needs at least two points"));
                    }
                    Some(line_to_wgs84("edit.line", &l, sys)?)
                }
                None => None,
            };
            GridEdit::Split { grid, line }
        }
        GridEdit::Reassign { area, to } => {
            let exterior = line_to_wgs84("edit.area", area.exterior(), sys)?;
            let interiors =
                area.interiors().iter().map(|r| line_to_wgs84("edit.area", r, sys)).collect::<Result<Vec<_>, _>>()?;
            let area = Polygon::new(exterior, interiors);
            if area.exterior().0.len() < 4 {
                return Err(bad_field("edit.area", "a polygon needs at least three distinct points"));
            }
            if let Err(why) = area.check_validation() {
                return Err(bad_field("edit.area", format!("the drawn polygon is not valid: {why}")));
            }
            GridEdit::Reassign { area, to }
        }
        other => other,
    })
}

/// The community an edit (in WGS84) concerns, named by its grids, or by where the polygon is.
fn community_of(edit: &GridEdit, p: &PlanRecord, atlas: &Atlas) -> Result<String, ApiError> {
    let grid = |field: &str, id: &str| -> Result<String, ApiError> {
        edit::community_of_grid(p, id)
            .map(str::to_string)
            .ok_or_else(|| bad_field(field, format!("plan `{}` has no grid `{id}`", p.name)))
    };
    match edit {
        GridEdit::MoveAtoms { to, .. } => grid("edit.to", to),
        GridEdit::Merge { a, b } => {
            let (ca, cb) = (grid("edit.a", a)?, grid("edit.b", b)?);
            if ca != cb {
                return Err(bad_field("edit.b", format!("grid `{b}` is in community `{cb}`, grid `{a}` in `{ca}`")));
            }
            Ok(ca)
        }
        GridEdit::Split { grid: g, .. } => grid("edit.grid", g),
        GridEdit::Reassign { to, area } if to == "new" => {
            let first = area.exterior().0.first().copied().unwrap_or(Coord { x: 0.0, y: 0.0 });
            edit::community_at(atlas.layers(), p, geo::Point(first))
                .ok_or_else(|| bad_field("edit.area", "the drawn area is in no community of the plan"))
        }
        GridEdit::Reassign { to, .. } => grid("edit.to", to),
    }
}

/// The edit in the session's metric frame.
fn projected(edit: &GridEdit, frame: &wangge_core::projection::LocalFrame) -> Result<GridEdit, ApiError> {
    let project = |c: Coord<f64>| -> Coord<f64> {
        frame.forward(c.x, c.y).map(|(x, y)| Coord { x, y }).unwrap_or(Coord { x: f64::NAN, y: f64::NAN })
    };
    let out = match edit {
        GridEdit::Split { grid, line } => {
            GridEdit::Split { grid: grid.clone(), line: line.as_ref().map(|l| l.map_coords(project)) }
        }
        GridEdit::Reassign { area, to } => GridEdit::Reassign { area: area.map_coords(project), to: to.clone() },
        other => other.clone(),
    };
    Ok(out)
}

/// The answer to a write: the new version, what changed and the violations.
fn outcome_json(name: &str, version: i64, seq: i64, e: &edit::Edited) -> Value {
    let households: BTreeMap<&str, u64> = e
        .record
        .grids
        .iter()
        .filter(|g| e.changed_grids.contains(&g.grid))
        .map(|g| (g.grid.as_str(), g.households))
        .collect();
    json!({
        "plan": name,
        "version": version,
        "seq": seq,
        "changes": e.changes,
        "changed_grids": e.changed_grids,
        "households": households,
        "violations": e.violations,
        "new_violations": e.new_violations,
    })
}

/// Opens the community of a plan for editing, off the async threads.
async fn open_session(
    atlas: std::sync::Arc<Atlas>,
    p: PlanRecord,
    community: String,
) -> Result<(edit::Session, PlanRecord), ApiError> {
    tokio::task::spawn_blocking(move || edit::session(atlas.layers(), &p, &community).map(|s| (s, p)))
        .await
        .map_err(|e| ApiError::Internal(format!("editing: {e}")))?
        .map_err(planning_error)
}

/// Writes an edited plan (compare-and-set on `version`) with its history entry, and refreshes the tiles.
async fn commit(
    s: &AppState,
    name: &str,
    version: i64,
    author: &str,
    entry: Value,
    e: &edit::Edited,
) -> Result<Value, ApiError> {
    let (new_version, seq) = match s.store.commit_plan_edit(&e.record, version, author, &entry).await {
        Ok(v) => v,
        Err(err) => return Err(write_error(s, name, err).await),
    };
    let mut record = e.record.clone();
    record.version = new_version;
    s.plan_changed(&record).await?;
    Ok(outcome_json(name, new_version, seq, e))
}

#[utoipa::path(post, path = "/api/v1/plans/{name}/edits", tag = "plans", params(("name" = String, Path, description = "Plan name"), EditQuery),
    request_body = EditBody, security(("bearer" = [])),
    responses((status = 200, description = "`{plan, version, seq, changes, changed_grids, households, violations, new_violations}`: the edit is stored with who and when, the version bumped; violations are shown, not refused (planner)"),
        (status = 400, description = "Malformed JSON or `coords`"), (status = 401, description = "Not signed in"), (status = 403, description = "Not a planner"),
        (status = 404, description = "No such plan"), (status = 409, description = "A stale version or a plan that is not a draft, with `current`"),
        (status = 422, description = "A bad edit: unknown grid or building, a self-intersecting or empty drawn polygon, a line that does not cut, naming the field")))]
async fn edit_plan(
    State(s): State<AppState>,
    crate::auth::PlannerUser(user): crate::auth::PlannerUser,
    Path(name): Path<String>,
    ApiQuery(q): ApiQuery<EditQuery>,
    ApiJson(body): ApiJson<EditBody>,
) -> Result<Json<Value>, ApiError> {
    let sys = super::coords(q.coords.as_deref())?;
    let edit = parse_edit(body.edit, sys)?;
    let p = writable(&s, &name, body.version).await?;
    let atlas = s.atlas();
    let community = community_of(&edit, &p, &atlas)?;
    let (mut session, p) = open_session(atlas, p, community.clone()).await?;
    let local = projected(&edit, &session.frame)?;
    let (edited, session) = tokio::task::spawn_blocking(move || {
        let r = edit::apply(&mut session, &p, &local).map(|(e, _)| e);
        (r, session)
    })
    .await
    .map_err(|e| ApiError::Internal(format!("editing: {e}")))?;
    drop(session);
    let edited = edited.map_err(planning_error)?;
    let entry = json!({
        "op": "edit",
        "edit": serde_json::to_value(&edit).map_err(|e| ApiError::Internal(e.to_string()))?,
        "community": community,
        "changes": edited.changes,
        "changed_grids": edited.changed_grids,
    });
    Ok(Json(commit(&s, &name, body.version, &user.name, entry, &edited).await?))
}

#[utoipa::path(get, path = "/api/v1/plans/{name}/edits", tag = "plans", params(("name" = String, Path, description = "Plan name")), security(("bearer" = [])),
    responses((status = 200, description = "`{plan, version, edits: [{seq, at, author, op, edit, changes, changed_grids, of}], can_undo, can_redo}`, oldest first (leader, planner)"),
        (status = 401, description = "Not signed in"), (status = 403, description = "A resident"), (status = 404, description = "No such plan")))]
async fn plan_history(
    State(s): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Role::Leader)?;
    let p = load(&s, &name).await?;
    let edits = s.store.plan_edits(&name).await?;
    let (undo, redo) = stacks(&edits);
    let list: Vec<Value> = edits
        .into_iter()
        .map(|(seq, at, author, mut e)| {
            if let Some(o) = e.as_object_mut() {
                o.insert("seq".into(), json!(seq));
                o.insert("at".into(), json!(at));
                o.insert("author".into(), json!(author));
            }
            e
        })
        .collect();
    Ok(Json(json!({
        "plan": p.name,
        "version": p.version,
        "edits": list,
        "can_undo": !undo.is_empty(),
        "can_redo": !redo.is_empty(),
    })))
}

/// The undo and redo stacks (sequence numbers of edits) that a history leaves.
fn stacks(edits: &[(i64, String, String, Value)]) -> (Vec<i64>, Vec<i64>) {
    let (mut undo, mut redo) = (Vec::new(), Vec::new());
    for (seq, _, _, e) in edits {
        let of = e.get("of").and_then(Value::as_i64);
        match e.get("op").and_then(Value::as_str) {
            Some("edit") => {
                undo.push(*seq);
                redo.clear();
            }
            Some("undo") => {
                if let Some(s) = undo.pop() {
                    redo.push(of.unwrap_or(s));
                }
            }
            Some("redo") => {
                if let Some(s) = redo.pop() {
                    undo.push(of.unwrap_or(s));
                }
            }
            _ => {}
        }
    }
    (undo, redo)
}

/// The version a request is based on.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VersionBody {
    /// The plan version the request is based on.
    version: i64,
}

async fn undo_redo(
    s: &AppState,
    user: &wangge_store::User,
    name: &str,
    version: i64,
    backwards: bool,
) -> Result<Value, ApiError> {
    let p = writable(s, name, version).await?;
    let edits = s.store.plan_edits(name).await?;
    let (undo, redo) = stacks(&edits);
    let what = if backwards { "undo" } else { "redo" };
    let Some(&target) = (if backwards { undo.last() } else { redo.last() }) else {
        return Err(conflict(
            s,
            name,
            if backwards { "NothingToUndo" } else { "NothingToRedo" },
            format!("plan `{name}` has nothing to {what}"),
        )
        .await);
    };
    let entry = edits.iter().find(|e| e.0 == target).map(|e| e.3.clone()).unwrap_or(Value::Null);
    let community = entry.get("community").and_then(Value::as_str).unwrap_or_default().to_string();
    let changes: Vec<Change> = serde_json::from_value(entry.get("changes").cloned().unwrap_or(Value::Null))
        .map_err(|e| ApiError::Internal(format!("history entry {target} of plan `{name}`: {e}")))?;
    let (mut session, p) = open_session(s.atlas(), p, community.clone()).await?;
    let edited = tokio::task::spawn_blocking(move || edit::replay(&mut session, &p, &changes, backwards))
        .await
        .map_err(|e| ApiError::Internal(format!("editing: {e}")))?
        .map_err(planning_error)?;
    let entry = json!({
        "op": what,
        "of": target,
        "community": community,
        "changes": edited.changes,
        "changed_grids": edited.changed_grids,
    });
    commit(s, name, version, &user.name, entry, &edited).await
}

#[utoipa::path(post, path = "/api/v1/plans/{name}/undo", tag = "plans", params(("name" = String, Path, description = "Plan name")), request_body = VersionBody, security(("bearer" = [])),
    responses((status = 200, description = "The last edit not undone is undone (stored in the history, version bumped): as an edit's answer (planner)"),
        (status = 401, description = "Not signed in"), (status = 403, description = "Not a planner"), (status = 404, description = "No such plan"),
        (status = 409, description = "A stale version, not a draft, or nothing to undo, with `current`"), (status = 422, description = "A bad body")))]
async fn undo(
    State(s): State<AppState>,
    crate::auth::PlannerUser(user): crate::auth::PlannerUser,
    Path(name): Path<String>,
    ApiJson(body): ApiJson<VersionBody>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(undo_redo(&s, &user, &name, body.version, true).await?))
}

#[utoipa::path(post, path = "/api/v1/plans/{name}/redo", tag = "plans", params(("name" = String, Path, description = "Plan name")), request_body = VersionBody, security(("bearer" = [])),
    responses((status = 200, description = "The last undone edit is done again (stored in the history, version bumped) (planner)"),
        (status = 401, description = "Not signed in"), (status = 403, description = "Not a planner"), (status = 404, description = "No such plan"),
        (status = 409, description = "A stale version, not a draft, or nothing to redo, with `current`"), (status = 422, description = "A bad body")))]
async fn redo(
    State(s): State<AppState>,
    crate::auth::PlannerUser(user): crate::auth::PlannerUser,
    Path(name): Path<String>,
    ApiJson(body): ApiJson<VersionBody>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(undo_redo(&s, &user, &name, body.version, false).await?))
}

#[utoipa::path(post, path = "/api/v1/plans/{name}/publish", tag = "plans", params(("name" = String, Path, description = "Plan name")), request_body = VersionBody, security(("bearer" = [])),
    responses((status = 200, description = "`{plan, status, version, previous}`: the draft is now the active plan; the previous active plan is kept as retired (planner)"),
        (status = 401, description = "Not signed in"), (status = 403, description = "Not a planner"), (status = 404, description = "No such plan"),
        (status = 409, description = "A stale version or not a draft, with `current`"), (status = 422, description = "A bad body")))]
async fn publish(
    State(s): State<AppState>,
    crate::auth::PlannerUser(_user): crate::auth::PlannerUser,
    Path(name): Path<String>,
    ApiJson(body): ApiJson<VersionBody>,
) -> Result<Json<Value>, ApiError> {
    writable(&s, &name, body.version).await?;
    let previous = s.store.active_plan().await?;
    // Compare-and-set: an edit landing between the check above and now makes this a 409 too.
    s.store.activate_plan_at(&name, Some(body.version)).await?;
    let now = load(&s, &name).await?;
    s.plan_changed(&now).await?;
    let mut prev_name = None;
    if let Some(prev) = previous
        && let Some(prev) = s.store.load_plan(&prev.name).await?
    {
        s.plan_changed(&prev).await?;
        prev_name = Some(json!({ "name": prev.name, "status": prev.status.as_str(), "version": prev.version }));
    }
    Ok(Json(json!({ "plan": now.name, "status": now.status.as_str(), "version": now.version, "previous": prev_name })))
}

/// Where to copy a plan.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CopyBody {
    /// The new draft's name.
    to: String,
}

/// Checks a new plan's name.
fn plan_name(field: &str, name: &str) -> Result<(), ApiError> {
    if name.trim().is_empty() || name.len() > 100 || name.chars().any(|c| c.is_control() || c == '/') {
        return Err(bad_field(field, "a plan name is 1 to 100 characters, without `/` or control characters"));
    }
    Ok(())
}

#[utoipa::path(post, path = "/api/v1/plans/{name}/copy", tag = "plans", params(("name" = String, Path, description = "Plan to copy")), request_body = CopyBody, security(("bearer" = [])),
    responses((status = 201, description = "The new draft (version 1, empty history) (planner)"),
        (status = 401, description = "Not signed in"), (status = 403, description = "Not a planner"), (status = 404, description = "No such plan"),
        (status = 409, description = "A plan of that name exists, with `current`"), (status = 422, description = "A bad name")))]
async fn copy(
    State(s): State<AppState>,
    crate::auth::PlannerUser(_user): crate::auth::PlannerUser,
    Path(name): Path<String>,
    ApiJson(body): ApiJson<CopyBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    plan_name("to", &body.to)?;
    let mut p = load(&s, &name).await?;
    if s.store.load_plan(&body.to).await?.is_some() {
        return Err(conflict(&s, &body.to, "PlanExists", format!("a plan named `{}` exists", body.to)).await);
    }
    p.name = body.to;
    p.status = PlanStatus::Draft;
    let saved = s.store.save_plan(&p).await?;
    s.plan_changed(&saved).await?;
    Ok((StatusCode::CREATED, Json(summary(&saved, true))))
}
