//! `wangge partition`, `wangge plans`, `wangge plan activate`: grids of whole buildings within a
//! household quota, from files (no store) or from the store (saved as a draft plan).

use anyhow::{Context, Result, bail};
use geo::{BoundingRect, ConvexHull, MultiPoint, MultiPolygon, Point, Polygon};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::Instant;
use wangge_core::chinacoords::CoordSystem;
use wangge_core::plan::{PlanAssignment, PlanGrid, PlanRecord, PlanStatus};
use wangge_core::projection::LocalFrame;
use wangge_core::{BasemapKind, Building, Catalogue, Layers, Shape};
use wangge_io::{GeoJsonRole, ReadOptions};
use wangge_partition::districting::{self, Options, Outcome, Previous};
use wangge_partition::metrics::{self, Report};
use wangge_partition::{AtomId, Barrier, BuildingInput, Community, CompoundInput, Problem, Quota};

/// Arguments of `wangge partition`.
#[derive(clap::Args, Debug)]
pub struct PartitionArgs {
    /// Store mode: the community to partition (name, id or `all`).
    #[arg(long, conflicts_with = "buildings")]
    community: Option<String>,
    /// Store mode: name of the draft plan to save (default `draft`).
    #[arg(long, requires = "community")]
    plan: Option<String>,
    /// File mode: buildings GeoJSON (`id`, `households`, optional `compound`, `units`).
    #[arg(long)]
    buildings: Option<PathBuf>,
    /// File mode: community boundaries GeoJSON (each polygon with `name`, optional `code`).
    #[arg(long, requires = "buildings")]
    boundary: Option<PathBuf>,
    /// File mode: barrier lines GeoJSON (major roads, railways, rivers).
    #[arg(long, requires = "buildings", conflicts_with = "osm")]
    barriers: Option<PathBuf>,
    /// File mode: an OpenStreetMap file to take barriers (and compound outlines) from.
    #[arg(long, requires = "buildings")]
    osm: Option<PathBuf>,
    /// The previous plan's assignment CSV (`building_id,unit,grid_id`), for a stable re-partition.
    #[arg(long)]
    previous: Option<PathBuf>,
    /// File mode: where to write the grid polygons (GeoJSON).
    #[arg(long, requires = "buildings")]
    out: Option<PathBuf>,
    /// File mode: where to write the assignment CSV.
    #[arg(long, requires = "buildings")]
    assignment: Option<PathBuf>,
    /// Where to write the report (JSON).
    #[arg(long)]
    report: Option<PathBuf>,
    /// Fewest households in a grid.
    #[arg(long)]
    min: u32,
    /// Most households in a grid.
    #[arg(long)]
    max: u32,
    /// Ideal households in a grid (default: the middle).
    #[arg(long)]
    target: Option<u32>,
    /// Seed for the (deterministic) search.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Coordinate system of the input files: wgs84, gcj02 or bd09.
    #[arg(long, default_value = "wgs84", value_parser = crate::parse_coords)]
    input_coords: CoordSystem,
}

