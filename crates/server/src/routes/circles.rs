//! Life circles over HTTP, answered from the in-memory walking network and the stored run:
//!
//! - `GET /api/v1/nearest?lon=&lat=[&categories=a,b][&k=1][&cutoff_m=2000][&coords=]` (everyone):
//!   the nearest facilities of each category on foot, each with its walking route.
//! - `GET /api/v1/isochrones?lon=&lat=` or `?facility=ID`, `[&minutes=5,10,15][&coords=]` (everyone).
//! - `GET /api/v1/coverage?[level=][&category=]` (leader, planner): stored coverage summaries.
//! - `GET /api/v1/uncovered?category=[&limit=]` (leader, planner): buildings without the category
//!   within its walking threshold, most households first.
//! - `GET /api/v1/sites?[category=]` (leader, planner): stored siting suggestions.

use crate::extract::ApiQuery;
use crate::{ApiError, AppState};
use axum::Json;
use axum::extract::State;
use axum::response::IntoResponse;
use geo::{Geometry, Point};
use geojson::{Feature, FeatureCollection};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa_axum::{router::OpenApiRouter, routes};
use wangge_circles::{CirclesError, IsochroneOptions, ServiceQuery};
use wangge_core::chinacoords::CoordSystem;
use wangge_core::features;
use wangge_store::CoverageLevel;

/// The routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(nearest))
        .routes(routes!(isochrones))
        .routes(routes!(coverage))
        .routes(routes!(uncovered))
        .routes(routes!(sites))
}

/// Farthest a nearest-services search walks unless told otherwise (metres).
const DEFAULT_CUTOFF_M: f64 = 2000.0;
/// Farthest any search may be asked to walk (metres): an hour's walk.
const MAX_CUTOFF_M: f64 = 5000.0;
/// Most facilities per category a nearest-services answer holds.
const MAX_K: usize = 10;
/// Longest isochrone (minutes).
const MAX_MINUTES: f64 = 60.0;

fn circles_error(e: CirclesError) -> ApiError {
    match e {
        CirclesError::UnknownCategory { id, known } => {
            ApiError::BadParam { param: "categories", reason: format!("unknown category `{id}`; known: {known}") }
        }
        e @ CirclesError::NotOnNetwork { .. } => ApiError::Unprocessable(e.to_string()),
        e @ CirclesError::InvalidParameter { .. } => ApiError::BadParam { param: "parameters", reason: e.to_string() },
        other => ApiError::Internal(other.to_string()),
    }
}

fn no_network(reason: &str) -> ApiError {
    ApiError::Unprocessable(format!("this city has no walking network (import OpenStreetMap ways): {reason}"))
}

/// Query of `GET /api/v1/nearest`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NearestQuery {
    /// Longitude (required), in the `coords` system.
    #[param(value_type = f64)]
    lon: Option<String>,
    /// Latitude (required), in the `coords` system.
    #[param(value_type = f64)]
    lat: Option<String>,
    /// Comma-separated category ids (default: every category).
    categories: Option<String>,
    /// Facilities per category, 1–10 (default 1).
    k: Option<usize>,
    /// Farthest walk searched, metres (default 2000, at most 5000).
    cutoff_m: Option<f64>,
    /// `wgs84` (default), `gcj02` or `bd09`: the system of the point and of the answer.
    coords: Option<String>,
}

fn categories(s: &AppState, spec: Option<&str>) -> Result<Vec<String>, ApiError> {
    let all: Vec<String> = s.catalogue.categories.iter().map(|c| c.id.clone()).collect();
    let Some(spec) = spec.map(str::trim).filter(|t| !t.is_empty()) else { return Ok(all) };
    let mut out = Vec::new();
    for id in spec.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        if !all.iter().any(|c| c == id) {
            return Err(ApiError::BadParam {
                param: "categories",
                reason: format!("unknown category `{id}`; known: {}", all.join(", ")),
            });
        }
        if !out.iter().any(|c| c == id) {
            out.push(id.to_string());
        }
    }
    Ok(out)
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

