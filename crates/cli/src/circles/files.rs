//! File mode, no store: `wangge circles nearest`, `isochrones` and `coverage`, each on the walking
//! network of one OpenStreetMap file.

use super::{
    Progress, WalkArgs, facilities_of, read_city, read_facilities, read_points, report_facilities, report_network,
    select_categories, share, thousands,
};
use anyhow::{Context, Result, bail};
use clap::Args;
use geojson::{Feature, JsonObject, JsonValue};
use rayon::prelude::*;
use serde_json::json;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;
use wangge_circles::{
    Accessibility, FacilitySet, IsochroneOptions, Network, NetworkOptions, ReachOptions, ReachStatus, coverage,
};
use wangge_core::chinacoords::CoordSystem;
use wangge_core::features::{self, HouseholdPrivacy};
use wangge_core::{Catalogue, Facility};

/// Arguments of `wangge circles nearest`.
#[derive(Args, Debug)]
pub struct NearestArgs {
    /// OpenStreetMap file (PBF or XML) with the walking network (and the facilities when
    /// --facilities is not given, found by the catalogue's tag rules).
    #[arg(long)]
    osm: PathBuf,
    /// Facilities GeoJSON: points or polygons with `id`, `category` (a catalogue id), optional `name`.
    #[arg(long)]
    facilities: Option<PathBuf>,
    /// Points CSV with the header `id,lon,lat`.
    #[arg(long)]
    points: PathBuf,
    /// Output CSV: `id,category,distance_m,time_s`, one row per point and category.
    #[arg(long)]
    out: PathBuf,
    /// Categories: `all` or catalogue ids separated by commas.
    #[arg(long, default_value = "all")]
    category: String,
    /// Farthest walk reported, metres: beyond it distance and time are empty.
    #[arg(long, default_value_t = 2000.0, allow_negative_numbers = true)]
    cutoff: f64,
    /// Apply the gated-compound rule to the points (a point inside a compound joins the network by
    /// the compound's own paths). Without it a point joins at the nearest walkable segment.
    #[arg(long)]
    compounds: bool,
    #[command(flatten)]
    walk: WalkArgs,
    /// Coordinate system of --points and --facilities: wgs84, gcj02 or bd09.
    #[arg(long, default_value = "wgs84", value_parser = crate::parse_coords)]
    input_coords: CoordSystem,
}

/// Arguments of `wangge circles isochrones`.
#[derive(Args, Debug)]
pub struct IsochronesArgs {
    /// OpenStreetMap file (PBF or XML) with the walking network.
    #[arg(long)]
    osm: PathBuf,
    /// Facilities GeoJSON: points or polygons with `id`, `category`, optional `name`.
    #[arg(long)]
    facilities: PathBuf,
    /// Walking minutes, separated by commas.
    #[arg(long, value_delimiter = ',', required = true, allow_negative_numbers = true)]
    minutes: Vec<f64>,
    /// Output GeoJSON: one feature per facility and minutes.
    #[arg(long)]
    out: PathBuf,
    /// Categories of the facilities to draw: `all` or catalogue ids separated by commas.
    #[arg(long, default_value = "all")]
    category: String,
    /// How far around the reached ways the area extends, metres.
    #[arg(long, default_value_t = 40.0)]
    offset: f64,
    /// Grid spacing of the outline, metres (at most offset / √2).
    #[arg(long, default_value_t = 10.0)]
    cell: f64,
    #[command(flatten)]
    walk: WalkArgs,
    /// Coordinate system of --facilities: wgs84, gcj02 or bd09.
    #[arg(long, default_value = "wgs84", value_parser = crate::parse_coords)]
    input_coords: CoordSystem,
    /// Coordinate system of the output: wgs84, gcj02 or bd09.
    #[arg(long, default_value = "wgs84", value_parser = crate::parse_coords)]
    coords: CoordSystem,
}

