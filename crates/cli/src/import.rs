//! `wangge import`: read every file, then merge it with what the store holds, derive containment
//! and household estimates, and write the changed datasets in one transaction
//! ([`wangge_planning::import::commit`], shared with the server's import jobs).

use anyhow::{Result, bail};
use serde_json::json;
use std::fmt::Write as _;
use std::path::PathBuf;
use wangge_core::chinacoords::CoordSystem;
use wangge_core::{Catalogue, Stats};
use wangge_io::estimate::EstimateParams;
use wangge_io::{Imported, ReadOptions};

/// Arguments of `wangge import`.
#[derive(clap::Args, Debug)]
pub struct ImportArgs {
    /// Files to import (format detected from content).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Dataset name (only with one file); defaults to the file name. Re-importing a dataset replaces it.
    #[arg(long)]
    dataset: Option<String>,
    /// Coordinate system of GeoJSON/CSV inputs: wgs84, gcj02 or bd09.
    #[arg(long, default_value = "wgs84", value_parser = crate::parse_coords)]
    input_coords: CoordSystem,
    /// Population column of a GeoPackage grid.
    #[arg(long)]
    population_field: Option<String>,
    /// Average household size (persons) used to turn population into households.
    #[arg(long)]
    household_size: Option<f64>,
    /// Average gross floor area of one dwelling in m², used where there is no population data.
    #[arg(long)]
    dwelling_area_m2: Option<f64>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

impl ImportArgs {
    /// Default arguments for importing `files`.
    pub fn for_files(files: Vec<PathBuf>) -> Self {
        Self {
            files,
            dataset: None,
            input_coords: CoordSystem::Wgs84,
            population_field: None,
            household_size: None,
            dwelling_area_m2: None,
            json: false,
        }
    }

    fn estimate_params(&self) -> Result<EstimateParams> {
        let mut p = EstimateParams::default();
        if let Some(h) = self.household_size {
            if !(h.is_finite() && h > 0.0) {
                bail!("--household-size must be a positive number of persons, got {h}");
            }
            p.household_size = h;
        }
        if let Some(a) = self.dwelling_area_m2 {
            if !(a.is_finite() && a > 0.0) {
                bail!("--dwelling-area-m2 must be a positive area, got {a}");
            }
            p.dwelling_area_m2 = a;
        }
        Ok(p)
    }
}

/// Runs the import.
pub async fn run(db: &str, catalogue: Catalogue, args: ImportArgs) -> Result<()> {
    if args.dataset.is_some() && args.files.len() > 1 {
        bail!("--dataset names one dataset: give one file with it");
    }
    let params = args.estimate_params()?;
    let opts = ReadOptions {
        catalogue: catalogue.clone(),
        dataset: args.dataset.clone(),
        population_field: args.population_field.clone(),
        input_coords: args.input_coords,
        geojson_role: wangge_io::GeoJsonRole::Auto,
    };

    // 1. Read every file before touching the store: a bad file changes nothing.
    let mut imported: Vec<Imported> = Vec::new();
    for path in &args.files {
        let spinner = indicatif::ProgressBar::new_spinner();
        spinner.set_message(format!("reading {}", path.display()));
        spinner.enable_steady_tick(std::time::Duration::from_millis(120));
        let opts = opts.clone();
        let p = path.clone();
        let result = tokio::task::spawn_blocking(move || wangge_io::read(&p, &opts)).await?;
        spinner.finish_and_clear();
        let one = result?;
        if let Some(prev) = imported.iter().find(|i| i.dataset.name == one.dataset.name) {
            bail!(
                "{} and {} would both be dataset `{}`: rename one file or import them separately",
                prev.dataset.source,
                one.dataset.source,
                one.dataset.name
            );
        }
        imported.push(one);
    }

    // 2.-5. Merge with the store's content, derive containment and estimates, write what changed.
    let store = crate::open_store(db).await?;
    let committed = wangge_planning::import::commit(&*store, &imported, &params).await?;
    let estimate = committed.estimate;

    // 6. Report.
    let atlas = wangge_core::Atlas::new(committed.layers);
    let stats = atlas.stats();
    if args.json {
        let files: Vec<_> = imported
            .iter()
            .map(|i| {
                json!({
                    "dataset": i.dataset.name,
                    "format": i.dataset.format,
                    "source": i.dataset.source,
                    "counts": wangge_planning::import::counts(&i.layers),
                    "notes": i.notes,
                })
            })
            .collect();
        let report = json!({ "files": files, "store": stats, "estimate": estimate });
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        for i in &imported {
            println!("{} ({}) → dataset `{}`", i.dataset.source, i.dataset.format, i.dataset.name);
            let c = wangge_planning::import::counts(&i.layers);
            println!("  {}", serde_json::to_string(&c)?);
            const SHOWN: usize = 12;
            for n in i.notes.iter().take(SHOWN) {
                println!("  note: {n}");
            }
            if i.notes.len() > SHOWN {
                println!("  … and {} more notes (use --json for all)", i.notes.len() - SHOWN);
            }
        }
        print!("{}", format_stats(&stats, &catalogue));
    }
    Ok(())
}

/// The store's counts as text.
pub fn format_stats(s: &Stats, catalogue: &Catalogue) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "store:");
    let _ = writeln!(o, "  buildings            {:>10} ({} residential)", s.buildings, s.residential_buildings);
    let _ = writeln!(
        o,
        "  households           {:>10} ({} estimated, in {} buildings)",
        s.households, s.households_estimated, s.buildings_estimated
    );
    let _ = writeln!(o, "  units                {:>10}", s.units);
    let _ = writeln!(o, "  compounds            {:>10}", s.compounds);
    let _ = writeln!(o, "  districts/streets/communities {}/{}/{}", s.districts, s.streets, s.communities);
    let _ = writeln!(
        o,
        "  network              {:>10} nodes, {} edges, {:.1} km",
        s.network_nodes, s.network_edges, s.network_length_km
    );
    let _ = writeln!(o, "  population cells     {:>10} ({:.0} residents)", s.population_cells, s.population);
    let _ = writeln!(o, "  register rows        {:>10}", s.register_rows);
    let _ = writeln!(o, "  facilities           {:>10}", s.facilities);
    for c in &catalogue.categories {
        let n = s.facilities_by_category.get(&c.id).copied().unwrap_or(0);
        let _ = writeln!(o, "    {:<28} {:>6}  {}", c.id, n, c.name_zh);
    }
    for (id, n) in &s.facilities_by_category {
        if catalogue.get(id).is_none() {
            let _ = writeln!(o, "    {id:<28} {n:>6}  (not in this catalogue)");
        }
    }
    o
}
