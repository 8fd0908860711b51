//! The two sample extracts, checked against an independent scan written here (quick-xml for the
//! Beijing XML, osmpbf for the Helsinki PBF) and against the counts in `shared/data/README.md`,
//! which were made with osmium / pyosmium.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use wangge_core::Layers;
use wangge_core::tags::{Walkability, walkability};
use wangge_io::{ReadOptions, read};
use wangge_testkit::osmscan::{Scan, ScanWay, scan_pbf, scan_xml};

fn sample(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../geodata").join(rel)
}

fn load(rel: &str, dataset: &str) -> (Layers, Vec<String>) {
    let imp = read(&sample(rel), &ReadOptions { dataset: Some(dataset.into()), ..ReadOptions::default() })
        .expect("sample reads");
    (imp.layers, imp.notes)
}

fn ids<T>(rows: &[T], id: impl Fn(&T) -> &str, prefix: &str) -> BTreeSet<String> {
    rows.iter().map(|r| id(r).to_string()).filter(|s| s.starts_with(prefix)).collect()
}

fn check_network(l: &Layers, s: &Scan) {
    let (want_m, ways_with_edges) = s.walkable_length_m();
    let got_m: f64 = l.edges.iter().map(|e| e.length_m).sum();
    assert!((got_m - want_m).abs() <= 1e-6 * want_m, "network {got_m} m, independent sum {want_m} m");
    assert!(l.edges.iter().all(|e| !e.highway.starts_with("motorway")));
    let nodes: HashSet<&str> = l.nodes.iter().map(|n| n.source_id.as_str()).collect();
    assert_eq!(nodes.len(), l.nodes.len(), "node ids are unique");
    let ends: HashSet<&str> = l.edges.iter().flat_map(|e| [e.from.as_str(), e.to.as_str()]).collect();
    assert_eq!(nodes, ends, "every endpoint is a node and every node an endpoint");
    let edge_ids: HashSet<&str> = l.edges.iter().map(|e| e.source_id.as_str()).collect();
    assert_eq!(edge_ids.len(), l.edges.len(), "edge ids are unique");
    let edge_ways: BTreeSet<i64> = l
        .edges
        .iter()
        .map(|e| {
            e.source_id
                .trim_start_matches("osm:w")
                .split(':')
                .next()
                .and_then(|w| w.parse().ok())
                .expect("osm:w<id>:<k>")
        })
        .collect();
    assert_eq!(edge_ways, ways_with_edges, "exactly the walkable ways with a present segment give edges");
    for e in &l.edges {
        let first = e.geometry.0.first().expect("geometry");
        let n = l.nodes.iter().find(|n| n.source_id == e.from).expect("from node");
        assert_eq!((first.x, first.y), (n.location.x(), n.location.y()), "{} starts at its from node", e.source_id);
    }
}

fn unique_ids(l: &Layers) {
    fn uniq<'a>(it: impl Iterator<Item = &'a str>, what: &str) {
        let v: Vec<&str> = it.collect();
        let s: HashSet<&&str> = v.iter().collect();
        assert_eq!(s.len(), v.len(), "{what} ids are unique");
    }
    uniq(l.buildings.iter().map(|b| b.source_id.as_str()), "building");
    uniq(l.compounds.iter().map(|b| b.source_id.as_str()), "compound");
    uniq(l.regions.iter().map(|b| b.source_id.as_str()), "region");
    uniq(l.facilities.iter().map(|b| b.source_id.as_str()), "facility");
    uniq(l.basemap.iter().map(|b| b.source_id.as_str()), "basemap");
}

fn is_building(t: &HashMap<String, String>) -> bool {
    t.get("building").is_some_and(|v| v != "no")
}

#[test]
fn osm_beijing_xml_and_pbf_give_identical_layers() {
    let (mut x, xn) = load("beijing/haidian-liudaokou.osm", "beijing");
    let (mut p, pn) = load("beijing/haidian-liudaokou.osm.pbf", "beijing");
    x.sort();
    p.sort();
    assert!(!x.buildings.is_empty() && !x.edges.is_empty());
    assert_eq!(x, p);
    assert_eq!(xn, pn, "the same notes too");
}

