//! The served vector tiles: built from the atlas, the stored circle scores and the plans at start,
//! then kept current as plans and registers change (only the touched tiles are dropped).

use crate::{ApiError, AppState};
use wangge_core::Atlas;
use wangge_core::plan::PlanRecord;
use wangge_store::{Store, StoreError};
use wangge_tiles::{BuildingExtras, CacheOptions, TileService, TileSource, grids_from_plan};

/// Per-building extras from the store: the grid in the active plan, the completeness score and,
/// per category of the stored life-circle run, whether the building is covered (its walk to the
/// nearest facility within the category's threshold): the metrics of the heat and cell tiles.
pub async fn extras(store: &dyn Store) -> Result<BuildingExtras, StoreError> {
    let mut extras = BuildingExtras::new();
    if let Some(plan) = store.active_plan().await? {
        for a in &plan.assignments {
            extras.entry(a.building.clone()).or_default().grid = Some(a.grid.clone());
        }
    }
    for s in store.circle_scores().await? {
        extras.entry(s.building).or_default().completeness = Some(s.completeness);
    }
    if let Some(run) = store.circles_run().await? {
        for c in &run.categories {
            for r in store.circle_results(Some(&c.id)).await? {
                let covered = r.distance_m.is_some_and(|d| d <= c.distance_m);
                extras.entry(r.building).or_default().covered.insert(c.id.clone(), covered);
            }
        }
    }
    Ok(extras)
}

/// The tile service for `atlas`, with the grids of every stored plan (the active one served by default).
pub async fn load(store: &dyn Store, atlas: &Atlas) -> Result<TileService, StoreError> {
    let extras = extras(store).await?;
    let mut source = TileSource::from_atlas(atlas, &extras);
    for plan in store.plans().await? {
        if let Some(full) = store.load_plan(&plan.name).await? {
            let active = full.status == wangge_core::plan::PlanStatus::Active;
            source = source.with_grids(&full.name, &grids_from_plan(&full), active);
        }
    }
    Ok(TileService::new(source, CacheOptions::default()))
}

/// The tile cache budget unless told otherwise (MiB).
pub const DEFAULT_CACHE_MB: usize = 256;

/// Sets the tile cache budget to `mib` mebibytes (0: no cache, every tile encoded per request).
pub fn set_cache_megabytes(state: &AppState, mib: usize) {
    state.tiles.set_cache_options(CacheOptions::megabytes(mib));
    if mib == 0 {
        tracing::warn!("the tile cache is off: every tile is encoded on every request");
    }
}

/// A plan changed (edit, new plan, publication): its grid tiles touched by the change are dropped.
pub async fn plan_changed(state: &AppState, plan: &PlanRecord) -> Result<(), ApiError> {
    let active = plan.status == wangge_core::plan::PlanStatus::Active;
    state.tiles.set_grids(&plan.name, &grids_from_plan(plan), active);
    if active {
        let atlas = state.atlas();
        let extras = extras(&*state.store).await?;
        state.tiles.refresh(&atlas, &extras);
    }
    Ok(())
}

/// The model changed (register or facility update): the tiles of changed features are dropped.
pub async fn atlas_changed(state: &AppState, atlas: &Atlas) -> Result<(), ApiError> {
    let extras = extras(&*state.store).await?;
    state.tiles.refresh(atlas, &extras);
    Ok(())
}
