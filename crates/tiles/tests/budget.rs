//! Zoomed-out tiles stay under the byte budget: a layer whose plain encoding would be far larger
//! is encoded again, coarser, until it fits; at full zoom nothing is dropped.
#![allow(missing_docs, clippy::unwrap_used)]

mod common;

use common::{G, decode};
use geo::{LineString, MultiPolygon, Polygon};
use wangge_tiles::tilemath::lonlat_to_merc;
use wangge_tiles::{Attr, Audience, Feature, FeatureLayer, Geom, LayerName, TileId, TileSource};

/// `n` × `n` spiky polygons of 160 vertices each (waves a sixteenth of the radius deep), packed into a square of `side_deg` degrees
/// around Beijing: far more detail than a zoomed-out tile can carry.
fn detailed_areas(n: usize, side_deg: f64) -> Vec<Feature> {
    let (lon0, lat0) = (116.3, 39.9);
    let cell = side_deg / n as f64;
    let mut out = Vec::new();
    for i in 0..n {
        for j in 0..n {
            let (cx, cy) = (lon0 + (i as f64 + 0.5) * cell, lat0 + (j as f64 + 0.5) * cell);
            let ring: Vec<(f64, f64)> = (0..=160)
                .map(|k| {
                    let a = k as f64 / 160.0 * std::f64::consts::TAU;
                    let r = 0.4 * cell * (1.0 + 0.06 * (40.0 * a).sin());
                    let (x, y) = lonlat_to_merc(cx + r * a.cos(), cy + r * a.sin());
                    (x, y)
                })
                .collect();
            let poly = Polygon::new(LineString::from(ring), vec![]);
            let f = Feature::new(
                format!("c{i:03}-{j:03}"),
                Geom::Areas(MultiPolygon(vec![poly])),
                vec![Attr::public("name", format!("community {i}-{j}"))],
            );
            out.push(f.unwrap());
        }
    }
    out
}

#[test]
fn zoomed_out_tiles_are_coarsened_under_the_budget_and_full_zoom_keeps_everything() {
    let feats = detailed_areas(60, 0.3);
    let source = TileSource::default().with_layer(FeatureLayer::new(LayerName::Communities, feats));
    let spec = LayerName::Communities.spec();
    let (x, y) = lonlat_to_merc(116.45, 40.05);
    let z10 = TileId::containing_merc(x, y, 10);
    assert!(z10.z < spec.full_zoom);
    let bytes = source.encode(LayerName::Communities, None, z10, Audience::Public).unwrap();
    assert!(bytes.len() <= wangge_tiles::source::TILE_BUDGET_BYTES, "{} bytes", bytes.len());
    let layers = decode(&bytes);
    let kept = layers[0].features.len();
    // Coarsened, not emptied: the communities inside the tile (each some 40 pixels wide here)
    // are all still drawn.
    let inside = source
        .feature_layer(LayerName::Communities, None)
        .unwrap()
        .features()
        .iter()
        .filter(|f| z10.bounds().contains_box(&f.bbox))
        .count();
    assert!(inside > 500);
    assert!(kept >= inside, "{kept} kept, {inside} inside the tile");
    // Simplified: the waves (under 2 pixels deep) are gone, far fewer than 160 vertices each.
    let drawn_vertices: usize = layers[0].features.iter().map(|f| f.coords().len()).sum();
    assert!(drawn_vertices < kept * 60, "{drawn_vertices} vertices drawn for {kept} outlines");

    // From full zoom on: every community of the tile, whatever the size.
    let z = spec.full_zoom;
    let t = TileId::containing_merc(x, y, z);
    let full = decode(&source.encode(LayerName::Communities, None, t, Audience::Public).unwrap());
    let in_tile = full.first().map_or(0, |l| l.features.len());
    assert!(in_tile > 0);
}