#[test]
fn osm_beijing_counts_match_an_independent_scan() {
    let s = scan_xml(&sample("beijing/haidian-liudaokou.osm"));
    let (l, notes) = load("beijing/haidian-liudaokou.osm", "bj");
    assert!(l.buildings.iter().all(|b| b.dataset == "bj") && l.edges.iter().all(|e| e.dataset == "bj"));
    unique_ids(&l);

    // Buildings: closed complete ways, building nodes, and multipolygons whose member ways are all there.
    let ways = s.ways_where(is_building);
    assert_eq!(ways.len(), 255, "data README: 255 building ways");
    assert_eq!(ids(&l.buildings, |b| &b.source_id, "osm:w"), ways);
    assert_eq!(ids(&l.buildings, |b| &b.source_id, "osm:n"), s.nodes_where(is_building));
    let rels: BTreeSet<String> = s
        .relations
        .iter()
        .filter(|(_, m, t)| {
            t.get("type").map(String::as_str) == Some("multipolygon")
                && is_building(t)
                && m.iter().all(|(k, id, _)| k != "way" || s.way(*id).is_some_and(|w| s.complete(&w.1)))
        })
        .map(|(id, _, _)| format!("osm:r{id}"))
        .collect();
    assert_eq!(rels.len(), 2, "data README: 2 building relations");
    assert_eq!(ids(&l.buildings, |b| &b.source_id, "osm:r"), rels);

    // Convenience stores: 17 nodes (data README), none mapped as areas.
    let shop = |t: &HashMap<String, String>| t.get("shop").map(String::as_str) == Some("convenience");
    let mut conv = s.nodes_where(shop);
    conv.extend(s.ways_where(shop));
    assert_eq!(conv.len(), 17);
    let got: BTreeSet<String> =
        l.facilities.iter().filter(|f| f.category == "convenience").map(|f| f.source_id.clone()).collect();
    assert_eq!(got, conv);
    let bus = s.nodes_where(|t| t.get("highway").map(String::as_str) == Some("bus_stop"));
    assert_eq!(l.facilities.iter().filter(|f| f.category == "bus_stop").count(), bus.len());

    // Compounds: the 9 named landuse=residential closed ways …
    let named = s.ways_where(|t| t.get("landuse").map(String::as_str) == Some("residential") && t.contains_key("name"));
    assert_eq!(named.len(), 9, "data README: 9 named closed ways");
    let got_named: BTreeSet<String> = l
        .compounds
        .iter()
        .filter(|c| c.name.is_some() && c.source_id.starts_with("osm:w"))
        .map(|c| c.source_id.clone())
        .collect();
    assert_eq!(got_named, named);
    // … and 双泉堡甲2号院 (r14400092), which misses one of its two member ways: the one present is
    // itself closed, so the ring it forms is imported and the missing member is reported.
    let (_, members, _) = s.relations.iter().find(|r| r.0 == 14400092).expect("r14400092 in the file");
    let present: Vec<&ScanWay> = members.iter().filter_map(|(_, id, _)| s.way(*id)).collect();
    let missing: Vec<i64> = members.iter().filter(|(_, id, _)| s.way(*id).is_none()).map(|m| m.1).collect();
    assert_eq!((present.len(), missing.len()), (1, 1));
    assert!(s.closed_complete(&present[0].1));
    let c = l.compounds.iter().find(|c| c.source_id == "osm:r14400092").expect("assembled from the closed member");
    assert_eq!(c.name.as_deref(), Some("双泉堡甲2号院"));
    assert!(
        notes
            .iter()
            .any(|n| n.contains("r14400092") && n.contains("双泉堡甲2号院") && n.contains(&format!("w{}", missing[0]))),
        "{notes:#?}"
    );

    // 矿业大学社区居委会 (r15972224): one of its two ways is missing and the other does not close alone.
    let (_, members, _) = s.relations.iter().find(|r| r.0 == 15972224).expect("r15972224 in the file");
    let present: Vec<&ScanWay> = members.iter().filter_map(|(_, id, _)| s.way(*id)).collect();
    let missing: Vec<i64> = members.iter().filter(|(_, id, _)| s.way(*id).is_none()).map(|m| m.1).collect();
    assert_eq!((present.len(), missing.len()), (1, 1));
    assert_ne!(present[0].1.first(), present[0].1.last());
    assert!(l.regions.iter().all(|r| r.source_id != "osm:r15972224"));
    assert!(
        notes.iter().any(|n| n.contains("r15972224")
            && n.contains("矿业大学社区居委会")
            && n.contains(&format!("w{}", missing[0]))
            && n.contains("skipped")),
        "{notes:#?}"
    );
    check_network(&l, &s);
}

