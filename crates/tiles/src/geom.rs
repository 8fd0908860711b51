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

/// Buffers reused by [`simplify_open_into`] from one line to the next.
#[derive(Debug, Default)]
pub(crate) struct DpBuffers {
    keep: Vec<bool>,
    stack: Vec<(usize, usize)>,
}

/// Douglas–Peucker on an open polyline, keeping both ends; `eps` in pixels; the kept points are
/// appended to `out`. Iterative (no recursion depth limit on long lines).
pub(crate) fn simplify_open_into(pts: &[P], eps: f64, buf: &mut DpBuffers, out: &mut Vec<P>) {
    if pts.len() <= 2 || eps <= 0.0 {
        out.extend_from_slice(pts);
        return;
    }
    let n = pts.len();
    buf.keep.clear();
    buf.keep.resize(n, false);
    buf.keep[0] = true;
    buf.keep[n - 1] = true;
    let eps2 = eps * eps;
    buf.stack.clear();
    buf.stack.push((0usize, n - 1));
    while let Some((a, b)) = buf.stack.pop() {
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
            buf.keep[far] = true;
            buf.stack.push((a, far));
            buf.stack.push((far, b));
        }
    }
    out.extend(pts.iter().zip(&buf.keep).filter(|(_, k)| **k).map(|(p, _)| *p));
}

/// Douglas–Peucker on a closed ring (first point repeated last): split at the point farthest from
/// the first, simplify both halves; the closed result is appended to `out`.
pub(crate) fn simplify_ring_into(ring: &[P], eps: f64, buf: &mut DpBuffers, out: &mut Vec<P>) {
    if ring.len() <= 4 || eps <= 0.0 {
        out.extend_from_slice(ring);
        return;
    }
    let p0 = ring[0];
    let d2 = |p: &P| (p[0] - p0[0]).powi(2) + (p[1] - p0[1]).powi(2);
    let far = (1..ring.len() - 1).max_by(|&i, &j| d2(&ring[i]).total_cmp(&d2(&ring[j]))).unwrap_or(1);
    simplify_open_into(&ring[..=far], eps, buf, out);
    // The second half starts where the first ends (both keep their ends): write that point once.
    out.pop();
    simplify_open_into(&ring[far..], eps, buf, out);
}

/// [`simplify_open_into`] into a new vector.
#[cfg(test)]
pub(crate) fn simplify_open(pts: &[P], eps: f64) -> Vec<P> {
    let mut out = Vec::new();
    simplify_open_into(pts, eps, &mut DpBuffers::default(), &mut out);
    out
}

/// [`simplify_ring_into`] into a new vector.
#[cfg(test)]
pub(crate) fn simplify_ring(ring: &[P], eps: f64) -> Vec<P> {
    let mut out = Vec::new();
    simplify_ring_into(ring, eps, &mut DpBuffers::default(), &mut out);
    out
}

/// Parts (lines or rings) kept one after the other in one vector: no allocation per part.
#[derive(Debug)]
pub(crate) struct Parts<T> {
    pts: Vec<T>,
    ends: Vec<usize>,
}

impl<T> Default for Parts<T> {
    fn default() -> Self {
        Self { pts: Vec::new(), ends: Vec::new() }
    }
}

impl<T: Copy> Parts<T> {
    pub fn clear(&mut self) {
        self.pts.clear();
        self.ends.clear();
    }
    pub fn len(&self) -> usize {
        self.ends.len()
    }
    fn open_start(&self) -> usize {
        self.ends.last().copied().unwrap_or(0)
    }
    /// The points of part `i`.
    pub fn get(&self, i: usize) -> &[T] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.pts[start..self.ends[i]]
    }
    pub fn iter(&self) -> impl Iterator<Item = &[T]> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }
    /// The part being built (after the last finished one).
    pub fn open(&mut self) -> &mut Vec<T> {
        &mut self.pts
    }
    fn open_len(&self) -> usize {
        self.pts.len() - self.open_start()
    }
    /// Ends the part being built when it has at least `min` points, else drops it.
    pub fn finish(&mut self, min: usize) {
        if self.open_len() >= min {
            self.ends.push(self.pts.len());
        } else {
            self.pts.truncate(self.open_start());
        }
    }
}

