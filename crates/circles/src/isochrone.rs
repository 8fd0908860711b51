//! Isochrones: the area within walking time of a point, as polygons with holes.
//!
//! One bounded search from the point, then for every requested time the *reached network* — every
//! edge walked in full or in part (a partly reached chain contributes the part within the time,
//! from either end, and the source's own chain the part around the source). The reached pieces
//! are rasterised into a metric grid (samples `cell_m` apart, in the local frame): a sample is
//! inside when it lies within `offset_m` of a reached piece, computed exactly per grid row. The
//! contour is traced with marching squares (saddles joined) into rings; clockwise rings are holes
//! where nothing is reachable, assigned to the smallest ring around them.
//!
//! Guarantees (local frame), for `cell_m ≤ offset_m / √2` (checked):
//! - every network point reachable within the time lies inside the polygon (all four samples
//!   around it are within `offset_m` of it, so its grid square is wholly inside);
//! - no point of the polygon is farther than `offset_m + cell_m` from a reachable network point
//!   (a polygon point lies within 0.8 · `cell_m` of an inside sample).

use crate::graph::{NONE, from_um, to_um};
use crate::network::Snap;
use crate::services::Searcher;
use crate::{CirclesError, Network, WalkProfile};
use geo::{Coord, LineString, MultiPolygon, Polygon};

/// The largest grid an isochrone may use (samples); beyond it the call fails asking for a larger cell.
pub const MAX_CELLS: usize = 50_000_000;

/// Options of an isochrone.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IsochroneOptions {
    /// How far around the reached network the area extends, metres. Default 40.
    pub offset_m: f64,
    /// Grid spacing, metres; at most `offset_m / √2`. Default 10.
    pub cell_m: f64,
}

impl Default for IsochroneOptions {
    fn default() -> Self {
        Self { offset_m: 40.0, cell_m: 10.0 }
    }
}

/// The walking area for one time.
#[derive(Debug, Clone, PartialEq)]
pub struct Isochrone {
    /// Walking minutes.
    pub minutes: f64,
    /// The walking distance in that time at the profile's speed, metres.
    pub distance_m: f64,
    /// The area (lon/lat); empty when the point's own snap leg is longer than the walk.
    pub area: MultiPolygon<f64>,
}

impl Isochrone {
    /// The isochrone as a GeoJSON feature with properties `minutes` and `distance_m`.
    pub fn to_feature(&self) -> geojson::Feature {
        let mut props = geojson::JsonObject::new();
        props.insert("minutes".into(), serde_json::json!(self.minutes));
        props.insert("distance_m".into(), serde_json::json!((self.distance_m * 10.0).round() / 10.0));
        geojson::Feature {
            bbox: None,
            geometry: Some(geojson::Geometry::from(&self.area)),
            id: None,
            properties: Some(props),
            foreign_members: None,
        }
    }
}

/// Isochrones as a GeoJSON feature collection, largest time first (so smaller areas draw on top).
pub fn feature_collection(isochrones: &[Isochrone]) -> geojson::FeatureCollection {
    let mut v: Vec<&Isochrone> = isochrones.iter().collect();
    v.sort_by(|a, b| b.minutes.total_cmp(&a.minutes));
    geojson::FeatureCollection {
        bbox: None,
        features: v.into_iter().map(Isochrone::to_feature).collect(),
        foreign_members: None,
    }
}

impl Network {
    /// Isochrones around a point (lon/lat), placed like any point ([`Network::snap_point`]).
    pub fn isochrones_at(
        &self,
        point: geo::Point<f64>,
        minutes: &[f64],
        profile: &WalkProfile,
        options: &IsochroneOptions,
    ) -> Result<Vec<Isochrone>, CirclesError> {
        let snap = self.snap_point(point)?;
        self.isochrones(&snap, minutes, profile, options)
    }

