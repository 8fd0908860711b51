//! The tile pipeline on the Beijing and Helsinki samples: tiles are encoded, decoded again with
//! prost and a hand-written command decoder, and checked.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use std::collections::{BTreeMap, BTreeSet};
use wangge_core::Atlas;
use wangge_core::plan::{PlanGrid, PlanRecord, PlanStatus};
use wangge_tiles::tilemath::{MercBox, lonlat_to_merc};
use wangge_tiles::{Audience, CacheOptions, LayerName, TileError, TileId, TileService, TileSource, grids_from_plan};

/// Every tile at zoom `z` over the source's extent.
fn tiles_over(e: &MercBox, z: u8) -> Vec<TileId> {
    let (xs, ys) = TileId::range(e, z);
    xs.flat_map(|x| ys.clone().map(move |y| TileId { z, x, y })).collect()
}

/// A plan of 2 × 2 grids over the buildings' extent, households summed from the buildings.
fn quadrant_plan(a: &Atlas) -> PlanRecord {
    let e = a.extent().unwrap();
    let (cx, cy) = e.centre();
    let quads = [
        ("Q-SW", e.min_lon, e.min_lat, cx, cy),
        ("Q-SE", cx, e.min_lat, e.max_lon, cy),
        ("Q-NW", e.min_lon, cy, cx, e.max_lat),
        ("Q-NE", cx, cy, e.max_lon, e.max_lat),
    ];
    let grids = quads
        .iter()
        .map(|(id, x0, y0, x1, y1)| {
            let inside: Vec<_> = a
                .layers()
                .buildings
                .iter()
                .filter(|b| b.shape.point().is_some_and(|p| p.x() >= *x0 && p.x() < *x1 && p.y() >= *y0 && p.y() < *y1))
                .collect();
            PlanGrid {
                grid: id.to_string(),
                community: "c".into(),
                households: inside.iter().map(|b| u64::from(b.households.count)).sum(),
                buildings: inside.len() as u32,
                area: Some(geo::Rect::new((*x0, *y0), (*x1, *y1)).to_polygon()),
            }
        })
        .collect();
    PlanRecord {
        name: "quadrants".into(),
        status: PlanStatus::Active,
        version: 1,
        quota_min: 2000,
        quota_max: 5000,
        quota_target: 3500,
        metrics: serde_json::json!({}),
        assignments: vec![],
        grids,
        created_at: String::new(),
    }
}

fn source_of(a: &Atlas) -> TileSource {
    TileSource::from_atlas(a, &extras(a)).with_grids("quadrants", &grids_from_plan(&quadrant_plan(a)), true)
}

fn zoom_for(l: LayerName) -> u8 {
    l.spec().min_zoom.max(14)
}

#[test]
fn every_layer_decodes_with_extent_4096_and_coordinates_inside_the_buffer() {
    for (city, a) in [("beijing", beijing()), ("helsinki", helsinki())] {
        let s = source_of(a);
        let e = s.extent().unwrap();
        for layer in LayerName::ALL {
            let mut features = 0;
            for z in [zoom_for(layer), 16] {
                for t in tiles_over(&e, z) {
                    let bytes = s.encode(layer, None, t, Audience::Full).unwrap();
                    if bytes.is_empty() {
                        continue;
                    }
                    let ls = decode(&bytes);
                    assert_eq!(ls.len(), 1, "{city} {layer} {t}: one layer per tile");
                    let l = &ls[0];
                    assert_eq!((l.name.as_str(), l.version, l.extent), (layer.as_str(), 2, Some(4096)));
                    for f in &l.features {
                        features += 1;
                        for [x, y] in f.coords() {
                            assert!(
                                (-64..=4160).contains(&x) && (-64..=4160).contains(&y),
                                "{city} {layer} {t}: ({x}, {y}) outside extent + buffer"
                            );
                        }
                        assert!(f.id.is_some(), "{city} {layer}: features carry ids");
                    }
                }
            }
            // The samples have no district/street/community boundaries; everything else is there.
            let expect = !matches!(layer, LayerName::Communities | LayerName::Streets);
            assert_eq!(features > 0, expect, "{city} {layer}: {features} features");
        }
    }
}

