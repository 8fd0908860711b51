//! A partition run over the model: choose communities, project them into one metric frame, run
//! the engine on each (in parallel), and bring codes, grid polygons, assignments and reports back
//! to WGS84 as plan rows.

use crate::{PlanningError, Result};
use geo::{BoundingRect, ConvexHull, MultiPoint, MultiPolygon, Point, Polygon};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;
use wangge_core::plan::{PlanAssignment, PlanGrid};
use wangge_core::projection::LocalFrame;
use wangge_core::{BasemapFeature, BasemapKind, Building, Compound, Layers, Region, RegionLevel, Shape};
use wangge_partition::districting::{self, Options, Outcome, Previous};
use wangge_partition::metrics::{self, Report};
use wangge_partition::{AtomId, Barrier, BuildingInput, Community, CompoundInput, Plan, Problem, Quota};

/// Road classes, railways and waterways that separate grids.
pub fn is_barrier(kind: BasemapKind, class: &str) -> bool {
    match kind {
        BasemapKind::Road => matches!(
            class,
            "primary"
                | "primary_link"
                | "secondary"
                | "secondary_link"
                | "tertiary"
                | "tertiary_link"
                | "trunk"
                | "trunk_link"
                | "motorway"
                | "motorway_link"
                | "barrier"
        ),
        BasemapKind::Rail => true,
        BasemapKind::Waterway => matches!(class, "river" | "canal" | "stream"),
        _ => false,
    }
}

/// One community to partition, in WGS84, before projection.
#[derive(Debug, Clone)]
pub struct Input {
    /// Community id (source id, or a code/name in file mode).
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its administrative code.
    pub code: Option<String>,
    /// Its boundary (WGS84).
    pub boundary: Option<MultiPolygon<f64>>,
    /// Its buildings with households.
    pub buildings: Vec<Building>,
}

/// Everything one run produced, in WGS84, sorted (assignments by building and unit, grids by id).
#[derive(Debug, Clone, Default)]
pub struct RunResult {
    /// One row per whole building, or per unit when a building is split across grids.
    pub assignments: Vec<PlanAssignment>,
    /// Grids with outlines.
    pub grids: Vec<PlanGrid>,
    /// The engine's report per community id.
    pub reports: Vec<(String, Report)>,
}

/// Which communities of the model a run partitions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// Every community (or, when the model has no community boundaries, every building as one area).
    All,
    /// One community, by source id or name.
    Community(String),
    /// Every community of a street, by the street's source id or name.
    Street(String),
}

/// The inputs of `selection` in `layers`: each chosen community with its buildings that have
/// households. Errors name the unknown community or street and list the known ones.
pub fn select(layers: &Layers, selection: &Selection) -> Result<Vec<Input>> {
    let communities: Vec<&Region> = layers.regions.iter().filter(|r| r.level == RegionLevel::Community).collect();
    let with_households = |b: &&Building| b.households.count > 0;
    if communities.is_empty() {
        if *selection != Selection::All {
            return Err(PlanningError::Selection(
                "the store has no community boundaries; use `all` to partition every building as one area".into(),
            ));
        }
        return Ok(vec![Input {
            id: "all".into(),
            name: "all".into(),
            code: None,
            boundary: None,
            buildings: layers.buildings.iter().filter(with_households).cloned().collect(),
        }]);
    }
    let chosen: Vec<&&Region> = match selection {
        Selection::All => communities.iter().collect(),
        Selection::Community(which) => {
            let c: Vec<_> = communities.iter().filter(|r| r.name == *which || r.source_id == *which).collect();
            if c.is_empty() {
                let known: Vec<&str> = communities.iter().map(|r| r.name.as_str()).collect();
                return Err(PlanningError::Selection(format!(
                    "no community named `{which}`; known: {}",
                    known.join(", ")
                )));
            }
            c
        }
        Selection::Street(which) => {
            let streets: Vec<&Region> = layers
                .regions
                .iter()
                .filter(|r| r.level == RegionLevel::Street && (r.name == *which || r.source_id == *which))
                .collect();
            if streets.is_empty() {
                let known: Vec<&str> =
                    layers.regions.iter().filter(|r| r.level == RegionLevel::Street).map(|r| r.name.as_str()).collect();
                return Err(PlanningError::Selection(format!(
                    "no street named `{which}`; known: {}",
                    known.join(", ")
                )));
            }
            communities
                .iter()
                .filter(|c| streets.iter().any(|s| c.parent.as_deref() == Some(s.source_id.as_str())))
                .collect()
        }
    };
    let inputs: Vec<Input> = chosen
        .into_iter()
        .map(|r| Input {
            id: r.source_id.clone(),
            name: r.name.clone(),
            code: r.code.clone(),
            boundary: Some(r.area.clone()),
            buildings: layers
                .buildings
                .iter()
                .filter(with_households)
                .filter(|b| b.community.as_deref() == Some(r.source_id.as_str()))
                .cloned()
                .collect(),
        })
        .filter(|i| !i.buildings.is_empty())
        .collect();
    if inputs.is_empty() {
        return Err(PlanningError::Empty("the chosen communities have no buildings with households".into()));
    }
    Ok(inputs)
}

