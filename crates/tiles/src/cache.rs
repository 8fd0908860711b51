//! The encoded-tile cache: least recently used entries go first once a byte or entry budget is
//! exceeded; invalidation by box drops exactly the cached tiles whose buffered bounds meet it.

use crate::attrs::Audience;
use crate::layer::LayerName;
use crate::tilemath::{MercBox, TileId};
use rstar::RTree;
use rstar::primitives::Rectangle;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// What identifies a cached tile. The data version is kept per layer beside it (see
/// [`crate::TileService`]): entries always hold the current version's bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CacheKey {
    /// Layer.
    pub layer: LayerName,
    /// Plan (grids) or metric (heat, cells); empty for other layers.
    pub variant: String,
    /// Tile.
    pub tile: TileId,
    /// Audience (public for layers without private attributes, whoever asks).
    pub audience: Audience,
}

/// An encoded tile with its entity tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedTile {
    /// The MVT bytes (uncompressed protobuf); empty when the tile has no features.
    pub bytes: Arc<[u8]>,
    /// A strong ETag, quoted: the first 128 bits of the SHA-256 of the bytes, so it changes
    /// exactly when the bytes do.
    pub etag: Arc<str>,
}

impl EncodedTile {
    /// Wraps bytes and computes the ETag.
    pub fn new(bytes: Vec<u8>) -> Self {
        let d = Sha256::digest(&bytes);
        let hex: String = d[..16].iter().map(|b| format!("{b:02x}")).collect();
        Self { bytes: bytes.into(), etag: format!("\"{hex}\"").into() }
    }

    /// True when the tile has no features (serve 204 or an empty 200).
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// True when an `If-None-Match` header value names this tile's ETag (or is `*`), so a 304 can
    /// be sent. Weak tags (`W/"…"`) compare by their value.
    pub fn matches(&self, if_none_match: &str) -> bool {
        if_none_match.split(',').map(str::trim).any(|t| t == "*" || t.trim_start_matches("W/") == &*self.etag)
    }
}

/// The `Cache-Control` value for a tile served to `audience`: public tiles may sit in shared caches
/// for a minute; signed-in tiles only in the client's, revalidated with the ETag every time.
pub fn cache_control(audience: Audience) -> &'static str {
    match audience {
        Audience::Public => "public, max-age=60, stale-while-revalidate=300",
        Audience::Full => "private, no-cache",
    }
}

/// Budget of the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheOptions {
    /// Bytes of tiles kept (the least recently used go first beyond it).
    pub max_bytes: usize,
    /// Entries kept.
    pub max_entries: usize,
}

impl Default for CacheOptions {
    /// 256 MiB, 200,000 tiles.
    fn default() -> Self {
        Self { max_bytes: 256 << 20, max_entries: 200_000 }
    }
}

/// Counters of the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct CacheStats {
    /// Tiles served from the cache.
    pub hits: u64,
    /// Tiles encoded.
    pub misses: u64,
    /// Tiles dropped by invalidation.
    pub invalidated: u64,
    /// Tiles dropped to stay within budget.
    pub evicted: u64,
    /// Tiles held now.
    pub entries: usize,
    /// Bytes held now.
    pub bytes: usize,
}

struct Entry {
    tile: EncodedTile,
    tick: u64,
}

const ENTRY_OVERHEAD: usize = 128;

pub(crate) struct TileCache {
    opts: CacheOptions,
    map: HashMap<CacheKey, Entry>,
    lru: BTreeMap<u64, CacheKey>,
    tick: u64,
    generation: HashMap<LayerName, u64>,
    pub(crate) stats: CacheStats,
}

impl TileCache {
    pub fn new(opts: CacheOptions) -> Self {
        Self {
            opts,
            map: HashMap::new(),
            lru: BTreeMap::new(),
            tick: 0,
            generation: HashMap::new(),
            stats: CacheStats::default(),
        }
    }

    pub fn generation(&self, layer: LayerName) -> u64 {
        self.generation.get(&layer).copied().unwrap_or(0)
    }

    pub fn get(&mut self, key: &CacheKey) -> Option<EncodedTile> {
        self.tick += 1;
        let tick = self.tick;
        let e = self.map.get_mut(key)?;
        self.lru.remove(&e.tick);
        e.tick = tick;
        self.lru.insert(tick, key.clone());
        self.stats.hits += 1;
        Some(e.tile.clone())
    }