#[test]
fn every_building_whose_point_lies_in_a_tile_is_in_that_tile() {
    for (city, a) in [("beijing", beijing()), ("helsinki", helsinki())] {
        let s = source_of(a);
        let e = s.extent().unwrap();
        for z in [14u8, 15, 16, 18] {
            let mut ids: BTreeMap<TileId, BTreeSet<String>> = BTreeMap::new();
            let tiles: BTreeSet<TileId> = if z <= 16 {
                tiles_over(&e, z).into_iter().collect()
            } else {
                a.layers()
                    .buildings
                    .iter()
                    .step_by(7)
                    .filter_map(|b| b.shape.point())
                    .map(|p| TileId::containing(p.x(), p.y(), z))
                    .collect()
            };
            for t in tiles {
                let bytes = s.encode(LayerName::Buildings, None, t, Audience::Public).unwrap();
                let set = decode(&bytes)
                    .into_iter()
                    .flat_map(|l| l.features)
                    .map(|f| f.str("id").unwrap().to_string())
                    .collect();
                ids.insert(t, set);
            }
            let mut checked = 0;
            for b in &a.layers().buildings {
                let p = b.shape.point().unwrap();
                let t = TileId::containing(p.x(), p.y(), z);
                let Some(set) = ids.get(&t) else { continue };
                assert!(set.contains(&b.source_id), "{city} z{z}: {} missing from {t}", b.source_id);
                checked += 1;
            }
            assert!(checked >= a.layers().buildings.len() / 7, "{city} z{z}: {checked} checked");
        }
        // Below the layer's minimum zoom the tile is empty.
        let t = TileId::containing(e.to_lonlat()[0], e.to_lonlat()[1], 13);
        assert!(s.encode(LayerName::Buildings, None, t, Audience::Full).unwrap().is_empty());
    }
}

#[test]
fn public_tiles_carry_no_household_numbers_in_any_layer() {
    for (city, a) in [("beijing", beijing()), ("helsinki", helsinki())] {
        let s = source_of(a);
        let e = s.extent().unwrap();
        let mut full_keys: BTreeMap<LayerName, BTreeSet<String>> = BTreeMap::new();
        let mut public_keys: BTreeMap<LayerName, BTreeSet<String>> = BTreeMap::new();
        for layer in LayerName::ALL {
            for z in [8u8, 12, 14, 16] {
                for t in tiles_over(&e, z) {
                    for audience in [Audience::Public, Audience::Full] {
                        for l in decode(&s.encode(layer, None, t, audience).unwrap()) {
                            if audience == Audience::Public {
                                for k in &l.keys {
                                    let k = k.to_lowercase();
                                    assert!(
                                        !k.contains("household")
                                            && !k.split('_').any(|w| ["unit", "units", "covered", "gap"].contains(&w)),
                                        "{city} {layer} {t}: public tile has key `{k}`"
                                    );
                                }
                                public_keys.entry(layer).or_default().extend(l.keys.iter().cloned());
                            } else {
                                full_keys.entry(layer).or_default().extend(l.keys.iter().cloned());
                            }
                        }
                    }
                }
            }
        }
        // Signed-in tiles do carry them (so the test above can fail).
        for layer in [LayerName::Buildings, LayerName::Grids, LayerName::Compounds, LayerName::Heat, LayerName::Cells] {
            assert!(full_keys[&layer].contains("households"), "{city} {layer}: {:?}", full_keys[&layer]);
        }
        assert!(full_keys[&LayerName::Buildings].contains("households_source"));
        // ...and public tiles keep everything else (the samples have no communities).
        for k in ["id", "kind", "compound", "grid", "completeness", "residential"] {
            assert!(public_keys[&LayerName::Buildings].contains(k), "{city}: public buildings lack `{k}`");
        }
        assert!(public_keys[&LayerName::Heat].contains("value"));
    }
}