/// Progress and cancellation of a run.
pub struct Hooks<'a> {
    /// Told the fraction done (0..1) and what is happening.
    pub progress: &'a (dyn Fn(f64, &str) + Sync),
    /// Set to stop the run; it is checked between communities and phases.
    pub cancel: &'a AtomicBool,
}

impl Hooks<'_> {
    fn check(&self) -> Result<()> {
        if self.cancel.load(Ordering::Relaxed) { Err(PlanningError::Cancelled) } else { Ok(()) }
    }
}

/// The metric frame for a set of inputs: the local frame at the centre of their buildings.
pub fn frame_of(inputs: &[Input]) -> Result<LocalFrame> {
    let all_points: Vec<Point<f64>> =
        inputs.iter().flat_map(|i| i.buildings.iter().filter_map(|b| b.shape.point())).collect();
    let Some(extent) = MultiPoint(all_points).bounding_rect() else {
        return Err(PlanningError::Empty("no buildings to partition".into()));
    };
    Ok(LocalFrame::for_lonlat(extent.center().x, extent.center().y)?)
}

/// Projects `inputs` into `frame` and prepares one engine problem per community (atoms, mesh,
/// adjacency), with the `barriers` (basemap features that [`is_barrier`]) and `compounds` near it.
pub fn prepare(
    inputs: Vec<Input>,
    compounds: &[Compound],
    barriers: &[BasemapFeature],
    quota: &Quota,
    frame: &LocalFrame,
) -> Result<Vec<Problem>> {
    let proj_mp = |mp: &MultiPolygon<f64>| frame.project(mp);
    let mut barrier_lines = Vec::new();
    for f in barriers {
        let lines: Vec<geo::LineString<f64>> = match &f.geometry {
            geo::Geometry::LineString(l) => vec![l.clone()],
            geo::Geometry::MultiLineString(m) => m.0.clone(),
            geo::Geometry::Polygon(p) => vec![p.exterior().clone()],
            _ => vec![],
        };
        for (k, l) in lines.into_iter().enumerate() {
            barrier_lines.push((f, k, frame.project(&l)?));
        }
    }
    // Barrier lines by their boxes, so each community finds its own among a city's.
    let barrier_index: rstar::RTree<rstar::primitives::GeomWithData<rstar::primitives::Rectangle<[f64; 2]>, usize>> =
        rstar::RTree::bulk_load(
            barrier_lines
                .iter()
                .enumerate()
                .filter_map(|(i, (_, _, l))| {
                    let b = l.bounding_rect()?;
                    Some(rstar::primitives::GeomWithData::new(
                        rstar::primitives::Rectangle::from_corners([b.min().x, b.min().y], [b.max().x, b.max().y]),
                        i,
                    ))
                })
                .collect(),
        );
    let compound_polys: BTreeMap<&str, (&Compound, MultiPolygon<f64>)> =
        compounds.iter().map(|c| Ok((c.source_id.as_str(), (c, proj_mp(&c.area)?)))).collect::<Result<_>>()?;

    use rayon::prelude::*;
    inputs
        .into_par_iter()
        .map(|input| -> Result<Problem> {
            let mut bs = Vec::with_capacity(input.buildings.len());
            let mut member_points: BTreeMap<String, Vec<Point<f64>>> = BTreeMap::new();
            for b in &input.buildings {
                let Some(p) = b.shape.point() else { continue };
                let point = frame.project(&p)?;
                let footprint = match &b.shape {
                    Shape::Footprint(mp) => Some(proj_mp(mp)?),
                    Shape::Point(_) => None,
                };
                if let Some(c) = &b.compound {
                    member_points.entry(c.clone()).or_default().push(point);
                }
                bs.push(BuildingInput {
                    id: b.source_id.clone(),
                    households: b.households.count,
                    units: b.units.iter().map(|u| (u.label.clone(), u.households)).collect(),
                    point,
                    footprint,
                    compound: b.compound.clone(),
                });
            }
            // Compounds the buildings name: their outline when known, else the hull of their buildings.
            let cs: Vec<CompoundInput> = member_points
                .iter()
                .map(|(id, pts)| match compound_polys.get(id.as_str()) {
                    Some((c, area)) => CompoundInput { id: id.clone(), name: c.name.clone(), area: area.clone() },
                    None => CompoundInput {
                        id: id.clone(),
                        name: None,
                        area: MultiPolygon(vec![MultiPoint(pts.clone()).convex_hull()]),
                    },
                })
                .collect();
            let boundary: Option<Polygon<f64>> = match &input.boundary {
                Some(mp) => largest(proj_mp(mp)?),
                None => None,
            };
            let bbox = MultiPoint(bs.iter().map(|b| b.point).collect::<Vec<_>>()).bounding_rect();
            let mut near: Vec<usize> = match bbox {
                Some(a) => {
                    let pad = 200.0;
                    let env = rstar::AABB::from_corners(
                        [a.min().x - pad, a.min().y - pad],
                        [a.max().x + pad, a.max().y + pad],
                    );
                    barrier_index.locate_in_envelope_intersecting(&env).map(|g| g.data).collect()
                }
                None => Vec::new(),
            };
            near.sort_unstable();
            let bars: Vec<Barrier> = near
                .into_iter()
                .map(|i| {
                    let (f, k, l) = &barrier_lines[i];
                    Barrier {
                        id: if *k == 0 { f.source_id.clone() } else { format!("{}:{k}", f.source_id) },
                        kind: f.class.clone(),
                        name: f.name.clone(),
                        line: l.clone(),
                    }
                })
                .collect();
            let community = Community {
                id: input.id.clone(),
                name: input.name.clone(),
                code: input.code.clone(),
                boundary,
                buildings: bs,
                compounds: cs,
                barriers: bars,
            };
            wangge_partition::atoms::prepare(community, quota)
                .map_err(|source| PlanningError::Engine { context: format!("community `{}`", input.name), source })
        })
        .collect()
}

