//! The encoded-tile cache: least recently used entries go first once a byte or entry budget is
//! exceeded; invalidation by box drops exactly the cached tiles whose buffered bounds meet it.

use crate::attrs::Audience;
use crate::layer::LayerName;
use crate::tilemath::{MercBox, TileId};
use rstar::RTree;
use rstar::primitives::Rectangle;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;
use std::sync::{Arc, OnceLock};

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

/// An encoded tile with its entity tag, and its gzip copy once someone asked for it.
///
/// Clones share the gzip copy: the cache hands out clones of its entry, so the first request that
/// accepts gzip compresses the tile once and every later one (from the cache) gets the same bytes.
#[derive(Debug, Clone)]
pub struct EncodedTile {
    /// The MVT bytes (uncompressed protobuf); empty when the tile has no features.
    pub bytes: Arc<[u8]>,
    /// A strong ETag, quoted: the first 128 bits of the SHA-256 of the bytes, so it changes
    /// exactly when the bytes do. The gzip copy is the same representation (a content coding of
    /// it), so it carries the same tag.
    pub etag: Arc<str>,
    gzip: Arc<OnceLock<Arc<[u8]>>>,
}

impl PartialEq for EncodedTile {
    /// Tiles are equal when their bytes are (whether or not a gzip copy was made yet).
    fn eq(&self, other: &Self) -> bool {
        self.bytes == other.bytes
    }
}

impl Eq for EncodedTile {}

impl EncodedTile {
    /// Wraps bytes and computes the ETag.
    pub fn new(bytes: Vec<u8>) -> Self {
        let d = Sha256::digest(&bytes);
        Self::with_digest(bytes, &d)
    }

    /// A composite tile: the concatenation of parts whose ETags are `parts`. Its tag is derived
    /// from theirs (they determine the bytes), without a second pass over the bytes.
    pub fn composed(bytes: Vec<u8>, parts: &[&Arc<str>]) -> Self {
        let mut h = Sha256::new();
        h.update(b"composite");
        for t in parts {
            h.update(b",");
            h.update(t.as_bytes());
        }
        Self::with_digest(bytes, &h.finalize())
    }

    fn with_digest(bytes: Vec<u8>, d: &[u8]) -> Self {
        use std::fmt::Write as _;
        let mut tag = String::with_capacity(34);
        tag.push('"');
        for b in &d[..16] {
            let _ = write!(tag, "{b:02x}");
        }
        tag.push('"');
        Self { bytes: bytes.into(), etag: tag.into(), gzip: Arc::default() }
    }

    /// The tile compressed with gzip (RFC 1952), made on the first call and shared by every clone
    /// after it: a cached tile is compressed once, however often it is served.
    pub fn gzip(&self) -> Arc<[u8]> {
        self.gzip
            .get_or_init(|| {
                use std::io::Write as _;
                let mut enc = flate2::write::GzEncoder::new(
                    Vec::with_capacity(self.bytes.len() / 2 + 32),
                    flate2::Compression::default(),
                );
                // Writing into a Vec cannot fail.
                let _ = enc.write_all(&self.bytes);
                enc.finish().unwrap_or_default().into()
            })
            .clone()
    }

    /// True once the gzip copy has been made.
    pub fn has_gzip(&self) -> bool {
        self.gzip.get().is_some()
    }

