//! The two sample extracts, checked against an independent scan written here (quick-xml for the
//! Beijing XML, osmpbf for the Helsinki PBF) and against the counts in `shared/data/README.md`,
//! which were made with osmium / pyosmium.

use quick_xml::events::Event;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use wangge_core::Layers;
use wangge_core::tags::{Walkability, walkability};
use wangge_io::{ReadOptions, read};

fn sample(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../geodata").join(rel)
}

fn load(rel: &str, dataset: &str) -> (Layers, Vec<String>) {
    let imp = read(&sample(rel), &ReadOptions { dataset: Some(dataset.into()), ..ReadOptions::default() })
        .expect("sample reads");
    (imp.layers, imp.notes)
}

type TagMap = HashMap<String, String>;
/// (id, node refs, tags)
type ScanWay = (i64, Vec<i64>, TagMap);
/// (member type, ref, role)
type ScanMember = (String, i64, String);
/// The element being read: kind, id, refs, members, tags.
type Cur = Option<(String, i64, Vec<i64>, Vec<ScanMember>, TagMap)>;

/// A plain scan of an OSM file, independent of the importer.
#[derive(Default)]
struct Scan {
    nodes: HashMap<i64, (f64, f64)>,
    node_tags: Vec<(i64, TagMap)>,
    ways: Vec<ScanWay>,
    relations: Vec<(i64, Vec<ScanMember>, TagMap)>,
}

fn scan_xml(path: &Path) -> Scan {
    let text = std::fs::read_to_string(path).expect("readable");
    let mut r = quick_xml::Reader::from_str(&text);
    let mut s = Scan::default();
    let mut cur: Cur = None;
    loop {
        let ev = r.read_event().expect("well-formed sample");
        let (e, empty) = match ev {
            Event::Start(e) => (e, false),
            Event::Empty(e) => (e, true),
            Event::End(e) => {
                if matches!(e.name().as_ref(), "node" | "way" | "relation") {
                    finish(&mut s, cur.take());
                }
                continue;
            }
            Event::Eof => break,
            _ => continue,
        };
        let a: HashMap<String, String> = e
            .attributes()
            .map(|a| a.expect("attribute"))
            .map(|a| (a.key.as_ref().to_string(), quick_xml::escape::unescape(&a.value).expect("escape").into_owned()))
            .collect();
        let name = e.name().as_ref().to_string();
        match name.as_str() {
            "node" | "way" | "relation" => {
                let id: i64 = a["id"].parse().expect("id");
                if name == "node" {
                    s.nodes.insert(id, (a["lon"].parse().expect("lon"), a["lat"].parse().expect("lat")));
                }
                cur = Some((name.clone(), id, vec![], vec![], HashMap::new()));
                if empty {
                    finish(&mut s, cur.take());
                }
            }
            "nd" => cur.as_mut().expect("in a way").2.push(a["ref"].parse().expect("ref")),
            "member" => cur.as_mut().expect("in a relation").3.push((
                a["type"].clone(),
                a["ref"].parse().expect("ref"),
                a["role"].clone(),
            )),
            "tag" => {
                cur.as_mut().expect("in an element").4.insert(a["k"].clone(), a["v"].clone());
            }
            _ => {}
        }
    }
    s
}

fn finish(s: &mut Scan, cur: Cur) {
    let Some((kind, id, refs, members, tags)) = cur else { return };
    match kind.as_str() {
        "node" if !tags.is_empty() => s.node_tags.push((id, tags)),
        "way" => s.ways.push((id, refs, tags)),
        "relation" => s.relations.push((id, members, tags)),
        _ => {}
    }
}

fn scan_pbf(path: &Path) -> Scan {
    let mut s = Scan::default();
    let tags = |it: &mut dyn Iterator<Item = (&str, &str)>| {
        it.map(|(k, v)| (k.to_string(), v.to_string())).collect::<HashMap<_, _>>()
    };
    osmpbf::ElementReader::from_path(path)
        .expect("open")
        .for_each(|el| match el {
            osmpbf::Element::Node(n) => {
                s.nodes.insert(n.id(), (n.lon(), n.lat()));
                let t = tags(&mut n.tags());
                if !t.is_empty() {
                    s.node_tags.push((n.id(), t));
                }
            }
            osmpbf::Element::DenseNode(n) => {
                s.nodes.insert(n.id(), (n.lon(), n.lat()));
                let t = tags(&mut n.tags());
                if !t.is_empty() {
                    s.node_tags.push((n.id(), t));
                }
            }
            osmpbf::Element::Way(w) => s.ways.push((w.id(), w.refs().collect(), tags(&mut w.tags()))),
            osmpbf::Element::Relation(r) => {
                let m = r
                    .members()
                    .map(|m| {
                        let kind = match m.member_type {
                            osmpbf::RelMemberType::Node => "node",
                            osmpbf::RelMemberType::Way => "way",
                            osmpbf::RelMemberType::Relation => "relation",
                        };
                        (kind.to_string(), m.member_id, m.role().expect("role").to_string())
                    })
                    .collect();
                s.relations.push((r.id(), m, tags(&mut r.tags())));
            }
        })
        .expect("decodes");
    s
}

impl Scan {
    fn complete(&self, refs: &[i64]) -> bool {
        refs.iter().all(|r| self.nodes.contains_key(r))
    }
    /// Closed, at least 3 distinct nodes, all present.
    fn closed_complete(&self, refs: &[i64]) -> bool {
        let distinct: HashSet<&i64> = refs.iter().collect();
        refs.len() >= 4 && refs.first() == refs.last() && distinct.len() >= 3 && self.complete(refs)
    }
    fn ways_where(&self, f: impl Fn(&HashMap<String, String>) -> bool) -> BTreeSet<String> {
        self.ways
            .iter()
            .filter(|(_, r, t)| f(t) && self.closed_complete(r))
            .map(|(id, _, _)| format!("osm:w{id}"))
            .collect()
    }
    fn nodes_where(&self, f: impl Fn(&HashMap<String, String>) -> bool) -> BTreeSet<String> {
        self.node_tags.iter().filter(|(_, t)| f(t)).map(|(id, _)| format!("osm:n{id}")).collect()
    }
    fn way(&self, id: i64) -> Option<&ScanWay> {
        self.ways.iter().find(|w| w.0 == id)
    }

    /// Sum over walkable ways of the haversine length between consecutive nodes that are both present.
    fn walkable_length_m(&self) -> (f64, BTreeSet<i64>) {
        let mut total = 0.0;
        let mut with_length = BTreeSet::new();
        for (id, refs, tags) in &self.ways {
            if !matches!(walkability(|k| tags.get(k).map(String::as_str)), Walkability::Yes { .. }) {
                continue;
            }
            for w in refs.windows(2) {
                if let (Some(a), Some(b)) = (self.nodes.get(&w[0]), self.nodes.get(&w[1])) {
                    total += haversine(*a, *b);
                    if w[0] != w[1] {
                        with_length.insert(*id);
                    }
                }
            }
        }
        (total, with_length)
    }
}

fn haversine(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (l1, p1, l2, p2) = (a.0.to_radians(), a.1.to_radians(), b.0.to_radians(), b.1.to_radians());
    let h = ((p2 - p1) / 2.0).sin().powi(2) + p1.cos() * p2.cos() * ((l2 - l1) / 2.0).sin().powi(2);
    2.0 * 6_371_008.8 * h.sqrt().asin()
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
