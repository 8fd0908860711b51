//! Zoomed-out tiles stay under the byte budget: a layer whose plain encoding would be far larger
//! is encoded again, coarser, until it fits; at full zoom nothing is dropped.
#![allow(missing_docs, clippy::unwrap_used)]

mod common;

use common::decode;
use geo::{LineString, MultiPolygon, Polygon};
use wangge_tiles::tilemath::lonlat_to_merc;
use wangge_tiles::{Attr, Audience, Feature, FeatureLayer, Geom, LayerName, TileId, TileSource};

/// `n` × `n` spiky polygons of 160 vertices each (spikes a quarter of the radius deep), packed into a square of `side_deg` degrees
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
                    let r = 0.4 * cell * (1.0 + 0.25 * (40.0 * a).sin());
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
    // Simplified: the spikes (some 5 pixels deep) are gone, far fewer than 160 vertices each.
    let drawn_vertices: usize = layers[0].features.iter().map(|f| f.coords().len()).sum();
    assert!(drawn_vertices < kept * 60, "{drawn_vertices} vertices drawn for {kept} outlines");

    // From full zoom on: every community of the tile, whatever the size.
    let z = spec.full_zoom;
    let t = TileId::containing_merc(x, y, z);
    let full = decode(&source.encode(LayerName::Communities, None, t, Audience::Public).unwrap());
    let in_tile = full.first().map_or(0, |l| l.features.len());
    assert!(in_tile > 0);
}