/// Road classes, railways and waterways that separate grids.
fn is_barrier(kind: BasemapKind, class: &str) -> bool {
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
struct Input {
    id: String,
    name: String,
    code: Option<String>,
    boundary: Option<MultiPolygon<f64>>,
    buildings: Vec<Building>,
}

/// Everything one run produced, back in WGS84.
struct RunResult {
    assignments: Vec<PlanAssignment>,
    grids: Vec<PlanGrid>,
    reports: Vec<(String, Report)>,
}

fn read_layers(path: &std::path::Path, opts: &ReadOptions) -> Result<Layers> {
    Ok(wangge_io::read(path, opts)?.layers)
}

/// Runs `wangge partition`.
pub async fn run(db: &str, catalogue: Catalogue, args: PartitionArgs) -> Result<()> {
    let quota = Quota::new(args.min, args.max, args.target).context("--min/--max/--target")?;
    let started = Instant::now();
    if let Some(buildings_path) = &args.buildings {
        let (Some(out), Some(assignment_out)) = (&args.out, &args.assignment) else {
            bail!("file mode needs --out grids.geojson and --assignment A.csv");
        };
        let opts = ReadOptions { catalogue, input_coords: args.input_coords, ..ReadOptions::default() };
        let read_started = Instant::now();
        let layers = read_layers(buildings_path, &opts)?;
        tracing::info!(
            buildings = layers.buildings.len(),
            ms = read_started.elapsed().as_millis() as u64,
            "read buildings"
        );
        if layers.buildings.is_empty() {
            bail!("{}: no buildings", buildings_path.display());
        }
        for b in &layers.buildings {
            if b.households.count == 0 {
                bail!(
                    "{}: building `{}`: field `households`: missing or zero (every building to partition needs its households)",
                    buildings_path.display(),
                    b.source_id
                );
            }
        }
        let mut compounds = layers.compounds.clone();
        let mut barriers = Vec::new();
        if let Some(p) = &args.barriers {
            let l = read_layers(p, &ReadOptions { geojson_role: GeoJsonRole::Barriers, ..opts.clone() })?;
            barriers.extend(l.basemap.into_iter().filter(|f| is_barrier(f.kind, &f.class)));
        }
        if let Some(p) = &args.osm {
            let l = read_layers(p, &opts)?;
            barriers.extend(l.basemap.into_iter().filter(|f| is_barrier(f.kind, &f.class)));
            compounds.extend(l.compounds);
        }
        let inputs = match &args.boundary {
            None => vec![Input {
                id: "community".into(),
                name: buildings_path.file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_default(),
                code: None,
                boundary: None,
                buildings: layers.buildings.clone(),
            }],
            Some(p) => {
                let l = read_layers(p, &ReadOptions { geojson_role: GeoJsonRole::Boundaries, ..opts.clone() })?;
                compounds.extend(l.compounds.iter().cloned());
                let communities: Vec<wangge_core::Region> =
                    l.regions.into_iter().filter(|r| r.level == wangge_core::RegionLevel::Community).collect();
                if communities.is_empty() {
                    bail!("{}: no community polygons", p.display());
                }
                split_by_boundary(&layers.buildings, &communities, p)?
            }
        };
        let previous = args.previous.as_deref().map(wangge_io::assignment::read).transpose()?;
        let result = run_engine(inputs, &compounds, &barriers, &quota, args.seed, previous.as_deref())?;
        let fc = grids_collection(&result.grids);
        wangge_io::export::write_json_atomic(out, &fc)?;
        wangge_io::assignment::write(assignment_out, &result.assignments)?;
        finish(&result, &args, started)?;
        return Ok(());
    }

    // Store mode.
    let Some(which) = &args.community else {
        bail!("give --community <name|id|all> (store mode) or --buildings B.geojson (file mode)");
    };
    let store = crate::open_store(db).await?;
    let atlas = wangge_core::Atlas::new(store.load().await.context("loading the store")?);
    let l = atlas.layers();
    let communities: Vec<&wangge_core::Region> =
        l.regions.iter().filter(|r| r.level == wangge_core::RegionLevel::Community).collect();
    let with_households = |b: &&Building| b.households.count > 0;
    let inputs: Vec<Input> = if communities.is_empty() {
        if which != "all" {
            bail!("the store has no community boundaries; use --community all to partition every building as one area");
        }
        vec![Input {
            id: "all".into(),
            name: "all".into(),
            code: None,
            boundary: None,
            buildings: l.buildings.iter().filter(with_households).cloned().collect(),
        }]
    } else {
        let chosen: Vec<&&wangge_core::Region> =
            communities.iter().filter(|r| which == "all" || r.name == *which || r.source_id == *which).collect();
        if chosen.is_empty() {
            let known: Vec<&str> = communities.iter().map(|r| r.name.as_str()).collect();
            bail!("no community named `{which}`; known: {}", known.join(", "));
        }
        chosen
            .into_iter()
            .map(|r| Input {
                id: r.source_id.clone(),
                name: r.name.clone(),
                code: r.code.clone(),
                boundary: Some(r.area.clone()),
                buildings: l
                    .buildings
                    .iter()
                    .filter(with_households)
                    .filter(|b| b.community.as_deref() == Some(r.source_id.as_str()))
                    .cloned()
                    .collect(),
            })
            .collect()
    };
    let barriers: Vec<_> = l.basemap.iter().filter(|f| is_barrier(f.kind, &f.class)).cloned().collect();
    let active = store.active_plan().await?;
    let previous: Option<Vec<PlanAssignment>> = match &args.previous {
        Some(p) => Some(wangge_io::assignment::read(p)?),
        None => active.map(|p| p.assignments),
    };
    let result = run_engine(inputs, &l.compounds, &barriers, &quota, args.seed, previous.as_deref())?;
    let name = args.plan.clone().unwrap_or_else(|| "draft".into());
    let metrics = serde_json::to_value(result.reports.iter().map(|(c, r)| (c.clone(), r)).collect::<BTreeMap<_, _>>())?;
    let record = PlanRecord {
        name: name.clone(),
        status: PlanStatus::Draft,
        version: 0,
        quota_min: quota.min,
        quota_max: quota.max,
        quota_target: quota.target,
        metrics,
        assignments: result.assignments.clone(),
        grids: result.grids.clone(),
        created_at: String::new(),
    };
    let saved = store.save_plan(&record).await.with_context(|| format!("saving plan `{name}`"))?;
    finish(&result, &args, started)?;
    println!("saved draft plan `{}` (version {}) with {} grids", saved.name, saved.version, saved.grids.len());
    Ok(())
}

/// Buildings grouped by the boundary polygon containing their interior point; a building in no
/// boundary is an error naming it.
fn split_by_boundary(
    buildings: &[Building],
    regions: &[wangge_core::Region],
    path: &std::path::Path,
) -> Result<Vec<Input>> {
    let mut groups: Vec<Vec<Building>> = vec![Vec::new(); regions.len()];
    let mut outside = Vec::new();
    let index = wangge_core::atlas::AreaIndex::new(regions.iter().map(|r| &r.area).collect());
    for b in buildings {
        match b.shape.point().and_then(|p| index.containing(p).first().copied()) {
            Some(i) => groups[i].push(b.clone()),
            None => outside.push(b.source_id.clone()),
        }
    }
    if !outside.is_empty() {
        bail!(
            "{}: {} building(s) lie in no community polygon, e.g. {}",
            path.display(),
            outside.len(),
            outside.iter().take(5).cloned().collect::<Vec<_>>().join(", ")
        );
    }
    Ok(regions
        .iter()
        .zip(groups)
        .filter(|(_, g)| !g.is_empty())
        .map(|(r, g)| Input {
            id: r.code.clone().unwrap_or_else(|| r.name.clone()),
            name: r.name.clone(),
            code: r.code.clone(),
            boundary: Some(r.area.clone()),
            buildings: g,
        })
        .collect())
}

/// Projects the inputs, partitions every community (in parallel), gives grids their codes and
/// polygons, and brings everything back to WGS84.
fn run_engine(
    inputs: Vec<Input>,
    compounds: &[wangge_core::Compound],
    barriers: &[wangge_core::BasemapFeature],
    quota: &Quota,
    seed: u64,
    previous: Option<&[PlanAssignment]>,
) -> Result<RunResult> {
    let all_points: Vec<Point<f64>> =
        inputs.iter().flat_map(|i| i.buildings.iter().filter_map(|b| b.shape.point())).collect();
    let Some(extent) = MultiPoint(all_points).bounding_rect() else { bail!("no buildings to partition") };
    let frame = LocalFrame::for_lonlat(extent.center().x, extent.center().y)?;
    let proj_mp = |mp: &MultiPolygon<f64>| frame.project(mp);

    // Barriers and compounds, projected once.
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
    let compound_polys: BTreeMap<&str, (&wangge_core::Compound, MultiPolygon<f64>)> =
        compounds.iter().map(|c| Ok((c.source_id.as_str(), (c, proj_mp(&c.area)?)))).collect::<Result<_>>()?;

    let phase = Instant::now();
    let problems: Vec<Problem> = {
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
                let problem = wangge_partition::atoms::prepare(community, quota)
                    .with_context(|| format!("community `{}`", input.name))?;
                Ok(problem)
            })
            .collect::<Result<Vec<_>>>()?
    };

    tracing::info!(
        communities = problems.len(),
        ms = phase.elapsed().as_millis() as u64,
        "prepared (atoms, mesh, adjacency)"
    );
    let phase = Instant::now();
    let prev_map: Option<BTreeMap<AtomId, String>> = previous.map(|rows| previous_by_atom(&problems, rows));
    let prev = prev_map.as_ref().map(|m| Previous { grid_of: m.clone() });
    let opts = Options { quota: *quota, seed };
    let started = Instant::now();
    let bar = indicatif::ProgressBar::new(problems.len() as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{elapsed_precise} [{bar:40}] {pos}/{len} communities")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    // Shown only on a terminal, and only for runs that last (indicatif draws after its first tick).
    if problems.len() > 1 {
        bar.enable_steady_tick(std::time::Duration::from_millis(1000));
    }
    let outcomes: Vec<Outcome> = {
        use rayon::prelude::*;
        problems
            .par_iter()
            .map(|p| {
                let o = districting::partition(p, &opts, prev.as_ref());
                bar.inc(1);
                o
            })
            .collect()
    };
    bar.finish_and_clear();
    tracing::info!(ms = phase.elapsed().as_millis() as u64, "partitioned");
    let phase = Instant::now();

    // Codes, polygons and reports of every community, in parallel, merged in community order.
    let parts: Vec<RunResult> = {
        use rayon::prelude::*;
        problems
            .par_iter()
            .zip(outcomes.into_par_iter())
            .map(|(problem, mut outcome)| -> Result<RunResult> {
                let mut result = RunResult { assignments: Vec::new(), grids: Vec::new(), reports: Vec::new() };
                wangge_partition::codes::assign_codes(problem, &mut outcome.plan, prev_map.as_ref());
                let polygons = wangge_partition::tessellate::tessellate(problem, &outcome.plan)
                    .with_context(|| format!("grid polygons of community `{}`", problem.community.name))?;
                let report = metrics::report(problem, &outcome.plan, quota, &polygons, &outcome, started.elapsed());
                let plan = &outcome.plan;
                let households = plan.households(&problem.atoms);
                let mut buildings_in: Vec<BTreeSet<&str>> = vec![BTreeSet::new(); plan.grids()];
                for (a, g) in problem.atoms.iter().zip(&plan.grid_of) {
                    buildings_in[g.0 as usize].insert(a.id.building.as_str());
                }
                for (gi, grid_id) in plan.grid_ids.iter().enumerate() {
                    let area = polygons.get(gi).map(|p| frame.unproject(p)).transpose()?;
                    result.grids.push(PlanGrid {
                        grid: grid_id.clone(),
                        community: problem.community.id.clone(),
                        households: households[gi],
                        buildings: buildings_in[gi].len() as u32,
                        area,
                    });
                }
                // One row per building when it is whole in one grid, else one row per unit.
                let mut by_building: BTreeMap<&str, Vec<(&AtomId, &str)>> = BTreeMap::new();
                for (a, g) in problem.atoms.iter().zip(&plan.grid_of) {
                    by_building
                        .entry(a.id.building.as_str())
                        .or_default()
                        .push((&a.id, plan.grid_ids[g.0 as usize].as_str()));
                }
                for (b, atoms) in by_building {
                    let grids: BTreeSet<&str> = atoms.iter().map(|(_, g)| *g).collect();
                    if grids.len() == 1 {
                        result.assignments.push(PlanAssignment {
                            building: b.to_string(),
                            unit: None,
                            grid: atoms[0].1.to_string(),
                        });
                    } else {
                        for (id, g) in atoms {
                            result.assignments.push(PlanAssignment {
                                building: b.to_string(),
                                unit: id.unit.clone(),
                                grid: g.to_string(),
                            });
                        }
                    }
                }
                result.reports.push((problem.community.id.clone(), report));
                Ok(result)
            })
            .collect::<Result<Vec<_>>>()?
    };
    let mut result = RunResult { assignments: Vec::new(), grids: Vec::new(), reports: Vec::new() };
    for part in parts {
        result.assignments.extend(part.assignments);
        result.grids.extend(part.grids);
        result.reports.extend(part.reports);
    }
    tracing::info!(ms = phase.elapsed().as_millis() as u64, "codes, polygons and reports");
    result.assignments.sort();
    result.grids.sort_by(|a, b| a.grid.cmp(&b.grid));
    Ok(result)
}

