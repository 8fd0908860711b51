//! Household estimates where no register and no declared count exist.
//!
//! Only buildings whose households are unknown (`HouseholdSource::None`) or already estimated are
//! touched; `Register` and `Declared` counts are never changed. Non-residential buildings, points
//! and footprints below [`EstimateParams::min_footprint_m2`] get no households.
//!
//! A residential building's floor area is its geodesic footprint area times its storeys (declared
//! `levels`, else a default by building type).
//!
//! 1. **Population grid.** Each cell's residents, as households (`population / household_size`,
//!    rounded), less the households already known (register or declared) in buildings inside the
//!    cell, are shared among the cell's estimable residential buildings in proportion to floor area
//!    (a building is in the cell holding its interior point). Rounding uses the largest remainder,
//!    so the shares add up exactly to the cell's rounded total. Source `EstimatePopulationGrid`.
//! 2. **Floor area.** Buildings in no cell (or when there are no cells at all): floor area divided
//!    by [`EstimateParams::dwelling_area_m2`], rounded, at least 1. Source `EstimateFloorArea`.
//!
//! The result does not depend on the order of buildings or cells.

use geo::orient::{Direction, Orient};
use geo::{BoundingRect, Intersects, Point};
use rstar::RTree;
use rstar::primitives::{GeomWithData, Rectangle};
use std::collections::BTreeMap;
use wangge_core::geometry::area_m2;
use wangge_core::{Building, HouseholdSource, Households, Layers, Shape};

/// Parameters of the household estimate.
#[derive(Debug, Clone, PartialEq)]
pub struct EstimateParams {
    /// Average persons per household. Default 2.62, the average household size of China's
    /// seventh national census (2020).
    pub household_size: f64,
    /// Gross floor area per dwelling in m², for buildings outside any population cell.
    /// Default 95 m²: the 2020 census gives urban households 36.52 m² of floor area (建筑面积)
    /// per person, and 36.52 × 2.62 ≈ 95.7 m² per household.
    pub dwelling_area_m2: f64,
    /// Footprints smaller than this (m²) are not taken to hold dwellings. Default 30 m²: smaller
    /// than any apartment block or house, larger than most kiosks, sheds, substations and
    /// guard houses that are mapped as a generic `building=yes`.
    pub min_footprint_m2: f64,
    /// Storeys assumed by building type (lower-case `building=*` value) when `levels` is not known.
    /// Defaults: `apartments`, `residential` 6 (the typical Chinese walk-up block of 5–7 storeys);
    /// `dormitory` 5; `house`, `detached`, `semidetached_house`, `terrace`, `farm` 2;
    /// `bungalow`, `houseboat`, `static_caravan` 1; `yes` 4 (a generic building, between the
    /// low-rise and the walk-up cases).
    pub default_levels: BTreeMap<String, u16>,
    /// Storeys assumed for a type not in `default_levels`. Default 4, as for `yes`.
    pub other_levels: u16,
}

impl Default for EstimateParams {
    fn default() -> Self {
        let default_levels = [
            ("apartments", 6),
            ("residential", 6),
            ("dormitory", 5),
            ("house", 2),
            ("detached", 2),
            ("semidetached_house", 2),
            ("terrace", 2),
            ("farm", 2),
            ("bungalow", 1),
            ("houseboat", 1),
            ("static_caravan", 1),
            ("yes", 4),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        Self { household_size: 2.62, dwelling_area_m2: 95.0, min_footprint_m2: 30.0, default_levels, other_levels: 4 }
    }
}

impl EstimateParams {
    /// Storeys of a building: declared `levels`, else the default for its type.
    pub fn levels_of(&self, b: &Building) -> u16 {
        b.levels
            .filter(|l| *l > 0)
            .unwrap_or_else(|| self.default_levels.get(&b.kind.to_lowercase()).copied().unwrap_or(self.other_levels))
            .max(1)
    }
}

/// What the estimate did.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct EstimateSummary {
    /// Buildings with a register or declared count, left as they were.
    pub kept: usize,
    /// Buildings estimated from the population grid.
    pub population_grid_buildings: usize,
    /// Households estimated from the population grid.
    pub population_grid_households: u64,
    /// Buildings estimated from floor area.
    pub floor_area_buildings: usize,
    /// Households estimated from floor area.
    pub floor_area_households: u64,
    /// Buildings not residential (no households).
    pub not_residential: usize,
    /// Residential buildings whose footprint is below the minimum (no households).
    pub below_min_footprint: usize,
    /// Residential buildings mapped as points, with no footprint to estimate from (no households).
    pub no_footprint: usize,
    /// Population cells that received households.
    pub cells_used: usize,
    /// Residents of cells holding no estimable residential building (not given to anyone).
    pub unassigned_population: f64,
    /// All estimated households.
    pub total_estimated_households: u64,
}