#[test]
fn a_zoomed_out_street_grid_of_short_ways_is_merged_by_class_under_the_budget() {
    // 150 × 150 blocks of 100-metre ways, each its own feature (as OpenStreetMap ways split at
    // every junction are): far over the budget at zoom 10 as separate features.
    let (cx, cy) = lonlat_to_merc(116.3, 39.9);
    let t = TileId::containing_merc(cx, cy, 10);
    let (x0, y0) = (t.bounds().min_x + 1000.0, t.bounds().min_y + 1000.0);
    let mut feats = Vec::new();
    for i in 0..150 {
        for j in 0..150 {
            let (x, y) = (x0 + 130.0 * f64::from(i), y0 + 130.0 * f64::from(j));
            for (k, (dx, dy)) in [(130.0, 0.0), (0.0, 130.0)].into_iter().enumerate() {
                let line = LineString::from(vec![(x, y), (x + dx, y + dy)]);
                let class = if i % 10 == 0 { "primary" } else { "secondary" };
                let f = Feature::new(
                    format!("way/{i}-{j}-{k}"),
                    Geom::Lines(geo::MultiLineString(vec![line])),
                    vec![Attr::public("kind", "road"), Attr::public("class", class)],
                );
                feats.push(f.unwrap());
            }
        }
    }
    let ways = feats.len();
    let source = TileSource::default().with_layer(FeatureLayer::new(LayerName::Basemap, feats));
    assert!(
        t.bounds().contains(x0, y0) && t.bounds().contains(x0 + 150.0 * 130.0, y0 + 150.0 * 130.0),
        "the grid is in one tile"
    );
    let bytes = source.encode(LayerName::Basemap, None, t, Audience::Public).unwrap();
    assert!(bytes.len() <= wangge_tiles::source::TILE_BUDGET_BYTES, "{} bytes", bytes.len());
    let layer = &decode(&bytes)[0];
    // One feature per class, every way still drawn as a part of it.
    let classes: std::collections::BTreeSet<&str> = layer.features.iter().filter_map(|f| f.str("class")).collect();
    assert_eq!(classes, ["primary", "secondary"].into_iter().collect());
    assert!(layer.features.len() < 10, "{} features", layer.features.len());
    let parts: usize = layer.features.iter().map(|f| if let G::Lines(l) = &f.geom { l.len() } else { 0 }).sum();
    assert!(parts * 10 >= ways * 9, "{parts} lines drawn of {ways} ways");
}

#[test]
fn a_thousand_large_simple_areas_over_the_budget_keep_the_largest_that_fit() {
    // 34 × 34 squares, 700 to 980 metres wide (70 to 100 pixels at zoom 10: larger than any
    // coarser step drops), each with a long name: only leaving some out brings the tile under
    // the budget.
    let (cx, cy) = lonlat_to_merc(116.3, 39.9);
    let t = TileId::containing_merc(cx, cy, 10);
    let (x0, y0) = (t.bounds().min_x + 1000.0, t.bounds().min_y + 1000.0);
    let mut feats = Vec::new();
    let mut side = std::collections::HashMap::new();
    for i in 0..34 {
        for j in 0..34 {
            let w = 700.0 + 10.0 * f64::from((i * 7 + j * 13) % 29);
            let (x, y) = (x0 + 1100.0 * f64::from(i), y0 + 1100.0 * f64::from(j));
            let sq = geo::Rect::new((x, y), (x + w, y + w)).to_polygon();
            let key = format!("c{i:02}{j:02}");
            side.insert(key.clone(), w);
            let name = format!("{key} {}", "社区".repeat(150));
            feats.push(
                Feature::new(key, Geom::Areas(MultiPolygon(vec![sq])), vec![Attr::public("name", name)]).unwrap(),
            );
        }
    }
    let source = TileSource::default().with_layer(FeatureLayer::new(LayerName::Communities, feats));
    let bytes = source.encode(LayerName::Communities, None, t, Audience::Public).unwrap();
    assert!(bytes.len() <= wangge_tiles::source::TILE_BUDGET_BYTES, "{} bytes", bytes.len());
    let kept: std::collections::HashSet<String> =
        decode(&bytes)[0].features.iter().map(|f| f.str("id").unwrap().to_string()).collect();
    // About half the bytes fit: well over a third of the squares stay.
    assert!(kept.len() * 3 > side.len(), "{} of {} kept", kept.len(), side.len());
    assert!(kept.len() < side.len());
    let smallest_kept = kept.iter().map(|k| side[k]).fold(f64::INFINITY, f64::min);
    let largest_dropped = side.iter().filter(|(k, _)| !kept.contains(*k)).map(|(_, w)| *w).fold(0.0, f64::max);
    assert!(smallest_kept >= largest_dropped, "kept {smallest_kept} m, dropped {largest_dropped} m");
}
