//! Geometry in tile pixel space: simplification, clipping to the buffered tile, snapping to the
//! integer grid, and MVT ring orientation.
//!
//! Pixel space has x to the east and y to the south (the MVT convention). There an exterior ring
//! has a positive shoelace sum (it runs clockwise on screen) and a hole a negative one (spec 2.1
//! §4.3.4.4); the same ring in y-up map coordinates is clockwise, the opposite of GeoJSON.

use geo::{BooleanOps, Coord, LineString, MultiPolygon, Polygon};

/// A pixel position (fractional).
pub(crate) type P = [f64; 2];
/// A snapped pixel position.
pub(crate) type Q = [i32; 2];

/// The clipping square: the tile grown by the buffer, in pixels.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clip {
    pub min: f64,
    pub max: f64,
}

impl Clip {
    pub fn contains_box(&self, b: &[f64; 4]) -> bool {
        b[0] >= self.min && b[1] >= self.min && b[2] <= self.max && b[3] <= self.max
    }
    pub fn misses_box(&self, b: &[f64; 4]) -> bool {
        b[2] < self.min || b[3] < self.min || b[0] > self.max || b[1] > self.max
    }
    pub fn contains(&self, p: P) -> bool {
        p[0] >= self.min && p[0] <= self.max && p[1] >= self.min && p[1] <= self.max
    }
}

/// `[min_x, min_y, max_x, max_y]` of points.
pub(crate) fn bbox_of<'a>(pts: impl IntoIterator<Item = &'a P>) -> [f64; 4] {
    let mut b = [f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY];
    for p in pts {
        b[0] = b[0].min(p[0]);
        b[1] = b[1].min(p[1]);
        b[2] = b[2].max(p[0]);
        b[3] = b[3].max(p[1]);
    }
    b
}

