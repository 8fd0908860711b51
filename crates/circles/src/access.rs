//! The nearest facility of a category for every building: one multi-source shortest-path pass per
//! category (never one search per building), optionally the k nearest (k ≤ 5), with a cut-off.
//!
//! A building's distance to a facility is: its snap distance + the walk along the network between
//! the two snapped points + the facility's snap distance. Categories are searched in parallel.

use crate::graph::{NONE, from_um, to_um};
use crate::network::{FacilitySet, Network, Origins, SnapFailure};
use crate::radix::RadixHeap;
use crate::search::{ends_of, k_nearest, multi_source, via_ends};
use crate::{CirclesError, WalkProfile};
use rayon::prelude::*;

/// The largest k of a k-nearest search.
pub const MAX_K: usize = 5;

/// Options of a nearest-facility search.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReachOptions {
    /// How many nearest facilities to keep per building, 1 to [`MAX_K`]. Default 1.
    pub k: usize,
    /// Facilities farther than this (metres) are "not reached". Default none (the whole network).
    pub cutoff_m: Option<f64>,
}

impl Default for ReachOptions {
    fn default() -> Self {
        Self { k: 1, cutoff_m: None }
    }
}

impl ReachOptions {
    fn check(&self) -> Result<(), CirclesError> {
        if !(1..=MAX_K).contains(&self.k) {
            return Err(CirclesError::InvalidParameter {
                name: "k",
                reason: format!("must be 1 to {MAX_K}, got {}", self.k),
            });
        }
        if let Some(c) = self.cutoff_m
            && !(c.is_finite() && c >= 0.0)
        {
            return Err(CirclesError::InvalidParameter {
                name: "cutoff_m",
                reason: format!("must be a non-negative number of metres, got {c}"),
            });
        }
        Ok(())
    }
}

/// One reached facility.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reach {
    /// Walking distance, metres (both snap legs included).
    pub distance_m: f64,
    /// The facility (index into [`FacilitySet::facilities`]).
    pub facility: usize,
}

/// Why a building has (or lacks) a nearest facility.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ReachStatus {
    /// At least one facility was reached.
    Reached,
    /// Facilities exist in the building's part of the network, but none within the cut-off.
    BeyondCutoff,
    /// No facility of the category can be walked to (the building is on an island without one).
    NoPath,
    /// The category has no facility placed on the network at all.
    NoFacility,
    /// The building could not be placed on the network.
    NotOnNetwork(SnapFailure),
}

/// The nearest facilities of one category for every origin.
#[derive(Debug, Clone)]
pub struct CategoryReach {
    /// Category id.
    pub category: String,
    /// The category's coverage threshold, metres.
    pub threshold_m: f64,
    /// The category's weight in the completeness score.
    pub weight: f64,
    /// k of the search.
    pub k: usize,
    /// Cut-off of the search, metres.
    pub cutoff_m: Option<f64>,
    /// Facilities of the category placed on the network.
    pub facilities_placed: usize,
    reaches: Vec<Reach>,
    counts: Vec<u8>,
    status: Vec<ReachStatus>,
}

impl CategoryReach {
    /// Number of origins.
    pub fn len(&self) -> usize {
        self.status.len()
    }
    /// True when there are no origins.
    pub fn is_empty(&self) -> bool {
        self.status.is_empty()
    }
    /// The nearest facility of origin `i`, if one was reached.
    pub fn nearest(&self, i: usize) -> Option<Reach> {
        self.k_nearest(i).first().copied()
    }
    /// The reached facilities of origin `i`, nearest first (at most k).
    pub fn k_nearest(&self, i: usize) -> &[Reach] {
        match self.counts.get(i) {
            Some(&c) => &self.reaches[i * self.k..i * self.k + c as usize],
            None => &[],
        }
    }
    /// Walking distance from origin `i` to its nearest facility, metres.
    pub fn distance_m(&self, i: usize) -> Option<f64> {
        self.nearest(i).map(|r| r.distance_m)
    }
    /// Walking time from origin `i` to its nearest facility at the profile's speed, seconds.
    pub fn time_s(&self, i: usize, profile: &WalkProfile) -> Option<f64> {
        self.distance_m(i).map(|d| profile.time_s(d))
    }
    /// Why origin `i` has or lacks a nearest facility.
    pub fn status(&self, i: usize) -> Option<ReachStatus> {
        self.status.get(i).copied()
    }
    /// True when origin `i` reaches a facility within the category's threshold.
    pub fn covered(&self, i: usize) -> bool {
        self.distance_m(i).is_some_and(|d| d <= self.threshold_m)
    }
}

/// The nearest facilities of every catalogue category for every origin.
#[derive(Debug, Clone)]
pub struct Accessibility {
    /// One result per catalogue category, in catalogue order.
    pub categories: Vec<CategoryReach>,
    /// The walking profile times are given for.
    pub profile: WalkProfile,
}

impl Accessibility {
    /// The result of category `id`.
    pub fn category(&self, id: &str) -> Option<&CategoryReach> {
        self.categories.iter().find(|c| c.category == id)
    }
}

/// Reusable buffers of a category pass.
#[derive(Debug)]
pub struct ReachScratch {
    dist: Vec<u64>,
    src: Vec<u32>,
    heap: RadixHeap<u32>,
    labels: Vec<(u64, u32)>,
    count: Vec<u8>,
    kheap: RadixHeap<(u32, u32)>,
    seeds: Vec<(u32, u64, u32)>,
}

impl Default for ReachScratch {
    fn default() -> Self {
        Self {
            dist: Vec::new(),
            src: Vec::new(),
            heap: RadixHeap::new(),
            labels: Vec::new(),
            count: Vec::new(),
            kheap: RadixHeap::new(),
            seeds: Vec::new(),
        }
    }
}