/// Shares `total` among `weights` in proportion, as whole numbers adding up to `total`
/// (largest remainder; ties go to the earlier item).
fn largest_remainder(total: u64, weights: &[f64]) -> Vec<u64> {
    let sum: f64 = weights.iter().sum();
    let n = weights.len();
    if n == 0 {
        return vec![];
    }
    let exact: Vec<f64> = if sum > 0.0 {
        weights.iter().map(|w| total as f64 * w / sum).collect()
    } else {
        vec![total as f64 / n as f64; n]
    };
    let mut out: Vec<u64> = exact.iter().map(|x| x.floor().max(0.0) as u64).collect();
    let given: u64 = out.iter().sum();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| {
        let ra = exact[a] - exact[a].floor();
        let rb = exact[b] - exact[b].floor();
        rb.total_cmp(&ra).then(a.cmp(&b))
    });
    let mut left = total.saturating_sub(given);
    let mut i = 0;
    while left > 0 {
        out[order[i % n]] += 1;
        left -= 1;
        i += 1;
    }
    out
}

/// Estimates households for residential buildings without a register or declared count. See the
/// module docs for the method.
pub fn estimate_households(layers: &mut Layers, params: &EstimateParams) -> EstimateSummary {
    let mut summary = EstimateSummary::default();
    let household_size = if params.household_size.is_finite() && params.household_size > 0.0 {
        params.household_size
    } else {
        EstimateParams::default().household_size
    };
    let dwelling = if params.dwelling_area_m2.is_finite() && params.dwelling_area_m2 > 0.0 {
        params.dwelling_area_m2
    } else {
        EstimateParams::default().dwelling_area_m2
    };

    // Cells, in source-id order so that ties are broken the same way whatever the input order.
    let mut cell_order: Vec<usize> = (0..layers.cells.len()).collect();
    cell_order.sort_by(|&a, &b| layers.cells[a].source_id.cmp(&layers.cells[b].source_id));
    let tree: RTree<GeomWithData<Rectangle<[f64; 2]>, usize>> = RTree::bulk_load(
        cell_order
            .iter()
            .enumerate()
            .filter_map(|(rank, &i)| {
                let r = layers.cells[i].area.bounding_rect()?;
                Some(GeomWithData::new(Rectangle::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]), rank))
            })
            .collect(),
    );
    // The cell (rank in `cell_order`) holding a point: the first by source id when it lies on a shared edge.
    let cell_of = |p: Point<f64>| -> Option<usize> {
        tree.locate_all_at_point(&[p.x(), p.y()])
            .map(|g| g.data)
            .filter(|&rank| layers.cells[cell_order[rank]].area.intersects(&p))
            .min()
    };

    // Per cell: households already known, and the estimable buildings with their floor areas.
    let mut known: BTreeMap<usize, u64> = BTreeMap::new();
    let mut members: BTreeMap<usize, Vec<(String, usize, f64)>> = BTreeMap::new();
    let mut outside: Vec<(usize, f64)> = Vec::new();
    let mut new_households: Vec<Option<Households>> = vec![None; layers.buildings.len()];

    // Register rows win over any estimate (they are applied when the atlas is built); their
    // households count as known in their cell.
    let mut registered: BTreeMap<&str, u64> = BTreeMap::new();
    for r in &layers.register {
        *registered.entry(r.building.as_str()).or_default() += u64::from(r.households);
    }

    for (i, b) in layers.buildings.iter().enumerate() {
        let point = b.shape.point();
        if let Some(&n) = registered.get(b.source_id.as_str()) {
            summary.kept += 1;
            if let Some(rank) = point.and_then(cell_of) {
                *known.entry(rank).or_default() += n;
            }
            continue;
        }
        let estimable = matches!(b.households.source, HouseholdSource::None) || b.households.is_estimated();
        if !estimable {
            summary.kept += 1;
            if let Some(rank) = point.and_then(cell_of) {
                *known.entry(rank).or_default() += u64::from(b.households.count);
            }
            continue;
        }
        new_households[i] = Some(Households::default());
        if !b.residential {
            summary.not_residential += 1;
            continue;
        }
        let Shape::Footprint(mp) = &b.shape else {
            summary.no_footprint += 1;
            continue;
        };
        // Oriented first: a clockwise exterior would otherwise measure as the rest of the globe.
        let footprint = area_m2(&mp.orient(Direction::Default));
        if footprint.is_nan() || footprint < params.min_footprint_m2 || footprint <= 0.0 {
            summary.below_min_footprint += 1;
            continue;
        }
        let floor_area = footprint * f64::from(params.levels_of(b));
        match point.and_then(cell_of) {
            Some(rank) => members.entry(rank).or_default().push((b.source_id.clone(), i, floor_area)),
            None => outside.push((i, floor_area)),
        }
    }

    for (rank, &ci) in cell_order.iter().enumerate() {
        let cell = &layers.cells[ci];
        let Some(list) = members.get_mut(&rank) else {
            if !known.contains_key(&rank) {
                summary.unassigned_population += cell.population.max(0.0);
            }
            continue;
        };
        list.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
        let cell_total = (cell.population.max(0.0) / household_size).round() as u64;
        let target = cell_total.saturating_sub(known.get(&rank).copied().unwrap_or(0));
        let weights: Vec<f64> = list.iter().map(|m| m.2).collect();
        let shares = largest_remainder(target, &weights);
        summary.cells_used += 1;
        for ((_, i, _), n) in list.iter().zip(shares) {
            let n = u32::try_from(n).unwrap_or(u32::MAX);
            new_households[*i] = Some(Households::new(n, HouseholdSource::EstimatePopulationGrid));
            summary.population_grid_buildings += 1;
            summary.population_grid_households += u64::from(n);
        }
    }
    for (i, floor_area) in outside {
        let n = ((floor_area / dwelling).round().max(1.0)).min(f64::from(u32::MAX)) as u32;
        new_households[i] = Some(Households::new(n, HouseholdSource::EstimateFloorArea));
        summary.floor_area_buildings += 1;
        summary.floor_area_households += u64::from(n);
    }
    for (b, h) in layers.buildings.iter_mut().zip(new_households) {
        if let Some(h) = h {
            b.households = h;
        }
    }
    summary.total_estimated_households = summary.population_grid_households + summary.floor_area_households;
    summary
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn largest_remainder_adds_up_and_follows_the_weights() {
        // 10 in thirds: 3.33 each → 3, 3, 3 and one more to the first (ties go to the earlier).
        assert_eq!(largest_remainder(10, &[1.0, 1.0, 1.0]), vec![4, 3, 3]);
        // 7 by 1:2:4 → exact 1, 2, 4.
        assert_eq!(largest_remainder(7, &[1.0, 2.0, 4.0]), vec![1, 2, 4]);
        // 5 by 1:1:8 → 0.5, 0.5, 4.0 → 0, 0, 4 and one left for the earliest of the 0.5s.
        assert_eq!(largest_remainder(5, &[1.0, 1.0, 8.0]), vec![1, 0, 4]);
        assert_eq!(largest_remainder(0, &[3.0, 2.0]), vec![0, 0]);
        assert!(largest_remainder(3, &[]).is_empty());
    }
}
