//! Nearest-facility fields: per category, one multi-source shortest-path tree over the whole
//! network, grown from every placed facility of the category (its walk from both ends of its
//! chain, snap distance included). Built once per network and facility set, they answer the
//! common nearest-services question (k = 1, a cut-off up to [`FIELD_MAX_M`]) without a search:
//! the resident's two chain ends read their label, a facility on the resident's own chain is
//! compared directly, and the route is the predecessor chain walked back to the facility.
//!
//! The answer is the one [`crate::Searcher::nearest_services`] gives, distance for distance (the
//! same integer micrometre sums); on an exact tie between facilities (same micrometre) the field
//! keeps the lowest facility index, and between equal-length paths it may pick another of them.
//!
//! Memory: 8 bytes per junction per category that has a placed facility (a `u32` distance in
//! micrometres and a `u32` predecessor), nothing for categories without facilities.

use crate::graph::{NONE, WalkGraph, from_um, to_um};
use crate::network::{FacilitySet, Network, Snap};
use crate::radix::RadixHeap;
use crate::search::ends_of;
use crate::services::{ServiceHit, ServiceQuery, append_chain};
use crate::{CirclesError, WalkProfile};
use geo::{Coord, LineString, Point};
use rayon::prelude::*;

/// Longest walk a field holds, micrometres: labels beyond it are "unreached".
const FIELD_MAX_UM: u64 = u32::MAX as u64 - 1;
/// Longest cut-off the fields answer, metres (about 4.29 km); longer ones fall back to a search.
pub const FIELD_MAX_M: f64 = FIELD_MAX_UM as f64 / 1e6;
/// A predecessor that is a facility's seed: `SEED | facility << 1 | side` (side 0: the chain's
/// start `a`, 1: its end `b`).
const SEED: u32 = 1 << 31;
/// Distance label of an unreached junction.
const UNREACHED: u32 = u32::MAX;

/// One category's tree.
#[derive(Debug, Clone)]
struct Field {
    /// Walk from the nearest facility to each junction, micrometres ([`UNREACHED`] if none).
    dist: Vec<u32>,
    /// The arc (`chain << 1 | dir`) that reached the junction from the facility's side, or a seed.
    pred: Vec<u32>,
}

/// Per-category nearest-facility trees of one network and facility set. See the
/// [module docs](self).
#[derive(Debug, Clone)]
pub struct ServiceFields {
    /// Per category (catalogue order); `None` when the category has no placed facility.
    fields: Vec<Option<Field>>,
    junctions: usize,
    facilities: usize,
}

/// How the best candidate of a category reaches the resident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Via {
    /// Along the resident's own chain (preferred on a tie, as the search offers it first).
    Direct,
    /// Through the junction at the start (0) or end (1) of the resident's chain.
    End(u8),
}

impl Network {
    /// The nearest-facility fields of `facilities` (placed on this network), built in parallel
    /// over categories. Memory: 8 bytes per junction per category with a placed facility.
    pub fn service_fields(&self, facilities: &FacilitySet) -> ServiceFields {
        let g = self.graph();
        let nj = g.junctions();
        let too_many = facilities.facilities().len() >= (1 << 30);
        let fields = (0..facilities.categories().len())
            .into_par_iter()
            .map(|c| if too_many { None } else { build_field(g, facilities, c) })
            .collect();
        ServiceFields { fields, junctions: nj, facilities: facilities.facilities().len() }
    }
}