#[test]
fn polygons_are_oriented_exterior_clockwise_and_never_degenerate() {
    for (city, a) in [("beijing", beijing()), ("helsinki", helsinki())] {
        let s = source_of(a);
        let e = s.extent().unwrap();
        let mut rings = 0;
        let mut holes = 0;
        for layer in
            [LayerName::Buildings, LayerName::Basemap, LayerName::Compounds, LayerName::Grids, LayerName::Cells]
        {
            for z in [zoom_for(layer).min(14), 15, 16] {
                for t in tiles_over(&e, z) {
                    for l in decode(&s.encode(layer, None, t, Audience::Full).unwrap()) {
                        for f in l.features {
                            let rs = match &f.geom {
                                G::Rings(rs) => rs,
                                // Buildings mapped as nodes stay points.
                                G::Points(_) if layer == LayerName::Buildings => continue,
                                // The basemap mixes areas and lines.
                                G::Lines(_) if layer == LayerName::Basemap => continue,
                                g => panic!("{city} {layer}: polygon layer with {g:?}"),
                            };
                            assert!(
                                area2(&rs[0]) > 0,
                                "{city} {layer} {t}: first ring must be exterior (positive area)"
                            );
                            for r in rs {
                                let distinct: BTreeSet<_> = r.iter().collect();
                                assert!(distinct.len() >= 3, "{city} {layer} {t}: ring with {} points", distinct.len());
                                assert_ne!(area2(r), 0, "{city} {layer} {t}: zero-area ring");
                                rings += 1;
                                holes += usize::from(area2(r) < 0);
                            }
                            // geozero's own reader accepts the feature too.
                        }
                    }
                }
            }
        }
        assert!(rings > 100, "{city}: {rings} rings checked");
        let _ = holes;
    }
}

#[test]
fn geozero_reads_our_polygons_back_into_valid_geo_polygons() {
    use geozero::ToGeo;
    use geozero::mvt::{Message, Tile};
    let a = helsinki();
    let s = source_of(a);
    let e = s.extent().unwrap();
    let mut n = 0;
    for t in tiles_over(&e, 15) {
        let bytes = s.encode(LayerName::Buildings, None, t, Audience::Full).unwrap();
        for l in Tile::decode(&bytes[..]).unwrap().layers {
            for f in &l.features {
                let g = f.to_geo().unwrap();
                match g {
                    geo::Geometry::Polygon(_) | geo::Geometry::MultiPolygon(_) => n += 1,
                    geo::Geometry::Point(_) => {}
                    g => panic!("{g:?}"),
                }
            }
        }
    }
    let footprints =
        a.layers().buildings.iter().filter(|b| matches!(b.shape, wangge_core::Shape::Footprint(_))).count();
    assert!(n >= footprints, "{n} polygons for {footprints} footprints");
}

#[test]
fn out_of_range_tiles_and_unknown_layers_are_errors() {
    let svc = TileService::new(source_of(beijing()), CacheOptions::default());
    assert!(matches!(TileId::new(23, 0, 0), Err(TileError::ZoomOutOfRange { z: 23, max: 22 })));
    assert!(matches!(TileId::new(14, 1 << 14, 0), Err(TileError::TileOutOfRange { .. })));
    assert!(matches!(TileId::parse("14", "3", "16384.mvt"), Err(TileError::TileOutOfRange { .. })));
    assert!(matches!(TileId::parse("a", "3", "1.mvt"), Err(TileError::BadCoordinate { what: "z", .. })));
    let t = TileId::new(14, 13484, 6203).unwrap();
    let err = svc.tile("roads", None, t, Audience::Public).unwrap_err();
    assert!(err.is_not_found() && err.to_string().contains("buildings"), "{err}");
    assert!(matches!(svc.tile("grids", Some("nope"), t, Audience::Public), Err(TileError::UnknownVariant { .. })));
    assert!(matches!(svc.tile("heat", Some("nope"), t, Audience::Public), Err(TileError::UnknownVariant { .. })));
    assert!(matches!(svc.tile("buildings", Some("x"), t, Audience::Public), Err(TileError::UnknownVariant { .. })));
    let no_plan = TileService::new(TileSource::from_atlas(beijing(), &Default::default()), CacheOptions::default());
    assert_eq!(no_plan.tile("grids", None, t, Audience::Public).unwrap_err(), TileError::NoActivePlan);
}

