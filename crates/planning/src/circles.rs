//! A life-circle run over the model: the walking network, facilities and buildings placed on it,
//! the nearest facility of every category for every building, completeness scores, and coverage by
//! grid (of a plan), community, street and city, as one [`CirclesRun`] ready to store.

use crate::run::Hooks;
use crate::{PlanningError, Result};
use serde_json::json;
use std::collections::{BTreeMap, HashMap};
use wangge_circles::{
    Accessibility, FacilitySet, Network, NetworkOptions, Origins, ReachOptions, WalkProfile, coverage,
};
use wangge_core::plan::PlanRecord;
use wangge_core::{Building, Catalogue, Facility, Layers, RegionLevel};
use wangge_store::{
    BuildingScore, CircleCategory, CircleResult, CirclesMeta, CirclesRun, CoverageLevel, CoverageSummary, GraphSummary,
};

/// What a run produced, with the parts the CLI reports on.
pub struct Output {
    /// The results to store.
    pub run: CirclesRun,
    /// The walking network.
    pub net: Network,
    /// The buildings placed on it.
    pub origins: Origins,
    /// The facilities placed on it.
    pub facilities: FacilitySet,
    /// The buildings with households, in the order of `origins`.
    pub homes: Vec<Building>,
}

fn circles_err(doing: &str) -> impl FnOnce(wangge_circles::CirclesError) -> PlanningError + '_ {
    move |e| PlanningError::Mismatch(format!("{doing}: {e}"))
}

/// Runs the life circles of `selected` (a catalogue of the categories to compute) over `layers`
/// (register applied), with `facilities` (those of the selected categories), walking at `profile`
/// on a network built with `opts`; grids are those of `plan` when given. Progress goes through
/// `hooks` and cancellation is checked between phases.
pub fn compute(
    layers: &Layers,
    selected: &Catalogue,
    facilities: &[Facility],
    profile: &WalkProfile,
    opts: &NetworkOptions,
    plan: Option<&PlanRecord>,
    hooks: &Hooks<'_>,
) -> Result<Output> {
    let check =
        || if hooks.cancel.load(std::sync::atomic::Ordering::Relaxed) { Err(PlanningError::Cancelled) } else { Ok(()) };
    if layers.edges.is_empty() {
        return Err(PlanningError::Empty(
            "the store has no walking network: import an OpenStreetMap file first (`wangge import city.osm.pbf`)"
                .into(),
        ));
    }
    let homes: Vec<Building> = layers.buildings.iter().filter(|b| b.households.count > 0).cloned().collect();
    if homes.is_empty() {
        return Err(PlanningError::Empty(
            "the store has no buildings with households: import buildings (and a register or population grid) first"
                .into(),
        ));
    }
    (hooks.progress)(0.05, "building the walking graph");
    let net = Network::from_layers(layers, opts).map_err(circles_err("building the walking graph"))?;
    let placed = net.place_facilities(facilities, selected).map_err(circles_err("placing the facilities"))?;
    check()?;
    (hooks.progress)(0.2, "placing the buildings");
    let origins = net.snap_buildings(&homes);
    check()?;
    (hooks.progress)(0.3, "walking to the nearest facilities");
    let access = net
        .accessibility(&origins, &placed, &ReachOptions::default(), profile)
        .map_err(circles_err("walking to the nearest facilities"))?;
    let scores = coverage::completeness(&access, &HashMap::new()).map_err(circles_err("completeness"))?;
    check()?;
    (hooks.progress)(0.8, "coverage by grid, community, street and city");
    let levels = groupings(layers, &homes, plan);
    let summaries = summarise(&access, &levels);

    let facs = placed.facilities();
    let mut results = Vec::with_capacity(homes.len() * access.categories.len());
    for (i, b) in homes.iter().enumerate() {
        for c in &access.categories {
            let near = c.nearest(i);
            results.push(CircleResult {
                building: b.source_id.clone(),
                category: c.category.clone(),
                distance_m: near.map(|r| r.distance_m),
                time_s: near.map(|r| profile.time_s(r.distance_m)),
                facility: near.map(|r| facs[r.facility].source_id.clone()),
            });
        }
    }
    let scores: Vec<BuildingScore> = homes
        .iter()
        .zip(&scores)
        .filter_map(|(b, s)| {
            s.map(|s| BuildingScore { building: b.source_id.clone(), completeness: s.clamp(0.0, 1.0) })
        })
        .collect();
    let households: Vec<u32> = homes.iter().map(|b| b.households.count).collect();
    let unreachable: BTreeMap<String, u64> =
        coverage::coverage(&access, &households, &[coverage::Grouping::city("city", homes.len())])
            .map_err(circles_err("coverage"))?
            .into_iter()
            .map(|r| (r.category, r.households_unreachable))
            .collect();
    let g = net.graph();
    let on_islands = origins.snaps().iter().filter(|s| s.as_ref().is_ok_and(|s| net.component_of(s) != 0)).count();
    let mut extra = serde_json::Map::new();
    extra.insert("buildings".into(), json!(homes.len()));
    extra.insert("households".into(), json!(households.iter().map(|&h| u64::from(h)).sum::<u64>()));
    extra.insert(
        "main_length_km".into(),
        json!(g.components().first().map_or(0.0, |c| (c.length_m / 10.0).round() / 100.0)),
    );
    extra.insert("buildings_on_islands".into(), json!(on_islands));
    extra.insert("facilities_not_on_network".into(), json!(placed.failures().len()));
    extra.insert("households_unreachable".into(), json!(unreachable));
    extra.insert("grid_plan".into(), json!(plan.map(|p| p.name.clone())));
    let run = CirclesRun {
        meta: CirclesMeta {
            computed_at: String::new(),
            speed_mps: profile.speed_mps(),
            profile: profile.name().to_string(),
            categories: selected
                .categories
                .iter()
                .map(|c| CircleCategory {
                    id: c.id.clone(),
                    level: c.level,
                    distance_m: c.distance_m,
                    weight: c.weight,
                })
                .collect(),
            graph: GraphSummary {
                nodes: g.stats().nodes as u64,
                edges: g.stats().edges as u64,
                islands: g.islands().len() as u64,
                unreachable_buildings: origins.failures().len() as u64,
                extra,
            },
        },
        results,
        scores,
        coverage: summaries,
    };
    (hooks.progress)(0.9, "saving");
    Ok(Output { run, net, origins, facilities: placed, homes })
}

