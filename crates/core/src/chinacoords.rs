//! Chinese web-map coordinate systems: GCJ-02 (Amap/高德, Tencent) and BD-09 (Baidu), both ways.
//!
//! The core stores WGS84 only; io and the server convert with these functions at the edges.
//! Outside mainland China GCJ-02 equals WGS84 (the offset is not applied), as the web maps do.
//! Inverses are computed by fixed-point iteration and agree with the forward functions to
//! better than 1e-9 degrees (about 0.1 mm).

use std::f64::consts::PI;

const A: f64 = 6_378_245.0;
const EE: f64 = 0.006_693_421_622_965_943;
const X_PI: f64 = PI * 3000.0 / 180.0;

/// A coordinate system a client may speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum CoordSystem {
    /// WGS84 lon/lat (EPSG:4326), what wangge stores.
    #[default]
    Wgs84,
    /// GCJ-02 ("Mars coordinates"), used by Amap and Tencent maps.
    Gcj02,
    /// BD-09, used by Baidu maps.
    Bd09,
}

impl CoordSystem {
    /// Parses `wgs84`, `gcj02` or `bd09` (case-insensitive, `-` and `_` ignored).
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().replace(['-', '_'], "").as_str() {
            "wgs84" | "epsg4326" | "4326" => Some(Self::Wgs84),
            "gcj02" => Some(Self::Gcj02),
            "bd09" | "bd09ll" => Some(Self::Bd09),
            _ => None,
        }
    }
    /// Converts a WGS84 (lon, lat) into this system.
    pub fn from_wgs84(self, lon: f64, lat: f64) -> (f64, f64) {
        match self {
            Self::Wgs84 => (lon, lat),
            Self::Gcj02 => wgs84_to_gcj02(lon, lat),
            Self::Bd09 => wgs84_to_bd09(lon, lat),
        }
    }
    /// Converts a (lon, lat) in this system to WGS84.
    pub fn to_wgs84(self, lon: f64, lat: f64) -> (f64, f64) {
        match self {
            Self::Wgs84 => (lon, lat),
            Self::Gcj02 => gcj02_to_wgs84(lon, lat),
            Self::Bd09 => bd09_to_wgs84(lon, lat),
        }
    }
}

/// True when the point lies outside the rectangle in which GCJ-02 applies its offset.
pub fn out_of_china(lon: f64, lat: f64) -> bool {
    !(72.004..=137.8347).contains(&lon) || !(0.8293..=55.8271).contains(&lat)
}

fn transform_lat(x: f64, y: f64) -> f64 {
    let mut r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * x.abs().sqrt();
    r += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    r += (20.0 * (y * PI).sin() + 40.0 * (y / 3.0 * PI).sin()) * 2.0 / 3.0;
    r += (160.0 * (y / 12.0 * PI).sin() + 320.0 * (y * PI / 30.0).sin()) * 2.0 / 3.0;
    r
}

fn transform_lon(x: f64, y: f64) -> f64 {
    let mut r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * x.abs().sqrt();
    r += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    r += (20.0 * (x * PI).sin() + 40.0 * (x / 3.0 * PI).sin()) * 2.0 / 3.0;
    r += (150.0 * (x / 12.0 * PI).sin() + 300.0 * (x / 30.0 * PI).sin()) * 2.0 / 3.0;
    r
}

/// WGS84 → GCJ-02. Returns the input unchanged outside China.
pub fn wgs84_to_gcj02(lon: f64, lat: f64) -> (f64, f64) {
    if out_of_china(lon, lat) {
        return (lon, lat);
    }
    let mut dlat = transform_lat(lon - 105.0, lat - 35.0);
    let mut dlon = transform_lon(lon - 105.0, lat - 35.0);
    let radlat = lat / 180.0 * PI;
    let magic = 1.0 - EE * radlat.sin() * radlat.sin();
    let sqrt_magic = magic.sqrt();
    dlat = (dlat * 180.0) / ((A * (1.0 - EE)) / (magic * sqrt_magic) * PI);
    dlon = (dlon * 180.0) / (A / sqrt_magic * radlat.cos() * PI);
    (lon + dlon, lat + dlat)
}

/// GCJ-02 → WGS84, by iterating the forward transform to 1e-10 degrees.
pub fn gcj02_to_wgs84(lon: f64, lat: f64) -> (f64, f64) {
    invert(lon, lat, wgs84_to_gcj02)
}

