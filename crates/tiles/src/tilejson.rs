//! TileJSON 3.0.0 documents for each layer and a MapLibre style (spec version 8) over all of them.
//!
//! URLs are built from a `base_url` given by the caller (e.g. `https://wangge.example.org` or a
//! path prefix such as `/api`; an empty base gives root-relative URLs). The style takes its glyphs
//! (font stack [`FONT_STACK`]) and sprite from the server's `/assets/`, so it can draw labels.

use crate::TileError;
use crate::attrs::Audience;
use crate::layer::LayerName;
use crate::source::TileSource;
use crate::tilemath::MercBox;
use serde_json::{Value, json};

/// The attribution of every layer: the data come from OpenStreetMap (and the community's own
/// registers, which need no credit line).
pub const ATTRIBUTION: &str = "© OpenStreetMap contributors";

/// The font stack of every label: glyph ranges are served at
/// `{base}/assets/glyphs/wangge-sans/{range}.pbf`.
pub const FONT_STACK: &str = "wangge-sans";

/// The glyph URL template of the style (MapLibre fills in `{fontstack}` and `{range}`).
pub fn glyphs_url(base_url: &str) -> String {
    format!("{}/assets/glyphs/{{fontstack}}/{{range}}.pbf", base_url.trim_end_matches('/'))
}

/// The sprite URL of the style (MapLibre adds `.json`/`.png` and `@2x`).
pub fn sprite_url(base_url: &str) -> String {
    format!("{}/assets/sprite/wangge", base_url.trim_end_matches('/'))
}

