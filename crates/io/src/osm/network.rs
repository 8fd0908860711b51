//! The walking network: walkable ways split into edges at junctions (nodes used by two or more
//! walkable ways, or twice by one) and at their ends; nodes missing from the file split a way into
//! the runs that are present.

use super::area::Resolver;
use super::model::{OsmData, tag};
use super::notes::Notes;
use geo::{Coord, LineString, Point};
use std::collections::{BTreeMap, HashMap};
use wangge_core::geometry::length_m;
use wangge_core::tags::{Walkability, walkability};
use wangge_core::{NetEdge, NetNode};

/// Builds the network nodes and edges of the walkable ways in `data`.
pub(crate) fn build(
    data: &OsmData,
    resolver: &Resolver<'_>,
    dataset: &str,
    notes: &mut Notes,
) -> (Vec<NetNode>, Vec<NetEdge>) {
    let walkable: Vec<(&super::model::Way, bool)> = data
        .ways
        .iter()
        .filter_map(|w| match walkability(|k| tag(&w.tags, k)) {
            Walkability::Yes { private } => Some((w, private)),
            Walkability::No => None,
        })
        .collect();

    // How many times each node is used by walkable ways (a closed way's last node is its first).
    let mut uses: HashMap<i64, u32> = HashMap::new();
    for (w, _) in &walkable {
        let n = w.refs.len();
        let closed = Resolver::is_closed(w);
        for (i, r) in w.refs.iter().enumerate() {
            if closed && i == n - 1 {
                continue;
            }
            *uses.entry(*r).or_insert(0) += 1;
        }
    }

    let mut edges = Vec::new();
    let mut ends: BTreeMap<i64, Coord<f64>> = BTreeMap::new();
    for (w, private) in walkable {
        let runs = resolver.present_runs(&w.refs);
        if runs.iter().map(Vec::len).sum::<usize>() < w.refs.len() {
            if runs.iter().any(|r| r.len() >= 2) {
                notes.group(
                    "walkable ways cut at the extract edge, kept where their nodes are present",
                    format!("w{}", w.id),
                );
            } else {
                notes.group("walkable ways without two consecutive nodes in the file skipped", format!("w{}", w.id));
            }
        }
        let highway = tag(&w.tags, "highway").unwrap_or_default().to_string();
        let name = tag(&w.tags, "name").map(str::to_string);
        let mut k = 0usize;
        for run in runs.iter().filter(|r| r.len() >= 2) {
            let mut start = 0;
            for i in 1..run.len() {
                let split = i == run.len() - 1 || uses.get(&run[i].0).copied().unwrap_or(0) >= 2;
                if !split {
                    continue;
                }
                let piece = &run[start..=i];
                start = i;
                if piece.iter().all(|(id, _)| *id == piece[0].0) {
                    continue; // the same node repeated: no edge
                }
                let geometry = LineString::from(piece.iter().map(|(_, c)| *c).collect::<Vec<_>>());
                let (from, to) = (piece[0], piece[piece.len() - 1]);
                ends.insert(from.0, from.1);
                ends.insert(to.0, to.1);
                edges.push(NetEdge {
                    source_id: format!("osm:w{}:{k}", w.id),
                    dataset: dataset.to_string(),
                    from: format!("osm:n{}", from.0),
                    to: format!("osm:n{}", to.0),
                    length_m: length_m(&geometry),
                    highway: highway.clone(),
                    name: name.clone(),
                    private,
                    geometry,
                });
                k += 1;
            }
        }
    }
    let nodes =
        ends.into_iter().map(|(id, c)| NetNode { source_id: format!("osm:n{id}"), location: Point::from(c) }).collect();
    (nodes, edges)
}