/// Clips a polyline to the square (Liang–Barsky per segment), adding its pieces to `out`: a line
/// leaving and re-entering becomes several parts.
pub(crate) fn clip_line_into(line: &[P], c: Clip, out: &mut Parts<P>) {
    for w in line.windows(2) {
        let (a, z) = (w[0], w[1]);
        match clip_segment(a, z, c) {
            None => out.finish(2),
            Some((t0, t1)) => {
                let at = |t: f64| [a[0] + t * (z[0] - a[0]), a[1] + t * (z[1] - a[1])];
                if t0 > 0.0 {
                    out.finish(2);
                }
                if out.open_len() == 0 {
                    out.open().push(if t0 > 0.0 { at(t0) } else { a });
                }
                out.open().push(if t1 < 1.0 { at(t1) } else { z });
                if t1 < 1.0 {
                    out.finish(2);
                }
            }
        }
    }
    out.finish(2);
}

/// [`clip_line_into`] over several lines, into new vectors.
#[cfg(test)]
pub(crate) fn clip_lines(lines: Vec<Vec<P>>, c: Clip) -> Vec<Vec<P>> {
    let mut parts = Parts::default();
    for l in &lines {
        clip_line_into(l, c, &mut parts);
    }
    parts.iter().map(<[P]>::to_vec).collect()
}

/// How many times a closed ring's boundary enters the inside of the square: 0 or 1 means the ring
/// meets the square in at most one piece, which [`clip_ring_into`] cuts exactly. Points on the
/// square's edges count as outside, so touching counts as entering (never fewer than the truth).
pub(crate) fn entries(ring: &[P], c: Clip) -> usize {
    let strictly_in = |p: P| p[0] > c.min && p[0] < c.max && p[1] > c.min && p[1] < c.max;
    let mut n = 0;
    for w in ring.windows(2) {
        match (strictly_in(w[0]), strictly_in(w[1])) {
            (false, true) => n += 1,
            (false, false) if matches!(clip_segment(w[0], w[1], c), Some((t0, t1)) if t1 > t0) => n += 1,
            _ => {}
        }
    }
    n
}

/// Sutherland–Hodgman: a closed ring cut to the square, into `out` (closed; empty when nothing is
/// inside). Exact when the ring enters the square at most once ([`entries`]); with more entries it
/// would join the pieces along the square's edges, so those rings go to [`clip_polygons`].
pub(crate) fn clip_ring_into(ring: &[P], c: Clip, out: &mut Vec<P>, tmp: &mut Vec<P>) {
    out.clear();
    out.extend_from_slice(&ring[..ring.len().saturating_sub(1)]);
    // Edges: x ≥ min, x ≤ max, y ≥ min, y ≤ max. `axis` is the coordinate the edge bounds.
    for (axis, bound, keep_above) in [(0, c.min, true), (0, c.max, false), (1, c.min, true), (1, c.max, false)] {
        let Some(&last) = out.last() else { break };
        let inside = |p: &P| if keep_above { p[axis] >= bound } else { p[axis] <= bound };
        let cross = |a: P, b: P| {
            let t = (bound - a[axis]) / (b[axis] - a[axis]);
            let mut q = [a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])];
            q[axis] = bound;
            q
        };
        tmp.clear();
        let mut prev = last;
        for &cur in out.iter() {
            match (inside(&prev), inside(&cur)) {
                (true, true) => tmp.push(cur),
                (false, true) => {
                    tmp.push(cross(prev, cur));
                    tmp.push(cur);
                }
                (true, false) => tmp.push(cross(prev, cur)),
                (false, false) => {}
            }
            prev = cur;
        }
        std::mem::swap(out, tmp);
    }
    if let Some(&first) = out.first() {
        out.push(first);
    }
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

/// Rounds to the integer grid and drops repeated points, into `out` (cleared first).
pub(crate) fn snap_line_into(pts: &[P], out: &mut Vec<Q>) {
    out.clear();
    for p in pts {
        let q = [p[0].round() as i32, p[1].round() as i32];
        if out.last() != Some(&q) {
            out.push(q);
        }
    }
}

/// Rounds a closed ring to the grid into `out` (cleared first; the result is open: the first point
/// is not repeated), dropping repeated points and back-and-forth spikes (a→b→a, the zero-width
/// needles snapping can leave). False when fewer than three points or no area remain.
pub(crate) fn snap_ring_into(ring: &[P], out: &mut Vec<Q>) -> bool {
    out.clear();
    for p in ring {
        let q = [p[0].round() as i32, p[1].round() as i32];
        let n = out.len();
        if n >= 1 && out[n - 1] == q {
            continue;
        }
        if n >= 2 && out[n - 2] == q {
            out.pop();
            continue;
        }
        out.push(q);
    }
    // Across the seam: the closing point, and spikes at the last or the first point.
    loop {
        let n = out.len();
        if n < 3 {
            break;
        }
        if out[n - 1] == out[0] || out[n - 2] == out[0] {
            out.pop();
        } else if out[1] == out[n - 1] {
            out.remove(0);
        } else {
            break;
        }
    }
    out.len() >= 3 && area2(out) != 0
}

