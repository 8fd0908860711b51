//! [`TileService`]: the current [`TileSource`] behind a lock, the tile cache, and updates that
//! invalidate only the tiles whose data changed. What the HTTP routes call.

use crate::TileError;
use crate::attrs::Audience;
use crate::cache::{CacheKey, CacheOptions, CacheStats, CompositeCache, CompositeKey, EncodedTile, TileCache};
use crate::heat::HeatLayer;
use crate::layer::{FeatureLayer, LayerName};
use crate::source::{AreaFeature, TileSource, grids_layer, layer_list};
use crate::tilemath::{MercBox, TileId};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockWriteGuard};

/// Tiles on demand from an in-memory source, cached, with ETags. Share it behind an `Arc`.
pub struct TileService {
    /// The current source; requests take a snapshot (one `Arc` clone), updates copy on write.
    source: RwLock<Arc<TileSource>>,
    cache: Mutex<TileCache>,
    composites: Mutex<CompositeCache>,
}

impl std::fmt::Debug for TileService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TileService").field("stats", &self.stats()).finish()
    }
}

impl TileService {
    /// A service over `source` with a cache of the given budget.
    pub fn new(source: TileSource, opts: CacheOptions) -> Self {
        Self {
            source: RwLock::new(Arc::new(source)),
            cache: Mutex::new(TileCache::new(opts)),
            composites: Mutex::new(CompositeCache::new(opts)),
        }
    }

    fn cache(&self) -> MutexGuard<'_, TileCache> {
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn composites(&self) -> MutexGuard<'_, CompositeCache> {
        self.composites.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Changes the cache budget ([`CacheOptions::OFF`] turns caching off), evicting what no
    /// longer fits.
    pub fn set_cache_options(&self, opts: CacheOptions) {
        self.cache().set_options(opts);
        self.composites().set_options(opts);
    }

    fn key(
        &self,
        source: &TileSource,
        name: LayerName,
        variant: Option<&str>,
        tile: TileId,
        audience: Audience,
    ) -> Result<CacheKey, TileError> {
        let variant_key = source.resolve_variant(name, variant)?;
        let audience = if source.has_private(name, Some(&variant_key)) { audience } else { Audience::Public };
        Ok(CacheKey { layer: name, variant: variant_key, tile, audience })
    }

    /// Parses a layer list of a URL: one layer (`buildings`) or several joined by commas
    /// (`buildings,basemap`: a composite tile holding each layer in turn). Each layer appears once.
    pub fn parse_layers(list: &str) -> Result<Vec<LayerName>, TileError> {
        let mut out: Vec<LayerName> = Vec::new();
        for part in list.split(',') {
            let name = LayerName::parse(part)
                .ok_or_else(|| TileError::UnknownLayer { name: part.to_string(), known: layer_list() })?;
            if out.contains(&name) {
                return Err(TileError::DuplicateLayer { list: list.to_string(), name: part.to_string() });
            }
            out.push(name);
        }
        Ok(out)
    }

    /// The tile of `parts` (one layer, or several for a composite) when it is in the cache and
    /// current; `None` when it would have to be encoded. Never encodes: cheap enough to call on an
    /// async thread before handing the real work ([`TileService::composite`]) to a blocking one.
    pub fn cached(
        &self,
        parts: &[(LayerName, Option<&str>)],
        tile: TileId,
        audience: Audience,
    ) -> Result<Option<EncodedTile>, TileError> {
        let keys = {
            let source = self.source.read().unwrap_or_else(|e| e.into_inner());
            parts
                .iter()
                .map(|(name, variant)| self.key(&source, *name, *variant, tile, audience))
                .collect::<Result<Vec<_>, _>>()?
        };
        let found: Option<Vec<EncodedTile>> = {
            let c = self.cache();
            keys.iter().map(|k| c.peek(k)).collect()
        };
        let Some(found) = found else { return Ok(None) };
        if let [one] = &found[..] {
            self.cache().stats.hits += 1;
            return Ok(Some(one.clone()));
        }
        let key = CompositeKey { parts: keys.into_iter().map(|k| (k.layer, k.variant)).collect(), tile, audience };
        let tags: Vec<&Arc<str>> = found.iter().map(|t| &t.etag).collect();
        Ok(self.composites().get(&key, &tags))
    }