fn seg_dist2(p: P, a: P, b: P) -> f64 {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let len2 = dx * dx + dy * dy;
    let t = if len2 > 0.0 { (((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len2).clamp(0.0, 1.0) } else { 0.0 };
    let (ex, ey) = (a[0] + t * dx - p[0], a[1] + t * dy - p[1]);
    ex * ex + ey * ey
}

/// Douglas–Peucker on an open polyline, keeping both ends; `eps` in pixels. Iterative (no
/// recursion depth limit on long lines).
pub(crate) fn simplify_open(pts: &[P], eps: f64) -> Vec<P> {
    if pts.len() <= 2 || eps <= 0.0 {
        return pts.to_vec();
    }
    let mut keep = vec![false; pts.len()];
    keep[0] = true;
    keep[pts.len() - 1] = true;
    let eps2 = eps * eps;
    let mut stack = vec![(0usize, pts.len() - 1)];
    while let Some((a, b)) = stack.pop() {
        if b <= a + 1 {
            continue;
        }
        let (mut far, mut far_d) = (a, -1.0);
        for (k, p) in pts.iter().enumerate().take(b).skip(a + 1) {
            let d = seg_dist2(*p, pts[a], pts[b]);
            if d > far_d {
                far = k;
                far_d = d;
            }
        }
        if far_d > eps2 {
            keep[far] = true;
            stack.push((a, far));
            stack.push((far, b));
        }
    }
    pts.iter().zip(keep).filter(|(_, k)| *k).map(|(p, _)| *p).collect()
}

/// Douglas–Peucker on a closed ring (first point repeated last): split at the point farthest from
/// the first, simplify both halves. Returns a closed ring.
pub(crate) fn simplify_ring(ring: &[P], eps: f64) -> Vec<P> {
    if ring.len() <= 4 || eps <= 0.0 {
        return ring.to_vec();
    }
    let p0 = ring[0];
    let far = (1..ring.len() - 1)
        .max_by(|&i, &j| {
            let di = (ring[i][0] - p0[0]).powi(2) + (ring[i][1] - p0[1]).powi(2);
            let dj = (ring[j][0] - p0[0]).powi(2) + (ring[j][1] - p0[1]).powi(2);
            di.total_cmp(&dj)
        })
        .unwrap_or(1);
    let mut out = simplify_open(&ring[..=far], eps);
    let second = simplify_open(&ring[far..], eps);
    out.extend_from_slice(&second[1..]);
    out
}

/// Clips polylines to the square (Liang–Barsky per segment); a line leaving and re-entering
/// becomes several lines.
pub(crate) fn clip_lines(lines: Vec<Vec<P>>, c: Clip) -> Vec<Vec<P>> {
    let mut out = Vec::new();
    for line in lines {
        if line.len() < 2 {
            continue;
        }
        let b = bbox_of(&line);
        if c.contains_box(&b) {
            out.push(line);
            continue;
        }
        if c.misses_box(&b) {
            continue;
        }
        let mut cur: Vec<P> = Vec::new();
        for w in line.windows(2) {
            let (a, z) = (w[0], w[1]);
            match clip_segment(a, z, c) {
                None => {
                    if cur.len() >= 2 {
                        out.push(std::mem::take(&mut cur));
                    } else {
                        cur.clear();
                    }
                }
                Some((t0, t1)) => {
                    let at = |t: f64| [a[0] + t * (z[0] - a[0]), a[1] + t * (z[1] - a[1])];
                    let (s, e) = (if t0 > 0.0 { at(t0) } else { a }, if t1 < 1.0 { at(t1) } else { z });
                    if t0 > 0.0 && cur.len() >= 2 {
                        out.push(std::mem::take(&mut cur));
                    }
                    if t0 > 0.0 || cur.is_empty() {
                        cur.clear();
                        cur.push(s);
                    }
                    cur.push(e);
                    if t1 < 1.0 {
                        if cur.len() >= 2 {
                            out.push(std::mem::take(&mut cur));
                        } else {
                            cur.clear();
                        }
                    }
                }
            }
        }
        if cur.len() >= 2 {
            out.push(cur);
        }
    }
    out
}

/// The part of segment a→b inside the square as parameters `t0 ≤ t1` in 0..=1.
fn clip_segment(a: P, b: P, c: Clip) -> Option<(f64, f64)> {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    for (p, q) in [(-dx, a[0] - c.min), (dx, c.max - a[0]), (-dy, a[1] - c.min), (dy, c.max - a[1])] {
        if p == 0.0 {
            if q < 0.0 {
                return None;
            }
        } else {
            let r = q / p;
            if p < 0.0 {
                t0 = t0.max(r);
            } else {
                t1 = t1.min(r);
            }
            if t0 > t1 {
                return None;
            }
        }
    }
    Some((t0, t1))
}

fn ring_to_line(r: &[P]) -> LineString<f64> {
    LineString(r.iter().map(|p| Coord { x: p[0], y: p[1] }).collect())
}

fn line_to_ring(l: &LineString<f64>) -> Vec<P> {
    l.0.iter().map(|c| [c.x, c.y]).collect()
}

/// Polygons as lists of closed rings (exterior first).
pub(crate) type Rings = Vec<Vec<P>>;

/// Clips polygons (rings in pixels) to the square with a boolean intersection; polygons wholly
/// inside pass untouched and wholly outside are dropped.
pub(crate) fn clip_polygons(polys: Vec<Rings>, c: Clip) -> Vec<Rings> {
    let mut out = Vec::with_capacity(polys.len());
    let mut cut = Vec::new();
    for p in polys {
        let Some(ext) = p.first() else { continue };
        let b = bbox_of(ext);
        if c.contains_box(&b) {
            out.push(p);
        } else if !c.misses_box(&b) {
            cut.push(Polygon::new(ring_to_line(ext), p[1..].iter().map(|r| ring_to_line(r)).collect()));
        }
    }
    if !cut.is_empty() {
        let square = Polygon::new(
            LineString(vec![
                Coord { x: c.min, y: c.min },
                Coord { x: c.max, y: c.min },
                Coord { x: c.max, y: c.max },
                Coord { x: c.min, y: c.max },
                Coord { x: c.min, y: c.min },
            ]),
            vec![],
        );
        let clipped: MultiPolygon<f64> = MultiPolygon(cut).intersection(&square);
        for p in clipped {
            let mut rings = vec![line_to_ring(p.exterior())];
            rings.extend(p.interiors().iter().map(line_to_ring));
            out.push(rings);
        }
    }
    out
}

/// Twice the signed area (shoelace) of a ring of snapped points, implicitly closed. Positive is
/// clockwise on screen (y down): an MVT exterior ring.
pub(crate) fn area2(r: &[Q]) -> i64 {
    let n = r.len();
    let mut s = 0i64;
    for i in 0..n {
        let (a, b) = (r[i], r[(i + 1) % n]);
        s += i64::from(a[0]) * i64::from(b[1]) - i64::from(b[0]) * i64::from(a[1]);
    }
    s
}

/// Rounds to the integer grid and drops repeated points.
pub(crate) fn snap_line(pts: &[P]) -> Vec<Q> {
    let mut out: Vec<Q> = Vec::with_capacity(pts.len());
    for p in pts {
        let q = [p[0].round() as i32, p[1].round() as i32];
        if out.last() != Some(&q) {
            out.push(q);
        }
    }
    out
}

/// Rounds a closed ring to the grid: repeated points, the closing point and back-and-forth spikes
/// removed; `None` when fewer than three points or no area remain. The result is open (the first
/// point is not repeated).
pub(crate) fn snap_ring(ring: &[P]) -> Option<Vec<Q>> {
    let mut pts = snap_line(ring);
    while pts.len() > 1 && pts.first() == pts.last() {
        pts.pop();
    }
    // Remove spikes a→b→a (zero-width needles the snapping can leave), repeatedly.
    let mut changed = true;
    while changed && pts.len() >= 3 {
        changed = false;
        let n = pts.len();
        let mut keep: Vec<Q> = Vec::with_capacity(n);
        for i in 0..n {
            let prev = pts[(i + n - 1) % n];
            let next = pts[(i + 1) % n];
            if prev == next {
                changed = true;
                continue;
            }
            if keep.last() != Some(&pts[i]) {
                keep.push(pts[i]);
            }
        }
        while keep.len() > 1 && keep.first() == keep.last() {
            keep.pop();
        }
        pts = keep;
    }
    (pts.len() >= 3 && area2(&pts) != 0).then_some(pts)
}

/// Snaps polygons and orients them for MVT: exterior rings positive, holes negative. Polygons whose
/// exterior collapses are dropped, and so are collapsed holes.
pub(crate) fn snap_polygons(polys: &[Rings]) -> Vec<Vec<Vec<Q>>> {
    let mut out = Vec::with_capacity(polys.len());
    for p in polys {
        let Some(mut ext) = p.first().and_then(|r| snap_ring(r)) else { continue };
        if area2(&ext) < 0 {
            ext.reverse();
        }
        let mut rings = vec![ext];
        for h in &p[1..] {
            if let Some(mut h) = snap_ring(h) {
                if area2(&h) > 0 {
                    h.reverse();
                }
                rings.push(h);
            }
        }
        out.push(rings);
    }
    out
}

/// Snapped polygons as a geo geometry (integer-valued coordinates, rings closed) for geozero.
pub(crate) fn polygons_to_geo(polys: Vec<Vec<Vec<Q>>>) -> geo::Geometry<f64> {
    let close = |r: Vec<Q>| {
        let mut l: Vec<Coord<f64>> = r.iter().map(|q| Coord { x: f64::from(q[0]), y: f64::from(q[1]) }).collect();
        if let Some(&f) = l.first() {
            l.push(f);
        }
        LineString(l)
    };
    let mut ps: Vec<Polygon<f64>> = polys
        .into_iter()
        .map(|mut rings| {
            let ext = close(rings.remove(0));
            Polygon::new(ext, rings.into_iter().map(close).collect())
        })
        .collect();
    if ps.len() == 1 { geo::Geometry::Polygon(ps.remove(0)) } else { geo::Geometry::MultiPolygon(MultiPolygon(ps)) }
}

/// Snapped lines as a geo geometry for geozero.
pub(crate) fn lines_to_geo(mut lines: Vec<Vec<Q>>) -> geo::Geometry<f64> {
    let conv = |l: Vec<Q>| LineString(l.iter().map(|q| Coord { x: f64::from(q[0]), y: f64::from(q[1]) }).collect());
    if lines.len() == 1 {
        geo::Geometry::LineString(conv(lines.remove(0)))
    } else {
        geo::Geometry::MultiLineString(geo::MultiLineString(lines.into_iter().map(conv).collect()))
    }
}

/// A 1-pixel square at `q`, oriented for MVT, for features that must stay visible when their
/// outline collapses.
pub(crate) fn pixel_square(q: Q) -> Vec<Vec<Vec<Q>>> {
    let [x, y] = q;
    vec![vec![vec![[x, y], [x + 1, y], [x + 1, y + 1], [x, y + 1]]]]
}

#[cfg(test)]
mod tests {
    use super::*;

    const C: Clip = Clip { min: -64.0, max: 4160.0 };

    #[test]
    fn douglas_peucker_drops_points_within_tolerance_only() {
        let line: Vec<P> = (0..=100).map(|i| [f64::from(i), if i % 2 == 0 { 0.0 } else { 0.4 }]).collect();
        assert_eq!(simplify_open(&line, 1.0), vec![[0.0, 0.0], [100.0, 0.0]]);
        assert_eq!(simplify_open(&line, 0.1).len(), line.len());
        let bent = vec![[0.0, 0.0], [50.0, 0.2], [100.0, 0.0], [100.0, 100.0]];
        assert_eq!(simplify_open(&bent, 1.0), vec![[0.0, 0.0], [100.0, 0.0], [100.0, 100.0]]);
        let ring = vec![[0.0, 0.0], [10.0, 0.0], [10.0, 0.3], [10.0, 10.0], [0.0, 10.0], [0.0, 0.0]];
        let s = simplify_ring(&ring, 1.0);
        assert_eq!(s.len(), 5, "{s:?}");
        assert_eq!(s.first(), s.last());
    }

    #[test]
    fn lines_are_cut_where_they_leave_and_reenter() {
        let l = vec![[-200.0, 100.0], [100.0, 100.0], [100.0, -300.0], [200.0, -300.0], [200.0, 100.0]];
        let out = clip_lines(vec![l], C);
        assert_eq!(out.len(), 2, "{out:?}");
        assert_eq!(out[0], vec![[-64.0, 100.0], [100.0, 100.0], [100.0, -64.0]]);
        assert_eq!(out[1], vec![[200.0, -64.0], [200.0, 100.0]]);
        assert!(clip_lines(vec![vec![[-500.0, -500.0], [-100.0, -100.0]]], C).is_empty());
    }

    #[test]
    fn polygons_are_clipped_to_the_buffered_square_and_oriented() {
        let sq =
            |x0: f64, y0: f64, s: f64| vec![vec![[x0, y0], [x0, y0 + s], [x0 + s, y0 + s], [x0 + s, y0], [x0, y0]]];
        let out = clip_polygons(vec![sq(-1000.0, -1000.0, 2000.0), sq(10.0, 10.0, 5.0), sq(9000.0, 0.0, 5.0)], C);
        assert_eq!(out.len(), 2);
        let snapped = snap_polygons(&out);
        for p in &snapped {
            assert!(area2(&p[0]) > 0);
            for q in &p[0] {
                assert!((-64..=4160).contains(&q[0]) && (-64..=4160).contains(&q[1]));
            }
        }
        let big = snapped.iter().map(|p| area2(&p[0])).max().unwrap_or(0);
        assert_eq!(big, 2 * 1064 * 1064);
        // A ring thinner than half a pixel collapses.
        assert!(snap_ring(&[[0.0, 0.0], [100.0, 0.0], [100.0, 0.2], [0.0, 0.2], [0.0, 0.0]]).is_none());
    }
}
