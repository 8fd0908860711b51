//! A plain scan of OpenStreetMap files (quick-xml for XML, osmpbf for PBF), written independently
//! of wangge's importer so that tests can check the importer's counts against the data itself.

use quick_xml::events::Event;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::Path;
use wangge_core::tags::{Walkability, walkability};

/// Tags of an element.
pub type TagMap = HashMap<String, String>;
/// (id, node refs, tags)
/// A way.
pub type ScanWay = (i64, Vec<i64>, TagMap);
/// (member type, ref, role)
/// A relation member.
pub type ScanMember = (String, i64, String);
/// The element being read: kind, id, refs, members, tags.
/// The element being read.
pub type Cur = Option<(String, i64, Vec<i64>, Vec<ScanMember>, TagMap)>;

/// A plain scan of an OSM file, independent of the importer.
#[derive(Default)]
pub struct Scan {
    /// Node locations (lon, lat).
    pub nodes: HashMap<i64, (f64, f64)>,
    /// Tagged nodes.
    pub node_tags: Vec<(i64, TagMap)>,
    /// Ways.
    pub ways: Vec<ScanWay>,
    /// Relations.
    pub relations: Vec<(i64, Vec<ScanMember>, TagMap)>,
}

/// Scans an OSM XML file.
pub fn scan_xml(path: &Path) -> Scan {
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

/// Files the element being read.
fn finish(s: &mut Scan, cur: Cur) {
    let Some((kind, id, refs, members, tags)) = cur else { return };
    match kind.as_str() {
        "node" if !tags.is_empty() => s.node_tags.push((id, tags)),
        "way" => s.ways.push((id, refs, tags)),
        "relation" => s.relations.push((id, members, tags)),
        _ => {}
    }
}

/// Scans an OSM PBF file.
pub fn scan_pbf(path: &Path) -> Scan {
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
    /// All nodes present.
    pub fn complete(&self, refs: &[i64]) -> bool {
        refs.iter().all(|r| self.nodes.contains_key(r))
    }
    /// Closed, at least 3 distinct nodes, all present.
    pub fn closed_complete(&self, refs: &[i64]) -> bool {
        let distinct: HashSet<&i64> = refs.iter().collect();
        refs.len() >= 4 && refs.first() == refs.last() && distinct.len() >= 3 && self.complete(refs)
    }
    /// Closed complete ways whose tags pass `f`, as `osm:w<id>`.
    pub fn ways_where(&self, f: impl Fn(&HashMap<String, String>) -> bool) -> BTreeSet<String> {
        self.ways
            .iter()
            .filter(|(_, r, t)| f(t) && self.closed_complete(r))
            .map(|(id, _, _)| format!("osm:w{id}"))
            .collect()
    }
    /// Tagged nodes whose tags pass `f`, as `osm:n<id>`.
    pub fn nodes_where(&self, f: impl Fn(&HashMap<String, String>) -> bool) -> BTreeSet<String> {
        self.node_tags.iter().filter(|(_, t)| f(t)).map(|(id, _)| format!("osm:n{id}")).collect()
    }
    /// The way with this id.
    pub fn way(&self, id: i64) -> Option<&ScanWay> {
        self.ways.iter().find(|w| w.0 == id)
    }

    /// Sum over walkable ways of the haversine length between consecutive nodes that are both present.
    pub fn walkable_length_m(&self) -> (f64, BTreeSet<i64>) {
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

/// Great-circle distance in metres (mean Earth radius).
pub fn haversine(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (l1, p1, l2, p2) = (a.0.to_radians(), a.1.to_radians(), b.0.to_radians(), b.1.to_radians());
    let h = ((p2 - p1) / 2.0).sin().powi(2) + p1.cos() * p2.cos() * ((l2 - l1) / 2.0).sin().powi(2);
    2.0 * 6_371_008.8 * h.sqrt().asin()
}