#[utoipa::path(get, path = "/api/v1/nearest", tag = "circles", params(NearestQuery), security((), ("bearer" = [])),
    responses((status = 200, description = "A FeatureCollection of walking routes (LineString), one per facility found, nearest first within each category, with properties category, category_name_zh/_en, threshold_m, within_threshold, facility_id, facility_name, facility_lon/lat, distance_m, minutes; `missing` lists the categories with no facility within the cut-off", content_type = "application/geo+json"),
        (status = 400, description = "Malformed lon/lat/k/cutoff_m/categories/coords"), (status = 401, description = "A wrong or expired token"),
        (status = 422, description = "The point is too far from any walkable way, or the city has no walking network")))]
async fn nearest(
    State(s): State<AppState>,
    ApiQuery(q): ApiQuery<NearestQuery>,
) -> Result<axum::response::Response, ApiError> {
    let (p, sys) = super::point(q.lon.as_deref(), q.lat.as_deref(), q.coords.as_deref())?;
    let cats = categories(&s, q.categories.as_deref())?;
    let k = q.k.unwrap_or(1);
    if !(1..=MAX_K).contains(&k) {
        return Err(ApiError::BadParam { param: "k", reason: format!("{k} is outside 1..{MAX_K}") });
    }
    let cutoff_m = q.cutoff_m.unwrap_or(DEFAULT_CUTOFF_M);
    if !(cutoff_m.is_finite() && cutoff_m > 0.0 && cutoff_m <= MAX_CUTOFF_M) {
        return Err(ApiError::BadParam {
            param: "cutoff_m",
            reason: format!("{cutoff_m} is outside 0..{MAX_CUTOFF_M} m"),
        });
    }
    let engine = s.circles();
    let (net, facilities) = engine.ready.as_ref().map_err(|e| no_network(e))?;
    let query = ServiceQuery { categories: cats, k, cutoff_m };
    let hits = match &engine.fields {
        Some(fields) => fields.nearest_services(net, p, facilities, &query, &engine.profile),
        None => net.nearest_services(p, facilities, &query, &engine.profile),
    }
    .map_err(circles_error)?;
    let placed = facilities.facilities();
    let features = hits
        .iter()
        .map(|h| {
            let cat = s.catalogue.get(&h.category);
            let f = &placed[h.facility];
            let (flon, flat) = sys.from_wgs84(f.location.x(), f.location.y());
            RouteFeature {
                kind: "Feature",
                geometry: RouteLine { kind: "LineString", coordinates: RouteCoords(&h.route, sys) },
                properties: RouteProps {
                    category: &h.category,
                    category_name_en: cat.map(|c| c.name_en.as_str()),
                    category_name_zh: cat.map(|c| c.name_zh.as_str()),
                    distance_m: round1(h.distance_m),
                    facility_id: &h.source_id,
                    facility_lat: (flat * 1e7).round() / 1e7,
                    facility_lon: (flon * 1e7).round() / 1e7,
                    facility_name: h.name.as_deref(),
                    minutes: round1(h.time_s / 60.0),
                    threshold_m: cat.map(|c| c.distance_m),
                    within_threshold: cat.map(|c| h.distance_m <= c.distance_m),
                },
            }
        })
        .collect();
    let missing: Vec<&str> =
        query.categories.iter().filter(|c| !hits.iter().any(|h| &h.category == *c)).map(String::as_str).collect();
    let (x, y) = sys.from_wgs84(p.x(), p.y());
    let body = NearestBody {
        kind: "FeatureCollection",
        features,
        attribution: features::OSM_ATTRIBUTION,
        missing,
        point: [x, y],
        speed_mps: engine.profile.speed_mps(),
    };
    // Written straight from borrowed data (no GeoJSON or JSON value tree in between).
    let mut out = Vec::with_capacity(1024 + hits.iter().map(|h| 40 * h.route.0.len() + 400).sum::<usize>());
    let mut ser = serde_json::Serializer::with_formatter(&mut out, DecimalFormatter);
    serde::Serialize::serialize(&body, &mut ser).map_err(|e| ApiError::Internal(format!("encoding nearest: {e}")))?;
    Ok(([(axum::http::header::CONTENT_TYPE, axum::http::HeaderValue::from_static("application/json"))], out)
        .into_response())
}