/// GCJ-02 → BD-09.
pub fn gcj02_to_bd09(lon: f64, lat: f64) -> (f64, f64) {
    let z = (lon * lon + lat * lat).sqrt() + 0.000_02 * (lat * X_PI).sin();
    let theta = lat.atan2(lon) + 0.000_003 * (lon * X_PI).cos();
    (z * theta.cos() + 0.0065, z * theta.sin() + 0.006)
}

/// BD-09 → GCJ-02, by iterating the forward transform to 1e-10 degrees.
pub fn bd09_to_gcj02(lon: f64, lat: f64) -> (f64, f64) {
    invert(lon, lat, gcj02_to_bd09)
}

/// WGS84 → BD-09 (through GCJ-02).
pub fn wgs84_to_bd09(lon: f64, lat: f64) -> (f64, f64) {
    let (x, y) = wgs84_to_gcj02(lon, lat);
    gcj02_to_bd09(x, y)
}

/// BD-09 → WGS84 (through GCJ-02).
pub fn bd09_to_wgs84(lon: f64, lat: f64) -> (f64, f64) {
    let (x, y) = bd09_to_gcj02(lon, lat);
    gcj02_to_wgs84(x, y)
}

/// Solves forward(p) = target for p, starting from the target itself. Both offsets are small and
/// smooth, so the fixed-point iteration converges in a handful of steps.
fn invert(lon: f64, lat: f64, forward: fn(f64, f64) -> (f64, f64)) -> (f64, f64) {
    let (mut x, mut y) = (lon, lat);
    for _ in 0..30 {
        let (fx, fy) = forward(x, y);
        let (dx, dy) = (fx - lon, fy - lat);
        x -= dx;
        y -= dy;
        if dx.abs() < 1e-10 && dy.abs() < 1e-10 {
            break;
        }
    }
    (x, y)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: (f64, f64), b: (f64, f64), tol: f64) -> bool {
        (a.0 - b.0).abs() < tol && (a.1 - b.1).abs() < tol
    }

    // Reference values published with the widely used open-source coordinate converters
    // (e.g. the `coordtransform` README's examples for the point 116.404, 39.915 near Tiananmen).
    #[test]
    fn wgs84_to_gcj02_matches_published_reference() {
        let got = wgs84_to_gcj02(116.404, 39.915);
        assert!(close(got, (116.410_244_499_169_38, 39.916_404_281_501_64), 1e-9), "{got:?}");
    }

    #[test]
    fn gcj02_to_bd09_matches_published_reference() {
        let got = gcj02_to_bd09(116.404, 39.915);
        assert!(close(got, (116.410_369_493_710_29, 39.921_336_993_510_21), 1e-9), "{got:?}");
    }

    #[test]
    fn published_inverse_is_within_the_approximations_error() {
        // The published gcj02→wgs84 value is the one-step approximation (error of a few metres);
        // our iterated inverse must be within ~5e-5° of it and exactly invert the forward transform.
        let got = gcj02_to_wgs84(116.404, 39.915);
        assert!(close(got, (116.397_755_500_830_61, 39.913_595_718_498_36), 5e-5), "{got:?}");
        assert!(close(wgs84_to_gcj02(got.0, got.1), (116.404, 39.915), 1e-9));
    }

    #[test]
    fn bd09_to_gcj02_agrees_with_published_reference() {
        // The published value uses the closed-form approximate inverse; ours iterates, so they agree
        // to about 1e-6 degrees (a decimetre).
        let got = bd09_to_gcj02(116.404, 39.915);
        assert!(close(got, (116.397_627_291_193_15, 39.908_656_739_576_31), 2e-6), "{got:?}");
        assert!(close(gcj02_to_bd09(got.0, got.1), (116.404, 39.915), 1e-9));
    }

    #[test]
    fn round_trips_are_exact_across_china() {
        for &(lon, lat) in &[(116.35, 40.0), (121.47, 31.23), (113.26, 23.13), (87.6, 43.8), (126.6, 45.75)] {
            for sys in [CoordSystem::Gcj02, CoordSystem::Bd09] {
                let there = sys.from_wgs84(lon, lat);
                assert!(!close(there, (lon, lat), 1e-4), "{sys:?} should move the point");
                assert!(close(sys.to_wgs84(there.0, there.1), (lon, lat), 1e-9), "{sys:?} {lon},{lat}");
            }
        }
    }

    #[test]
    fn no_offset_outside_china() {
        assert_eq!(wgs84_to_gcj02(24.94, 60.17), (24.94, 60.17));
        assert_eq!(CoordSystem::parse("GCJ-02"), Some(CoordSystem::Gcj02));
        assert_eq!(CoordSystem::parse("bd09"), Some(CoordSystem::Bd09));
        assert_eq!(CoordSystem::parse("mars"), None);
    }
}
