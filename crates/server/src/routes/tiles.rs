//! Vector tiles over HTTP, outside `/api/v1` (map clients expect them at the root):
//!
//! - `GET /tiles/{layer}/{z}/{x}/{y}.mvt` — a Mapbox Vector Tile of one layer, or of several joined by
//!   commas (`/tiles/buildings,basemap/14/9326/4741.mvt`: one MVT layer per named layer, in order);
//!   `?plan=` picks the plan of `grids`, `?metric=` the metric of `heat` and `cells`.
//! - `GET /tiles/{layer}.json` — the layer's TileJSON 3.0.0.
//! - `GET /style.json` — a MapLibre style over every layer, with glyphs and sprite under `/assets/`.
//!
//! Anonymous callers (residents) get the public audience: no household numbers in any layer;
//! callers who see households (leaders, planners, or anonymous callers of a demo) get them. Tiles
//! carry a strong ETag (`If-None-Match` → 304), `Cache-Control` by audience and
//! `Vary: Authorization, Accept-Encoding`. A client accepting gzip gets the cache's gzip copy of
//! the tile, compressed once (the server-wide compression layer leaves tiles alone). Empty tiles
//! are 204 No Content.

use crate::auth::Caller;
use crate::extract::ApiQuery;
use crate::{ApiError, AppState};
use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use std::time::Instant;
use utoipa::OpenApi as _;
use utoipa_axum::router::OpenApiRouter;
use wangge_tiles::{Audience, EncodedTile, LayerName, TileId, TileService, cache_control};

/// The media type of a Mapbox Vector Tile.
pub const MVT_CONTENT_TYPE: &str = "application/vnd.mapbox-vector-tile";

/// The `Vary` header of tiles and TileJSON: the answer depends on who asks and on gzip.
pub const TILE_VARY: &str = "Authorization, Accept-Encoding";

#[derive(utoipa::OpenApi)]
#[openapi(paths(tile, tilejson, style))]
struct TilesDoc;

/// The tile routes (axum cannot put a parameter and a suffix in one path segment, so `{y}.mvt`
/// and `{layer}.json` are captured whole and their suffixes checked in the handlers), with their
/// OpenAPI paths.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(TilesDoc::openapi())
        .route("/tiles/{layer}/{z}/{x}/{y}", get(tile))
        .route("/tiles/{file}", get(tilejson))
        .route("/style.json", get(style))
}

/// Query parameters of tiles and TileJSON.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TileQuery {
    /// The plan of the `grids` layer (default: the active plan).
    plan: Option<String>,
    /// The metric of the `heat` and `cells` layers: `completeness` (default) or a facility category.
    metric: Option<String>,
}

/// The audience a caller gets: household numbers only for those who may see them.
pub fn audience(caller: &Caller) -> Audience {
    if caller.sees_households() { Audience::Full } else { Audience::Public }
}

/// The variant (plan or metric) of each layer; a `plan` or `metric` no requested layer takes is a 400.
fn variants<'a>(names: &[LayerName], q: &'a TileQuery) -> Result<Vec<(LayerName, Option<&'a str>)>, ApiError> {
    let takes_metric = |n: &LayerName| matches!(n, LayerName::Heat | LayerName::Cells);
    if q.plan.is_some() && !names.contains(&LayerName::Grids) {
        return Err(ApiError::BadParam { param: "plan", reason: "only the `grids` layer takes a plan".into() });
    }
    if q.metric.is_some() && !names.iter().any(takes_metric) {
        return Err(ApiError::BadParam {
            param: "metric",
            reason: "only the `heat` and `cells` layers take a metric".into(),
        });
    }
    for (param, v) in [("plan", &q.plan), ("metric", &q.metric)] {
        if v.as_deref().is_some_and(str::is_empty) {
            return Err(ApiError::BadParam { param, reason: "must not be empty".into() });
        }
    }
    Ok(names
        .iter()
        .map(|n| {
            let v = match n {
                LayerName::Grids => q.plan.as_deref(),
                n if takes_metric(n) => q.metric.as_deref(),
                _ => None,
            };
            (*n, v)
        })
        .collect())
}