/// The answer of `GET /api/v1/nearest`: a GeoJSON FeatureCollection with foreign members (the
/// same document the GeoJSON types gave, keys in the same order).
#[derive(Serialize)]
struct NearestBody<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    features: Vec<RouteFeature<'a>>,
    attribution: &'static str,
    missing: Vec<&'a str>,
    point: [f64; 2],
    speed_mps: f64,
}

#[derive(Serialize)]
struct RouteFeature<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    geometry: RouteLine<'a>,
    properties: RouteProps<'a>,
}

#[derive(Serialize)]
struct RouteLine<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    coordinates: RouteCoords<'a>,
}

/// A route's points in `sys`, rounded to 7 decimals (as [`features::geometry`] does).
struct RouteCoords<'a>(&'a geo::LineString<f64>, CoordSystem);

impl Serialize for RouteCoords<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let round7 = |v: f64| (v * 1e7).round() / 1e7;
        let mut seq = s.serialize_seq(Some(self.0.0.len()))?;
        for c in &self.0.0 {
            let (x, y) = self.1.from_wgs84(c.x, c.y);
            seq.serialize_element(&[round7(x), round7(y)])?;
        }
        seq.end()
    }
}

/// Properties of a route (alphabetical, as a JSON map orders them).
#[derive(Serialize)]
struct RouteProps<'a> {
    category: &'a str,
    category_name_en: Option<&'a str>,
    category_name_zh: Option<&'a str>,
    distance_m: f64,
    facility_id: &'a str,
    facility_lat: f64,
    facility_lon: f64,
    facility_name: Option<&'a str>,
    minutes: f64,
    threshold_m: Option<f64>,
    within_threshold: Option<bool>,
}

/// serde_json's compact output, with numbers that have at most 7 decimals (coordinates rounded
/// to 1 cm, distances to 0.1 m) written from integers: the same text as the shortest
/// round-trip form serde_json writes, at a fraction of the cost. Others go to serde_json.
struct DecimalFormatter;

impl serde_json::ser::Formatter for DecimalFormatter {
    fn write_f64<W: ?Sized + std::io::Write>(&mut self, w: &mut W, v: f64) -> std::io::Result<()> {
        let mut buf = [0u8; 32];
        match short_decimal(v, &mut buf) {
            Some(text) => w.write_all(text),
            None => serde_json::ser::CompactFormatter.write_f64(w, v),
        }
    }
}

/// `v` as `[-]int.frac` when it is exactly a number of 7 decimals or fewer (a fraction other than
/// 0, magnitude between 0.001 and 10⁷), trailing zeros left out; `None` otherwise. Such a
/// decimal is the only one of 7 decimals naming this double, hence its shortest form too.
fn short_decimal(v: f64, buf: &mut [u8; 32]) -> Option<&[u8]> {
    const SCALE: f64 = 1e7;
    let a = v.abs();
    if !(1e-3..1e7).contains(&a) {
        return None;
    }
    let n = (a * SCALE).round();
    if n / SCALE != a {
        return None;
    }
    let n = n as u64;
    let (int, mut frac) = (n / 10_000_000, n % 10_000_000);
    if frac == 0 {
        return None;
    }
    let mut digits = 7;
    while frac % 10 == 0 {
        frac /= 10;
        digits -= 1;
    }
    // Written backwards from the end of `buf`: fraction, point, integer part, sign.
    let mut at = buf.len();
    for _ in 0..digits {
        at -= 1;
        buf[at] = b'0' + (frac % 10) as u8;
        frac /= 10;
    }
    at -= 1;
    buf[at] = b'.';
    let mut int = int;
    loop {
        at -= 1;
        buf[at] = b'0' + (int % 10) as u8;
        int /= 10;
        if int == 0 {
            break;
        }
    }
    if v < 0.0 {
        at -= 1;
        buf[at] = b'-';
    }
    Some(&buf[at..])
}

#[cfg(test)]
mod tests {
    use super::short_decimal;