/// Grows category `c`'s tree: Dijkstra from every placed facility, labels compared as
/// (distance, facility index) so that ties go to the lowest index.
fn build_field(g: &WalkGraph, fs: &FacilitySet, c: usize) -> Option<Field> {
    let n = g.junctions();
    let mut dist = vec![u64::MAX; n];
    let mut src = vec![NONE; n];
    let mut pred = vec![NONE; n];
    let mut heap = RadixHeap::new();
    let mut any = false;
    for &f in fs.of_category(c) {
        let Some(s) = fs.snap_of(f) else { continue };
        any = true;
        let ch = s.chain as usize;
        let len = g.chain_len[ch];
        // The same sums as the search's offer from a chain end (`along + snap distance`).
        let ends = [
            (g.chain_a[ch], to_um(s.chain_offset + s.distance_m)),
            (g.chain_b[ch], to_um((len - s.chain_offset) + s.distance_m)),
        ];
        for (side, (j, d)) in ends.into_iter().enumerate() {
            let ji = j as usize;
            if d <= FIELD_MAX_UM && (d, f) < (dist[ji], src[ji]) {
                dist[ji] = d;
                src[ji] = f;
                pred[ji] = SEED | f << 1 | side as u32;
                heap.push(d, j);
            }
        }
    }
    if !any {
        return None;
    }
    while let Some((d, u)) = heap.pop() {
        let ui = u as usize;
        // Equal keys are processed again: a tie won by a lower facility index must spread.
        if d > dist[ui] {
            continue;
        }
        let su = src[ui];
        for arc in g.arcs_of(u) {
            let nd = d + arc.w;
            let h = arc.head as usize;
            if nd <= FIELD_MAX_UM && (nd, su) < (dist[h], src[h]) {
                dist[h] = nd;
                src[h] = su;
                pred[h] = arc.chain_dir;
                heap.push(nd, arc.head);
            }
        }
    }
    let dist = dist.into_iter().map(|d| if d == u64::MAX { UNREACHED } else { d as u32 }).collect();
    Some(Field { dist, pred })
}

impl ServiceFields {
    /// Bytes held by the trees.
    pub fn heap_bytes(&self) -> usize {
        self.fields.iter().flatten().map(|f| (f.dist.capacity() + f.pred.capacity()) * 4).sum()
    }

    /// True when the fields answer `query` themselves (k = 1, a cut-off up to [`FIELD_MAX_M`]);
    /// other queries need a search.
    pub fn answers(&self, query: &ServiceQuery) -> bool {
        query.k == 1 && query.cutoff_m.is_finite() && query.cutoff_m >= 0.0 && to_um(query.cutoff_m) <= FIELD_MAX_UM
    }

    /// The nearest services from a point: from the fields when they answer the query (see
    /// [`ServiceFields::answers`]), else by a search with a pooled [`crate::Searcher`]. `net` and
    /// `facilities` must be the ones the fields were built from.
    pub fn nearest_services(
        &self,
        net: &Network,
        from: Point<f64>,
        facilities: &FacilitySet,
        query: &ServiceQuery,
        profile: &WalkProfile,
    ) -> Result<Vec<ServiceHit>, CirclesError> {
        let snap = net.snap_point(from)?;
        match self.nearest_from(net, &snap, facilities, query, profile)? {
            Some(hits) => Ok(hits),
            None => net.with_searcher(|s| s.nearest_services(&snap, facilities, query, profile)),
        }
    }