    /// A tile holding several layers (each as its own MVT layer, in the order given): the parts
    /// come from [`TileService::tile_of`] (cached or encoded), and the concatenation (a valid tile:
    /// an MVT tile is a repeated field of layers) is kept beside them, current as long as every
    /// part's ETag is. One part gives exactly that part's tile.
    pub fn composite(
        &self,
        parts: &[(LayerName, Option<&str>)],
        tile: TileId,
        audience: Audience,
    ) -> Result<EncodedTile, TileError> {
        let tiles = parts
            .iter()
            .map(|(name, variant)| self.tile_of(*name, *variant, tile, audience))
            .collect::<Result<Vec<_>, _>>()?;
        if let [one] = &tiles[..] {
            return Ok(one.clone());
        }
        let source = self.source();
        let keys = parts
            .iter()
            .map(|(name, variant)| self.key(&source, *name, *variant, tile, audience))
            .collect::<Result<Vec<_>, _>>()?;
        let key = CompositeKey { parts: keys.into_iter().map(|k| (k.layer, k.variant)).collect(), tile, audience };
        let tags: Vec<&Arc<str>> = tiles.iter().map(|t| &t.etag).collect();
        if let Some(t) = self.composites().get(&key, &tags) {
            return Ok(t);
        }
        let mut bytes = Vec::with_capacity(tiles.iter().map(|t| t.bytes.len()).sum());
        for t in &tiles {
            bytes.extend_from_slice(&t.bytes);
        }
        let made = EncodedTile::composed(bytes, &tags);
        self.composites().put(key, tiles.iter().map(|t| t.etag.clone()).collect(), made.clone());
        Ok(made)
    }

    /// A snapshot of the current source (one reference count: layers are shared).
    pub fn source(&self) -> Arc<TileSource> {
        self.source.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// A tile of the layer named in the URL (`buildings`, `grids`, …). `variant` is the plan for
    /// `grids` (the active plan when `None`) and the metric for `heat` and `cells` (`completeness`
    /// when `None`). Served from the cache when the data has not changed since it was encoded.
    pub fn tile(
        &self,
        layer: &str,
        variant: Option<&str>,
        tile: TileId,
        audience: Audience,
    ) -> Result<EncodedTile, TileError> {
        let name = LayerName::parse(layer)
            .ok_or_else(|| TileError::UnknownLayer { name: layer.to_string(), known: layer_list() })?;
        self.tile_of(name, variant, tile, audience)
    }

    /// [`TileService::tile`] with a typed layer name.
    pub fn tile_of(
        &self,
        name: LayerName,
        variant: Option<&str>,
        tile: TileId,
        audience: Audience,
    ) -> Result<EncodedTile, TileError> {
        let source = self.source();
        let key = self.key(&source, name, variant, tile, audience)?;
        let audience = key.audience;
        // Read the generation before the source: an update swaps the source first and then bumps
        // the generation, so a tile encoded from old data is never stored as current.
        let generation = {
            let mut c = self.cache();
            if let Some(t) = c.get(&key) {
                return Ok(t);
            }
            c.stats.misses += 1;
            c.generation(name)
        };
        let source = self.source();
        let bytes =
            source.encode(name, Some(&key.variant).filter(|v| !v.is_empty()).map(String::as_str), tile, audience)?;
        let t = EncodedTile::new(bytes);
        self.cache().put(key, t.clone(), generation);
        Ok(t)
    }

    /// Drops the cached tiles of a layer (one variant, or all with `None`) that `bbox` touches, at
    /// every zoom. Returns how many were dropped.
    pub fn invalidate(&self, name: LayerName, variant: Option<&str>, bbox: &MercBox) -> usize {
        self.invalidate_boxes(name, variant, std::slice::from_ref(bbox))
    }

    /// [`TileService::invalidate`] with a lon/lat box.
    pub fn invalidate_lonlat(
        &self,
        name: LayerName,
        variant: Option<&str>,
        bbox: &wangge_core::geometry::Bbox,
    ) -> usize {
        self.invalidate(name, variant, &MercBox::from_bbox(bbox))
    }

    fn invalidate_boxes(&self, name: LayerName, variant: Option<&str>, boxes: &[MercBox]) -> usize {
        let source = self.source();
        let heat = source.heat().clone();
        // Cells and thinning squares reach beyond the tile's buffer: grow by one at each zoom.
        let spec = name.spec();
        let grow = move |z: u8| if name == LayerName::Cells { heat.cell_size_m(z) } else { spec.thin_m(z) };
        self.cache().invalidate(name, variant, boxes, &grow)
    }

    fn write(&self) -> SourceWriter<'_> {
        SourceWriter(self.source.write().unwrap_or_else(|e| e.into_inner()))
    }