    /// The integer-based form is serde_json's own text for every number it takes, and declines
    /// the rest.
    #[test]
    fn short_decimals_are_serde_json_text() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut taken = 0;
        for i in 0..200_000u64 {
            let r = next();
            let v = match i % 4 {
                0 => ((r % 3_600_000_000) as i64 - 1_800_000_000) as f64 / 1e7,
                1 => ((r as f64 / u64::MAX as f64 * 360.0 - 180.0) * 1e7).round() / 1e7,
                2 => ((r % 100_000_000) as f64 / 10.0).round() / 10.0,
                _ => f64::from_bits(r),
            };
            let mut buf = [0u8; 32];
            let want = serde_json::to_string(&v).unwrap_or_default();
            if let Some(text) = short_decimal(v, &mut buf) {
                assert_eq!(std::str::from_utf8(text).unwrap_or_default(), want, "{v:e}");
                taken += 1;
            }
        }
        assert!(taken > 100_000, "{taken}");
        for v in [0.0, -0.0, 1000.0, 1e-9, 1e300, f64::NAN, 0.123_456_78] {
            assert!(short_decimal(v, &mut [0u8; 32]).is_none(), "{v}");
        }
        assert_eq!(short_decimal(-0.5, &mut [0u8; 32]), Some(&b"-0.5"[..]));
        assert_eq!(short_decimal(24.950_421, &mut [0u8; 32]), Some(&b"24.950421"[..]));
    }
}

/// Query of `GET /api/v1/isochrones`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IsochroneQuery {
    /// Longitude of the start (with `lat`; or give `facility`).
    #[param(value_type = f64)]
    lon: Option<String>,
    /// Latitude of the start.
    #[param(value_type = f64)]
    lat: Option<String>,
    /// A facility id to start from instead of a point.
    facility: Option<String>,
    /// Comma-separated walking minutes, each above 0 and at most 60 (default `5,10,15`).
    minutes: Option<String>,
    /// `wgs84` (default), `gcj02` or `bd09`: the system of the point and of the answer.
    coords: Option<String>,
}

fn minutes(spec: Option<&str>) -> Result<Vec<f64>, ApiError> {
    let Some(spec) = spec else { return Ok(vec![5.0, 10.0, 15.0]) };
    let mut out = Vec::new();
    for t in spec.split(',').map(str::trim) {
        let m: f64 = t.parse().map_err(|_| ApiError::BadParam {
            param: "minutes",
            reason: format!("`{t}` is not a number of minutes"),
        })?;
        if !(m.is_finite() && m > 0.0 && m <= MAX_MINUTES) {
            return Err(ApiError::BadParam { param: "minutes", reason: format!("{m} is outside 0..{MAX_MINUTES}") });
        }
        out.push(m);
    }
    if out.len() > 6 {
        return Err(ApiError::BadParam { param: "minutes", reason: "at most 6 times".into() });
    }
    Ok(out)
}

#[utoipa::path(get, path = "/api/v1/isochrones", tag = "circles", params(IsochroneQuery), security((), ("bearer" = [])),
    responses((status = 200, description = "A FeatureCollection of walking areas (MultiPolygon), largest first, with properties minutes and distance_m", content_type = "application/geo+json"),
        (status = 400, description = "Malformed point/minutes/coords, or both or neither of a point and a facility"), (status = 401, description = "A wrong or expired token"),
        (status = 404, description = "No such facility"), (status = 422, description = "The point or facility is too far from any walkable way, or the city has no walking network")))]