/// The plan rows of one community's `plan`: its grids (households, buildings, outline in WGS84)
/// and its assignments (one row per building when it is whole in one grid, else one per unit).
pub fn plan_rows(problem: &Problem, plan: &Plan, frame: &LocalFrame) -> Result<(Vec<PlanGrid>, Vec<PlanAssignment>)> {
    let polygons = wangge_partition::tessellate::tessellate(problem, plan).map_err(|source| PlanningError::Engine {
        context: format!("grid polygons of community `{}`", problem.community.name),
        source,
    })?;
    plan_rows_with(problem, plan, frame, &polygons)
}

/// [`plan_rows`] without outlines (every grid's `area` is `None`): for a plan whose grids cannot
/// all be drawn as one polygon each (e.g. an edit left a grid in two pieces).
pub fn plan_rows_unshaped(
    problem: &Problem,
    plan: &Plan,
    frame: &LocalFrame,
) -> Result<(Vec<PlanGrid>, Vec<PlanAssignment>)> {
    plan_rows_with(problem, plan, frame, &[])
}

fn plan_rows_with(
    problem: &Problem,
    plan: &Plan,
    frame: &LocalFrame,
    polygons: &[Polygon<f64>],
) -> Result<(Vec<PlanGrid>, Vec<PlanAssignment>)> {
    let households = plan.households(&problem.atoms);
    let mut buildings_in: Vec<BTreeSet<&str>> = vec![BTreeSet::new(); plan.grids()];
    for (a, g) in problem.atoms.iter().zip(&plan.grid_of) {
        buildings_in[g.0 as usize].insert(a.id.building.as_str());
    }
    let mut grids = Vec::with_capacity(plan.grids());
    for (gi, grid_id) in plan.grid_ids.iter().enumerate() {
        let area = polygons.get(gi).map(|p| frame.unproject(p)).transpose()?;
        grids.push(PlanGrid {
            grid: grid_id.clone(),
            community: problem.community.id.clone(),
            households: households[gi],
            buildings: buildings_in[gi].len() as u32,
            area,
        });
    }
    let mut by_building: BTreeMap<&str, Vec<(&AtomId, &str)>> = BTreeMap::new();
    for (a, g) in problem.atoms.iter().zip(&plan.grid_of) {
        by_building.entry(a.id.building.as_str()).or_default().push((&a.id, plan.grid_ids[g.0 as usize].as_str()));
    }
    let mut assignments = Vec::new();
    for (b, atoms) in by_building {
        let in_grids: BTreeSet<&str> = atoms.iter().map(|(_, g)| *g).collect();
        if in_grids.len() == 1 {
            assignments.push(PlanAssignment { building: b.to_string(), unit: None, grid: atoms[0].1.to_string() });
        } else {
            for (id, g) in atoms {
                assignments.push(PlanAssignment {
                    building: b.to_string(),
                    unit: id.unit.clone(),
                    grid: g.to_string(),
                });
            }
        }
    }
    Ok((grids, assignments))
}