    /// Isochrones around a snapped point (a facility's [`crate::PlacedFacility::snap`], or any
    /// point placed with [`Network::snap_point`]), one per entry of `minutes`, in that order.
    /// Uses a pooled [`Searcher`] (see [`Network::with_searcher`]).
    pub fn isochrones(
        &self,
        from: &Snap,
        minutes: &[f64],
        profile: &WalkProfile,
        options: &IsochroneOptions,
    ) -> Result<Vec<Isochrone>, CirclesError> {
        self.with_searcher(|s| s.isochrones(from, minutes, profile, options))
    }
}

/// x-extent of the capsule (all points within `r` of segment p–q) on the horizontal line `y`.
#[inline]
fn capsule_row(p: Coord<f64>, q: Coord<f64>, r: f64, y: f64) -> Option<(f64, f64)> {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for c in [p, q] {
        let dy = y - c.y;
        if dy.abs() <= r {
            let w = (r * r - dy * dy).sqrt();
            lo = lo.min(c.x - w);
            hi = hi.max(c.x + w);
        }
    }
    let d = q - p;
    let len = (d.x * d.x + d.y * d.y).sqrt();
    if len > 0.0 && d.y != 0.0 {
        let n = Coord { x: -d.y / len * r, y: d.x / len * r };
        for s in [-1.0, 1.0] {
            let t = (y - p.y - s * n.y) / d.y;
            if (0.0..=1.0).contains(&t) {
                let x = p.x + s * n.x + t * d.x;
                lo = lo.min(x);
                hi = hi.max(x);
            }
        }
    }
    (lo <= hi).then_some((lo, hi))
}

/// Doubled integer coordinates of grid edge `id` (horizontal edges first, then vertical).
#[inline]
fn edge_point(id: u32, w: usize, n_h: usize) -> (i64, i64) {
    let id = id as usize;
    if id < n_h {
        let (j, i) = (id / (w - 1), id % (w - 1));
        (2 * i as i64 + 1, 2 * j as i64)
    } else {
        let k = id - n_h;
        let (j, i) = (k / w, k % w);
        (2 * i as i64, 2 * j as i64 + 1)
    }
}

/// Traces the contour of the inside samples (`grid[j * w + i] != 0`; the border must be outside)
/// into closed rings in doubled grid coordinates, inside on the left (outer rings counter-clockwise).
fn contour(grid: &[u8], w: usize, h: usize, next: &mut Vec<u32>) -> Vec<Vec<(i64, i64)>> {
    let n_h = (w - 1) * h;
    next.clear();
    next.resize(n_h + w * (h - 1), NONE);
    let hz = |i: usize, j: usize| (j * (w - 1) + i) as u32;
    let vt = |i: usize, j: usize| (n_h + j * w + i) as u32;
    let mut starts = Vec::new();
    for j in 0..h - 1 {
        let row = j * w;
        for i in 0..w - 1 {
            let bl = grid[row + i] != 0;
            let br = grid[row + i + 1] != 0;
            let tr = grid[row + w + i + 1] != 0;
            let tl = grid[row + w + i] != 0;
            let case = u8::from(bl) | u8::from(br) << 1 | u8::from(tr) << 2 | u8::from(tl) << 3;
            if case == 0 || case == 15 {
                continue;
            }
            let (b, t, l, r) = (hz(i, j), hz(i, j + 1), vt(i, j), vt(i + 1, j));
            let mut link = |from: u32, to: u32| {
                next[from as usize] = to;
                starts.push(from);
            };
            match case {
                1 => link(b, l),
                2 => link(r, b),
                3 => link(r, l),
                4 => link(t, r),
                5 => {
                    link(b, r);
                    link(t, l);
                }
                6 => link(t, b),
                7 => link(t, l),
                8 => link(l, t),
                9 => link(b, t),
                10 => {
                    link(l, b);
                    link(r, t);
                }
                11 => link(r, t),
                12 => link(l, r),
                13 => link(b, r),
                _ => link(l, b), // 14
            }
        }
    }
    let mut rings = Vec::new();
    for s in starts {
        if next[s as usize] == NONE {
            continue;
        }
        let mut ring = Vec::new();
        let mut e = s;
        while e != NONE {
            ring.push(edge_point(e, w, n_h));
            let n = next[e as usize];
            next[e as usize] = NONE;
            e = n;
        }
        // Drop vertices in the middle of straight runs (exact in integer coordinates).
        let k = ring.len();
        let kept: Vec<(i64, i64)> = (0..k)
            .filter(|&i| {
                let (a, b, c) = (ring[(i + k - 1) % k], ring[i], ring[(i + 1) % k]);
                (b.0 - a.0) * (c.1 - b.1) - (b.1 - a.1) * (c.0 - b.0) != 0
            })
            .map(|i| ring[i])
            .collect();
        if kept.len() >= 3 {
            rings.push(kept);
        }
    }
    rings
}