async fn isochrones(
    State(s): State<AppState>,
    ApiQuery(q): ApiQuery<IsochroneQuery>,
) -> Result<Json<FeatureCollection>, ApiError> {
    let sys = super::coords(q.coords.as_deref())?;
    let times = minutes(q.minutes.as_deref())?;
    let start = match (&q.facility, q.lon.is_some() || q.lat.is_some()) {
        (Some(_), true) => {
            return Err(ApiError::BadParam {
                param: "facility",
                reason: "give either lon/lat or facility, not both".into(),
            });
        }
        (Some(id), false) => Err(id.clone()),
        (None, _) => Ok(super::point(q.lon.as_deref(), q.lat.as_deref(), q.coords.as_deref())?.0),
    };
    let engine = s.circles();
    let (net, facilities) = engine.ready.as_ref().map_err(|e| no_network(e))?;
    let opts = IsochroneOptions::default();
    // Ok: from a point; Err: from the facility of that id.
    let isos = match start {
        Ok(p) => net.isochrones_at(p, &times, &engine.profile, &opts),
        Err(id) => {
            let f = facilities
                .facilities()
                .iter()
                .find(|f| f.source_id == id)
                .ok_or_else(|| ApiError::NotFound { kind: "facility", id: id.clone() })?;
            let snap = f.snap.as_ref().map_err(|failure| {
                ApiError::Unprocessable(format!("facility `{id}` is not on the walking network: {failure}"))
            })?;
            net.isochrones(snap, &times, &engine.profile, &opts)
        }
    }
    .map_err(circles_error)?;
    let mut fc = wangge_circles::isochrone::feature_collection(&isos);
    if sys != CoordSystem::Wgs84 {
        for f in &mut fc.features {
            if let Some(g) = f.geometry.take() {
                let g: Geometry<f64> =
                    g.try_into().map_err(|e| ApiError::Internal(format!("isochrone geometry: {e}")))?;
                f.geometry = Some(features::geometry(&g, sys));
            }
        }
    }
    Ok(Json(fc))
}

/// Query of `GET /api/v1/coverage`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CoverageQuery {
    /// `grid`, `community`, `street` or `city` (default: all levels).
    level: Option<String>,
    /// A category id (default: every category).
    category: Option<String>,
}

fn level(spec: Option<&str>) -> Result<Option<CoverageLevel>, ApiError> {
    spec.map(|l| {
        serde_json::from_value::<CoverageLevel>(Value::String(l.to_string())).map_err(|_| ApiError::BadParam {
            param: "level",
            reason: format!("`{l}` is not one of grid, community, street, city"),
        })
    })
    .transpose()
}

fn category(s: &AppState, id: Option<&str>) -> Result<Option<String>, ApiError> {
    match id {
        None => Ok(None),
        Some(id) if s.catalogue.get(id).is_some() => Ok(Some(id.to_string())),
        Some(id) => Err(ApiError::BadParam {
            param: "category",
            reason: format!(
                "unknown category `{id}`; known: {}",
                s.catalogue.categories.iter().map(|c| c.id.as_str()).collect::<Vec<_>>().join(", ")
            ),
        }),
    }
}

#[utoipa::path(get, path = "/api/v1/coverage", tag = "circles", params(CoverageQuery), security(("bearer" = [])),
    responses((status = 200, description = "`{computed_at, rows: [{category, level, region, households_covered, households_total, share, buildings_covered, buildings_total}]}` from the last `circles compute` run (rows empty when never computed)"),
        (status = 400, description = "Unknown level or category"), (status = 401, description = "Not signed in"), (status = 403, description = "Residents see the heatmap, not the tables")))]
async fn coverage(
    State(s): State<AppState>,
    _leader: crate::auth::LeaderUser,
    ApiQuery(q): ApiQuery<CoverageQuery>,
) -> Result<Json<Value>, ApiError> {
    let lvl = level(q.level.as_deref())?;
    let cat = category(&s, q.category.as_deref())?;
    let meta = s.store.circles_run().await?;
    let rows = s.store.coverage_summaries(lvl, cat.as_deref()).await?;
    let rows: Vec<Value> = rows
        .iter()
        .map(|r| {
            let share = if r.households_total == 0 {
                None
            } else {
                Some(r.households_covered as f64 / r.households_total as f64)
            };
            json!({
                "category": r.category, "level": r.level, "region": r.region,
                "households_covered": r.households_covered, "households_total": r.households_total, "share": share,
                "buildings_covered": r.buildings_covered, "buildings_total": r.buildings_total,
            })
        })
        .collect();
    Ok(Json(json!({ "computed_at": meta.as_ref().map(|m| &m.computed_at), "rows": rows })))
}

/// Query of `GET /api/v1/uncovered`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UncoveredQuery {
    /// A category id (required).
    category: Option<String>,
    /// At most this many buildings (default 500, at most the server's feature limit).
    limit: Option<usize>,
}