/// Arguments of `wangge circles coverage`.
#[derive(Args, Debug)]
pub struct CoverageArgs {
    /// OpenStreetMap file (PBF or XML) with the walking network and compounds (and the facilities
    /// when --facilities is not given).
    #[arg(long)]
    osm: PathBuf,
    /// Buildings GeoJSON (`id`, `households`, optional `compound`); households not given are
    /// estimated from floor area, as on import.
    #[arg(long)]
    buildings: PathBuf,
    /// Facilities GeoJSON: points or polygons with `id`, `category`, optional `name`.
    #[arg(long)]
    facilities: Option<PathBuf>,
    /// Output GeoJSON: the buildings with distance, time and coverage per category and `completeness`.
    #[arg(long)]
    out: PathBuf,
    /// Categories: `all` or catalogue ids separated by commas.
    #[arg(long, default_value = "all")]
    category: String,
    #[command(flatten)]
    walk: WalkArgs,
    /// Coordinate system of --buildings and --facilities: wgs84, gcj02 or bd09.
    #[arg(long, default_value = "wgs84", value_parser = crate::parse_coords)]
    input_coords: CoordSystem,
    /// Coordinate system of the output: wgs84, gcj02 or bd09.
    #[arg(long, default_value = "wgs84", value_parser = crate::parse_coords)]
    coords: CoordSystem,
}

/// The network of the city file and the facilities placed on it.
struct Prepared {
    net: Network,
    facilities: FacilitySet,
    /// Seconds spent reading the city file.
    read_s: f64,
    /// Seconds spent building the walking graph and placing the facilities.
    graph_s: f64,
}

/// Reads the city file, builds the network, places the facilities (from `facilities` when given,
/// else the city file's own).
fn prepare(
    osm: &Path,
    given: Option<Vec<Facility>>,
    selected: &Catalogue,
    full: &Catalogue,
    extra_compounds: &[wangge_core::Compound],
    opts: &NetworkOptions,
    progress: &Progress,
) -> Result<Prepared> {
    progress.phase("reading the city file");
    let t = Instant::now();
    let mut layers = read_city(osm, full)?;
    let read_s = t.elapsed().as_secs_f64();
    layers.compounds.extend(extra_compounds.iter().cloned());
    tracing::debug!(
        nodes = layers.nodes.len(),
        edges = layers.edges.len(),
        ms = t.elapsed().as_millis() as u64,
        "read the city file"
    );
    progress.inc(1);
    progress.phase("building the walking graph");
    let t = Instant::now();
    let net =
        Network::from_layers(&layers, opts).with_context(|| format!("the walking network of {}", osm.display()))?;
    tracing::debug!(ms = t.elapsed().as_millis() as u64, "built the walking graph");
    progress.inc(1);
    let facilities = match given {
        Some(f) => f,
        None => layers.facilities.clone(),
    };
    let facilities = net.place_facilities(&facilities_of(selected, &facilities, full), selected)?;
    Ok(Prepared { net, facilities, read_s, graph_s: t.elapsed().as_secs_f64() })
}

fn check_output(out: &Path) -> Result<()> {
    if out.is_dir() {
        bail!("{}: is a folder; --out needs a file name", out.display());
    }
    Ok(())
}

// ---- nearest --------------------------------------------------------------------------------