    /// Replaces one feature layer (not grids) and drops only the cached tiles its changed features
    /// touch (old and new positions). Returns how many tiles were dropped.
    pub fn replace_layer(&self, layer: FeatureLayer) -> Result<usize, TileError> {
        let name = layer.name();
        if name == LayerName::Grids {
            return Err(TileError::Update("grids are replaced per plan with set_grids".into()));
        }
        let boxes = {
            let mut s = self.write();
            let boxes = s.feature_layer(name, None)?.changed_boxes(&layer);
            s.layers.insert(name, Arc::new(layer));
            boxes
        };
        Ok(self.invalidate_boxes(name, None, &boxes))
    }

    /// Replaces the heat data; drops the heat and cell tiles its changed points touch.
    pub fn replace_heat(&self, heat: HeatLayer) -> usize {
        let boxes = {
            let mut s = self.write();
            let boxes = s.heat.changed_boxes(&heat);
            s.heat = Arc::new(heat);
            boxes
        };
        self.invalidate_boxes(LayerName::Heat, None, &boxes) + self.invalidate_boxes(LayerName::Cells, None, &boxes)
    }

    /// Sets the grids of a plan (e.g. after an edit); `active` also makes it the default plan.
    /// Only tiles touched by grids that changed are dropped.
    pub fn set_grids(&self, plan: &str, grids: &[AreaFeature], active: bool) -> usize {
        let new = grids_layer(grids);
        let boxes = {
            let mut s = self.write();
            let boxes = s.grids.get(plan).map(|o| o.changed_boxes(&new));
            s.grids.insert(plan.to_string(), Arc::new(new));
            if active {
                s.active_plan = Some(plan.to_string());
            }
            boxes
        };
        match boxes {
            Some(b) => self.invalidate_boxes(LayerName::Grids, Some(plan), &b),
            None => self.cache().drop_layer(LayerName::Grids, Some(plan)),
        }
    }

    /// Forgets the grids of a plan (and the active plan if it was that one).
    pub fn remove_grids(&self, plan: &str) -> usize {
        {
            let mut s = self.write();
            s.grids.remove(plan);
            if s.active_plan.as_deref() == Some(plan) {
                s.active_plan = None;
            }
        }
        self.cache().drop_layer(LayerName::Grids, Some(plan))
    }

    /// Makes a loaded plan the active one (no tile is re-encoded: tiles are cached per plan).
    pub fn set_active_plan(&self, plan: &str) -> Result<(), TileError> {
        let mut s = self.write();
        if !s.grids.contains_key(plan) {
            return Err(TileError::UnknownVariant {
                layer: "grids",
                variant: plan.to_string(),
                known: s.grids.keys().cloned().collect::<Vec<_>>().join(", "),
            });
        }
        s.active_plan = Some(plan.to_string());
        Ok(())
    }

