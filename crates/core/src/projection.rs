//! Local metric frames. Metric work (areas, distances, offsets, Voronoi cells) happens in one
//! transverse Mercator frame chosen per dataset: a CGCS2000 3-degree Gauss-Krüger zone inside
//! China (CGCS2000 agrees with WGS84 to well under a metre) and a WGS84 UTM zone elsewhere.
//! Projections are done by `proj4rs`, a pure-Rust PROJ port (see ARCHITECTURE.md for why not the
//! C library by default).

use geo::{Coord, MapCoords};

/// Errors building or using a frame.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProjectionError {
    /// PROJ rejected a definition.
    #[error("projection `{definition}`: {reason}")]
    Definition {
        /// The proj string.
        definition: String,
        /// Why it failed.
        reason: String,
    },
    /// A point could not be transformed.
    #[error("cannot project ({lon}, {lat}): {reason}")]
    Transform {
        /// Longitude.
        lon: f64,
        /// Latitude.
        lat: f64,
        /// Why.
        reason: String,
    },
}

/// A local transverse Mercator frame in metres.
pub struct LocalFrame {
    definition: String,
    wgs84: proj4rs::Proj,
    local: proj4rs::Proj,
}

impl std::fmt::Debug for LocalFrame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalFrame").field("definition", &self.definition).finish()
    }
}

/// True when (lon, lat) lies in the rough extent where CGCS2000 Gauss-Krüger zones are used.
fn in_china_extent(lon: f64, lat: f64) -> bool {
    (73.0..=135.5).contains(&lon) && (3.0..=54.0).contains(&lat)
}

impl LocalFrame {
    /// The proj definition chosen for data centred on (lon, lat).
    pub fn definition_for(lon: f64, lat: f64) -> String {
        if in_china_extent(lon, lat) {
            // CGCS2000 3-degree Gauss-Krüger zone, central meridian a multiple of 3 degrees
            // (EPSG:4534..4554 without the zone prefix on the false easting).
            let cm = (lon / 3.0).round() * 3.0;
            format!("+proj=tmerc +lat_0=0 +lon_0={cm} +k=1 +x_0=500000 +y_0=0 +ellps=GRS80 +units=m +no_defs")
        } else {
            let zone = (((lon + 180.0) / 6.0).floor() as i32).clamp(0, 59) + 1;
            let south = if lat < 0.0 { " +south" } else { "" };
            format!("+proj=utm +zone={zone}{south} +datum=WGS84 +units=m +no_defs")
        }
    }

    /// The frame for data centred on (lon, lat).
    pub fn for_lonlat(lon: f64, lat: f64) -> Result<Self, ProjectionError> {
        Self::from_definition(&Self::definition_for(lon, lat))
    }

    /// A frame from a proj string.
    pub fn from_definition(definition: &str) -> Result<Self, ProjectionError> {
        let err = |reason: String| ProjectionError::Definition { definition: definition.to_string(), reason };
        let wgs84 =
            proj4rs::Proj::from_proj_string("+proj=longlat +datum=WGS84 +no_defs").map_err(|e| err(e.to_string()))?;
        let local = proj4rs::Proj::from_proj_string(definition).map_err(|e| err(e.to_string()))?;
        Ok(Self { definition: definition.to_string(), wgs84, local })
    }

    /// The proj string of the frame.
    pub fn definition(&self) -> &str {
        &self.definition
    }

    /// WGS84 (lon, lat) in degrees → local (x, y) in metres.
    pub fn forward(&self, lon: f64, lat: f64) -> Result<(f64, f64), ProjectionError> {
        let mut p = (lon.to_radians(), lat.to_radians(), 0.0);
        proj4rs::transform::transform(&self.wgs84, &self.local, &mut p).map_err(|e| ProjectionError::Transform {
            lon,
            lat,
            reason: e.to_string(),
        })?;
        Ok((p.0, p.1))
    }

    /// Local (x, y) in metres → WGS84 (lon, lat) in degrees.
    pub fn inverse(&self, x: f64, y: f64) -> Result<(f64, f64), ProjectionError> {
        let mut p = (x, y, 0.0);
        proj4rs::transform::transform(&self.local, &self.wgs84, &mut p).map_err(|e| ProjectionError::Transform {
            lon: x,
            lat: y,
            reason: e.to_string(),
        })?;
        Ok((p.0.to_degrees(), p.1.to_degrees()))
    }

    /// Projects any geometry into the frame.
    pub fn project<G: MapCoords<f64, f64>>(&self, g: &G) -> Result<G::Output, ProjectionError> {
        g.try_map_coords(|c: Coord<f64>| self.forward(c.x, c.y).map(|(x, y)| Coord { x, y }))
    }

    /// Brings any geometry back to WGS84.
    pub fn unproject<G: MapCoords<f64, f64>>(&self, g: &G) -> Result<G::Output, ProjectionError> {
        g.try_map_coords(|c: Coord<f64>| self.inverse(c.x, c.y).map(|(x, y)| Coord { x, y }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beijing_uses_cgcs2000_zone_117_and_matches_reference() {
        let f = LocalFrame::for_lonlat(116.35, 40.0).expect("frame");
        assert!(f.definition().contains("+lon_0=117"), "{}", f.definition());
        // EPSG:4548 (CGCS2000 / 3-degree GK CM 117E) reference: on the central meridian the easting
        // is exactly the false easting, and the northing is the meridian arc length (GRS80).
        let (x, y) = f.forward(117.0, 40.0).expect("forward");
        assert!((x - 500_000.0).abs() < 1e-6, "{x}");
        assert!((y - 4_429_529.03).abs() < 0.01, "{y}");
    }

    #[test]
    fn helsinki_uses_utm_35n_and_round_trips() {
        let f = LocalFrame::for_lonlat(24.94, 60.17).expect("frame");
        assert!(f.definition().contains("+zone=35"), "{}", f.definition());
        let (x, y) = f.forward(24.94, 60.17).expect("forward");
        let (lon, lat) = f.inverse(x, y).expect("inverse");
        assert!((lon - 24.94).abs() < 1e-9 && (lat - 60.17).abs() < 1e-9);
        // One degree of latitude is about 111.4 km at 60°N.
        let (_, y2) = f.forward(24.94, 61.17).expect("forward");
        assert!(((y2 - y) - 111_440.0).abs() < 200.0, "{}", y2 - y);
    }
}