impl Network {
    /// The nearest facilities of category `category` for every origin (one multi-source pass).
    pub fn nearest_facilities(
        &self,
        origins: &Origins,
        facilities: &FacilitySet,
        category: &str,
        options: &ReachOptions,
    ) -> Result<CategoryReach, CirclesError> {
        options.check()?;
        let c = facilities.category_index(category)?;
        Ok(self.category_pass(origins, facilities, c, options, &mut ReachScratch::default()))
    }

    /// [`Network::nearest_facilities`] reusing buffers across calls.
    pub fn nearest_facilities_with(
        &self,
        origins: &Origins,
        facilities: &FacilitySet,
        category: &str,
        options: &ReachOptions,
        scratch: &mut ReachScratch,
    ) -> Result<CategoryReach, CirclesError> {
        options.check()?;
        let c = facilities.category_index(category)?;
        Ok(self.category_pass(origins, facilities, c, options, scratch))
    }

    /// The nearest facilities of every catalogue category for every origin; categories are
    /// searched in parallel.
    pub fn accessibility(
        &self,
        origins: &Origins,
        facilities: &FacilitySet,
        options: &ReachOptions,
        profile: &WalkProfile,
    ) -> Result<Accessibility, CirclesError> {
        options.check()?;
        let categories = (0..facilities.categories().len())
            .into_par_iter()
            .with_max_len(1)
            .map_init(ReachScratch::default, |s, c| self.category_pass(origins, facilities, c, options, s))
            .collect();
        Ok(Accessibility { categories, profile: profile.clone() })
    }

    fn category_pass(
        &self,
        origins: &Origins,
        fs: &FacilitySet,
        c: usize,
        options: &ReachOptions,
        s: &mut ReachScratch,
    ) -> CategoryReach {
        let g = self.graph();
        let k = options.k;
        let cutoff_m = options.cutoff_m.unwrap_or(f64::INFINITY);
        let cutoff = options.cutoff_m.map_or(u64::MAX, to_um);
        s.seeds.clear();
        for &f in fs.of_category(c) {
            if let Some(snap) = fs.snap_of(f) {
                for (j, d) in ends_of(g, snap) {
                    s.seeds.push((j, to_um(d), f));
                }
            }
        }
        let placed = fs.placed_count(c);
        let n = origins.len();
        let mut reaches = vec![Reach { distance_m: f64::INFINITY, facility: usize::MAX }; n * k];
        let mut counts = vec![0u8; n];
        let mut status = vec![ReachStatus::NoFacility; n];
        if placed > 0 {
            if k == 1 {
                multi_source(g, &s.seeds, cutoff, &mut s.dist, &mut s.src, &mut s.heap);
            } else {
                k_nearest(g, &s.seeds, k, cutoff, &mut s.labels, &mut s.count, &mut s.kheap);
            }
        }
        let (dist, src, labels, count) = (&s.dist, &s.src, &s.labels, &s.count);
        reaches
            .par_chunks_mut(k)
            .zip(counts.par_iter_mut())
            .zip(status.par_iter_mut())
            .enumerate()
            .with_min_len(1024)
            .for_each(|(i, ((out, cnt), st))| {
                let snap = match origins.snaps()[i] {
                    Ok(sn) => sn,
                    Err(f) => {
                        *st = ReachStatus::NotOnNetwork(f);
                        return;
                    }
                };
                if placed == 0 {
                    return;
                }
                let mut found = 0usize;
                let mut offer = |d: f64, f: u32| {
                    if f == NONE || d > cutoff_m {
                        return;
                    }
                    let f = f as usize;
                    if let Some(p) = out[..found].iter().position(|r| r.facility == f) {
                        if d >= out[p].distance_m {
                            return;
                        }
                        out.copy_within(p + 1..found, p);
                        found -= 1;
                    }
                    let at = out[..found].partition_point(|r| r.distance_m <= d);
                    if at >= k {
                        return;
                    }
                    let end = (found + 1).min(k);
                    out.copy_within(at..end - 1, at + 1);
                    out[at] = Reach { distance_m: d, facility: f };
                    found = end;
                };
                if k == 1 {
                    if let Some((d, f)) = via_ends(g, snap.chain, snap.chain_offset, dist, src) {
                        offer(d + snap.distance_m, f);
                    }
                } else {
                    let ch = snap.chain as usize;
                    for (j, off) in [
                        (g.chain_a[ch] as usize, snap.chain_offset),
                        (g.chain_b[ch] as usize, g.chain_len[ch] - snap.chain_offset),
                    ] {
                        for &(d, f) in &labels[j * k..j * k + count[j] as usize] {
                            offer(from_um(d) + off + snap.distance_m, f);
                        }
                    }
                }
                for &f in fs.on_chain(snap.chain) {
                    if fs.category_of(f) == c
                        && let Some(fsnap) = fs.snap_of(f)
                    {
                        offer((fsnap.chain_offset - snap.chain_offset).abs() + snap.distance_m + fsnap.distance_m, f);
                    }
                }
                *cnt = found as u8;
                *st = if found > 0 {
                    ReachStatus::Reached
                } else if fs.has_in_component(c, g.chain_component(snap.chain)) {
                    ReachStatus::BeyondCutoff
                } else {
                    ReachStatus::NoPath
                };
            });
        let info = &fs.categories()[c];
        CategoryReach {
            category: info.id.clone(),
            threshold_m: info.distance_m,
            weight: info.weight,
            k,
            cutoff_m: options.cutoff_m,
            facilities_placed: placed,
            reaches,
            counts,
            status,
        }
    }
}
