//! Tile math: Web Mercator (EPSG:3857) metres, z/x/y tiles (XYZ scheme, y from the north), tile
//! bounds, and the affine map from Mercator metres to tile pixels at [`EXTENT`].

use crate::TileError;
use std::f64::consts::PI;

/// The tile coordinate space of every layer (MVT `extent`).
pub const EXTENT: u32 = 4096;
/// Pixels of geometry kept beyond each tile edge, so that lines and outlines join without seams.
pub const BUFFER: u32 = 64;
/// The deepest zoom a tile may be asked for.
pub const MAX_ZOOM: u8 = 22;
/// Web Mercator sphere radius (WGS84 semi-major axis), metres.
pub const EARTH_RADIUS: f64 = 6_378_137.0;
/// Half the width of the Mercator square, metres (x and y run from −this to +this).
pub const HALF_WORLD: f64 = PI * EARTH_RADIUS;
/// The latitude where the Mercator square ends (±85.0511…°).
pub const MAX_LAT: f64 = 85.051_128_779_806_59;

/// Lon/lat (degrees, WGS84) to Web Mercator metres. Latitudes beyond ±[`MAX_LAT`] are clamped.
pub fn lonlat_to_merc(lon: f64, lat: f64) -> (f64, f64) {
    let lat = lat.clamp(-MAX_LAT, MAX_LAT);
    let x = lon.to_radians() * EARTH_RADIUS;
    let y = (PI / 4.0 + lat.to_radians() / 2.0).tan().ln() * EARTH_RADIUS;
    (x, y)
}

/// Web Mercator metres to lon/lat degrees.
pub fn merc_to_lonlat(x: f64, y: f64) -> (f64, f64) {
    let lon = (x / EARTH_RADIUS).to_degrees();
    let lat = (2.0 * (y / EARTH_RADIUS).exp().atan() - PI / 2.0).to_degrees();
    (lon, lat)
}

/// Width of one tile at zoom `z`, in Mercator metres.
pub fn tile_size_m(z: u8) -> f64 {
    2.0 * HALF_WORLD / f64::from(1u32 << z.min(31))
}

/// Width of one tile pixel (at [`EXTENT`]) at zoom `z`, in Mercator metres.
pub fn pixel_size_m(z: u8) -> f64 {
    tile_size_m(z) / f64::from(EXTENT)
}

/// An axis-aligned box in Web Mercator metres.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MercBox {
    /// West.
    pub min_x: f64,
    /// South.
    pub min_y: f64,
    /// East.
    pub max_x: f64,
    /// North.
    pub max_y: f64,
}

impl MercBox {
    /// A box from two corners in any order.
    pub fn new(x0: f64, y0: f64, x1: f64, y1: f64) -> Self {
        Self { min_x: x0.min(x1), min_y: y0.min(y1), max_x: x0.max(x1), max_y: y0.max(y1) }
    }

    /// The Mercator box of a lon/lat box.
    pub fn from_lonlat(min_lon: f64, min_lat: f64, max_lon: f64, max_lat: f64) -> Self {
        let (x0, y0) = lonlat_to_merc(min_lon, min_lat);
        let (x1, y1) = lonlat_to_merc(max_lon, max_lat);
        Self::new(x0, y0, x1, y1)
    }

    /// The Mercator box of a core [`wangge_core::geometry::Bbox`].
    pub fn from_bbox(b: &wangge_core::geometry::Bbox) -> Self {
        Self::from_lonlat(b.min_lon, b.min_lat, b.max_lon, b.max_lat)
    }

    /// The box in lon/lat: `[west, south, east, north]`.
    pub fn to_lonlat(&self) -> [f64; 4] {
        let (w, s) = merc_to_lonlat(self.min_x, self.min_y);
        let (e, n) = merc_to_lonlat(self.max_x, self.max_y);
        [w, s, e, n]
    }

    /// The box grown by `d` metres on every side.
    pub fn expand(&self, d: f64) -> Self {
        Self { min_x: self.min_x - d, min_y: self.min_y - d, max_x: self.max_x + d, max_y: self.max_y + d }
    }