    /// Replaces the whole source (e.g. after an import), diffing every layer: only tiles touched by
    /// changed features are dropped. Returns how many were dropped.
    pub fn replace_source(&self, new: TileSource) -> usize {
        self.replace_with(new, false)
    }

    /// Rebuilds every layer from a new atlas and extras (after an import or an edit of buildings,
    /// households or coverage), keeping the loaded plans' grids; only tiles touched by changed
    /// features are dropped. Returns how many were dropped.
    pub fn refresh(&self, atlas: &wangge_core::Atlas, extras: &crate::BuildingExtras) -> usize {
        self.replace_with(TileSource::from_atlas(atlas, extras), true)
    }

    fn replace_with(&self, mut new: TileSource, keep_grids: bool) -> usize {
        let mut work: Vec<(LayerName, Option<String>, Vec<MercBox>)> = Vec::new();
        let mut dropped_plans = Vec::new();
        {
            let mut old = self.write();
            if keep_grids {
                new.grids = old.grids.clone();
                new.active_plan = old.active_plan.clone();
            }
            for (name, l) in &new.layers {
                match old.layers.get(name) {
                    Some(o) => work.push((*name, None, o.changed_boxes(l))),
                    None => work.extend(l.bounds().map(|b| (*name, None, vec![b]))),
                }
            }
            for (plan, l) in &new.grids {
                match old.grids.get(plan) {
                    Some(o) => work.push((LayerName::Grids, Some(plan.clone()), o.changed_boxes(l))),
                    None => dropped_plans.push(plan.clone()),
                }
            }
            dropped_plans.extend(old.grids.keys().filter(|p| !new.grids.contains_key(*p)).cloned());
            let heat_boxes = old.heat.changed_boxes(&new.heat);
            work.push((LayerName::Heat, None, heat_boxes.clone()));
            work.push((LayerName::Cells, None, heat_boxes));
            *old = new;
        }
        let mut n = 0;
        for (name, variant, boxes) in work {
            n += self.invalidate_boxes(name, variant.as_deref(), &boxes);
        }
        for p in dropped_plans {
            n += self.cache().drop_layer(LayerName::Grids, Some(&p));
        }
        n
    }

    /// Drops every cached tile.
    pub fn clear(&self) {
        let mut c = self.cache();
        for name in LayerName::ALL {
            c.drop_layer(name, None);
        }
    }

    /// Cache counters.
    pub fn stats(&self) -> CacheStats {
        self.cache().stats
    }

    /// The TileJSON document of a layer (see [`crate::tilejson::tilejson`]).
    pub fn tilejson(
        &self,
        layer: &str,
        variant: Option<&str>,
        audience: Audience,
        base_url: &str,
    ) -> Result<serde_json::Value, TileError> {
        let name = LayerName::parse(layer)
            .ok_or_else(|| TileError::UnknownLayer { name: layer.to_string(), known: layer_list() })?;
        crate::tilejson::tilejson(&self.source(), name, variant, audience, base_url)
    }

    /// The MapLibre style (see [`crate::tilejson::style`]).
    pub fn style(&self, base_url: &str) -> serde_json::Value {
        crate::tilejson::style(&self.source(), base_url)
    }
}

/// The source for an update: written through `Arc::make_mut`, so snapshots taken by requests in
/// flight keep the old data and the update copies only the outer maps (layers are shared).
struct SourceWriter<'a>(RwLockWriteGuard<'a, Arc<TileSource>>);

impl std::ops::Deref for SourceWriter<'_> {
    type Target = TileSource;
    fn deref(&self) -> &TileSource {
        &self.0
    }
}

impl std::ops::DerefMut for SourceWriter<'_> {
    fn deref_mut(&mut self) -> &mut TileSource {
        Arc::make_mut(&mut self.0)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_service_can_be_shared_between_threads() {
        fn shared<T: Send + Sync>() {}
        shared::<super::TileService>();
        shared::<super::TileSource>();
    }
}