/// Twice the signed area of a ring.
fn area2(r: &[(i64, i64)]) -> i64 {
    let k = r.len();
    (0..k).map(|i| r[i].0 * r[(i + 1) % k].1 - r[(i + 1) % k].0 * r[i].1).sum()
}

/// True when `p` is inside the ring (ray casting; `p` never lies on it for nested contours).
fn in_ring(p: (i64, i64), r: &[(i64, i64)]) -> bool {
    let k = r.len();
    let mut inside = false;
    let (px, py) = (p.0 as f64, p.1 as f64);
    for i in 0..k {
        let (a, b) = (r[i], r[(i + k - 1) % k]);
        let (ax, ay, bx, by) = (a.0 as f64, a.1 as f64, b.0 as f64, b.1 as f64);
        if (ay > py) != (by > py) && px < (bx - ax) * (py - ay) / (by - ay) + ax {
            inside = !inside;
        }
    }
    inside
}

impl Searcher<'_> {
    /// Isochrones around a snapped point, one per entry of `minutes` (see [`Network::isochrones`]).
    pub fn isochrones(
        &mut self,
        from: &Snap,
        minutes: &[f64],
        profile: &WalkProfile,
        options: &IsochroneOptions,
    ) -> Result<Vec<Isochrone>, CirclesError> {
        let IsochroneOptions { offset_m, cell_m } = *options;
        if !(offset_m.is_finite() && offset_m > 0.0) {
            return Err(CirclesError::InvalidParameter {
                name: "offset_m",
                reason: format!("must be a positive number of metres, got {offset_m}"),
            });
        }
        if !(cell_m.is_finite() && cell_m > 0.0 && cell_m <= offset_m / std::f64::consts::SQRT_2) {
            return Err(CirclesError::InvalidParameter {
                name: "cell_m",
                reason: format!(
                    "must be positive and at most offset_m / √2 = {:.2} m, got {cell_m}",
                    offset_m / 2f64.sqrt()
                ),
            });
        }
        if minutes.is_empty() || minutes.iter().any(|m| !(m.is_finite() && *m > 0.0)) {
            return Err(CirclesError::InvalidParameter {
                name: "minutes",
                reason: format!("must be one or more positive numbers, got {minutes:?}"),
            });
        }
        let net = self.net;
        let g = net.graph();
        let max_m = minutes.iter().fold(0.0f64, |a, &m| a.max(profile.distance_m(m)));
        let budget = to_um(max_m);
        self.b.reset();
        self.b.seed_snap(g, from, budget);
        self.b.run(g, budget);
        let mut out = Vec::with_capacity(minutes.len());
        for &m in minutes {
            let reach_m = profile.distance_m(m);
            self.reached_pieces(from, reach_m);
            let area = self.rasterise(offset_m, cell_m)?;
            out.push(Isochrone { minutes: m, distance_m: reach_m, area });
        }
        Ok(out)
    }

    /// Collects into `self.pieces` the segments of the network reachable within `reach_m`
    /// (after a search with at least that budget).
    fn reached_pieces(&mut self, from: &Snap, reach_m: f64) {
        let g = self.net.graph();
        self.pieces.clear();
        let lim = to_um(reach_m);
        let emit = |buf: &mut Vec<Coord<f64>>, pieces: &mut Vec<(Coord<f64>, Coord<f64>)>| {
            match buf.len() {
                0 => {}
                1 => pieces.push((buf[0], buf[0])),
                _ => pieces.extend(buf.windows(2).map(|w| (w[0], w[1]))),
            }
            buf.clear();
        };
        for &j in &self.b.touched {
            let d = self.b.dist[j as usize];
            if d > lim {
                continue;
            }
            let left = reach_m - from_um(d);
            for arc in g.arcs_of(j) {
                let c = arc.chain_dir >> 1;
                let len = g.chain_len[c as usize];
                let r = left.min(len);
                let (lo, hi) = if arc.chain_dir & 1 == 0 { (0.0, r) } else { (len - r, len) };
                g.chain_points(c, lo, hi, &g.xy, &mut self.buf);
                emit(&mut self.buf, &mut self.pieces);
            }
        }
        let r0 = reach_m - from.distance_m;
        if r0 >= 0.0 {
            let len = g.chain_len[from.chain as usize];
            let (lo, hi) = ((from.chain_offset - r0).max(0.0), (from.chain_offset + r0).min(len));
            g.chain_points(from.chain, lo, hi, &g.xy, &mut self.buf);
            emit(&mut self.buf, &mut self.pieces);
        }
    }

    /// Rasterises `self.pieces` and traces the polygons (lon/lat).
    fn rasterise(&mut self, r: f64, h: f64) -> Result<MultiPolygon<f64>, CirclesError> {
        if self.pieces.is_empty() {
            return Ok(MultiPolygon::new(Vec::new()));
        }
        let (mut lo, mut hi) = (Coord { x: f64::MAX, y: f64::MAX }, Coord { x: f64::MIN, y: f64::MIN });
        for (p, q) in &self.pieces {
            for c in [p, q] {
                lo = Coord { x: lo.x.min(c.x), y: lo.y.min(c.y) };
                hi = Coord { x: hi.x.max(c.x), y: hi.y.max(c.y) };
            }
        }
        let margin = r + 2.0 * h;
        // The lattice is anchored at multiples of the cell size, so the areas of several times from
        // one source are traced on one lattice and nest exactly (5 ⊂ 10 ⊂ 15 minutes).
        let (x0, y0) = (((lo.x - margin) / h).floor() * h, ((lo.y - margin) / h).floor() * h);
        let w = ((hi.x + margin - x0) / h).ceil() as usize + 1;
        let ht = ((hi.y + margin - y0) / h).ceil() as usize + 1;
        if w.saturating_mul(ht) > MAX_CELLS {
            return Err(CirclesError::InvalidParameter {
                name: "cell_m",
                reason: format!(
                    "the area reached ({:.0} × {:.0} m) needs more than {MAX_CELLS} cells of {h} m: use a larger cell",
                    hi.x - lo.x,
                    hi.y - lo.y
                ),
            });
        }
        self.grid.clear();
        self.grid.resize(w * ht, 0);
        for &(p, q) in &self.pieces {
            let j0 = (((p.y.min(q.y) - r - y0) / h).ceil().max(0.0)) as usize;
            let j1 = ((((p.y.max(q.y) + r - y0) / h).floor()) as usize).min(ht - 1);
            for j in j0..=j1 {
                let y = y0 + j as f64 * h;
                if let Some((a, b)) = capsule_row(p, q, r, y) {
                    let i0 = (((a - x0) / h).ceil().max(0.0)) as usize;
                    let i1 = ((((b - x0) / h).floor()) as usize).min(w - 1);
                    if i0 <= i1 {
                        self.grid[j * w + i0..=j * w + i1].fill(1);
                    }
                }
            }
        }
        let rings = contour(&self.grid, w, ht, &mut self.next);
        let (outer, holes): (Vec<_>, Vec<_>) = rings.into_iter().map(|r| (area2(&r), r)).partition(|(a, _)| *a > 0);
        let mut hole_of: Vec<Vec<usize>> = vec![Vec::new(); outer.len()];
        for (hi_, (_, hole)) in holes.iter().enumerate() {
            let p = hole[0];
            let best = outer
                .iter()
                .enumerate()
                .filter(|(_, (_, o))| in_ring(p, o))
                .min_by_key(|(_, (a, _))| *a)
                .map(|(i, _)| i);
            if let Some(i) = best {
                hole_of[i].push(hi_);
            }
        }
        let frame = self.net.graph().frame();
        let to_lonlat = |ring: &[(i64, i64)]| -> Result<LineString<f64>, CirclesError> {
            let mut pts = Vec::with_capacity(ring.len() + 1);
            for &(x, y) in ring {
                let (lon, lat) = frame.inverse(x0 + x as f64 * h / 2.0, y0 + y as f64 * h / 2.0)?;
                pts.push(Coord { x: lon, y: lat });
            }
            if let Some(&f) = pts.first() {
                pts.push(f);
            }
            Ok(LineString::new(pts))
        };
        let mut polys = Vec::with_capacity(outer.len());
        for (i, (_, ring)) in outer.iter().enumerate() {
            let interiors = hole_of[i].iter().map(|&k| to_lonlat(&holes[k].1)).collect::<Result<Vec<_>, _>>()?;
            polys.push(Polygon::new(to_lonlat(ring)?, interiors));
        }
        Ok(MultiPolygon::new(polys))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capsule_rows_match_brute_force() {
        let (p, q, r) = (Coord { x: 3.0, y: -2.0 }, Coord { x: 40.0, y: 25.0 }, 10.0);
        let dist = |x: f64, y: f64| {
            let d = q - p;
            let t = (((x - p.x) * d.x + (y - p.y) * d.y) / (d.x * d.x + d.y * d.y)).clamp(0.0, 1.0);
            ((x - p.x - t * d.x).powi(2) + (y - p.y - t * d.y).powi(2)).sqrt()
        };
        for yi in -150..=400 {
            let y = yi as f64 / 10.0;
            let inside: Vec<f64> = (-200..=600).map(|xi| xi as f64 / 10.0).filter(|&x| dist(x, y) <= r).collect();
            match capsule_row(p, q, r, y) {
                Some((a, b)) => {
                    assert!(!inside.is_empty(), "row {y}");
                    let (fa, fb) = (inside[0], inside[inside.len() - 1]);
                    assert!(
                        (a - fa).abs() <= 0.1 + 1e-9 && (b - fb).abs() <= 0.1 + 1e-9,
                        "row {y}: {a}..{b} vs {fa}..{fb}"
                    );
                }
                None => assert!(inside.is_empty(), "row {y}"),
            }
        }
    }

    #[test]
    fn contour_of_a_ring_of_samples_has_a_hole() {
        // 7×7 grid, inside: the square ring of samples at distance 2 from the centre.
        let (w, h) = (7, 7);
        let mut grid = vec![0u8; w * h];
        for j in 1..6 {
            for i in 1..6 {
                if i == 1 || i == 5 || j == 1 || j == 5 {
                    grid[j * w + i] = 1;
                }
            }
        }
        let mut next = Vec::new();
        let rings = contour(&grid, w, h, &mut next);
        assert_eq!(rings.len(), 2);
        let areas: Vec<i64> = rings.iter().map(|r| area2(r)).collect();
        assert_eq!(areas.iter().filter(|&&a| a > 0).count(), 1);
        assert_eq!(areas.iter().filter(|&&a| a < 0).count(), 1);
        let hole = rings.iter().find(|r| area2(r) < 0).expect("hole");
        let outer = rings.iter().find(|r| area2(r) > 0).expect("outer");
        assert!(in_ring(hole[0], outer));
    }
}