/// Percent-encodes a query value (RFC 3986 unreserved characters kept).
fn encode_query(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The query string selecting a variant: `?plan=…` for grids, `?metric=…` for heat and cells.
fn variant_query(name: LayerName, variant: Option<&str>) -> String {
    match (name, variant.filter(|v| !v.is_empty())) {
        (LayerName::Grids, Some(p)) => format!("?plan={}", encode_query(p)),
        (LayerName::Heat | LayerName::Cells, Some(m)) => format!("?metric={}", encode_query(m)),
        _ => String::new(),
    }
}

/// The tile URL template of a layer: `{base}/tiles/{layer}/{z}/{x}/{y}.mvt[?plan=…|?metric=…]`.
pub fn tile_url(base_url: &str, name: LayerName, variant: Option<&str>) -> String {
    format!("{}/tiles/{}/{{z}}/{{x}}/{{y}}.mvt{}", base_url.trim_end_matches('/'), name, variant_query(name, variant))
}

/// The TileJSON URL of a layer: `{base}/tiles/{layer}.json[?…]`.
pub fn tilejson_url(base_url: &str, name: LayerName, variant: Option<&str>) -> String {
    format!("{}/tiles/{}.json{}", base_url.trim_end_matches('/'), name, variant_query(name, variant))
}

fn heat_fields(audience: Audience, cells: bool) -> serde_json::Map<String, Value> {
    let mut f = serde_json::Map::new();
    f.insert("value".into(), json!("Number"));
    f.insert("buildings".into(), json!("Number"));
    if cells {
        f.insert("cell_m".into(), json!("Number"));
    }
    if audience == Audience::Full {
        for k in ["households", "covered", "gap"] {
            f.insert(k.into(), json!("Number"));
        }
    }
    f
}

fn lonlat_bounds(b: Option<MercBox>) -> [f64; 4] {
    let r = |x: f64| (x * 1e6).round() / 1e6;
    match b {
        Some(b) => {
            let [w, s, e, n] = b.to_lonlat();
            [r(w), r(s), r(e), r(n)]
        }
        None => [-180.0, -85.051129, 180.0, 85.051129],
    }
}

/// The TileJSON 3.0.0 document of a layer for an audience (public documents list no household
/// fields). Errors for an unknown plan or metric.
pub fn tilejson(
    source: &TileSource,
    name: LayerName,
    variant: Option<&str>,
    audience: Audience,
    base_url: &str,
) -> Result<Value, TileError> {
    let resolved = source.resolve_variant(name, variant)?;
    let variant = Some(resolved.as_str()).filter(|v| !v.is_empty());
    let spec = name.spec();
    let fields = match name {
        LayerName::Heat => heat_fields(audience, false),
        LayerName::Cells => heat_fields(audience, true),
        _ => source
            .feature_layer(name, variant)?
            .fields()
            .iter()
            .filter(|(_, (_, private))| audience == Audience::Full || !private)
            .map(|(k, (t, _))| (k.clone(), json!(t)))
            .collect(),
    };
    let bounds = lonlat_bounds(source.layer_bounds(name, variant).or(source.extent()));
    let centre_zoom = spec.min_zoom.max(14).min(spec.max_zoom);
    let (cx, cy) =
        (((bounds[0] + bounds[2]) / 2.0 * 1e6).round() / 1e6, ((bounds[1] + bounds[3]) / 2.0 * 1e6).round() / 1e6);
    let mut doc = json!({
        "tilejson": "3.0.0",
        "name": format!("wangge {}", name),
        "description": name.description(),
        "version": "1.0.0",
        "attribution": ATTRIBUTION,
        "scheme": "xyz",
        "tiles": [tile_url(base_url, name, variant)],
        "minzoom": spec.min_zoom,
        "maxzoom": spec.max_zoom,
        "bounds": bounds,
        "center": [cx, cy, centre_zoom],
        "vector_layers": [{
            "id": name.as_str(),
            "description": name.description(),
            "minzoom": spec.min_zoom,
            "maxzoom": spec.max_zoom,
            "fields": fields,
        }],
    });
    if matches!(name, LayerName::Heat | LayerName::Cells) {
        doc["metrics"] = json!(source.heat().metrics());
    }
    if name == LayerName::Grids {
        doc["plan"] = json!(resolved);
    }
    Ok(doc)
}

fn road_width(base: f64) -> Value {
    json!(["interpolate", ["exponential", 1.5], ["zoom"], 10, base * 0.5, 14, base * 2.0, 18, base * 12.0])
}

/// A MapLibre style (v8) over every tile layer: sources point at the layers' TileJSON (with the
/// OpenStreetMap attribution), layers draw land use, parks, water, roads by class, boundaries, the
/// coverage cells and heatmap, grids by quota status, the walking network, buildings by
/// completeness and facilities by category. The heatmap is hidden by default (`visibility`), the
/// cells shown up to zoom 13. Labels (community, road and facility names) use the glyphs of
/// [`glyphs_url`] in the [`FONT_STACK`] font; the sprite is [`sprite_url`].
pub fn style(source: &TileSource, base_url: &str) -> Value {
    let (plans, active) = source.plans();
    let has_grids = active.is_some() && !plans.is_empty();
    let mut sources = serde_json::Map::new();
    for name in LayerName::ALL {
        if name == LayerName::Grids && !has_grids {
            continue;
        }
        sources.insert(
            name.as_str().into(),
            json!({"type": "vector", "url": tilejson_url(base_url, name, None), "attribution": ATTRIBUTION}),
        );
    }
    let extent = source.extent();
    let b = lonlat_bounds(extent);
    let centre = if extent.is_some() { json!([(b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0]) } else { json!([0.0, 0.0]) };
    let minor = json!(["residential", "unclassified", "living_street", "road", "service", "pedestrian", "track"]);
    let major = json!([
        "motorway",
        "trunk",
        "primary",
        "secondary",
        "tertiary",
        "motorway_link",
        "trunk_link",
        "primary_link",
        "secondary_link",
        "tertiary_link"
    ]);
    let mut layers = vec![
        json!({"id": "background", "type": "background", "paint": {"background-color": "#f4f1ec"}}),
        json!({"id": "landuse", "type": "fill", "source": "basemap", "source-layer": "basemap",
            "filter": ["==", ["get", "kind"], "landuse"],
            "paint": {"fill-color": ["match", ["get", "class"],
                "residential", "#ece6df", "commercial", "#f3dede", "retail", "#f3dede",
                "industrial", "#e6e1ec", "grass", "#d8ebc2", "forest", "#c4dfae", "#e9e6e0"]}}),
        json!({"id": "park", "type": "fill", "source": "basemap", "source-layer": "basemap",
            "filter": ["==", ["get", "kind"], "park"], "paint": {"fill-color": "#cde8b0"}}),
        json!({"id": "water", "type": "fill", "source": "basemap", "source-layer": "basemap",
            "filter": ["==", ["get", "kind"], "water"], "paint": {"fill-color": "#a9cdef"}}),
        json!({"id": "waterway", "type": "line", "source": "basemap", "source-layer": "basemap",
            "filter": ["==", ["get", "kind"], "waterway"],
            "paint": {"line-color": "#a9cdef", "line-width": ["match", ["get", "class"], ["river", "canal"], 3, 1.2]}}),
        json!({"id": "rail", "type": "line", "source": "basemap", "source-layer": "basemap",
            "filter": ["==", ["get", "kind"], "rail"],
            "paint": {"line-color": "#9a9a9a", "line-width": 1.5, "line-dasharray": [3, 3]}}),
        json!({"id": "road-path", "type": "line", "source": "basemap", "source-layer": "basemap", "minzoom": 14,
            "filter": ["all", ["==", ["get", "kind"], "road"], ["!", ["in", ["get", "class"], ["literal", minor.clone()]]],
                ["!", ["in", ["get", "class"], ["literal", major.clone()]]]],
            "paint": {"line-color": "#ffffff", "line-width": 1, "line-dasharray": [2, 1]}}),
        json!({"id": "road-minor", "type": "line", "source": "basemap", "source-layer": "basemap",
            "filter": ["all", ["==", ["get", "kind"], "road"], ["in", ["get", "class"], ["literal", minor]]],
            "layout": {"line-cap": "round", "line-join": "round"},
            "paint": {"line-color": "#ffffff", "line-width": road_width(1.0)}}),
        json!({"id": "road-major", "type": "line", "source": "basemap", "source-layer": "basemap",
            "filter": ["all", ["==", ["get", "kind"], "road"], ["in", ["get", "class"], ["literal", major]]],
            "layout": {"line-cap": "round", "line-join": "round"},
            "paint": {"line-color": "#f9d49c", "line-width": road_width(1.8)}}),
        json!({"id": "streets-outline", "type": "line", "source": "streets", "source-layer": "streets",
            "paint": {"line-color": "#6a4c93", "line-width": 2.5, "line-dasharray": [4, 2]}}),
        json!({"id": "communities-fill", "type": "fill", "source": "communities", "source-layer": "communities",
            "paint": {"fill-color": "#8e6cc0", "fill-opacity": 0.05}}),
        json!({"id": "communities-outline", "type": "line", "source": "communities", "source-layer": "communities",
            "paint": {"line-color": "#8e6cc0", "line-width": 1.5}}),
        json!({"id": "compounds-outline", "type": "line", "source": "compounds", "source-layer": "compounds",
            "paint": {"line-color": "#b08d57", "line-width": 1}}),
        json!({"id": "cells", "type": "fill", "source": "cells", "source-layer": "cells", "maxzoom": 14,
            "paint": {"fill-color": ["interpolate", ["linear"], ["get", "value"], 0, "#d73027", 0.5, "#fee08b", 1, "#1a9850"],
                "fill-opacity": 0.55}}),
        json!({"id": "heat", "type": "heatmap", "source": "heat", "source-layer": "heat", "maxzoom": 17,
            "layout": {"visibility": "none"},
            "paint": {
                "heatmap-weight": ["interpolate", ["linear"], ["*", ["get", "buildings"], ["-", 1, ["get", "value"]]], 0, 0, 8, 1],
                "heatmap-intensity": ["interpolate", ["linear"], ["zoom"], 8, 0.6, 16, 2],
                "heatmap-radius": ["interpolate", ["linear"], ["zoom"], 8, 4, 16, 24],
                "heatmap-opacity": 0.75}}),
    ];
    if has_grids {
        layers.push(json!({"id": "grids-fill", "type": "fill", "source": "grids", "source-layer": "grids",
            "paint": {"fill-color": ["match", ["get", "quota_status"], "within", "#4caf50", "under", "#ffb300", "over", "#e53935", "#9e9e9e"],
                "fill-opacity": 0.22}}));
        layers.push(json!({"id": "grids-outline", "type": "line", "source": "grids", "source-layer": "grids",
            "paint": {"line-color": "#2e7d32", "line-width": ["interpolate", ["linear"], ["zoom"], 11, 0.8, 16, 2.5]}}));
    }
    layers.extend([
        json!({"id": "network", "type": "line", "source": "network", "source-layer": "network",
            "paint": {"line-color": ["case", ["get", "private"], "#b0a090", "#7d8b99"], "line-width": 0.8, "line-dasharray": [2, 2]}}),
        json!({"id": "buildings", "type": "fill", "source": "buildings", "source-layer": "buildings",
            "filter": ["==", ["geometry-type"], "Polygon"],
            "paint": {"fill-color": ["case", ["has", "completeness"],
                    ["interpolate", ["linear"], ["get", "completeness"], 0, "#d73027", 0.5, "#fee08b", 1, "#1a9850"],
                    ["case", ["get", "residential"], "#d9cfc3", "#cfcac4"]],
                "fill-outline-color": "#a39c93", "fill-opacity": 0.9}}),
        json!({"id": "buildings-point", "type": "circle", "source": "buildings", "source-layer": "buildings",
            "filter": ["==", ["geometry-type"], "Point"],
            "paint": {"circle-radius": 3, "circle-color": "#bfb5a8", "circle-stroke-color": "#8d857b", "circle-stroke-width": 1}}),
        json!({"id": "facilities", "type": "circle", "source": "facilities", "source-layer": "facilities",
            "paint": {"circle-radius": ["interpolate", ["linear"], ["zoom"], 12, 2.5, 17, 6],
                "circle-color": ["match", ["get", "category"],
                    ["kindergarten", "primary_school", "middle_school"], "#1e88e5",
                    ["health_station", "health_centre", "pharmacy"], "#e53935",
                    ["elderly_day_care", "nursing_home"], "#8e24aa",
                    ["fresh_market", "convenience"], "#fb8c00",
                    ["sports_ground", "park"], "#43a047",
                    "#546e7a"],
                "circle-stroke-color": "#ffffff", "circle-stroke-width": 1}}),
    ]);
    let font = json!([FONT_STACK]);
    let halo = json!({"text-color": "#333333", "text-halo-color": "#ffffff", "text-halo-width": 1.2});
    layers.extend([
        json!({"id": "road-label", "type": "symbol", "source": "basemap", "source-layer": "basemap", "minzoom": 14,
            "filter": ["all", ["==", ["get", "kind"], "road"], ["has", "name"]],
            "layout": {"symbol-placement": "line", "text-field": ["get", "name"], "text-font": font.clone(),
                "text-size": 11},
            "paint": halo.clone()}),
        json!({"id": "communities-label", "type": "symbol", "source": "communities", "source-layer": "communities",
            "minzoom": 11, "maxzoom": 15,
            "layout": {"text-field": ["get", "name"], "text-font": font.clone(), "text-size": 13},
            "paint": {"text-color": "#5b3f87", "text-halo-color": "#ffffff", "text-halo-width": 1.5}}),
        json!({"id": "facilities-label", "type": "symbol", "source": "facilities", "source-layer": "facilities",
            "minzoom": 15, "filter": ["has", "name"],
            "layout": {"text-field": ["get", "name"], "text-font": font, "text-size": 11,
                "text-offset": [0, 1.1], "text-anchor": "top", "text-optional": true},
            "paint": halo}),
    ]);
    json!({
        "version": 8,
        "name": "wangge",
        "glyphs": glyphs_url(base_url),
        "sprite": sprite_url(base_url),
        "center": centre,
        "zoom": 14,
        "sources": sources,
        "layers": layers,
    })
}