/// True when the `Accept-Encoding` value accepts gzip (`gzip`, `x-gzip` or `*` with a q-value above 0).
pub fn accepts_gzip(headers: &HeaderMap) -> bool {
    let mut gzip: Option<f32> = None;
    let mut star: Option<f32> = None;
    for value in headers.get_all(header::ACCEPT_ENCODING) {
        let Ok(value) = value.to_str() else { continue };
        for item in value.split(',') {
            let mut params = item.split(';');
            let coding = params.next().unwrap_or("").trim();
            let q = params
                .filter_map(|p| p.trim().strip_prefix("q=").or_else(|| p.trim().strip_prefix("Q=")))
                .find_map(|v| v.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            if coding.eq_ignore_ascii_case("gzip") || coding.eq_ignore_ascii_case("x-gzip") {
                gzip = Some(gzip.map_or(q, |g| g.max(q)));
            } else if coding == "*" {
                star = Some(q);
            }
        }
    }
    gzip.or(star).is_some_and(|q| q > 0.0)
}

fn header_value(s: &str) -> HeaderValue {
    HeaderValue::from_str(s).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The answer for an encoded tile: 304 when `If-None-Match` names its ETag, 204 when empty, else
/// the bytes (gzip when accepted). ETag, Cache-Control and Vary on all three.
pub fn tile_response(t: &EncodedTile, audience: Audience, req: &HeaderMap) -> Response {
    let mut headers = HeaderMap::new();
    headers.insert(header::ETAG, header_value(&t.etag));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache_control(audience)));
    headers.insert(header::VARY, HeaderValue::from_static(TILE_VARY));
    let not_modified = req.get_all(header::IF_NONE_MATCH).iter().filter_map(|v| v.to_str().ok()).any(|v| t.matches(v));
    if not_modified {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    if t.is_empty() {
        return (StatusCode::NO_CONTENT, headers).into_response();
    }
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(MVT_CONTENT_TYPE));
    let body = if accepts_gzip(req) {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        Bytes::from_owner(t.gzip())
    } else {
        Bytes::from_owner(t.bytes.clone())
    };
    (StatusCode::OK, headers, Body::from(body)).into_response()
}

#[utoipa::path(get, path = "/tiles/{layer}/{z}/{x}/{y}.mvt", tag = "tiles",
    params(
        ("layer" = String, Path, description = "A layer (buildings, grids, compounds, communities, streets, facilities, network, basemap, heat, cells) or several joined by commas (e.g. `buildings,basemap`) for one tile holding each"),
        ("z" = u32, Path, description = "Zoom, 0 to 22"),
        ("x" = u32, Path, description = "Column, below 2^z"),
        ("y" = u32, Path, description = "Row from the north, below 2^z (the segment ends in `.mvt`)"),
        TileQuery),
    responses(
        (status = 200, description = "The tile (Mapbox Vector Tile 2.1; gzip when accepted). Anonymous callers get no household numbers", content_type = "application/vnd.mapbox-vector-tile"),
        (status = 204, description = "An empty tile (no features)"),
        (status = 304, description = "Not modified (If-None-Match names the current ETag)"),
        (status = 400, description = "Malformed coordinates, a zoom beyond 22, a plan or metric the layer does not take (JSON error naming it)"),
        (status = 401, description = "A wrong or expired bearer token"),
        (status = 404, description = "A tile that does not exist at that zoom, an unknown layer, plan or metric, or no active plan (JSON error naming it)")))]
/// One vector tile, or a composite of several layers.
async fn tile(
    State(s): State<AppState>,
    caller: Caller,
    path: Result<Path<(String, String, String, String)>, PathRejection>,
    ApiQuery(q): ApiQuery<TileQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Path((layers, z, x, y)) = path.map_err(|e| ApiError::BadParam { param: "path", reason: e.body_text() })?;
    if !(y.ends_with(".mvt") || y.ends_with(".pbf")) {
        return Err(ApiError::BadParam {
            param: "y",
            reason: format!("`{y}`: tile paths end in `{{y}}.mvt`, e.g. /tiles/buildings/14/9326/4741.mvt"),
        });
    }
    let id = TileId::parse(&z, &x, &y)?;
    let names = TileService::parse_layers(&layers)?;
    let parts = variants(&names, &q)?;
    let audience = audience(&caller);
    let started = Instant::now();
    let (t, cached) = match s.tiles.cached(&parts, id, audience)? {
        Some(t) => (t, true),
        // From zoom 14 on a tile covers a few blocks: encoding takes about a millisecond, less
        // than handing it to another thread and back costs, so it runs here. Lower zooms can
        // cover a whole city and go to the blocking pool, at most one per core at a time (sixteen
        // clients asking at once queue here instead of sixteen threads sharing two cores).
        None if id.z >= INLINE_ZOOM => (s.tiles.composite(&parts, id, audience)?, false),
        None => {
            let owned: Vec<(LayerName, Option<String>)> =
                parts.iter().map(|(n, v)| (*n, v.map(str::to_string))).collect();
            let tiles = s.tiles.clone();
            let _permit =
                encoders().acquire().await.map_err(|e| ApiError::Internal(format!("encoding tile {id}: {e}")))?;
            let t = tokio::task::spawn_blocking(move || {
                let parts: Vec<(LayerName, Option<&str>)> = owned.iter().map(|(n, v)| (*n, v.as_deref())).collect();
                tiles.composite(&parts, id, audience)
            })
            .await
            .map_err(|e| ApiError::Internal(format!("encoding tile {id}: {e}")))??;
            (t, false)
        }
    };
    tracing::debug!(
        layers = %layers, tile = %id, bytes = t.bytes.len(), cached,
        ms = started.elapsed().as_secs_f64() * 1000.0, "tile"
    );
    Ok(tile_response(&t, audience, &headers))
}