    /// The bytes a tile takes in the cache: the raw bytes counted twice, room for its gzip copy
    /// (never larger than the raw bytes plus a few header bytes for MVT data in practice).
    fn cost(&self) -> usize {
        2 * self.bytes.len() + ENTRY_OVERHEAD
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

/// Budget of the cache. A budget of zero bytes or zero entries turns caching off: every tile is
/// encoded on every request (what a load test of the encoder wants).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheOptions {
    /// Bytes of tiles kept, each counted with room for its gzip copy (the least recently used go
    /// first beyond it). Composite tiles (several layers in one) have a budget of their own of the
    /// same size.
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

impl CacheOptions {
    /// No caching at all.
    pub const OFF: CacheOptions = CacheOptions { max_bytes: 0, max_entries: 0 };

    /// A budget of `mib` mebibytes (0: caching off) and the default entry limit.
    pub fn megabytes(mib: usize) -> Self {
        if mib == 0 { Self::OFF } else { Self { max_bytes: mib.saturating_mul(1 << 20), ..Self::default() } }
    }

    /// True when nothing is kept.
    pub fn is_off(&self) -> bool {
        self.max_bytes == 0 || self.max_entries == 0
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

    /// The tile of `key` if cached, without touching the counters or the LRU order.
    pub fn peek(&self, key: &CacheKey) -> Option<EncodedTile> {
        self.map.get(key).map(|e| e.tile.clone())
    }

    /// Changes the budget, evicting the least recently used tiles until it holds.
    pub fn set_options(&mut self, opts: CacheOptions) {
        self.opts = opts;
        self.shrink();
    }

    fn shrink(&mut self) {
        while self.stats.bytes > self.opts.max_bytes || self.map.len() > self.opts.max_entries {
            let Some((_, k)) = self.lru.pop_first() else { break };
            if let Some(e) = self.map.remove(&k) {
                self.stats.bytes -= e.tile.cost();
                self.stats.evicted += 1;
            }
        }
        self.stats.entries = self.map.len();
    }

    /// Stores a tile encoded from the data of generation `generation`; ignored when the layer has
    /// changed since (the bytes may be stale) or when caching is off.
    pub fn put(&mut self, key: CacheKey, tile: EncodedTile, generation: u64) {
        if self.generation(key.layer) != generation || self.opts.is_off() {
            return;
        }
        self.tick += 1;
        let size = tile.cost();
        if let Some(old) = self.map.insert(key.clone(), Entry { tile, tick: self.tick }) {
            self.lru.remove(&old.tick);
            self.stats.bytes -= old.tile.cost();
        }
        self.lru.insert(self.tick, key);
        self.stats.bytes += size;
        self.shrink();
    }

    fn remove(&mut self, k: &CacheKey) {
        if let Some(e) = self.map.remove(k) {
            self.lru.remove(&e.tick);
            self.stats.bytes -= e.tile.cost();
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

/// What identifies a composite tile (several layers in one response).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct CompositeKey {
    /// The parts in request order: layer and resolved variant.
    pub parts: Vec<(LayerName, String)>,
    pub tile: TileId,
    pub audience: Audience,
}

/// Composite tiles, each kept with the ETags of the parts it was made from: an entry is current
/// exactly when its parts' tags still are, so invalidating a part needs no bookkeeping here.
pub(crate) struct CompositeCache {
    lru: Lru<CompositeKey, (Vec<Arc<str>>, EncodedTile)>,
}

impl CompositeCache {
    pub fn new(opts: CacheOptions) -> Self {
        Self { lru: Lru::new(opts) }
    }

    pub fn set_options(&mut self, opts: CacheOptions) {
        self.lru.set_options(opts);
    }

    /// The composite made from parts with exactly these ETags, if kept.
    pub fn get(&mut self, key: &CompositeKey, tags: &[&Arc<str>]) -> Option<EncodedTile> {
        let (kept, tile) = self.lru.get(key)?;
        (kept.len() == tags.len() && kept.iter().zip(tags).all(|(a, b)| a == *b)).then(|| tile.clone())
    }

    pub fn put(&mut self, key: CompositeKey, tags: Vec<Arc<str>>, tile: EncodedTile) {
        let cost = tile.cost();
        self.lru.put(key, (tags, tile), cost);
    }
}

/// A least-recently-used map with a byte and an entry budget (zero of either: keeps nothing).
pub(crate) struct Lru<K, V> {
    opts: CacheOptions,
    map: HashMap<K, (V, u64, usize)>,
    order: BTreeMap<u64, K>,
    tick: u64,
    bytes: usize,
}

impl<K: Clone + Eq + Hash, V> Lru<K, V> {
    pub fn new(opts: CacheOptions) -> Self {
        Self { opts, map: HashMap::new(), order: BTreeMap::new(), tick: 0, bytes: 0 }
    }

    pub fn set_options(&mut self, opts: CacheOptions) {
        self.opts = opts;
        self.shrink();
    }

    pub fn get(&mut self, key: &K) -> Option<&V> {
        self.tick += 1;
        let tick = self.tick;
        let e = self.map.get_mut(key)?;
        self.order.remove(&e.1);
        e.1 = tick;
        self.order.insert(tick, key.clone());
        Some(&e.0)
    }

    pub fn put(&mut self, key: K, value: V, cost: usize) {
        if self.opts.is_off() {
            return;
        }
        self.tick += 1;
        if let Some((_, t, c)) = self.map.insert(key.clone(), (value, self.tick, cost)) {
            self.order.remove(&t);
            self.bytes -= c;
        }
        self.order.insert(self.tick, key);
        self.bytes += cost;
        self.shrink();
    }

    fn shrink(&mut self) {
        while self.bytes > self.opts.max_bytes || self.map.len() > self.opts.max_entries {
            let Some((_, k)) = self.order.pop_first() else { break };
            if let Some((_, _, c)) = self.map.remove(&k) {
                self.bytes -= c;
            }
        }
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.map.len()
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
        let mut c = TileCache::new(CacheOptions { max_bytes: 3 * (2 * 100 + ENTRY_OVERHEAD), max_entries: 10 });
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

    #[test]
    fn the_gzip_copy_is_made_once_and_shared_by_clones() {
        use std::io::Read as _;
        let raw: Vec<u8> = (0..5000u32).map(|i| (i % 7) as u8).collect();
        let a = EncodedTile::new(raw.clone());
        let b = a.clone();
        assert!(!b.has_gzip());
        let gz = a.gzip();
        assert!(b.has_gzip(), "a clone (e.g. the cache's entry) sees the copy made through another");
        assert!(Arc::ptr_eq(&gz, &b.gzip()), "the same bytes, not a second compression");
        assert!(gz.len() < raw.len() / 4, "{} bytes", gz.len());
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(&gz[..]).read_to_end(&mut back).expect("a gzip stream");
        assert_eq!(back, raw);
    }

    #[test]
    fn a_cache_with_no_budget_keeps_nothing() {
        let mut c = TileCache::new(CacheOptions::megabytes(0));
        c.put(key(1), EncodedTile::new(vec![1; 10]), 0);
        assert!(c.get(&key(1)).is_none());
        let mut c = TileCache::new(CacheOptions::megabytes(1));
        c.put(key(1), EncodedTile::new(vec![1; 10]), 0);
        assert!(c.get(&key(1)).is_some());
        c.set_options(CacheOptions::OFF);
        assert!(c.get(&key(1)).is_none(), "turning the cache off empties it");
        let mut l: Lru<u32, u32> = Lru::new(CacheOptions { max_bytes: 100, max_entries: 2 });
        l.put(1, 10, 10);
        l.put(2, 20, 10);
        assert_eq!(l.get(&1).copied(), Some(10));
        l.put(3, 30, 10);
        let got = (l.get(&2).copied(), l.get(&1).copied(), l.get(&3).copied(), l.len());
        assert_eq!(got, (None, Some(10), Some(30), 2), "the least recently used entry went");
        l.put(4, 40, 200);
        assert_eq!(l.len(), 0, "an entry over the byte budget does not stay");
    }
}