    /// The nearest services from a snapped point, from the fields only: `Ok(None)` when they do
    /// not answer the query (see [`ServiceFields::answers`]) or were built for another network.
    /// Hits are ordered by distance, then category.
    pub fn nearest_from(
        &self,
        net: &Network,
        from: &Snap,
        fs: &FacilitySet,
        query: &ServiceQuery,
        profile: &WalkProfile,
    ) -> Result<Option<Vec<ServiceHit>>, CirclesError> {
        let g = net.graph();
        if !self.answers(query)
            || self.junctions != g.junctions()
            || self.facilities != fs.facilities().len()
            || self.fields.len() != fs.categories().len()
        {
            return Ok(None);
        }
        let ncat = fs.categories().len();
        let mut wanted = vec![query.categories.is_empty(); ncat];
        for id in &query.categories {
            wanted[fs.category_index(id)?] = true;
        }
        let budget = to_um(query.cutoff_m);
        let ends = ends_of(g, from).map(|(j, d)| (j, to_um(d)));
        let mut best: Vec<Option<(u64, u32, Via)>> = vec![None; ncat];
        // Facilities on the resident's own chain, walked to directly (the search's sum).
        for &f in fs.on_chain(from.chain) {
            let c = fs.category_of(f);
            if !wanted[c] {
                continue;
            }
            let Some(s) = fs.snap_of(f) else { continue };
            let d = to_um((s.chain_offset - from.chain_offset).abs() + s.distance_m + from.distance_m);
            if d <= budget && best[c].is_none_or(|b| (d, f, Via::Direct) < b) {
                best[c] = Some((d, f, Via::Direct));
            }
        }
        for (c, field) in self.fields.iter().enumerate() {
            let Some(field) = field else { continue };
            if !wanted[c] {
                continue;
            }
            // Both ends' walks first; the facility behind an end (a walk along the predecessors,
            // cache-cold on a large city) is looked up only for an end that can still win.
            let reach = ends.map(|(j, seed)| {
                let label = field.dist[j as usize];
                (label != UNREACHED).then(|| seed + u64::from(label)).filter(|&d| d <= budget)
            });
            let Some(dmin) = reach.iter().flatten().copied().min() else { continue };
            if best[c].is_some_and(|b| dmin > b.0) {
                continue;
            }
            for (side, d) in reach.iter().enumerate() {
                if *d != Some(dmin) {
                    continue;
                }
                let Some((f, _)) = self.source(g, field, ends[side].0) else { continue };
                let cand = (dmin, f, Via::End(side as u8));
                if best[c].is_none_or(|b| cand < b) {
                    best[c] = Some(cand);
                }
            }
        }
        let mut found: Vec<(u64, usize, u32, Via)> =
            best.iter().enumerate().filter_map(|(c, b)| b.map(|(d, f, via)| (d, c, f, via))).collect();
        found.sort_unstable_by_key(|&(d, c, _, _)| (d, c));
        let mut tmp = Vec::new();
        let hits = found
            .into_iter()
            .map(|(d, c, f, via)| {
                let pf = &fs.facilities()[f as usize];
                let distance_m = from_um(d);
                let route = match via {
                    Via::Direct => None,
                    Via::End(side) => self.fields[c].as_ref().map(|field| (field, side)),
                };
                ServiceHit {
                    category: fs.categories()[c].id.clone(),
                    facility: f as usize,
                    source_id: pf.source_id.clone(),
                    name: pf.name.clone(),
                    distance_m,
                    time_s: profile.time_s(distance_m),
                    route: self.route(g, from, f, fs, route, &mut tmp),
                }
            })
            .collect();
        Ok(Some(hits))
    }

    /// The facility whose seed labels junction `j` (walking the predecessors back), with the
    /// number of arcs walked; `None` on a broken chain (never, for fields of this graph).
    fn source(&self, g: &WalkGraph, field: &Field, j: u32) -> Option<(u32, usize)> {
        let mut v = j;
        for hops in 0..=g.junctions() {
            let p = *field.pred.get(v as usize)?;
            if p == NONE {
                return None;
            }
            if p & SEED != 0 {
                return Some(((p & !SEED) >> 1, hops));
            }
            let c = (p >> 1) as usize;
            v = if p & 1 == 0 { g.chain_a[c] } else { g.chain_b[c] };
        }
        None
    }