/// `wangge circles nearest`.
pub fn nearest(catalogue: Catalogue, args: NearestArgs) -> Result<()> {
    let started = Instant::now();
    let profile = args.walk.profile()?;
    if !(args.cutoff.is_finite() && args.cutoff >= 0.0) {
        bail!("--cutoff: must be a non-negative number of metres, got {}", args.cutoff);
    }
    let opts = args.walk.network_options(args.compounds)?;
    let selected = select_categories(&catalogue, &args.category)?;
    check_output(&args.out)?;
    let points = read_points(&args.points, args.input_coords)?;
    let given = args.facilities.as_deref().map(|p| read_facilities(p, &catalogue, args.input_coords)).transpose()?;
    let progress = Progress::new(3 + selected.categories.len() as u64);
    let Prepared { net, facilities, read_s, graph_s } =
        prepare(&args.osm, given, &selected, &catalogue, &[], &opts, &progress)?;
    progress.phase("placing the points");
    let t = Instant::now();
    let locations: Vec<geo::Point<f64>> = points.iter().map(|p| p.location).collect();
    let origins = net.snap_points(&locations);
    let snap_s = t.elapsed().as_secs_f64();
    progress.inc(1);
    progress.phase("walking to the nearest facilities");
    let t = Instant::now();
    let reach = ReachOptions { k: 1, cutoff_m: Some(args.cutoff) };
    let access = net.accessibility(&origins, &facilities, &reach, &profile)?;
    let walk_s = t.elapsed().as_secs_f64();
    progress.inc(selected.categories.len() as u64);
    drop(progress);

    let mut w = csv::Writer::from_writer(Vec::with_capacity(points.len() * access.categories.len() * 40));
    w.write_record(["id", "category", "distance_m", "time_s"])?;
    for (i, p) in points.iter().enumerate() {
        for c in &access.categories {
            let (d, t) = match c.distance_m(i) {
                Some(d) => (format!("{d:.3}"), format!("{:.3}", profile.time_s(d))),
                None => (String::new(), String::new()),
            };
            w.write_record([p.id.as_str(), c.category.as_str(), &d, &t])?;
        }
    }
    let bytes = w.into_inner().map_err(|e| anyhow::anyhow!("writing {}: {e}", args.out.display()))?;
    wangge_io::export::write_bytes_atomic(&args.out, &bytes)?;

    report_network(&net, &origins, "points", &|i| points[i].id.clone());
    report_facilities(&facilities);
    let beyond: usize = access
        .categories
        .iter()
        .map(|c| (0..c.len()).filter(|&i| c.status(i) == Some(ReachStatus::BeyondCutoff)).count())
        .sum();
    if beyond > 0 {
        eprintln!("note: {beyond} (point, category) pairs have no facility within {:.0} m: left empty", args.cutoff);
    }
    eprintln!(
        "wrote {} rows ({} points × {} categories, {} m/s) to {} in {:.2} s",
        points.len() * access.categories.len(),
        points.len(),
        access.categories.len(),
        profile.speed_mps(),
        args.out.display(),
        started.elapsed().as_secs_f64()
    );
    eprintln!("timings: read {read_s:.4} s, graph {graph_s:.4} s, snapping {snap_s:.4} s, distances {walk_s:.4} s");
    Ok(())
}

// ---- isochrones -----------------------------------------------------------------------------