/// One grouping level: per building, the regions it belongs to with the households it brings each.
type Level = (CoverageLevel, Vec<Vec<(String, u64)>>);

/// Per level, every building's regions with the households it brings to each: the plan's grids (a
/// building split by units brings each grid its units' households), its community, its street
/// (the community's parent street, else the street containing it) and the city.
fn groupings(layers: &Layers, homes: &[Building], plan: Option<&PlanRecord>) -> Vec<Level> {
    let mut out = Vec::new();
    if let Some(plan) = plan {
        let mut rows: HashMap<&str, Vec<(&str, Option<&str>)>> = HashMap::new();
        for a in &plan.assignments {
            rows.entry(a.building.as_str()).or_default().push((a.grid.as_str(), a.unit.as_deref()));
        }
        let keys = homes
            .iter()
            .map(|b| {
                let mut by_grid: BTreeMap<&str, u64> = BTreeMap::new();
                for &(grid, unit) in rows.get(b.source_id.as_str()).map(Vec::as_slice).unwrap_or(&[]) {
                    let hh = match unit {
                        None => b.households.count,
                        Some(u) => b.units.iter().find(|x| x.label == u).map_or(0, |x| x.households),
                    };
                    *by_grid.entry(grid).or_default() += u64::from(hh);
                }
                by_grid.into_iter().map(|(g, h)| (g.to_string(), h)).collect()
            })
            .collect();
        out.push((CoverageLevel::Grid, keys));
    }
    let regions: HashMap<&str, &wangge_core::Region> =
        layers.regions.iter().map(|r| (r.source_id.as_str(), r)).collect();
    let streets: Vec<&wangge_core::Region> = layers.regions.iter().filter(|r| r.level == RegionLevel::Street).collect();
    let street_ix = wangge_core::atlas::AreaIndex::new(streets.iter().map(|r| &r.area).collect());
    let mut community = Vec::with_capacity(homes.len());
    let mut street = Vec::with_capacity(homes.len());
    for b in homes {
        let hh = u64::from(b.households.count);
        let c = b.community.as_deref().filter(|c| regions.contains_key(c));
        community.push(c.map(|c| vec![(c.to_string(), hh)]).unwrap_or_default());
        let parent = c
            .and_then(|c| regions[c].parent.as_deref())
            .filter(|p| regions.get(p).is_some_and(|r| r.level == RegionLevel::Street));
        let s = parent.map(str::to_string).or_else(|| {
            b.shape.point().and_then(|p| street_ix.containing(p).first().map(|&k| streets[k].source_id.clone()))
        });
        street.push(s.map(|s| vec![(s, hh)]).unwrap_or_default());
    }
    out.push((CoverageLevel::Community, community));
    out.push((CoverageLevel::Street, street));
    out.push((
        CoverageLevel::City,
        homes.iter().map(|b| vec![("city".to_string(), u64::from(b.households.count))]).collect(),
    ));
    out
}

/// Coverage summaries per level, region and category.
fn summarise(access: &Accessibility, levels: &[Level]) -> Vec<CoverageSummary> {
    let mut out = Vec::new();
    for (level, keys) in levels {
        for c in &access.categories {
            let mut acc: BTreeMap<&str, [u64; 4]> = BTreeMap::new();
            for (i, entries) in keys.iter().enumerate() {
                let covered = c.covered(i);
                for (region, hh) in entries {
                    let a = acc.entry(region.as_str()).or_default();
                    a[1] += hh;
                    a[3] += 1;
                    if covered {
                        a[0] += hh;
                        a[2] += 1;
                    }
                }
            }
            out.extend(acc.into_iter().map(|(region, a)| CoverageSummary {
                category: c.category.clone(),
                level: *level,
                region: region.to_string(),
                households_covered: a[0],
                households_total: a[1],
                buildings_covered: a[2],
                buildings_total: a[3],
            }));
        }
    }
    out
}