#[test]
fn invalidating_a_box_reencodes_only_the_tiles_it_touches() {
    let a = helsinki();
    let svc = TileService::new(source_of(a), CacheOptions::default());
    let e = svc.source().extent().unwrap();
    let tiles: Vec<TileId> = [15u8, 16].iter().flat_map(|z| tiles_over(&e, *z)).collect();
    let fetch = |svc: &TileService| -> BTreeMap<TileId, String> {
        tiles.iter().map(|t| (*t, svc.tile("buildings", None, *t, Audience::Full).unwrap().etag.to_string())).collect()
    };
    let first = fetch(&svc);
    let s1 = svc.stats();
    assert_eq!((s1.misses, s1.hits), (tiles.len() as u64, 0));
    let again = fetch(&svc);
    assert_eq!(first, again, "ETags are stable while nothing changes");
    assert_eq!(svc.stats().misses, s1.misses, "the second pass is served from the cache");

    // A box around one building (in the middle of a z16 tile) touches one tile per zoom here.
    let b = &a.layers().buildings[a.layers().buildings.len() / 2];
    let bb = wangge_core::geometry::Bbox::of(&b.shape.to_geometry()).unwrap();
    let mb = MercBox::from_bbox(&bb);
    let touched: Vec<&TileId> = tiles.iter().filter(|t| t.buffered_bounds().intersects(&mb)).collect();
    assert!(!touched.is_empty() && touched.len() < tiles.len() / 3, "{} of {}", touched.len(), tiles.len());
    let dropped = svc.invalidate_lonlat(LayerName::Buildings, None, &bb);
    assert_eq!(dropped, touched.len());
    let before = svc.stats();
    let third = fetch(&svc);
    let after = svc.stats();
    assert_eq!(after.misses - before.misses, touched.len() as u64, "only touched tiles are re-encoded");
    assert_eq!(after.hits - before.hits, (tiles.len() - touched.len()) as u64);
    assert_eq!(first, third, "re-encoding unchanged data gives the same ETags");
    // Other layers are untouched by an invalidation of buildings.
    let t = touched[0];
    svc.tile("network", None, *t, Audience::Public).unwrap();
    let m = svc.stats().misses;
    svc.invalidate(LayerName::Buildings, None, &t.bounds());
    svc.tile("network", None, *t, Audience::Public).unwrap();
    assert_eq!(svc.stats().misses, m);
}

#[test]
fn an_edit_changes_the_etags_of_the_tiles_it_touches_and_no_others() {
    let a = helsinki();
    let svc = TileService::new(source_of(a), CacheOptions::default());
    let e = svc.source().extent().unwrap();
    let tiles = tiles_over(&e, 16);
    let get = |aud| -> BTreeMap<TileId, String> {
        tiles.iter().map(|t| (*t, svc.tile("buildings", None, *t, aud).unwrap().etag.to_string())).collect()
    };
    let (full0, public0) = (get(Audience::Full), get(Audience::Public));

    // Edit: one residential building's households change (as after a register import).
    let mut layers = a.layers().clone();
    let i = layers.buildings.iter().position(|b| b.households.count > 0).unwrap();
    layers.buildings[i].households.count += 5;
    let edited = Atlas::new(layers);
    let bb = MercBox::from_bbox(
        &wangge_core::geometry::Bbox::of(&edited.layers().buildings[i].shape.to_geometry()).unwrap(),
    );
    let touched: BTreeSet<TileId> = tiles.iter().filter(|t| t.buffered_bounds().intersects(&bb)).copied().collect();
    let dropped = svc.replace_layer(wangge_tiles::source::buildings_layer(&edited, &extras(&edited))).unwrap();
    assert_eq!(dropped, 2 * touched.len(), "public and signed-in tiles of the touched area");
    let (full1, public1) = (get(Audience::Full), get(Audience::Public));
    for t in &tiles {
        if touched.contains(t) {
            assert_ne!(full0[t], full1[t], "{t}: signed-in tile shows the new households");
        } else {
            assert_eq!(full0[t], full1[t], "{t}: untouched");
        }
        assert_eq!(public0[t], public1[t], "{t}: public tiles carry no households, so they are the same bytes");
    }
    // The heat layer follows the same rule.
    let before = svc.stats().invalidated;
    let n = svc.replace_heat(wangge_tiles::source::heat_layer(&edited, &extras(&edited)));
    assert_eq!(svc.stats().invalidated - before, n as u64);

    // A public attribute changes (the completeness score after new facilities): `refresh` rebuilds
    // every layer from the atlas, keeps the plan's grids, and re-encodes only the touched tiles.
    let mut ex = extras(&edited);
    let id = &edited.layers().buildings[i].source_id;
    ex.get_mut(id).unwrap().completeness = Some(0.123);
    let public1 = get(Audience::Public);
    let misses = svc.stats().misses;
    assert!(svc.refresh(&edited, &ex) >= touched.len());
    let public2 = get(Audience::Public);
    assert_eq!(svc.stats().misses - misses, touched.len() as u64, "only the touched public tiles are re-encoded");
    for t in &tiles {
        assert_eq!(public1[t] != public2[t], touched.contains(t), "{t}");
    }
    assert!(svc.tile("grids", None, tiles[0], Audience::Public).is_ok(), "the plan survives a refresh");
}

