//! GeoJSON features of the model, in WGS84 or a Chinese web-map system. Properties carry units in
//! their names (`area_m2`, `length_m`); estimated household counts say so (`households_estimated`).

use crate::chinacoords::CoordSystem;
use crate::model::*;
use geo::MapCoords;
use geojson::{Feature, FeatureCollection, JsonObject, JsonValue};
use serde_json::json;

/// The attribution every output derived from OpenStreetMap must carry.
pub const OSM_ATTRIBUTION: &str = "© OpenStreetMap contributors (ODbL 1.0, https://www.openstreetmap.org/copyright)";

/// Rounds to 1e-7 degrees (about 1 cm), enough for any map and stable across stores.
fn round7(v: f64) -> f64 {
    (v * 1e7).round() / 1e7
}

/// Converts a WGS84 geometry into `sys` and to GeoJSON.
pub fn geometry(g: &geo::Geometry<f64>, sys: CoordSystem) -> geojson::Geometry {
    let moved = g.map_coords(|c| {
        let (x, y) = sys.from_wgs84(c.x, c.y);
        geo::Coord { x: round7(x), y: round7(y) }
    });
    geojson::Geometry::from(&moved)
}

fn feature(id: &str, g: &geo::Geometry<f64>, sys: CoordSystem, props: JsonValue) -> Feature {
    let properties: Option<JsonObject> = match props {
        JsonValue::Object(m) => Some(m.into_iter().filter(|(_, v)| !v.is_null()).collect()),
        _ => None,
    };
    Feature {
        bbox: None,
        geometry: Some(geometry(g, sys)),
        id: Some(geojson::feature::Id::String(id.to_string())),
        properties,
        foreign_members: None,
    }
}

/// Which household facts a building feature may show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HouseholdPrivacy {
    /// Show households, their source and units (planners, leaders, exports).
    Show,
    /// Leave every household number out (the public resident view).
    Hide,
}

/// A building as a GeoJSON feature.
pub fn building(b: &Building, sys: CoordSystem, privacy: HouseholdPrivacy) -> Feature {
    let mut props = json!({
        "kind": b.kind,
        "name": b.name,
        "levels": b.levels,
        "residential": b.residential,
        "compound": b.compound,
        "community": b.community,
        "dataset": b.dataset,
    });
    if privacy == HouseholdPrivacy::Show {
        let extra = json!({
            "households": b.households.count,
            "households_estimated": b.households.is_estimated(),
            "households_source": b.households.source.as_str(),
            "units": if b.units.is_empty() { JsonValue::Null } else {
                b.units.iter().map(|u| json!({"label": u.label, "households": u.households})).collect()
            },
        });
        if let (Some(p), JsonValue::Object(e)) = (props.as_object_mut(), extra) {
            p.extend(e);
        }
    }
    feature(&b.source_id, &b.shape.to_geometry(), sys, props)
}

/// A facility as a GeoJSON feature.
pub fn facility(f: &Facility, sys: CoordSystem) -> Feature {
    feature(
        &f.source_id,
        &geo::Geometry::Point(f.location),
        sys,
        json!({ "category": f.category, "name": f.name, "dataset": f.dataset }),
    )
}

/// A compound as a GeoJSON feature.
pub fn compound(c: &Compound, sys: CoordSystem) -> Feature {
    feature(
        &c.source_id,
        &geo::Geometry::MultiPolygon(c.area.clone()),
        sys,
        json!({
            "name": c.name,
            "community": c.community,
            "area_m2": (crate::geometry::area_m2(&c.area) * 10.0).round() / 10.0,
            "dataset": c.dataset,
        }),
    )
}

/// A district, street or community as a GeoJSON feature.
pub fn region(r: &Region, sys: CoordSystem) -> Feature {
    feature(
        &r.source_id,
        &geo::Geometry::MultiPolygon(r.area.clone()),
        sys,
        json!({
            "name": r.name,
            "level": r.level.as_str(),
            "code": r.code,
            "parent": r.parent,
            "dataset": r.dataset,
        }),
    )
}

/// A network edge as a GeoJSON feature.
pub fn edge(e: &NetEdge, sys: CoordSystem) -> Feature {
    feature(
        &e.source_id,
        &geo::Geometry::LineString(e.geometry.clone()),
        sys,
        json!({
            "from": e.from,
            "to": e.to,
            "length_m": (e.length_m * 100.0).round() / 100.0,
            "highway": e.highway,
            "name": e.name,
            "private": e.private,
            "dataset": e.dataset,
        }),
    )
}

/// A basemap feature as a GeoJSON feature.
pub fn basemap(f: &BasemapFeature, sys: CoordSystem) -> Feature {
    feature(&f.source_id, &f.geometry, sys, json!({ "kind": f.kind.as_str(), "class": f.class, "name": f.name }))
}

/// A FeatureCollection with the OpenStreetMap attribution as a foreign member.
pub fn collection(features: Vec<Feature>) -> FeatureCollection {
    let mut fm = JsonObject::new();
    fm.insert("attribution".into(), JsonValue::String(OSM_ATTRIBUTION.into()));
    FeatureCollection { bbox: None, features, foreign_members: Some(fm) }
}
