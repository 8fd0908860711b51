//! `wangge partition`, `wangge plans`, `wangge plan activate`: grids of whole buildings within a
//! household quota, from files (no store) or from the store (saved as a draft plan).

use anyhow::{Context, Result, bail};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;
use wangge_core::chinacoords::CoordSystem;
use wangge_core::plan::{PlanAssignment, PlanGrid, PlanRecord, PlanStatus};
use wangge_core::{Building, Catalogue, Layers};
use wangge_io::{GeoJsonRole, ReadOptions};
use wangge_partition::Quota;
use wangge_partition::metrics::Report;
use wangge_planning::run::{self, Input, RunResult, is_barrier};

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
    let selection = if which == "all" { run::Selection::All } else { run::Selection::Community(which.clone()) };
    let inputs = run::select(l, &selection)?;
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

/// Runs the engine over `inputs` with a progress bar on a terminal.
fn run_engine(
    inputs: Vec<Input>,
    compounds: &[wangge_core::Compound],
    barriers: &[wangge_core::BasemapFeature],
    quota: &Quota,
    seed: u64,
    previous: Option<&[PlanAssignment]>,
) -> Result<RunResult> {
    let bar = indicatif::ProgressBar::new(1000);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{elapsed_precise} [{bar:40}] {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    // Shown only on a terminal, and only for runs that last (indicatif draws after its first tick).
    if inputs.len() > 1 {
        bar.enable_steady_tick(std::time::Duration::from_millis(1000));
    }
    let progress = |fraction: f64, message: &str| {
        bar.set_position((fraction * 1000.0) as u64);
        bar.set_message(message.to_string());
    };
    let cancel = std::sync::atomic::AtomicBool::new(false);
    let hooks = run::Hooks { progress: &progress, cancel: &cancel };
    let result = run::run(inputs, compounds, barriers, quota, seed, previous, &hooks);
    bar.finish_and_clear();
    Ok(result?)
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
