//! `GET /api/v1/meta`: what the map needs to start: extent, counts, categories, attribution.

use crate::AppState;
use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};
use utoipa_axum::{router::OpenApiRouter, routes};
use wangge_core::features::OSM_ATTRIBUTION;

/// The meta route.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(meta))
}

#[utoipa::path(get, path = "/api/v1/meta", tag = "meta",
    responses((status = 200, description = "Extent, counts, facility categories, attribution, and the plan in force (`active_plan`: name and version, null when none)")))]
async fn meta(State(s): State<AppState>) -> Result<Json<Value>, crate::ApiError> {
    let extent = s.atlas().extent();
    let categories: Vec<Value> = s
        .catalogue
        .categories
        .iter()
        .map(|c| {
            json!({
                "id": c.id, "name_zh": c.name_zh, "name_en": c.name_en,
                "level": format!("{}-min", c.level.minutes()), "distance_m": c.distance_m,
            })
        })
        .collect();
    let active = s.active_plan().await?;
    Ok(Json(json!({
        "name": s.name,
        "bbox": extent.map(|b| [b.min_lon, b.min_lat, b.max_lon, b.max_lat]),
        "center": extent.map(|b| { let (x, y) = b.centre(); [x, y] }),
        "attribution": OSM_ATTRIBUTION,
        "store": s.store.backend(),
        "stats": s.atlas().stats(),
        "categories": categories,
        "active_plan": active.map(|p| json!({ "name": p.name, "version": p.version })),
    })))
}