/// [`snap_ring_into`] into a new vector; `None` when the ring collapses.
pub(crate) fn snap_ring(ring: &[P]) -> Option<Vec<Q>> {
    let mut out = Vec::with_capacity(ring.len());
    snap_ring_into(ring, &mut out).then_some(out)
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

    /// Star-shaped (so simple) random rings around centres near and across the clipping square.
    fn random_rings(n: usize) -> Vec<Vec<P>> {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        (0..n)
            .map(|_| {
                let (cx, cy) = (-1500.0 + 7200.0 * next(), -1500.0 + 7200.0 * next());
                // Angles in order with gaps under half a turn: the ring is simple (the centre sees
                // every edge).
                let k = 4 + (next() * 40.0) as usize;
                let angles: Vec<f64> =
                    (0..k).map(|i| (i as f64 + 0.5 * next()) / k as f64 * std::f64::consts::TAU).collect();
                let mut ring: Vec<P> = angles
                    .iter()
                    .map(|a| {
                        let r = 100.0 + 3000.0 * next();
                        [cx + r * a.cos(), cy + r * a.sin()]
                    })
                    .collect();
                ring.push(ring[0]);
                ring
            })
            .collect()
    }

    fn signed_area(r: &[P]) -> f64 {
        r.windows(2).map(|w| w[0][0] * w[1][1] - w[1][0] * w[0][1]).sum::<f64>() / 2.0
    }

    #[test]
    fn one_entry_rings_are_cut_exactly_by_sutherland_hodgman() {
        use geo::Area;
        let (mut fast, mut several) = (0, 0);
        let (mut out, mut tmp) = (Vec::new(), Vec::new());
        for ring in random_rings(3000) {
            let b = bbox_of(&ring);
            if C.contains_box(&b) || C.misses_box(&b) {
                continue;
            }
            let exact: MultiPolygon<f64> =
                MultiPolygon(vec![Polygon::new(ring_to_line(&ring), vec![])]).intersection(&square(C));
            let n = entries(&ring, C);
            if exact.0.len() > 1 {
                // The claim the fast path rests on: several pieces always show as several entries.
                let areas: Vec<f64> = exact.0.iter().map(|p| p.unsigned_area()).collect();
                assert!(n > 1, "{areas:?} pieces but {n} entries: {ring:?}");
                several += 1;
                continue;
            }
            if n > 1 {
                continue;
            }
            fast += 1;
            clip_ring_into(&ring, C, &mut out, &mut tmp);
            let want = exact.unsigned_area();
            let got = if out.is_empty() { 0.0 } else { signed_area(&out).abs() };
            // The boolean operation works on a fixed-point grid: agree to a hundredth of a pixel.
            assert!((got - want).abs() <= 0.01 + 1e-6 * want, "area {got} != {want} for {ring:?}");
            for p in &out {
                assert!(C.contains(*p), "{p:?} outside the square");
            }
        }
        assert!(fast > 300 && several > 30, "cases: {fast} cut fast, {several} in pieces");
    }

    fn square(c: Clip) -> Polygon<f64> {
        Polygon::new(
            ring_to_line(&[[c.min, c.min], [c.max, c.min], [c.max, c.max], [c.min, c.max], [c.min, c.min]]),
            vec![],
        )
    }

    #[test]
    fn snapping_removes_spikes_inside_and_across_the_seam() {
        let inside = [[0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [10.0, 20.0], [10.2, 10.0], [0.0, 10.0], [0.0, 0.0]];
        assert_eq!(snap_ring(&inside), Some(vec![[0, 0], [10, 0], [10, 10], [0, 10]]));
        let seam = [[10.0, 20.0], [10.0, 10.0], [0.0, 10.0], [0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [10.0, 20.0]];
        let r = snap_ring(&seam).expect("a square remains");
        assert_eq!(r.len(), 4, "{r:?}");
        assert_eq!(area2(&r).abs(), 200);
        let nested = [
            [0.0, 0.0],
            [10.0, 0.0],
            [10.0, 10.0],
            [20.0, 10.0],
            [30.0, 10.0],
            [20.0, 10.0],
            [10.0, 10.0],
            [0.0, 10.0],
            [0.0, 0.0],
        ];
        assert_eq!(snap_ring(&nested), Some(vec![[0, 0], [10, 0], [10, 10], [0, 10]]));
    }
}
