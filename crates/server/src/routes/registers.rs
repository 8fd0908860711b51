//! Register updates (planner only, audited): a building's households, and facilities added,
//! changed or removed. Each is written to the store together with its audit entry (who, when,
//! before and after) in one transaction; then the model is reloaded from the store and installed
//! ([`AppState::replace_atlas`]: walking network and tiles follow).

use crate::auth::Caller;
use crate::extract::{ApiJson, ApiQuery};
use crate::{ApiError, AppState};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa_axum::{router::OpenApiRouter, routes};
use wangge_core::{Atlas, Facility};
use wangge_store::{API_DATASET, AuditEntry, Role};

/// The register routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(set_households))
        .routes(routes!(add_facility))
        .routes(routes!(put_facility, delete_facility))
        .routes(routes!(audit_log))
}

/// Query of `GET /api/v1/audit`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only entries whose target starts with this (`building:`, `facility:f-12`, …).
    target: Option<String>,
    /// Entries per page, 1 to 1000 (default 100).
    limit: Option<usize>,
    /// Entries to skip, newest first (default 0).
    offset: Option<usize>,
}

/// The largest page of the audit log.
const MAX_AUDIT_PAGE: usize = 1000;

#[utoipa::path(get, path = "/api/v1/audit", tag = "registers", params(AuditQuery), security(("bearer" = [])),
    responses((status = 200, description = "`{entries, matched, offset, limit, next}`: register changes newest first, each `{seq, at, author, target, change}` (change: before and after); `next` is the offset of the following page, null on the last (leader, planner)"),
        (status = 400, description = "A limit outside 1..1000"), (status = 401, description = "Not signed in"), (status = 403, description = "A resident")))]
async fn audit_log(
    State(s): State<AppState>,
    crate::auth::LeaderUser(_reader): crate::auth::LeaderUser,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> Result<Json<Value>, ApiError> {
    let limit = q.limit.unwrap_or(100);
    if !(1..=MAX_AUDIT_PAGE).contains(&limit) {
        return Err(ApiError::BadParam { param: "limit", reason: format!("{limit} is outside 1..{MAX_AUDIT_PAGE}") });
    }
    let offset = q.offset.unwrap_or(0);
    let mut log = s.store.audit(q.target.as_deref().filter(|t| !t.is_empty())).await?;
    log.reverse();
    let matched = log.len();
    let entries: Vec<Value> = log.iter().skip(offset).take(limit).map(audit_json).collect();
    let next = (offset.saturating_add(limit) < matched).then(|| offset + limit);
    Ok(Json(json!({ "entries": entries, "matched": matched, "offset": offset, "limit": limit, "next": next })))
}

fn bad_field(field: &str, reason: impl std::fmt::Display) -> ApiError {
    ApiError::BadBody { status: StatusCode::UNPROCESSABLE_ENTITY, message: format!("field `{field}`: {reason}") }
}

/// Reloads the model from the store and installs it.
async fn reload(s: &AppState) -> Result<(), ApiError> {
    let layers = s.store.load().await?;
    let atlas = tokio::task::spawn_blocking(move || Atlas::new(layers))
        .await
        .map_err(|e| ApiError::Internal(format!("rebuilding the model: {e}")))?;
    s.replace_atlas(atlas).await
}

fn audit_json(e: &AuditEntry) -> Value {
    json!({ "seq": e.seq, "at": e.at, "author": e.author, "target": e.target, "change": e.change })
}

/// A building's households.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HouseholdsBody {
    /// Households in the building (0 ..= 4294967295).
    households: u32,
}

#[utoipa::path(put, path = "/api/v1/buildings/{id}/households", tag = "registers", params(("id" = String, Path, description = "Building source id")),
    request_body = HouseholdsBody, security(("bearer" = [])),
    responses((status = 200, description = "`{building, households, households_source, audit}`: stored in the register (it outranks declared and estimated numbers) and audited (planner)"),
        (status = 400, description = "Malformed JSON"), (status = 401, description = "Not signed in"), (status = 403, description = "Not a planner"),
        (status = 404, description = "No such building"), (status = 422, description = "`households` missing, negative, not a whole number or too large")))]
async fn set_households(
    State(s): State<AppState>,
    crate::auth::PlannerUser(user): crate::auth::PlannerUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<HouseholdsBody>,
) -> Result<Json<Value>, ApiError> {
    let entry = s.store.set_building_households(&id, body.households, &user.name).await?;
    reload(&s).await?;
    let atlas = s.atlas();
    let b = atlas.layers().buildings.iter().find(|b| b.source_id == id);
    Ok(Json(json!({
        "building": id,
        "households": b.map(|b| b.households.count),
        "households_source": b.map(|b| b.households.source.as_str()),
        "audit": audit_json(&entry),
    })))
}

/// A facility as the API takes it.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FacilityBody {
    /// Its id (when adding; default: a new `api:` id).
    #[serde(default)]
    id: Option<String>,
    /// Catalogue category, e.g. `kindergarten`.
    category: String,
    /// Name.
    #[serde(default)]
    name: Option<String>,
    /// Longitude (in `coords=`).
    lon: f64,
    /// Latitude (in `coords=`).
    lat: f64,
}

