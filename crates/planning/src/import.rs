//! Committing an import: files already read (by `wangge_io::read`) are merged with the store's
//! content, containment and household estimates are derived over everything, and every dataset
//! whose rows changed is written in one transaction. What `wangge import` and the server's import
//! jobs both do; nothing is written when a check fails.

use std::collections::{BTreeMap, BTreeSet};
use wangge_core::{DatasetInfo, Layers};
use wangge_io::Imported;
use wangge_io::estimate::{EstimateParams, EstimateSummary, estimate_households};
use wangge_store::{ImportCommit, Store};

/// Why an import was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The input does not fit (two files for one dataset, register rows naming unknown buildings).
    #[error("{0}")]
    Invalid(String),
    /// The store could not be read or written.
    #[error("{doing}: {source}")]
    Store {
        /// What was being done.
        doing: &'static str,
        /// The store's error.
        #[source]
        source: wangge_store::StoreError,
    },
}

/// What a committed import left in the store.
#[derive(Debug)]
pub struct Committed {
    /// The store's whole content after the import (sorted, containment and estimates derived).
    pub layers: Layers,
    /// The household estimate over everything.
    pub estimate: EstimateSummary,
    /// The datasets written (the imported ones, and older ones whose derived values moved).
    pub written: Vec<String>,
}

fn store_err(doing: &'static str) -> impl FnOnce(wangge_store::StoreError) -> ImportError {
    move |source| ImportError::Store { doing, source }
}

/// Merges `imported` with the store's content and writes the changed datasets in one transaction.
pub async fn commit(
    store: &dyn Store,
    imported: &[Imported],
    params: &EstimateParams,
) -> Result<Committed, ImportError> {
    for (k, one) in imported.iter().enumerate() {
        if let Some(prev) = imported[..k].iter().find(|i| i.dataset.name == one.dataset.name) {
            return Err(ImportError::Invalid(format!(
                "{} and {} would both be dataset `{}`: rename one or import them separately",
                prev.dataset.source, one.dataset.source, one.dataset.name
            )));
        }
    }
    let current = store.load().await.map_err(store_err("loading the store"))?;
    let mut known: BTreeMap<String, DatasetInfo> = store
        .datasets()
        .await
        .map_err(store_err("listing the datasets"))?
        .into_iter()
        .map(|r| (r.info.name.clone(), r.info))
        .collect();
    let mut merged = current.clone();
    for i in imported {
        merged.replace_dataset(&i.dataset.name, i.layers.clone());
        known.insert(i.dataset.name.clone(), i.dataset.clone());
    }

    // Register rows must name buildings that exist.
    let building_ids: BTreeSet<&str> = merged.buildings.iter().map(|b| b.source_id.as_str()).collect();
    for i in imported {
        if let Some((row, r)) =
            i.layers.register.iter().enumerate().find(|(_, r)| !building_ids.contains(r.building.as_str()))
        {
            return Err(ImportError::Invalid(format!(
                "{}: row {}: field `building_id`: building `{}` does not exist in the store (import its buildings first)",
                i.dataset.source,
                row + 2,
                r.building
            )));
        }
    }

    // Containment and household estimates over everything, off the async threads.
    let params = params.clone();
    let (mut merged, estimate) = tokio::task::spawn_blocking(move || {
        merged.assign_containers();
        let estimate = estimate_households(&mut merged, &params);
        (merged, estimate)
    })
    .await
    .map_err(|e| ImportError::Invalid(format!("deriving containment and households: {e}")))?;
    merged.sort();

    // Every dataset whose rows changed: the imported ones, and old ones whose derived values moved.
    let imported_names: BTreeSet<&str> = imported.iter().map(|i| i.dataset.name.as_str()).collect();
    let mut commit = ImportCommit::default();
    for name in merged.dataset_names().into_iter().chain(imported_names.iter().map(|s| s.to_string())) {
        if commit.datasets.iter().any(|(d, _)| d.name == name) {
            continue;
        }
        let after = merged.dataset_part(&name);
        if imported_names.contains(name.as_str()) || after != current.dataset_part(&name) {
            let info = known
                .get(&name)
                .cloned()
                .ok_or_else(|| ImportError::Invalid(format!("dataset `{name}` is not recorded in the store")))?;
            commit.datasets.push((info, after));
        }
    }
    let written = commit.datasets.iter().map(|(d, _)| d.name.clone()).collect();
    store.commit_import(&commit).await.map_err(store_err("writing the import"))?;
    Ok(Committed { layers: merged, estimate, written })
}

/// What one dataset brought, for reports: rows per layer and facilities per category.
pub fn counts(l: &Layers) -> serde_json::Value {
    let mut by_cat: BTreeMap<&str, usize> = BTreeMap::new();
    for f in &l.facilities {
        *by_cat.entry(f.category.as_str()).or_default() += 1;
    }
    serde_json::json!({
        "buildings": l.buildings.len(),
        "compounds": l.compounds.len(),
        "regions": l.regions.len(),
        "facilities": l.facilities.len(),
        "facilities_by_category": by_cat,
        "network_nodes": l.nodes.len(),
        "network_edges": l.edges.len(),
        "basemap_features": l.basemap.len(),
        "population_cells": l.cells.len(),
        "register_rows": l.register.len(),
    })
}
