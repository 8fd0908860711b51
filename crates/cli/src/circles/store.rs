//! Store mode: `wangge circles compute`, `report` and `site`, on the city in the store.

use super::{
    Progress, WalkArgs, facilities_of, read_points, report_facilities, report_network, select_categories, share,
    thousands,
};
use anyhow::{Context, Result, anyhow, bail};
use clap::Args;
use serde_json::json;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::time::Instant;
use wangge_circles::siting::{self, Candidates};
use wangge_circles::{Network, NetworkOptions, ReachOptions};
use wangge_core::chinacoords::CoordSystem;
use wangge_core::{Atlas, Building, Catalogue, Layers};
use wangge_store::{CirclesMeta, CoverageLevel, CoverageSummary, SiteSuggestion, Store};

/// Arguments of `wangge circles compute`.
#[derive(Args, Debug)]
pub struct ComputeArgs {
    /// Categories: `all` or catalogue ids separated by commas (the stored run holds only these).
    #[arg(long, default_value = "all")]
    category: String,
    #[command(flatten)]
    walk: WalkArgs,
}

/// Arguments of `wangge circles report`.
#[derive(Args, Debug)]
pub struct ReportArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Levels to show, separated by commas: city, street, community, grid, or all.
    #[arg(long, default_value = "city,community")]
    level: String,
    /// Only this category.
    #[arg(long)]
    category: Option<String>,
}

/// Arguments of `wangge circles site`.
#[derive(Args, Debug)]
pub struct SiteArgs {
    /// The category to add facilities of.
    #[arg(long)]
    category: String,
    /// How many facilities to add.
    #[arg(long)]
    count: usize,
    /// Candidate sites CSV (`id,lon,lat`); every node of the walking network when not given.
    #[arg(long)]
    candidates: Option<PathBuf>,
    /// Buildings and candidates farther than this from every walkable way are not placed, metres.
    #[arg(long, default_value_t = 300.0, allow_negative_numbers = true)]
    max_snap: f64,
    /// Coordinate system of --candidates: wgs84, gcj02 or bd09.
    #[arg(long, default_value = "wgs84", value_parser = crate::parse_coords)]
    input_coords: CoordSystem,
    /// Coordinate system of the printed sites: wgs84, gcj02 or bd09 (they are stored in WGS84).
    #[arg(long, default_value = "wgs84", value_parser = crate::parse_coords)]
    coords: CoordSystem,
}

/// The city in the store: its layers (register applied) and the buildings with households.
async fn load_city(store: &dyn Store) -> Result<(Layers, Vec<Building>)> {
    let layers = Atlas::new(store.load().await.context("loading the store")?).into_layers();
    if layers.edges.is_empty() {
        bail!("the store has no walking network: import an OpenStreetMap file first (`wangge import city.osm.pbf`)");
    }
    let homes: Vec<Building> = layers.buildings.iter().filter(|b| b.households.count > 0).cloned().collect();
    if homes.is_empty() {
        bail!("the store has no buildings with households: import buildings (and a register or population grid) first");
    }
    Ok((layers, homes))
}

// ---- compute --------------------------------------------------------------------------------