/// The `coords=` of the sent point.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PointCoords {
    /// Coordinate system of `lon`/`lat`: wgs84 (default), gcj02 or bd09.
    coords: Option<String>,
}

/// The facility of a request, checked (category in the catalogue, a longitude/latitude).
fn facility_of(s: &AppState, id: String, body: &FacilityBody, coords: Option<&str>) -> Result<Facility, ApiError> {
    let sys = super::coords(coords)?;
    if s.catalogue.get(&body.category).is_none() {
        return Err(bad_field("category", format!("`{}` is not a category of the catalogue", body.category)));
    }
    if !body.lon.is_finite() || body.lon.abs() > 180.0 {
        return Err(bad_field("lon", format!("{} is not a longitude", body.lon)));
    }
    if !body.lat.is_finite() || body.lat.abs() > 90.0 {
        return Err(bad_field("lat", format!("{} is not a latitude", body.lat)));
    }
    if body.name.as_deref().is_some_and(|n| n.chars().count() > 200) {
        return Err(bad_field("name", "longer than 200 characters"));
    }
    let (x, y) = sys.to_wgs84(body.lon, body.lat);
    Ok(Facility {
        source_id: id,
        dataset: API_DATASET.into(),
        category: body.category.clone(),
        name: body.name.clone(),
        location: geo::Point::new(x, y),
    })
}

fn new_id() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    format!("api:{nanos:x}{:02x}", N.fetch_add(1, Ordering::Relaxed) % 256)
}

fn facility_json(f: &Facility, e: &AuditEntry) -> Value {
    json!({
        "id": f.source_id,
        "category": f.category,
        "name": f.name,
        "lon": f.location.x(),
        "lat": f.location.y(),
        "audit": audit_json(e),
    })
}

#[utoipa::path(post, path = "/api/v1/facilities", tag = "registers", params(PointCoords), request_body = FacilityBody, security(("bearer" = [])),
    responses((status = 201, description = "The new facility (WGS-84) with its audit entry (planner)"),
        (status = 400, description = "Malformed JSON or `coords`"), (status = 401, description = "Not signed in"), (status = 403, description = "Not a planner"),
        (status = 409, description = "A facility with this id exists"), (status = 422, description = "An unknown category, a bad lon/lat, a missing field")))]
async fn add_facility(
    State(s): State<AppState>,
    crate::auth::PlannerUser(user): crate::auth::PlannerUser,
    ApiQuery(q): ApiQuery<PointCoords>,
    ApiJson(body): ApiJson<FacilityBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let id = match &body.id {
        Some(id) if id.trim().is_empty() || id.len() > 200 => return Err(bad_field("id", "1 to 200 characters")),
        Some(id) => id.clone(),
        None => new_id(),
    };
    let f = facility_of(&s, id.clone(), &body, q.coords.as_deref())?;
    if s.atlas().layers().facilities.iter().any(|x| x.source_id == id) {
        return Err(ApiError::Conflict {
            code: "FacilityExists",
            message: format!("a facility with id `{id}` exists: change it with PUT /api/v1/facilities/{id}"),
            current: json!({ "id": id }),
        });
    }
    let entry = s.store.put_facility(&f, true, &user.name).await?;
    reload(&s).await?;
    Ok((StatusCode::CREATED, Json(facility_json(&f, &entry))))
}

#[utoipa::path(put, path = "/api/v1/facilities/{id}", tag = "registers", params(("id" = String, Path, description = "Facility source id"), PointCoords),
    request_body = FacilityBody, security(("bearer" = [])),
    responses((status = 200, description = "The changed facility with its audit entry (before and after) (planner)"),
        (status = 400, description = "Malformed JSON or `coords`"), (status = 401, description = "Not signed in"), (status = 403, description = "Not a planner"),
        (status = 404, description = "No such facility"), (status = 422, description = "An unknown category, a bad lon/lat, an `id` other than the path's")))]
async fn put_facility(
    State(s): State<AppState>,
    crate::auth::PlannerUser(user): crate::auth::PlannerUser,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<PointCoords>,
    ApiJson(body): ApiJson<FacilityBody>,
) -> Result<Json<Value>, ApiError> {
    if body.id.as_ref().is_some_and(|b| *b != id) {
        return Err(bad_field("id", "differs from the id in the path"));
    }
    let f = facility_of(&s, id, &body, q.coords.as_deref())?;
    let entry = s.store.put_facility(&f, false, &user.name).await?;
    reload(&s).await?;
    Ok(Json(facility_json(&f, &entry)))
}

#[utoipa::path(delete, path = "/api/v1/facilities/{id}", tag = "registers", params(("id" = String, Path, description = "Facility source id")), security(("bearer" = [])),
    responses((status = 200, description = "`{id, deleted: true, audit}` (planner)"),
        (status = 401, description = "Not signed in"), (status = 403, description = "Not a planner"), (status = 404, description = "No such facility")))]
async fn delete_facility(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let user = caller.require(Role::Planner)?;
    let entry = s.store.delete_facility(&id, &user.name).await?;
    reload(&s).await?;
    Ok(Json(json!({ "id": id, "deleted": true, "audit": audit_json(&entry) })))
}