/// `wangge circles isochrones`.
pub fn isochrones(catalogue: Catalogue, args: IsochronesArgs) -> Result<()> {
    let started = Instant::now();
    let profile = args.walk.profile()?;
    if args.minutes.is_empty() || args.minutes.iter().any(|m| !(m.is_finite() && *m > 0.0)) {
        bail!(
            "--minutes: must be positive numbers of minutes separated by commas, got {}",
            args.minutes.iter().map(|m| m.to_string()).collect::<Vec<_>>().join(",")
        );
    }
    let iso = IsochroneOptions { offset_m: args.offset, cell_m: args.cell };
    if !(iso.offset_m.is_finite() && iso.offset_m > 0.0) {
        bail!("--offset: must be a positive number of metres, got {}", iso.offset_m);
    }
    if !(iso.cell_m.is_finite() && iso.cell_m > 0.0 && iso.cell_m <= iso.offset_m / std::f64::consts::SQRT_2) {
        bail!(
            "--cell: must be positive and at most --offset / √2 = {:.2} m, got {}",
            iso.offset_m / 2f64.sqrt(),
            iso.cell_m
        );
    }
    let mut minutes = args.minutes.clone();
    minutes.sort_by(|a, b| b.total_cmp(a));
    minutes.dedup();
    let opts = args.walk.network_options(true)?;
    let selected = select_categories(&catalogue, &args.category)?;
    check_output(&args.out)?;
    let given = read_facilities(&args.facilities, &catalogue, args.input_coords)?;
    let progress = Progress::new(2);
    let Prepared { net, facilities, .. } =
        prepare(&args.osm, Some(given), &selected, &catalogue, &[], &opts, &progress)?;
    let facs = facilities.facilities();
    if facs.is_empty() {
        bail!("{}: no facilities of the categories asked for ({})", args.facilities.display(), args.category);
    }
    progress.set_length(2 + facs.len() as u64);
    progress.phase("drawing isochrones");
    let drawn: Vec<Result<Vec<wangge_circles::Isochrone>, String>> = facs
        .par_iter()
        .map_init(
            || net.searcher(),
            |s, f| {
                let r = match &f.snap {
                    Ok(snap) => s.isochrones(snap, &minutes, &profile, &iso).map_err(|e| e.to_string()),
                    Err(failure) => Err(format!("not on the walking network: {failure}")),
                };
                progress.inc(1);
                r
            },
        )
        .collect();
    drop(progress);
    let cats = facilities.categories();
    let mut feats = Vec::with_capacity(facs.len() * minutes.len());
    let mut unplaced = Vec::new();
    for (f, r) in facs.iter().zip(&drawn) {
        for (k, &m) in minutes.iter().enumerate() {
            let mut props = JsonObject::new();
            props.insert("facility_id".into(), json!(f.source_id));
            props.insert("category".into(), json!(cats[f.category].id));
            props.insert("name".into(), json!(f.name));
            props.insert("minutes".into(), json!(m));
            props.insert("distance_m".into(), json!((profile.distance_m(m) * 10.0).round() / 10.0));
            props.insert("speed_mps".into(), json!(profile.speed_mps()));
            let geometry = match r {
                Ok(list) => Some(features::geometry(&geo::Geometry::MultiPolygon(list[k].area.clone()), args.coords)),
                Err(reason) => {
                    props.insert("unreachable".into(), json!(reason));
                    None
                }
            };
            feats.push(Feature {
                bbox: None,
                geometry,
                id: Some(geojson::feature::Id::String(format!("{}:{m}", f.source_id))),
                properties: Some(props),
                foreign_members: None,
            });
        }
        if let Err(reason) = r {
            unplaced.push(format!("{} ({reason})", f.source_id));
        }
    }
    wangge_io::export::write_json_atomic(&args.out, &features::collection(feats))?;
    if !unplaced.is_empty() {
        eprintln!(
            "note: {} facilities have no isochrone (written without geometry, with `unreachable`): {}",
            unplaced.len(),
            unplaced.iter().take(5).cloned().collect::<Vec<_>>().join(", ")
        );
    }
    eprintln!(
        "wrote {} isochrones ({} facilities × {} times, {} m/s) to {} in {:.2} s",
        facs.len() * minutes.len(),
        facs.len(),
        minutes.len(),
        profile.speed_mps(),
        args.out.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

// ---- coverage -------------------------------------------------------------------------------

/// `wangge circles coverage`.
pub fn coverage(catalogue: Catalogue, args: CoverageArgs) -> Result<()> {
    let started = Instant::now();
    let profile = args.walk.profile()?;
    let opts = args.walk.network_options(true)?;
    let selected = select_categories(&catalogue, &args.category)?;
    check_output(&args.out)?;
    let read_opts = wangge_io::ReadOptions {
        catalogue: catalogue.clone(),
        input_coords: args.input_coords,
        ..wangge_io::ReadOptions::default()
    };
    let mut buildings = wangge_io::read(&args.buildings, &read_opts)?.layers;
    if buildings.buildings.is_empty() {
        bail!("{}: no buildings (polygons or points without `category` or `level`)", args.buildings.display());
    }
    let estimated = wangge_io::estimate::estimate_households(&mut buildings, &Default::default());
    tracing::debug!(?estimated, "household estimates");
    let given = args.facilities.as_deref().map(|p| read_facilities(p, &catalogue, args.input_coords)).transpose()?;
    let progress = Progress::new(3 + selected.categories.len() as u64);
    // The city file's compounds decide which paths a building inside one may use.
    let Prepared { net, facilities, .. } =
        prepare(&args.osm, given, &selected, &catalogue, &buildings.compounds, &opts, &progress)?;
    progress.phase("placing the buildings");
    let bs = &buildings.buildings;
    let origins = net.snap_buildings(bs);
    progress.inc(1);
    progress.phase("walking to the nearest facilities");
    let access = net.accessibility(&origins, &facilities, &ReachOptions::default(), &profile)?;
    progress.inc(selected.categories.len() as u64);
    let scores = coverage::completeness(&access, &HashMap::new())?;
    drop(progress);

    let feats: Vec<Feature> = bs
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let mut f = features::building(b, args.coords, HouseholdPrivacy::Show);
            let props = f.properties.get_or_insert_with(JsonObject::new);
            building_properties(props, &access, i, &origins, &facilities, scores[i]);
            f
        })
        .collect();
    wangge_io::export::write_json_atomic(&args.out, &features::collection(feats))?;

    report_network(&net, &origins, "buildings", &|i| bs[i].source_id.clone());
    report_facilities(&facilities);
    let households: Vec<u32> = bs.iter().map(|b| b.households.count).collect();
    let rows = coverage::coverage(&access, &households, &[coverage::Grouping::city("city", bs.len())])?;
    let total: u64 = households.iter().map(|&h| u64::from(h)).sum();
    eprintln!(
        "coverage of {} buildings, {} households (walking at {} m/s, profile {}):",
        bs.len(),
        thousands(total),
        profile.speed_mps(),
        profile.name()
    );
    eprintln!(
        "  {:<28} {:>9} {:>23} {:>7} {:>12}",
        "category", "threshold", "households covered", "share", "unreachable"
    );
    for r in &rows {
        eprintln!(
            "  {:<28} {:>7.0} m {:>23} {:>7} {:>12}",
            r.category,
            r.threshold_m,
            format!(
                "{} / {}",
                thousands(r.households_covered),
                thousands(r.households_covered + r.households_not_covered)
            ),
            share(r.households_covered, r.households_covered + r.households_not_covered),
            thousands(r.households_unreachable)
        );
    }
    let placed: Vec<f64> = scores.iter().flatten().copied().collect();
    if !placed.is_empty() {
        eprintln!(
            "mean completeness {:.3} over {} buildings on the network",
            placed.iter().sum::<f64>() / placed.len() as f64,
            placed.len()
        );
    }
    eprintln!("wrote {} buildings to {} in {:.2} s", bs.len(), args.out.display(), started.elapsed().as_secs_f64());
    Ok(())
}

