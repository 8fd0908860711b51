//! Geometry helpers in WGS84: geodesic lengths and areas, representative points, bounding boxes.

use geo::{BoundingRect, Distance, GeodesicArea, Haversine, InteriorPoint, LineString, MultiPolygon, Point, Rect};

/// Length of a line along the sphere (haversine), in metres, summed over consecutive vertices.
pub fn length_m(line: &LineString<f64>) -> f64 {
    line.0.windows(2).map(|w| Haversine.distance(Point::from(w[0]), Point::from(w[1]))).sum()
}

/// Geodesic area of a polygon set on the WGS84 ellipsoid, in square metres (holes subtracted),
/// whatever the orientation of its rings. (An unoriented clockwise ring would otherwise be read
/// as the rest of the Earth.)
pub fn area_m2(mp: &MultiPolygon<f64>) -> f64 {
    use geo::orient::{Direction, Orient};
    mp.orient(Direction::Default).geodesic_area_unsigned()
}

/// A point inside the polygons (not merely the centroid, which can fall outside an L shape).
/// Returns `None` for an empty set.
pub fn inside_point(mp: &MultiPolygon<f64>) -> Option<Point<f64>> {
    mp.interior_point()
}

/// A lon/lat bounding box.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bbox {
    /// West.
    pub min_lon: f64,
    /// South.
    pub min_lat: f64,
    /// East.
    pub max_lon: f64,
    /// North.
    pub max_lat: f64,
}

impl Bbox {
    /// Parses `minlon,minlat,maxlon,maxlat`, checking the ranges and order.
    pub fn parse(text: &str) -> Result<Self, String> {
        let parts: Vec<&str> = text.split(',').map(str::trim).collect();
        if parts.len() != 4 {
            return Err(format!("bbox `{text}` must be minlon,minlat,maxlon,maxlat (4 numbers)"));
        }
        let mut v = [0.0; 4];
        for (i, p) in parts.iter().enumerate() {
            v[i] = p
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| format!("bbox `{text}`: `{p}` is not a number"))?;
        }
        let b = Self { min_lon: v[0], min_lat: v[1], max_lon: v[2], max_lat: v[3] };
        if !(-180.0..=180.0).contains(&b.min_lon)
            || !(-180.0..=180.0).contains(&b.max_lon)
            || !(-90.0..=90.0).contains(&b.min_lat)
            || !(-90.0..=90.0).contains(&b.max_lat)
        {
            return Err(format!("bbox `{text}` is outside lon -180..180 / lat -90..90"));
        }
        if b.min_lon > b.max_lon || b.min_lat > b.max_lat {
            return Err(format!("bbox `{text}`: min must not exceed max"));
        }
        Ok(b)
    }

    /// The box as a `geo::Rect`.
    pub fn rect(&self) -> Rect<f64> {
        Rect::new((self.min_lon, self.min_lat), (self.max_lon, self.max_lat))
    }

    /// The box as an rstar envelope.
    pub fn envelope(&self) -> rstar::AABB<[f64; 2]> {
        rstar::AABB::from_corners([self.min_lon, self.min_lat], [self.max_lon, self.max_lat])
    }

    /// The smallest box around a geometry, if it has any coordinates.
    pub fn of<G: BoundingRect<f64>>(g: &G) -> Option<Self>
    where
        G::Output: Into<Option<Rect<f64>>>,
    {
        let r: Option<Rect<f64>> = g.bounding_rect().into();
        r.map(|r| Self { min_lon: r.min().x, min_lat: r.min().y, max_lon: r.max().x, max_lat: r.max().y })
    }

    /// The union of two boxes.
    pub fn union(&self, o: &Self) -> Self {
        Self {
            min_lon: self.min_lon.min(o.min_lon),
            min_lat: self.min_lat.min(o.min_lat),
            max_lon: self.max_lon.max(o.max_lon),
            max_lat: self.max_lat.max(o.max_lat),
        }
    }

    /// The centre (lon, lat).
    pub fn centre(&self) -> (f64, f64) {
        ((self.min_lon + self.max_lon) / 2.0, (self.min_lat + self.max_lat) / 2.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{line_string, polygon};

    #[test]
    fn a_100m_square_near_beijing_has_about_10000_m2() {
        // 100 m north-south is 0.000899 deg of latitude; east-west scales by cos(40°).
        let dlat = 100.0 / 111_195.0;
        let dlon = dlat / 40f64.to_radians().cos();
        let p = polygon![(x: 116.35, y: 40.0), (x: 116.35 + dlon, y: 40.0), (x: 116.35 + dlon, y: 40.0 + dlat), (x: 116.35, y: 40.0 + dlat)];
        let a = area_m2(&MultiPolygon(vec![p.clone()]));
        assert!((a - 10_000.0).abs() < 100.0, "{a}");
        // The same square drawn clockwise has the same area.
        let mut cw = p.exterior().clone();
        cw.0.reverse();
        let b = area_m2(&MultiPolygon(vec![geo::Polygon::new(cw, vec![])]));
        assert!((a - b).abs() < 1e-6, "{a} vs {b}");
        let l = length_m(&line_string![(x: 116.35, y: 40.0), (x: 116.35, y: 40.0 + dlat)]);
        assert!((l - 100.0).abs() < 0.5, "{l}");
    }

    #[test]
    fn bbox_parsing_rejects_bad_text() {
        assert!(Bbox::parse("116.3,39.9,116.4,40.0").is_ok());
        assert!(Bbox::parse("116.3,39.9,116.4").is_err());
        assert!(Bbox::parse("116.3,39.9,abc,40").expect_err("nan").contains("abc"));
        assert!(Bbox::parse("116.5,39.9,116.4,40.0").is_err());
        assert!(Bbox::parse("200,0,201,1").is_err());
    }
}