/// Partitions every input within `quota` (in parallel; `previous`, e.g. the active plan's
/// assignments, keeps grids stable), gives grids their codes and polygons, and brings everything
/// back to WGS84. Progress goes from 0.1 (prepared) through 0.9 (every community partitioned).
pub fn run(
    inputs: Vec<Input>,
    compounds: &[Compound],
    barriers: &[BasemapFeature],
    quota: &Quota,
    seed: u64,
    previous: Option<&[PlanAssignment]>,
    hooks: &Hooks<'_>,
) -> Result<RunResult> {
    use rayon::prelude::*;
    let frame = frame_of(&inputs)?;
    (hooks.progress)(0.0, "preparing communities (atoms, mesh, adjacency)");
    let phase = Instant::now();
    let problems = prepare(inputs, compounds, barriers, quota, &frame)?;
    tracing::info!(communities = problems.len(), ms = phase.elapsed().as_millis() as u64, "prepared");
    hooks.check()?;
    (hooks.progress)(0.1, &format!("partitioning {} communities", problems.len()));
    let prev_map: Option<BTreeMap<AtomId, String>> = previous.map(|rows| previous_by_atom(&problems, rows));
    let prev = prev_map.as_ref().map(|m| Previous { grid_of: m.clone() });
    let opts = Options { quota: *quota, seed };
    let started = Instant::now();
    let done = AtomicUsize::new(0);
    let total = problems.len().max(1);
    let outcomes: Vec<Option<Outcome>> = problems
        .par_iter()
        .map(|p| {
            if hooks.cancel.load(Ordering::Relaxed) {
                return None;
            }
            let o = districting::partition(p, &opts, prev.as_ref());
            let n = done.fetch_add(1, Ordering::Relaxed) + 1;
            (hooks.progress)(0.1 + 0.8 * n as f64 / total as f64, &format!("partitioned {n} of {total} communities"));
            Some(o)
        })
        .collect();
    hooks.check()?;
    let outcomes: Vec<Outcome> = outcomes.into_iter().flatten().collect();
    tracing::info!(ms = started.elapsed().as_millis() as u64, "partitioned");
    (hooks.progress)(0.9, "codes, grid polygons and reports");
    let parts: Vec<RunResult> = problems
        .par_iter()
        .zip(outcomes.into_par_iter())
        .map(|(problem, mut outcome)| -> Result<RunResult> {
            wangge_partition::codes::assign_codes(problem, &mut outcome.plan, prev_map.as_ref());
            let polygons = wangge_partition::tessellate::tessellate(problem, &outcome.plan).map_err(|source| {
                PlanningError::Engine {
                    context: format!("grid polygons of community `{}`", problem.community.name),
                    source,
                }
            })?;
            let report = metrics::report(problem, &outcome.plan, quota, &polygons, &outcome, started.elapsed());
            let (grids, assignments) = plan_rows_with(problem, &outcome.plan, &frame, &polygons)?;
            Ok(RunResult { assignments, grids, reports: vec![(problem.community.id.clone(), report)] })
        })
        .collect::<Result<Vec<_>>>()?;
    let mut result = RunResult::default();
    for part in parts {
        result.assignments.extend(part.assignments);
        result.grids.extend(part.grids);
        result.reports.extend(part.reports);
    }
    result.assignments.sort();
    result.grids.sort_by(|a, b| a.grid.cmp(&b.grid));
    Ok(result)
}

/// The previous grid of every atom: its own row (building + unit), else its building's whole row.
pub fn previous_by_atom(problems: &[Problem], rows: &[PlanAssignment]) -> BTreeMap<AtomId, String> {
    let by_key: BTreeMap<(&str, Option<&str>), &str> =
        rows.iter().map(|r| ((r.building.as_str(), r.unit.as_deref()), r.grid.as_str())).collect();
    let mut out = BTreeMap::new();
    for p in problems {
        for a in &p.atoms {
            let own = by_key.get(&(a.id.building.as_str(), a.id.unit.as_deref()));
            let whole = by_key.get(&(a.id.building.as_str(), None));
            if let Some(g) = own.or(whole) {
                out.insert(a.id.clone(), g.to_string());
            }
        }
    }
    out
}

/// The largest polygon of a set (a community boundary is one area).
pub fn largest(mp: MultiPolygon<f64>) -> Option<Polygon<f64>> {
    use geo::Area;
    mp.0.into_iter().max_by(|a, b| a.unsigned_area().total_cmp(&b.unsigned_area()))
}