/// `wangge circles compute`.
pub async fn compute(db: &str, catalogue: Catalogue, args: ComputeArgs) -> Result<()> {
    let started = Instant::now();
    let profile = args.walk.profile()?;
    let opts = args.walk.network_options(true)?;
    let selected = select_categories(&catalogue, &args.category)?;
    let store = crate::open_store(db).await?;
    let progress = Progress::new(5 + selected.categories.len() as u64);
    progress.phase("loading the store");
    let (layers, _) = load_city(store.as_ref()).await?;
    progress.inc(1);
    progress.phase("walking to the nearest facilities");
    let plan = store.active_plan().await?;
    let facilities = facilities_of(&selected, &layers.facilities, &catalogue);
    let cancel = std::sync::atomic::AtomicBool::new(false);
    let hooks = wangge_planning::run::Hooks { progress: &|_, _| {}, cancel: &cancel };
    let out =
        wangge_planning::circles::compute(&layers, &selected, &facilities, &profile, &opts, plan.as_ref(), &hooks)?;
    let wangge_planning::circles::Output { run, net, origins, facilities, homes } = out;
    let categories = run.meta.categories.len();
    progress.inc(3 + categories as u64);
    progress.phase("saving");
    let meta = store.save_circles(&run).await.context("saving the life-circle results")?;
    progress.inc(1);
    drop(progress);

    report_network(&net, &origins, "buildings", &|i| homes[i].source_id.clone());
    report_facilities(&facilities);
    let city: Vec<&CoverageSummary> = run.coverage.iter().filter(|c| c.level == CoverageLevel::City).collect();
    print_table("city", &city, &meta);
    let mut per_level: BTreeMap<CoverageLevel, std::collections::BTreeSet<&str>> = BTreeMap::new();
    for c in &run.coverage {
        per_level.entry(c.level).or_default().insert(c.region.as_str());
    }
    println!(
        "saved {} results ({} buildings × {} categories), {} scores and coverage of {} at {} ({:.2} s); `wangge circles report` shows it",
        run.results.len(),
        homes.len(),
        categories,
        run.scores.len(),
        per_level
            .iter()
            .map(|(l, r)| format!("{} {}", r.len(), plural(l.as_str(), r.len())))
            .collect::<Vec<_>>()
            .join(", "),
        meta.computed_at,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn plural(level: &str, n: usize) -> String {
    match (level, n) {
        (l, 1) => l.to_string(),
        ("community", _) => "communities".into(),
        ("city", _) => "cities".into(),
        (l, _) => format!("{l}s"),
    }
}

// ---- report ---------------------------------------------------------------------------------

/// One table: category, threshold, households covered / total, share; rows in the run's order.
fn print_table(title: &str, rows: &[&CoverageSummary], meta: &CirclesMeta) {
    println!("{title}");
    println!("  {:<28} {:>9}  {:>26}  {:>6}", "category", "threshold", "households covered / total", "share");
    for cat in &meta.categories {
        for r in rows.iter().filter(|r| r.category == cat.id) {
            println!(
                "  {:<28} {:>7.0} m  {:>26}  {:>6}",
                r.category,
                cat.distance_m,
                format!("{} / {}", thousands(r.households_covered), thousands(r.households_total)),
                share(r.households_covered, r.households_total)
            );
        }
    }
}

/// `wangge circles report`.
pub async fn report(db: &str, _catalogue: Catalogue, args: ReportArgs) -> Result<()> {
    let mut levels = Vec::new();
    for l in args.level.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        if l == "all" {
            levels.extend(CoverageLevel::ALL);
        } else {
            levels.push(
                CoverageLevel::parse(l)
                    .ok_or_else(|| anyhow!("--level: `{l}` is not one of city, street, community, grid, all"))?,
            );
        }
    }
    levels.sort_by_key(|l| std::cmp::Reverse(*l));
    levels.dedup();
    let store = crate::open_store(db).await?;
    let meta = store
        .circles_run()
        .await?
        .ok_or_else(|| anyhow!("no life-circle results in the store yet: run `wangge circles compute` first"))?;
    if let Some(c) = &args.category
        && !meta.categories.iter().any(|k| &k.id == c)
    {
        bail!(
            "--category: `{c}` is not in the stored run; its categories: {}",
            meta.categories.iter().map(|k| k.id.as_str()).collect::<Vec<_>>().join(", ")
        );
    }
    let rows = store.coverage_summaries(None, args.category.as_deref()).await?;
    let rows: Vec<CoverageSummary> = rows.into_iter().filter(|r| levels.contains(&r.level)).collect();
    // Region names (communities and streets are stored by source id).
    let mut names: HashMap<String, String> = HashMap::new();
    if rows.iter().any(|r| matches!(r.level, CoverageLevel::Community | CoverageLevel::Street)) {
        for r in store.load().await.context("loading region names")?.regions {
            names.insert(r.source_id, r.name);
        }
    }
    let threshold: HashMap<&str, f64> = meta.categories.iter().map(|c| (c.id.as_str(), c.distance_m)).collect();
    let order: HashMap<&str, usize> = meta.categories.iter().enumerate().map(|(i, c)| (c.id.as_str(), i)).collect();
    let mut regions: BTreeMap<(std::cmp::Reverse<CoverageLevel>, String, String), Vec<&CoverageSummary>> =
        BTreeMap::new();
    for r in &rows {
        let name = names.get(&r.region).cloned().unwrap_or_else(|| r.region.clone());
        regions.entry((std::cmp::Reverse(r.level), name, r.region.clone())).or_default().push(r);
    }
    if args.json {
        let coverage: Vec<serde_json::Value> = regions
            .iter()
            .flat_map(|((_, name, _), list)| {
                let threshold = &threshold;
                let mut list = list.clone();
                list.sort_by_key(|r| order.get(r.category.as_str()).copied().unwrap_or(usize::MAX));
                list.into_iter().map(move |r| {
                    json!({
                        "level": r.level.as_str(),
                        "region": r.region,
                        "name": name,
                        "category": r.category,
                        "threshold_m": threshold.get(r.category.as_str()),
                        "households_covered": r.households_covered,
                        "households_total": r.households_total,
                        "share": if r.households_total == 0 { None } else { Some(r.households_covered as f64 / r.households_total as f64) },
                        "buildings_covered": r.buildings_covered,
                        "buildings_total": r.buildings_total,
                    })
                })
            })
            .collect();
        let out = json!({
            "computed_at": meta.computed_at,
            "profile": meta.profile,
            "speed_mps": meta.speed_mps,
            "categories": meta.categories,
            "graph": meta.graph,
            "coverage": coverage,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    println!(
        "life circles computed {} walking at {} m/s (profile {}); network {} nodes, {} edges, {} island(s); {} buildings not on the network",
        meta.computed_at,
        meta.speed_mps,
        meta.profile,
        meta.graph.nodes,
        meta.graph.edges,
        meta.graph.islands,
        meta.graph.unreachable_buildings
    );
    if regions.is_empty() {
        println!("no coverage rows at level(s) {}", levels.iter().map(|l| l.as_str()).collect::<Vec<_>>().join(", "));
    }
    for ((level, name, id), list) in &regions {
        let title = match level.0 {
            CoverageLevel::City => "city".to_string(),
            l if name != id => format!("{} {name} ({id})", l.as_str()),
            l => format!("{} {id}", l.as_str()),
        };
        println!();
        print_table(&title, list, &meta);
    }
    Ok(())
}

// ---- site -----------------------------------------------------------------------------------

/// `wangge circles site`.
pub async fn site(db: &str, catalogue: Catalogue, args: SiteArgs) -> Result<()> {
    let started = Instant::now();
    let category = catalogue.require(&args.category).context("--category")?.clone();
    if args.count == 0 {
        bail!("--count: must be at least 1");
    }
    if !(args.max_snap.is_finite() && args.max_snap >= 0.0) {
        bail!("--max-snap: must be a non-negative number of metres, got {}", args.max_snap);
    }
    let candidates = match &args.candidates {
        Some(p) => Some(read_points(p, args.input_coords)?),
        None => None,
    };
    let one = Catalogue { categories: vec![category.clone()] };
    let store = crate::open_store(db).await?;
    let progress = Progress::new(5);
    progress.phase("loading the store");
    let (layers, homes) = load_city(store.as_ref()).await?;
    progress.inc(1);
    progress.phase("building the walking graph");
    let opts = NetworkOptions { max_snap_m: args.max_snap, ..NetworkOptions::default() };
    let net = Network::from_layers(&layers, &opts)?;
    let own: Vec<wangge_core::Facility> =
        layers.facilities.iter().filter(|f| f.category == category.id).cloned().collect();
    let facilities = net.place_facilities(&own, &one)?;
    let origins = net.snap_buildings(&homes);
    progress.inc(1);
    progress.phase("walking to the nearest facilities");
    let current = net.nearest_facilities(&origins, &facilities, &category.id, &ReachOptions::default())?;
    progress.inc(1);
    progress.phase("what each candidate would cover");
    let households: Vec<u32> = homes.iter().map(|b| b.households.count).collect();
    let cands = match &candidates {
        Some(list) => Candidates::Points(list.iter().map(|p| p.location).collect()),
        None => Candidates::AllNodes,
    };
    let inst = net.siting_instance(&origins, &households, &current, category.distance_m, &cands)?;
    progress.inc(1);
    progress.phase("choosing sites");
    let solution = siting::solve(&inst.problem, args.count)?;
    progress.inc(1);
    drop(progress);

    report_network(&net, &origins, "buildings", &|i| homes[i].source_id.clone());
    report_facilities(&facilities);
    if let Some(list) = &candidates {
        let bad: Vec<String> = inst
            .candidates
            .iter()
            .zip(list)
            .filter_map(|(c, p)| c.failure.map(|f| format!("{} ({f})", p.id)))
            .collect();
        if !bad.is_empty() {
            eprintln!(
                "note: {} candidates are not on the walking network and cover nobody: {}",
                bad.len(),
                bad.iter().take(5).cloned().collect::<Vec<_>>().join(", ")
            );
        }
    }
    let total: u64 = households.iter().map(|&h| u64::from(h)).sum();
    let demand: u64 = inst.problem.weights.iter().sum();
    println!(
        "{} ({}), within {:.0} m: {} of {} households ({} buildings) are not covered now; {} facilities of it on the network",
        category.id,
        category.name_zh,
        category.distance_m,
        thousands(demand),
        thousands(total),
        inst.problem.weights.len(),
        current.facilities_placed
    );
    let mut covered = vec![false; inst.problem.weights.len()];
    let mut sites = Vec::with_capacity(solution.sites.len());
    println!(
        "  {:>4}  {:>12}  {:>12}  {:>17}  {:>16}  where",
        "rank", "lon", "lat", "households gained", "buildings gained"
    );
    for (k, (&s, &gain)) in solution.sites.iter().zip(&solution.marginal).enumerate() {
        let mut buildings = 0u64;
        for &d in &inst.problem.covers[s] {
            if !std::mem::replace(&mut covered[d as usize], true) {
                buildings += 1;
            }
        }
        let cand = &inst.candidates[s];
        let (lon, lat) = (cand.location.x(), cand.location.y());
        let node = cand.node.and_then(|n| net.graph().node_id(n)).map(str::to_string);
        let candidate = candidates.as_ref().map(|list| list[s].id.clone());
        let place = match (&candidate, &node) {
            (Some(c), _) => format!("candidate {c}"),
            (None, Some(n)) => format!("network node {n}"),
            _ => String::new(),
        };
        let (plon, plat) = args.coords.from_wgs84(lon, lat);
        println!("  {:>4}  {plon:>12.7}  {plat:>12.7}  {:>17}  {buildings:>16}  {place}", k + 1, thousands(gain));
        sites.push(SiteSuggestion {
            category: category.id.clone(),
            rank: k as u32 + 1,
            lon,
            lat,
            households_gained: gain,
            detail: json!({
                "buildings_gained": buildings,
                "node": node,
                "candidate": candidate,
                "threshold_m": category.distance_m,
            }),
        });
    }
    if solution.sites.len() < args.count {
        println!("  only {} site(s) cover anyone not covered now", solution.sites.len());
    }
    store.save_sites(&category.id, &sites).await.with_context(|| format!("saving the sites of {}", category.id))?;
    println!(
        "{} site(s) newly cover {} households ({} of those not covered); saved ({:.2} s)",
        sites.len(),
        thousands(solution.total),
        share(solution.total, demand),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