/// From this zoom on tiles are encoded on the request's own thread (see the tile handler).
const INLINE_ZOOM: u8 = 14;

/// The permits for tile encoding in the blocking pool: one per core.
fn encoders() -> &'static tokio::sync::Semaphore {
    static ENCODERS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    ENCODERS.get_or_init(|| {
        tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get))
    })
}

/// The scheme and host the client used (`http://127.0.0.1:8080`), for absolute URLs in TileJSON
/// and the style; empty (root-relative URLs) when the `Host` header is missing or odd.
pub fn base_url(headers: &HeaderMap) -> String {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("");
    let ok = !host.is_empty()
        && host.len() <= 255
        && host.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'));
    if !ok {
        return String::new();
    }
    let https = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"));
    format!("{}://{host}", if https { "https" } else { "http" })
}

fn json_doc(doc: serde_json::Value) -> Response {
    let mut r = Json(doc).into_response();
    let h = r.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(header::VARY, HeaderValue::from_static("Authorization, Host"));
    r
}

#[utoipa::path(get, path = "/tiles/{layer}.json", tag = "tiles",
    params(("layer" = String, Path, description = "One layer (see the tile route)"), TileQuery),
    responses(
        (status = 200, description = "TileJSON 3.0.0 of the layer (public documents list no household fields)"),
        (status = 400, description = "A plan or metric the layer does not take (JSON error naming it)"),
        (status = 401, description = "A wrong or expired bearer token"),
        (status = 404, description = "An unknown layer, plan or metric (JSON error naming it)")))]
/// The TileJSON of one layer.
async fn tilejson(
    State(s): State<AppState>,
    caller: Caller,
    path: Result<Path<String>, PathRejection>,
    ApiQuery(q): ApiQuery<TileQuery>,
    uri: axum::http::Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Path(file) = path.map_err(|e| ApiError::BadParam { param: "path", reason: e.body_text() })?;
    let Some(layer) = file.strip_suffix(".json") else {
        return Err(ApiError::NoRoute(uri.path().to_string()));
    };
    let names = TileService::parse_layers(layer)?;
    if names.len() != 1 {
        return Err(ApiError::BadParam {
            param: "layer",
            reason: format!("`{layer}`: TileJSON is per layer; ask for each layer's document"),
        });
    }
    let parts = variants(&names, &q)?;
    let doc = s.tiles.tilejson(names[0].as_str(), parts[0].1, audience(&caller), &base_url(&headers))?;
    Ok(json_doc(doc))
}

#[utoipa::path(get, path = "/style.json", tag = "tiles",
    responses(
        (status = 200, description = "A MapLibre style (v8) over every tile layer, glyphs at /assets/glyphs/{fontstack}/{range}.pbf (font stack `wangge-sans`), sprite at /assets/sprite/wangge"),
        (status = 401, description = "A wrong or expired bearer token")))]
/// The MapLibre style.
async fn style(State(s): State<AppState>, headers: HeaderMap) -> Response {
    json_doc(s.tiles.style(&base_url(&headers)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(name: header::HeaderName, v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(name, HeaderValue::from_str(v).unwrap_or_else(|_| HeaderValue::from_static("")));
        h
    }

    #[test]
    fn gzip_is_accepted_unless_refused_by_q_zero() {
        for (v, yes) in [
            ("gzip", true),
            ("gzip, deflate, br, zstd", true),
            ("br;q=1.0, gzip;q=0.8", true),
            ("GZIP", true),
            ("x-gzip", true),
            ("*", true),
            ("gzip;q=0", false),
            ("br", false),
            ("identity", false),
            ("*;q=0.5, gzip;q=0", false),
            ("", false),
        ] {
            assert_eq!(accepts_gzip(&with(header::ACCEPT_ENCODING, v)), yes, "{v}");
        }
        assert!(!accepts_gzip(&HeaderMap::new()));
    }

    #[test]
    fn base_urls_follow_the_host_and_refuse_odd_ones() {
        assert_eq!(base_url(&with(header::HOST, "127.0.0.1:8080")), "http://127.0.0.1:8080");
        let mut h = with(header::HOST, "map.example.cn");
        h.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        assert_eq!(base_url(&h), "https://map.example.cn");
        assert_eq!(base_url(&with(header::HOST, "evil.example/\"x")), "");
        assert_eq!(base_url(&HeaderMap::new()), "");
    }
}