    /// True when the boxes share at least one point (touching counts).
    pub fn intersects(&self, o: &Self) -> bool {
        self.min_x <= o.max_x && o.min_x <= self.max_x && self.min_y <= o.max_y && o.min_y <= self.max_y
    }

    /// True when `o` lies inside this box (edges included).
    pub fn contains_box(&self, o: &Self) -> bool {
        self.min_x <= o.min_x && o.max_x <= self.max_x && self.min_y <= o.min_y && o.max_y <= self.max_y
    }

    /// True when the point lies inside the box (edges included).
    pub fn contains(&self, x: f64, y: f64) -> bool {
        self.min_x <= x && x <= self.max_x && self.min_y <= y && y <= self.max_y
    }

    /// The smallest box holding both.
    pub fn union(&self, o: &Self) -> Self {
        Self {
            min_x: self.min_x.min(o.min_x),
            min_y: self.min_y.min(o.min_y),
            max_x: self.max_x.max(o.max_x),
            max_y: self.max_y.max(o.max_y),
        }
    }

    /// The box as an rstar envelope.
    pub fn envelope(&self) -> rstar::AABB<[f64; 2]> {
        rstar::AABB::from_corners([self.min_x, self.min_y], [self.max_x, self.max_y])
    }

    /// Width × height, m².
    pub fn area(&self) -> f64 {
        (self.max_x - self.min_x) * (self.max_y - self.min_y)
    }
}

/// One tile of the XYZ scheme: zoom `z`, column `x` from the west, row `y` from the north.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TileId {
    /// Zoom, 0..=[`MAX_ZOOM`].
    pub z: u8,
    /// Column, 0..2^z.
    pub x: u32,
    /// Row, 0..2^z (0 is the northernmost).
    pub y: u32,
}

impl TileId {
    /// A checked tile: `z ≤ 22` and `x, y < 2^z`.
    pub fn new(z: u32, x: u32, y: u32) -> Result<Self, TileError> {
        if z > u32::from(MAX_ZOOM) {
            return Err(TileError::ZoomOutOfRange { z, max: MAX_ZOOM });
        }
        let n = 1u64 << z;
        if u64::from(x) >= n || u64::from(y) >= n {
            return Err(TileError::TileOutOfRange { z, x, y });
        }
        Ok(Self { z: z as u8, x, y })
    }

    /// Parses the three path segments of `/{z}/{x}/{y}.mvt`. `y` may end in `.mvt` or `.pbf`.
    pub fn parse(z: &str, x: &str, y: &str) -> Result<Self, TileError> {
        let y = y.strip_suffix(".mvt").or_else(|| y.strip_suffix(".pbf")).unwrap_or(y);
        let num = |what: &'static str, s: &str| {
            s.parse::<u32>().map_err(|_| TileError::BadCoordinate { what, text: s.to_string() })
        };
        Self::new(num("z", z)?, num("x", x)?, num("y", y)?)
    }

    /// The tile at zoom `z` holding the lon/lat point (clamped to the Mercator square).
    pub fn containing(lon: f64, lat: f64, z: u8) -> Self {
        let (x, y) = lonlat_to_merc(lon, lat);
        Self::containing_merc(x, y, z)
    }

    /// The tile at zoom `z` holding the Mercator point (clamped to the Mercator square).
    pub fn containing_merc(x: f64, y: f64, z: u8) -> Self {
        let z = z.min(MAX_ZOOM);
        let n = 1u64 << z;
        let size = tile_size_m(z);
        let col = ((x + HALF_WORLD) / size).floor().clamp(0.0, (n - 1) as f64) as u32;
        let row = ((HALF_WORLD - y) / size).floor().clamp(0.0, (n - 1) as f64) as u32;
        Self { z, x: col, y: row }
    }

    /// The tile's bounds in Mercator metres (no buffer).
    pub fn bounds(&self) -> MercBox {
        let size = tile_size_m(self.z);
        let min_x = -HALF_WORLD + f64::from(self.x) * size;
        let max_y = HALF_WORLD - f64::from(self.y) * size;
        MercBox { min_x, min_y: max_y - size, max_x: min_x + size, max_y }
    }

    /// The bounds grown by [`BUFFER`] pixels on every side.
    pub fn buffered_bounds(&self) -> MercBox {
        self.bounds().expand(f64::from(BUFFER) * pixel_size_m(self.z))
    }

    /// The tiles at zoom `z` whose bounds meet `b`, as inclusive ranges of columns and rows.
    pub fn range(b: &MercBox, z: u8) -> (std::ops::RangeInclusive<u32>, std::ops::RangeInclusive<u32>) {
        let a = Self::containing_merc(b.min_x, b.max_y, z);
        let c = Self::containing_merc(b.max_x, b.min_y, z);
        (a.x..=c.x, a.y..=c.y)
    }

    /// The affine map from Mercator metres to this tile's pixels.
    pub fn transform(&self) -> PixelTransform {
        let b = self.bounds();
        let scale = f64::from(EXTENT) / (b.max_x - b.min_x);
        PixelTransform { left: b.min_x, top: b.max_y, scale }
    }
}