    /// Stores a tile encoded from the data of generation `generation`; ignored when the layer has
    /// changed since (the bytes may be stale).
    pub fn put(&mut self, key: CacheKey, tile: EncodedTile, generation: u64) {
        if self.generation(key.layer) != generation {
            return;
        }
        self.tick += 1;
        let size = tile.bytes.len() + ENTRY_OVERHEAD;
        if let Some(old) = self.map.insert(key.clone(), Entry { tile, tick: self.tick }) {
            self.lru.remove(&old.tick);
            self.stats.bytes -= old.tile.bytes.len() + ENTRY_OVERHEAD;
        }
        self.lru.insert(self.tick, key);
        self.stats.bytes += size;
        while self.stats.bytes > self.opts.max_bytes || self.map.len() > self.opts.max_entries {
            let Some((_, k)) = self.lru.pop_first() else { break };
            if let Some(e) = self.map.remove(&k) {
                self.stats.bytes -= e.tile.bytes.len() + ENTRY_OVERHEAD;
                self.stats.evicted += 1;
            }
        }
        self.stats.entries = self.map.len();
    }

    fn remove(&mut self, k: &CacheKey) {
        if let Some(e) = self.map.remove(k) {
            self.lru.remove(&e.tick);
            self.stats.bytes -= e.tile.bytes.len() + ENTRY_OVERHEAD;
            self.stats.invalidated += 1;
        }
        self.stats.entries = self.map.len();
    }

    /// Marks the layer changed and drops its cached tiles (of one variant, or all) whose buffered
    /// bounds, grown by `grow(z)` metres, meet one of the boxes. Returns how many were dropped.
    pub fn invalidate(
        &mut self,
        layer: LayerName,
        variant: Option<&str>,
        boxes: &[MercBox],
        grow: &dyn Fn(u8) -> f64,
    ) -> usize {
        *self.generation.entry(layer).or_default() += 1;
        if boxes.is_empty() {
            return 0;
        }
        let tree: RTree<Rectangle<[f64; 2]>> = RTree::bulk_load(
            boxes.iter().map(|b| Rectangle::from_corners([b.min_x, b.min_y], [b.max_x, b.max_y])).collect(),
        );
        let doomed: Vec<CacheKey> = self
            .map
            .keys()
            .filter(|k| k.layer == layer && variant.is_none_or(|v| v == k.variant))
            .filter(|k| {
                let b = k.tile.buffered_bounds().expand(grow(k.tile.z));
                tree.locate_in_envelope_intersecting(&b.envelope()).next().is_some()
            })
            .cloned()
            .collect();
        for k in &doomed {
            self.remove(k);
        }
        doomed.len()
    }

    /// Marks the layer changed and drops all its tiles (of one variant, or all).
    pub fn drop_layer(&mut self, layer: LayerName, variant: Option<&str>) -> usize {
        *self.generation.entry(layer).or_default() += 1;
        let doomed: Vec<CacheKey> =
            self.map.keys().filter(|k| k.layer == layer && variant.is_none_or(|v| v == k.variant)).cloned().collect();
        for k in &doomed {
            self.remove(k);
        }
        doomed.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(x: u32) -> CacheKey {
        CacheKey {
            layer: LayerName::Buildings,
            variant: String::new(),
            tile: TileId { z: 10, x, y: 0 },
            audience: Audience::Public,
        }
    }

    #[test]
    fn least_recently_used_tiles_go_first_when_over_budget() {
        let mut c = TileCache::new(CacheOptions { max_bytes: 3 * (100 + ENTRY_OVERHEAD), max_entries: 10 });
        for x in 0..3 {
            c.put(key(x), EncodedTile::new(vec![x as u8; 100]), 0);
        }
        assert!(c.get(&key(0)).is_some());
        c.put(key(3), EncodedTile::new(vec![3; 100]), 0);
        assert!(c.get(&key(1)).is_none(), "the least recently used tile is evicted");
        assert!(c.get(&key(0)).is_some() && c.get(&key(2)).is_some() && c.get(&key(3)).is_some());
        assert_eq!((c.stats.evicted, c.stats.entries), (1, 3));
        // A tile encoded before a change of its layer is not stored.
        c.invalidate(LayerName::Buildings, None, &[], &|_| 0.0);
        c.put(key(5), EncodedTile::new(vec![5; 10]), 0);
        assert!(c.get(&key(5)).is_none());
    }

    #[test]
    fn etags_follow_the_bytes_and_match_if_none_match_lists() {
        let a = EncodedTile::new(vec![1, 2, 3]);
        assert_eq!(a.etag, EncodedTile::new(vec![1, 2, 3]).etag);
        assert_ne!(a.etag, EncodedTile::new(vec![1, 2, 4]).etag);
        assert_eq!(a.etag.len(), 34);
        assert!(a.matches(&format!("\"x\", W/{}", a.etag)));
        assert!(a.matches("*"));
        assert!(!a.matches("\"other\""));
    }
}