/// Per category `{id}_distance_m`, `{id}_time_s`, `{id}_covered`, `{id}_facility`, then
/// `completeness` and `on_network` (with `not_on_network`, the reason, when false).
fn building_properties(
    props: &mut JsonObject,
    access: &Accessibility,
    i: usize,
    origins: &wangge_circles::Origins,
    facilities: &FacilitySet,
    score: Option<f64>,
) {
    let round = |v: f64, k: f64| (v * k).round() / k;
    for c in &access.categories {
        let id = &c.category;
        let near = c.nearest(i);
        props.insert(format!("{id}_distance_m"), json!(near.map(|r| round(r.distance_m, 1000.0))));
        props.insert(format!("{id}_time_s"), json!(near.map(|r| round(access.profile.time_s(r.distance_m), 1000.0))));
        props.insert(format!("{id}_covered"), json!(c.covered(i)));
        props.insert(
            format!("{id}_facility"),
            json!(near.map(|r| facilities.facilities()[r.facility].source_id.as_str())),
        );
    }
    props.insert("completeness".into(), json!(score.map(|s| round(s, 1e4))));
    match origins.get(i) {
        Some(Err(f)) => {
            props.insert("on_network".into(), JsonValue::Bool(false));
            props.insert("not_on_network".into(), json!(f.to_string()));
        }
        _ => {
            props.insert("on_network".into(), JsonValue::Bool(true));
        }
    }
}