/// The previous grid of every atom: its own row (building + unit), else its building's whole row.
fn previous_by_atom(problems: &[Problem], rows: &[PlanAssignment]) -> BTreeMap<AtomId, String> {
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
fn largest(mp: MultiPolygon<f64>) -> Option<Polygon<f64>> {
    use geo::Area;
    mp.0.into_iter().max_by(|a, b| a.unsigned_area().total_cmp(&b.unsigned_area()))
}

fn grids_collection(grids: &[PlanGrid]) -> geojson::FeatureCollection {
    let features = grids
        .iter()
        .filter_map(|g| {
            let area = g.area.as_ref()?;
            let geom = wangge_core::features::geometry(&geo::Geometry::Polygon(area.clone()), CoordSystem::Wgs84);
            let mut props = geojson::JsonObject::new();
            props.insert("grid_id".into(), g.grid.clone().into());
            props.insert("community".into(), g.community.clone().into());
            props.insert("households".into(), g.households.into());
            props.insert("buildings".into(), g.buildings.into());
            Some(geojson::Feature {
                bbox: None,
                geometry: Some(geom),
                id: Some(geojson::feature::Id::String(g.grid.clone())),
                properties: Some(props),
                foreign_members: None,
            })
        })
        .collect();
    wangge_core::features::collection(features)
}

fn finish(result: &RunResult, args: &PartitionArgs, started: Instant) -> Result<()> {
    for (community, r) in &result.reports {
        println!("community {community}");
        println!("{r}");
    }
    println!(
        "{} grids, {} assignments in {:.2} s",
        result.grids.len(),
        result.assignments.len(),
        started.elapsed().as_secs_f64()
    );
    if let Some(p) = &args.report {
        let json: BTreeMap<&str, &Report> = result.reports.iter().map(|(c, r)| (c.as_str(), r)).collect();
        wangge_io::export::write_json_atomic(p, &json)?;
    }
    Ok(())
}

/// `wangge plans`: the plans in the store with their metrics.
pub async fn list(db: &str) -> Result<()> {
    let store = crate::open_store(db).await?;
    let plans = store.plans().await?;
    if plans.is_empty() {
        println!("no plans yet: run `wangge partition --community all --min 300 --max 500`");
    }
    for p in plans {
        println!(
            "{:<24} {:<8} v{:<4} quota {}..{} (target {})  created {}",
            p.name,
            p.status.as_str(),
            p.version,
            p.quota_min,
            p.quota_max,
            p.quota_target,
            p.created_at
        );
    }
    Ok(())
}

/// `wangge plan activate NAME`.
pub async fn activate(db: &str, name: &str) -> Result<()> {
    let store = crate::open_store(db).await?;
    store.activate_plan(name).await.with_context(|| format!("activating plan `{name}`"))?;
    println!("plan `{name}` is now active");
    Ok(())
}