impl std::fmt::Display for TileId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}/{}", self.z, self.x, self.y)
    }
}

/// Mercator metres → tile pixels (x east, y south, 0..[`EXTENT`] inside the tile).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PixelTransform {
    left: f64,
    top: f64,
    scale: f64,
}

impl PixelTransform {
    /// The pixel position of a Mercator point (fractional; may lie outside the tile).
    #[inline]
    pub fn apply(&self, x: f64, y: f64) -> (f64, f64) {
        ((x - self.left) * self.scale, (self.top - y) * self.scale)
    }

    /// Pixels per Mercator metre.
    pub fn scale(&self) -> f64 {
        self.scale
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mercator_round_trips_and_matches_known_values() {
        let (x, y) = lonlat_to_merc(116.3, 39.99);
        assert!((x - 12_946_456.779).abs() < 0.01, "{x}");
        assert!((y - 4_864_489.213).abs() < 0.01, "{y}");
        let (lon, lat) = merc_to_lonlat(x, y);
        assert!((lon - 116.3).abs() < 1e-9 && (lat - 39.99).abs() < 1e-9);
        let (_, top) = lonlat_to_merc(0.0, 89.9);
        assert!((top - HALF_WORLD).abs() < 1e-6);
    }

    #[test]
    fn tile_bounds_and_containment_agree() {
        let t = TileId::containing(116.3, 39.99, 14);
        assert_eq!((t.x, t.y), (13484, 6203));
        let b = t.bounds();
        let (x, y) = lonlat_to_merc(116.3, 39.99);
        assert!(b.contains(x, y));
        assert!((b.max_x - b.min_x - 2_445.984_905_125_6).abs() < 1e-6);
        let tr = t.transform();
        let (px, py) = tr.apply(b.min_x, b.max_y);
        assert!(px.abs() < 1e-6 && py.abs() < 1e-6);
        let (px, py) = tr.apply(b.max_x, b.min_y);
        assert!((px - 4096.0).abs() < 1e-6 && (py - 4096.0).abs() < 1e-6);
        let world = TileId::new(0, 0, 0).expect("z0").bounds();
        assert!((world.max_x - HALF_WORLD).abs() < 1e-6 && (world.min_y + HALF_WORLD).abs() < 1e-6);
    }

    #[test]
    fn out_of_range_tiles_are_errors() {
        assert!(matches!(TileId::new(23, 0, 0), Err(TileError::ZoomOutOfRange { z: 23, .. })));
        assert!(matches!(TileId::new(3, 8, 0), Err(TileError::TileOutOfRange { .. })));
        assert!(matches!(TileId::new(3, 0, 8), Err(TileError::TileOutOfRange { .. })));
        assert!(TileId::new(22, (1 << 22) - 1, 0).is_ok());
        assert_eq!(TileId::parse("14", "13484", "6203.mvt").expect("ok"), TileId { z: 14, x: 13484, y: 6203 });
        assert!(matches!(TileId::parse("14", "-1", "0"), Err(TileError::BadCoordinate { what: "x", .. })));
        assert!(TileId::parse("14", "1", "2.png").is_err());
    }
}