#[test]
fn osm_helsinki_counts_match_an_independent_scan() {
    let path = sample("helsinki/Helsinki.osm.pbf");
    let s = scan_pbf(&path);
    let (l, notes) = load("helsinki/Helsinki.osm.pbf", "hel");
    unique_ids(&l);
    let ways = s.ways_where(is_building);
    assert_eq!(ways.len(), 385, "data README: 385 closed building ways (48 more are cut)");
    assert_eq!(ids(&l.buildings, |b| &b.source_id, "osm:w"), ways);
    let nodes = s.nodes_where(is_building);
    assert_eq!(nodes.len(), 36);
    assert_eq!(ids(&l.buildings, |b| &b.source_id, "osm:n"), nodes);
    // osmium assembles 61 building multipolygons (data README).
    assert_eq!(ids(&l.buildings, |b| &b.source_id, "osm:r").len(), 61);
    let cut: Vec<i64> = s
        .ways
        .iter()
        .filter(|(_, r, t)| is_building(t) && r.first() == r.last() && !s.complete(r))
        .map(|w| w.0)
        .collect();
    assert_eq!(cut.len(), 48, "data README: 48 building ways cut at the edge");
    let line = notes.iter().find(|n| n.contains("building ways cut at the extract edge")).expect("cut buildings noted");
    assert!(line.starts_with("48 ") && line.contains(&format!("w{}", cut[0])), "{line}");

    let shop =
        |k: &'static str, v: &'static str| move |t: &HashMap<String, String>| t.get(k).map(String::as_str) == Some(v);
    for (cat, k, v, n) in [
        ("convenience", "shop", "convenience", 9),
        ("pharmacy", "amenity", "pharmacy", 6),
        ("bus_stop", "highway", "bus_stop", 92),
    ] {
        let mut want = s.nodes_where(shop(k, v));
        want.extend(s.ways_where(shop(k, v)));
        assert_eq!(want.len(), n, "data README count of {k}={v}");
        let got: BTreeSet<String> =
            l.facilities.iter().filter(|f| f.category == cat).map(|f| f.source_id.clone()).collect();
        assert_eq!(got, want, "{cat}");
    }
    let landuse = s.ways_where(|t| t.get("landuse").map(String::as_str) == Some("residential"));
    assert_eq!(ids(&l.compounds, |c| &c.source_id, "osm:w"), landuse);

    let walkable = s
        .ways
        .iter()
        .filter(|(_, _, t)| matches!(walkability(|k| t.get(k).map(String::as_str)), Walkability::Yes { .. }))
        .count();
    // The data README's 2,313 excludes every `access=private` way; STANDARDS keeps private footway,
    // path, steps and service ways (compound paths), so those come on top.
    let private_ids: BTreeSet<i64> = s
        .ways
        .iter()
        .filter(|(_, _, t)| {
            let g = |k: &str| t.get(k).map(String::as_str);
            g("access") == Some("private")
                && matches!(g("highway"), Some("footway" | "path" | "steps" | "service"))
                && !matches!(g("foot"), Some("yes" | "designated" | "permissive" | "no"))
                && g("area") != Some("yes")
        })
        .map(|w| w.0)
        .collect();
    let private_kept = private_ids.len();
    assert_eq!(
        walkable,
        2313 + private_kept,
        "data README: 2,313 walkable ways, plus {private_kept} private compound paths"
    );
    let private_edges: BTreeSet<i64> = l
        .edges
        .iter()
        .filter(|e| e.private)
        .filter_map(|e| e.source_id.split(':').nth(1).and_then(|w| w.trim_start_matches('w').parse().ok()))
        .collect();
    let (_, with_edges) = s.walkable_length_m();
    let want: BTreeSet<i64> = private_ids.intersection(&with_edges).copied().collect();
    assert!(!want.is_empty());
    assert_eq!(private_edges, want, "the kept private ways (those with a present segment) are marked private");
    check_network(&l, &s);
}