#[utoipa::path(get, path = "/api/v1/uncovered", tag = "circles", params(UncoveredQuery), security(("bearer" = [])),
    responses((status = 200, description = "`{category, threshold_m, households, buildings, rows: [{building, name, households, lon, lat, distance_m, facility}]}`: buildings with no facility of the category within its walking threshold, most households first"),
        (status = 400, description = "Missing or unknown category, bad limit"), (status = 401, description = "Not signed in"), (status = 403, description = "Leaders and planners only")))]
async fn uncovered(
    State(s): State<AppState>,
    _leader: crate::auth::LeaderUser,
    ApiQuery(q): ApiQuery<UncoveredQuery>,
) -> Result<Json<Value>, ApiError> {
    let cat = category(&s, q.category.as_deref())?
        .ok_or_else(|| ApiError::BadParam { param: "category", reason: "is required".into() })?;
    let limit = match q.limit {
        Some(0) => return Err(ApiError::BadParam { param: "limit", reason: "must be at least 1".into() }),
        Some(n) => n.min(s.feature_limit),
        None => 500,
    };
    let threshold = s.catalogue.get(&cat).map_or(0.0, |c| c.distance_m);
    let results = s.store.circle_results(Some(&cat)).await?;
    let atlas = s.atlas();
    let buildings = &atlas.layers().buildings;
    let mut rows: Vec<(u32, Value)> = results
        .iter()
        .filter(|r| r.distance_m.is_none_or(|d| d > threshold))
        .filter_map(|r| {
            let b =
                buildings.binary_search_by(|b| b.source_id.as_str().cmp(&r.building)).ok().map(|i| &buildings[i])?;
            let hh = b.households.count;
            let c = b.shape.point()?;
            Some((
                hh,
                json!({ "building": b.source_id, "name": b.name, "households": hh,
                    "lon": (c.x() * 1e7).round() / 1e7, "lat": (c.y() * 1e7).round() / 1e7,
                    "distance_m": r.distance_m.map(round1), "facility": r.facility }),
            ))
        })
        .collect();
    let households: u64 = rows.iter().map(|(h, _)| u64::from(*h)).sum();
    let total = rows.len();
    rows.sort_by_key(|r| std::cmp::Reverse(r.0));
    rows.truncate(limit);
    Ok(Json(json!({
        "category": cat, "threshold_m": threshold, "households": households, "buildings": total,
        "truncated": total > limit, "rows": rows.into_iter().map(|(_, v)| v).collect::<Vec<_>>(),
    })))
}

/// Query of `GET /api/v1/sites`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SitesQuery {
    /// A category id (default: every category).
    category: Option<String>,
    /// `wgs84` (default), `gcj02` or `bd09`.
    coords: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/sites", tag = "circles", params(SitesQuery), security(("bearer" = [])),
    responses((status = 200, description = "Siting suggestions as Point features (category, rank, households_gained, detail), from the last `circles site` run", content_type = "application/geo+json"),
        (status = 400, description = "Unknown category or coords"), (status = 401, description = "Not signed in"), (status = 403, description = "Leaders and planners only")))]
async fn sites(
    State(s): State<AppState>,
    _leader: crate::auth::LeaderUser,
    ApiQuery(q): ApiQuery<SitesQuery>,
) -> Result<Json<FeatureCollection>, ApiError> {
    let sys = super::coords(q.coords.as_deref())?;
    let cat = category(&s, q.category.as_deref())?;
    let sites = s.store.sites(cat.as_deref()).await?;
    let out = sites
        .iter()
        .map(|site| {
            let mut f = Feature::from(features::geometry(&Geometry::Point(Point::new(site.lon, site.lat)), sys));
            f.id = Some(geojson::feature::Id::String(format!("{}-{}", site.category, site.rank)));
            f.properties = json!({ "category": site.category, "rank": site.rank,
                "households_gained": site.households_gained, "detail": site.detail })
            .as_object()
            .cloned();
            f
        })
        .collect();
    Ok(Json(features::collection(out)))
}