#[test]
fn low_zoom_tiles_simplify_lines_but_keep_every_feature() {
    for (city, a) in [("beijing", beijing()), ("helsinki", helsinki())] {
        let s = source_of(a);
        let base = s.feature_layer(LayerName::Basemap, None).unwrap().clone();
        let e = s.extent().unwrap().expand(2000.0);
        let mut last_ratio = 0.0;
        for z in [10u8, 12, 14] {
            let (mut src_vertices, mut tile_vertices, mut kept, mut expected) = (0usize, 0usize, 0usize, 0usize);
            for t in tiles_over(&e, z) {
                let inner = t.bounds();
                let decoded: BTreeMap<String, usize> =
                    decode(&s.encode(LayerName::Basemap, None, t, Audience::Public).unwrap())
                        .into_iter()
                        .flat_map(|l| l.features)
                        .map(|f| (f.str("id").unwrap().to_string(), f.coords().len()))
                        .collect();
                for f in base.features() {
                    let wangge_tiles::Geom::Lines(m) = &f.geom else { continue };
                    if f.min_zoom > z || !inner.contains_box(&f.bbox) {
                        continue;
                    }
                    // Lines under two pixels long may collapse below full zoom (thinning, not simplification).
                    let px_len: f64 = {
                        use geo::{Euclidean, Length};
                        m.0.iter().map(|l| Euclidean.length(l)).sum::<f64>() / wangge_tiles::tilemath::pixel_size_m(z)
                    };
                    if px_len < 2.0 {
                        continue;
                    }
                    expected += 1;
                    src_vertices += f.geom.vertex_count();
                    if let Some(n) = decoded.get(&f.key) {
                        kept += 1;
                        tile_vertices += n;
                    }
                }
            }
            assert!(expected > 10, "{city} z{z}: {expected}");
            assert_eq!(kept, expected, "{city} z{z}: no line is dropped by simplification");
            let ratio = tile_vertices as f64 / src_vertices as f64;
            assert!(ratio >= last_ratio, "{city}: fewer vertices at lower zoom ({ratio} at z{z} vs {last_ratio})");
            if z == 10 {
                assert!(ratio < 0.7, "{city} z10: {tile_vertices} of {src_vertices} vertices");
            }
            last_ratio = ratio;
        }
    }
}

#[test]
fn grids_of_a_plan_carry_quota_status_and_private_households() {
    let a = beijing();
    let plan = quadrant_plan(a);
    let svc = TileService::new(source_of(a), CacheOptions::default());
    let e = svc.source().extent().unwrap();
    let t = tiles_over(&e, 12)[0];
    let full = decode(&svc.tile("grids", None, t, Audience::Full).unwrap().bytes);
    let public = decode(&svc.tile("grids", Some("quadrants"), t, Audience::Public).unwrap().bytes);
    let by_id: BTreeMap<&str, &F> = full[0].features.iter().map(|f| (f.str("id").unwrap(), f)).collect();
    assert_eq!(by_id.len(), 4);
    for g in &plan.grids {
        let f = by_id[g.grid.as_str()];
        assert_eq!(f.num("households"), Some(g.households as f64));
        let status = if g.households < 2000 {
            "under"
        } else if g.households > 5000 {
            "over"
        } else {
            "within"
        };
        assert_eq!(f.str("quota_status"), Some(status));
        let c = f.num("compactness").unwrap();
        assert!((0.7..=0.8).contains(&c), "a rectangle's Polsby-Popper is about π/4: {c}");
    }
    assert!(public[0].features.iter().all(|f| f.num("households").is_none() && f.str("quota_status").is_some()));
    // Editing one grid drops only the tiles it touches; a second plan is served by name.
    let mut grids = grids_from_plan(&plan);
    grids[0].attrs.retain(|x| x.key != "quota_status");
    grids[0].attrs.push(wangge_tiles::Attr::public("quota_status", "over"));
    let before = svc.stats().misses;
    svc.tile("grids", None, t, Audience::Full).unwrap();
    assert_eq!(svc.stats().misses, before, "cached");
    assert!(svc.set_grids("quadrants", &grids, true) >= 1);
    svc.tile("grids", None, t, Audience::Full).unwrap();
    assert_eq!(svc.stats().misses, before + 1, "re-encoded after the edit");
    svc.set_grids("other", &grids[..1], false);
    let other = decode(&svc.tile("grids", Some("other"), t, Audience::Full).unwrap().bytes);
    assert_eq!(other[0].features.len(), 1);
    svc.set_active_plan("other").unwrap();
    assert_eq!(decode(&svc.tile("grids", None, t, Audience::Full).unwrap().bytes)[0].features.len(), 1);
}