    /// The walk (lon/lat) from the resident to facility `f`: along the resident's own chain
    /// (`via` = `None`) or out through one end of it and back along the tree to the facility.
    fn route(
        &self,
        g: &WalkGraph,
        from: &Snap,
        f: u32,
        fs: &FacilitySet,
        via: Option<(&Field, u8)>,
        tmp: &mut Vec<Coord<f64>>,
    ) -> LineString<f64> {
        let Some(to) = fs.snap_of(f) else { return LineString::new(Vec::new()) };
        let mut out = vec![from.location.0];
        if out.last() != Some(&from.point.0) {
            out.push(from.point.0);
        }
        match via {
            None => append_chain(g, from.chain, from.chain_offset, to.chain_offset, tmp, &mut out),
            Some((field, side)) => {
                let src_len = g.chain_len[from.chain as usize];
                let (mut v, end) = if side == 0 {
                    (g.chain_a[from.chain as usize], 0.0)
                } else {
                    (g.chain_b[from.chain as usize], src_len)
                };
                append_chain(g, from.chain, from.chain_offset, end, tmp, &mut out);
                for _ in 0..=g.junctions() {
                    let p = field.pred[v as usize];
                    if p == NONE {
                        break;
                    }
                    if p & SEED != 0 {
                        let c = to.chain;
                        let begin = if p & 1 == 0 { 0.0 } else { g.chain_len[c as usize] };
                        append_chain(g, c, begin, to.chain_offset, tmp, &mut out);
                        break;
                    }
                    // The arc reached `v` from the facility's side: walk it backwards.
                    let c = p >> 1;
                    let len = g.chain_len[c as usize];
                    if p & 1 == 0 {
                        append_chain(g, c, len, 0.0, tmp, &mut out);
                        v = g.chain_a[c as usize];
                    } else {
                        append_chain(g, c, 0.0, len, tmp, &mut out);
                        v = g.chain_b[c as usize];
                    }
                }
            }
        }
        for p in [to.point.0, to.location.0] {
            if out.last() != Some(&p) {
                out.push(p);
            }
        }
        LineString::new(out)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use crate::synth::{SynthOptions, generate};
    use crate::{Network, NetworkOptions, ServiceQuery, WalkProfile};
    use wangge_core::Catalogue;

    /// The fields give the search's distances on a synthetic city (a lattice: many ties), and the
    /// search's facility whenever it is not tied with another.
    #[test]
    fn fields_agree_with_the_search_on_a_synthetic_city() {
        let catalogue = Catalogue::default_catalogue();
        let city = generate(&SynthOptions { streets_x: 30, streets_y: 30, ..Default::default() }, &catalogue);
        let net = Network::build(&city.nodes, &city.edges, &[], &NetworkOptions::default()).unwrap();
        let fs = net.place_facilities(&city.facilities, &catalogue).unwrap();
        let fields = net.service_fields(&fs);
        let profile = WalkProfile::default();
        let mut searcher = net.searcher();
        let mut compared = 0;
        for b in city.buildings.iter().step_by(7) {
            let Ok(snap) = net.snap_point(b.shape.point().unwrap()) else { continue };
            for cutoff_m in [2000.0, 300.0] {
                let q = ServiceQuery { cutoff_m, ..Default::default() };
                let fast = fields.nearest_from(&net, &snap, &fs, &q, &profile).unwrap().unwrap();
                let slow = searcher.nearest_services(&snap, &fs, &q, &profile).unwrap();
                assert_eq!(fast.len(), slow.len(), "categories found differ at {:?}", snap.location);
                for s in &slow {
                    let f = fast.iter().find(|f| f.category == s.category).unwrap();
                    assert_eq!(f.distance_m, s.distance_m, "{} at {:?}", s.category, snap.location);
                    assert_eq!(f.route.0.first(), s.route.0.first());
                    assert_eq!(f.route.0.last().is_some(), s.route.0.last().is_some());
                    compared += 1;
                }
            }
        }
        assert!(compared > 1000, "only {compared} hits compared");
    }

    #[test]
    fn fields_decline_what_they_cannot_answer() {
        let catalogue = Catalogue::default_catalogue();
        let city = generate(&SynthOptions { streets_x: 5, streets_y: 5, ..Default::default() }, &catalogue);
        let net = Network::build(&city.nodes, &city.edges, &[], &NetworkOptions::default()).unwrap();
        let fs = net.place_facilities(&city.facilities, &catalogue).unwrap();
        let fields = net.service_fields(&fs);
        assert!(fields.answers(&ServiceQuery::default()));
        assert!(!fields.answers(&ServiceQuery { k: 2, ..Default::default() }));
        assert!(!fields.answers(&ServiceQuery { cutoff_m: 5000.0, ..Default::default() }));
        assert!(fields.heap_bytes() >= 8 * net.graph().stats().junctions);
    }
}