#[test]
fn heat_points_and_cells_add_up_to_the_households_of_the_city() {
    for (city, a) in [("beijing", beijing()), ("helsinki", helsinki())] {
        let s = source_of(a);
        let e = s.extent().unwrap();
        let total: f64 =
            a.layers().buildings.iter().filter(|b| b.households.count > 0).map(|b| f64::from(b.households.count)).sum();
        let covered: f64 = a
            .layers()
            .buildings
            .iter()
            .enumerate()
            .filter(|(_, b)| b.households.count > 0)
            .map(|(i, b)| f64::from(b.households.count) * ((i % 11) as f64 / 10.0))
            .sum();
        for z in [10u8, 13, 15, 16] {
            // Count each feature once: points inside the tile proper (not its buffer).
            let mut h = 0.0;
            let mut w = 0.0;
            for t in tiles_over(&e, z) {
                for l in decode(&s.encode(LayerName::Heat, None, t, Audience::Full).unwrap()) {
                    for f in l.features {
                        let [[x, y]] = f.coords()[..] else { panic!("one point") };
                        if (0..4096).contains(&x) && (0..4096).contains(&y) {
                            h += f.num("households").unwrap();
                            w += f.num("value").unwrap() * f.num("households").unwrap();
                            assert!((0.0..=1.0).contains(&f.num("value").unwrap()));
                        }
                    }
                }
            }
            assert_eq!(h, total, "{city} z{z}: heat households");
            assert!((w - covered).abs() < 0.002 * total, "{city} z{z}: covered {w} vs {covered}");
        }
        // One zoom-8 tile holds the whole sample: its cells add up to the total.
        let t = TileId::containing_merc((e.min_x + e.max_x) / 2.0, (e.min_y + e.max_y) / 2.0, 8);
        let cells = decode(&s.encode(LayerName::Cells, None, t, Audience::Full).unwrap());
        let sum: f64 = cells[0].features.iter().map(|f| f.num("households").unwrap()).sum();
        assert_eq!(sum, total, "{city}: z8 cells");
        assert!(cells[0].features.iter().all(|f| f.num("cell_m") == Some(3200.0)));
        // 100 m cells at z14 and the kindergarten metric: values are 0/1 shares.
        let t14 = tiles_over(&e, 14)[0];
        let k = decode(&s.encode(LayerName::Cells, Some("kindergarten"), t14, Audience::Public).unwrap());
        assert!(k[0].features.iter().all(|f| f.num("cell_m") == Some(100.0) && f.num("households").is_none()));
        assert!(k[0].features.iter().any(|f| f.num("value").unwrap() > 0.0 && f.num("value").unwrap() < 1.0));
    }
}

#[test]
fn facilities_are_thinned_at_low_zoom_and_complete_at_full_zoom() {
    let a = helsinki();
    let s = source_of(a);
    let e = s.extent().unwrap();
    let count = |z| -> usize {
        tiles_over(&e, z)
            .into_iter()
            .flat_map(|t| decode(&s.encode(LayerName::Facilities, None, t, Audience::Public).unwrap()))
            .flat_map(|l| l.features)
            .filter(|f| {
                let [[x, y]] = f.coords()[..] else { return false };
                (0..4096).contains(&x) && (0..4096).contains(&y)
            })
            .count()
    };
    let inside = a
        .layers()
        .facilities
        .iter()
        .filter(|f| {
            let (x, y) = lonlat_to_merc(f.location.x(), f.location.y());
            e.contains(x, y)
        })
        .count();
    assert_eq!(count(15), inside);
    let z12 = count(12);
    assert!(z12 < inside && z12 > 0, "z12 keeps {z12} of {inside}");
    // Thinning is the same whichever tile is asked: a facility kept in a neighbour's buffer is kept
    // in its own tile too.
    let mut crossing = 0;
    for z in [12u8, 13, 14] {
        let kept: BTreeMap<TileId, BTreeSet<String>> = tiles_over(&e.expand(500.0), z)
            .into_iter()
            .map(|t| {
                let ids = decode(&s.encode(LayerName::Facilities, None, t, Audience::Public).unwrap())
                    .into_iter()
                    .flat_map(|l| l.features)
                    .map(|f| f.str("id").unwrap().to_string())
                    .collect();
                (t, ids)
            })
            .collect();
        for (t, ids) in &kept {
            for id in ids {
                let f = a.layers().facilities.iter().find(|f| &f.source_id == id).unwrap();
                let home = TileId::containing(f.location.x(), f.location.y(), z);
                if home != *t {
                    crossing += 1;
                    if let Some(h) = kept.get(&home) {
                        assert!(h.contains(id), "z{z}: {id} kept in {t}'s buffer but not in {home}");
                    }
                }
            }
        }
    }
    assert!(crossing > 0, "some kept facilities lie in a neighbour's buffer");
}

#[test]
fn tilejson_and_style_describe_every_layer() {
    let a = helsinki();
    let svc = TileService::new(source_of(a), CacheOptions::default());
    let pubdoc = svc.tilejson("buildings", None, Audience::Public, "https://w.example/").unwrap();
    let fulldoc = svc.tilejson("buildings", None, Audience::Full, "").unwrap();
    assert_eq!(pubdoc["tilejson"], "3.0.0");
    assert_eq!(pubdoc["tiles"][0], "https://w.example/tiles/buildings/{z}/{x}/{y}.mvt");
    assert_eq!(fulldoc["tiles"][0], "/tiles/buildings/{z}/{x}/{y}.mvt");
    assert_eq!(pubdoc["minzoom"], 14);
    let fields = &pubdoc["vector_layers"][0]["fields"];
    assert!(fields.get("households").is_none() && fields.get("completeness").is_some());
    assert_eq!(fulldoc["vector_layers"][0]["fields"]["households"], "Number");
    let b = &pubdoc["bounds"];
    let ext = a.extent().unwrap();
    assert!(b[0].as_f64().unwrap() <= ext.min_lon + 1e-6 && b[2].as_f64().unwrap() >= ext.max_lon - 1e-6);
    assert!(pubdoc["attribution"].as_str().unwrap().contains("OpenStreetMap"));
    let g = svc.tilejson("grids", Some("quadrants"), Audience::Public, "").unwrap();
    assert_eq!(g["tiles"][0], "/tiles/grids/{z}/{x}/{y}.mvt?plan=quadrants");
    let h = svc.tilejson("heat", Some("kindergarten"), Audience::Public, "").unwrap();
    assert_eq!(h["tiles"][0], "/tiles/heat/{z}/{x}/{y}.mvt?metric=kindergarten");
    assert!(h["vector_layers"][0]["fields"].get("households").is_none());

    let style = svc.style("");
    assert_eq!(style["version"], 8);
    let sources = style["sources"].as_object().unwrap();
    for l in LayerName::ALL {
        let src = &sources[l.as_str()];
        assert_eq!(src["url"], format!("/tiles/{l}.json"));
        assert_eq!(src["attribution"], "© OpenStreetMap contributors");
    }
    let mut drawn = BTreeSet::new();
    for layer in style["layers"].as_array().unwrap() {
        if let Some(src) = layer.get("source").and_then(|s| s.as_str()) {
            assert!(sources.contains_key(src), "{src}");
            assert_eq!(layer["source-layer"], src);
            drawn.insert(src.to_string());
        }
    }
    assert_eq!(drawn.len(), LayerName::ALL.len(), "every tile layer is drawn: {drawn:?}");
}
