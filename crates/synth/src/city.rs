//! The city layout: arterial grid, districts, streets, communities, compounds, buildings,
//! facilities and paths, generated in one pass and streamed to the writers.

use crate::names::{COMPOUND_SUFFIXES, OLD_SUFFIXES, STEMS, cn, stem};
use crate::writer::{FeatureWriter, Frame, Geom, P, Props};
use crate::{FILE_NAMES, SynthError, SynthOptions, SynthSummary};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;
use std::path::Path;

/// Every facility category the generator places: the 17 ids of the default catalogue.
pub(crate) const CATEGORIES: [&str; 17] = [
    "kindergarten",
    "primary_school",
    "middle_school",
    "health_station",
    "health_centre",
    "pharmacy",
    "elderly_day_care",
    "nursing_home",
    "community_service_station",
    "fresh_market",
    "convenience",
    "sports_ground",
    "park",
    "cultural_centre",
    "bus_stop",
    "police",
    "post_office",
];

/// Community-level facilities: (category, probability a community has any, most it can have).
const COMMUNITY_FACILITIES: [(&str, f64, u32); 11] = [
    ("community_service_station", 0.95, 1),
    ("kindergarten", 0.65, 2),
    ("health_station", 0.6, 1),
    ("elderly_day_care", 0.55, 1),
    ("convenience", 0.95, 4),
    ("park", 0.6, 2),
    ("bus_stop", 0.97, 3),
    ("primary_school", 0.4, 1),
    ("pharmacy", 0.75, 2),
    ("fresh_market", 0.65, 1),
    ("sports_ground", 0.5, 1),
];

/// Street-level (15-minute) facilities, placed in the street's first community.
const STREET_FACILITIES: [(&str, f64); 6] = [
    ("health_centre", 0.9),
    ("middle_school", 0.8),
    ("nursing_home", 0.7),
    ("cultural_centre", 0.85),
    ("police", 0.9),
    ("post_office", 0.8),
];

/// Expected buildings per community, used to make the city roughly square.
const BUILDINGS_PER_COMMUNITY: f64 = 38.0;
/// Streets per district aimed at (districts are whole bands of streets).
const STREETS_PER_DISTRICT: usize = 10;
/// Setback of a compound wall from an arterial's centreline, metres.
const ARTERIAL_SETBACK: f64 = 20.0;
/// Setback of a compound wall from a local street's centreline, metres.
const LOCAL_SETBACK: f64 = 12.0;

#[derive(Debug, Clone, Copy)]
struct Rect {
    x0: f64,
    y0: f64,
    x1: f64,
    y1: f64,
}

impl Rect {
    fn w(&self) -> f64 {
        self.x1 - self.x0
    }
    fn h(&self) -> f64 {
        self.y1 - self.y0
    }
    /// Counter-clockwise corners from the south-west.
    fn ring(&self) -> [P; 4] {
        [(self.x0, self.y0), (self.x1, self.y0), (self.x1, self.y1), (self.x0, self.y1)]
    }
}

/// A piece of arterial between two grid corners: vertical line `line` between rows `cell` and
/// `cell + 1`, or horizontal line `line` between columns `cell` and `cell + 1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Seg {
    V { line: usize, cell: usize },
    H { line: usize, cell: usize },
}

/// The road on one side of a parcel.
#[derive(Debug, Clone, Copy)]
enum Road {
    Arterial(Seg),
    LocalH,
}

/// A parcel between street centrelines, and its wall (the parcel set back from the streets).
struct Parcel {
    rect: Rect,
    wall: Rect,
    south: Road,
    north: Road,
}

/// The local streets of the community being generated, with the positions where paths join them.
#[derive(Default)]
struct Locals {
    v: Option<(f64, Vec<f64>)>,
    h: Option<(f64, Vec<f64>)>,
}

/// Building style of a compound.
#[derive(Debug, Clone, Copy)]
struct Style {
    len: f64,
    depth: f64,
    floors: (u32, u32),
    hpf: (u32, u32),
    old: bool,
    row_gap: f64,
    col_gap: f64,
    lane: f64,
    margin: f64,
}

/// One building placed.
struct Bld {
    rect: Rect,
    floors: u32,
    units: Vec<u32>,
}

struct Writers {
    buildings: FeatureWriter,
    boundaries: FeatureWriter,
    facilities: FeatureWriter,
    network: FeatureWriter,
}

struct StreetCtx {
    id: String,
    code: String,
    stem: String,
}

struct CommunityCtx {
    id: String,
    stem: String,
    rect: Rect,
    c: usize,
    r: usize,
}

struct City<'a> {
    rng: ChaCha8Rng,
    target: u64,
    w: Writers,
    progress: &'a dyn Fn(u64),
    col_x: Vec<f64>,
    col_primary: Vec<bool>,
    street_cols: Vec<(usize, usize)>,
    row_y: Vec<f64>,
    row_primary: Vec<bool>,
    segs: BTreeMap<Seg, Vec<f64>>,
    ns_perm: Vec<usize>,
    ew_perm: Vec<usize>,
    name_perm: Vec<usize>,
    community_no: usize,
    local_no: usize,
    compound_no: usize,
    district_name: String,
    district_counters: [u64; 3],
    s: SynthSummary,
}

/// Generates the city into `out_dir` (which exists).
pub(crate) fn run(opts: &SynthOptions, out_dir: &Path, progress: &dyn Fn(u64)) -> Result<SynthSummary, SynthError> {
    let frame = Frame::new(opts.origin.0, opts.origin.1);
    let w = Writers {
        buildings: FeatureWriter::create(out_dir, FILE_NAMES[0], frame)?,
        boundaries: FeatureWriter::create(out_dir, FILE_NAMES[1], frame)?,
        facilities: FeatureWriter::create(out_dir, FILE_NAMES[2], frame)?,
        network: FeatureWriter::create(out_dir, FILE_NAMES[3], frame)?,
    };
    let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
    let mut perm = || {
        let mut p: Vec<usize> = (0..STEMS.len()).collect();
        p.shuffle(&mut rng);
        p
    };
    let (ns_perm, ew_perm, name_perm) = (perm(), perm(), perm());
    let mut city = City {
        rng,
        target: opts.buildings,
        w,
        progress,
        col_x: Vec::new(),
        col_primary: Vec::new(),
        street_cols: Vec::new(),
        row_y: vec![0.0],
        row_primary: vec![true],
        segs: BTreeMap::new(),
        ns_perm,
        ew_perm,
        name_perm,
        community_no: 0,
        local_no: 0,
        compound_no: 0,
        district_name: String::new(),
        district_counters: [0; 3],
        s: SynthSummary::default(),
    };
    city.generate()?;
    let mut s = std::mem::take(&mut city.s);
    s.network_ways = city.w.network.count;
    let Writers { buildings, boundaries, facilities, network } = city.w;
    for w in [buildings, boundaries, facilities, network] {
        s.files.push(w.finish()?);
    }
    (city.progress)(s.buildings);
    Ok(s)
}

fn round1(v: f64) -> f64 {
    v.round()
}

impl City<'_> {
    fn done(&self) -> bool {
        self.s.buildings >= self.target
    }

    fn generate(&mut self) -> Result<(), SynthError> {
        if self.target == 0 {
            return Ok(());
        }
        // Superblock columns: a roughly square city for the expected number of communities.
        let ncols = ((self.target as f64 / BUILDINGS_PER_COMMUNITY).sqrt().ceil() as usize).max(1);
        let mut x = 0.0;
        self.col_x.push(x);
        for _ in 0..ncols {
            x += f64::from(self.rng.random_range(30u32..=50)) * 10.0;
            self.col_x.push(x);
        }
        // Street columns of 2–3 superblocks.
        self.col_primary = vec![false; ncols + 1];
        let mut c = 0;
        while c < ncols {
            let rem = ncols - c;
            let wc = match rem {
                1..=3 => rem,
                4 => 2,
                _ => self.rng.random_range(2..=3),
            };
            self.street_cols.push((c, wc));
            self.col_primary[c] = true;
            c += wc;
        }
        self.col_primary[ncols] = true;
        let bands_per_district = STREETS_PER_DISTRICT.div_ceil(self.street_cols.len()).max(1);
        let mut district_rows: Vec<(f64, f64, f64)> = Vec::new();
        let mut district_no = 0usize;
        let mut district_streets = 0usize;
        let mut district_id = String::new();
        let mut county = String::new();
        let mut band = 0usize;
        while !self.done() {
            if band.is_multiple_of(bands_per_district) {
                district_no += 1;
                if district_no > 99 * 99 {
                    return Err(SynthError::Options("too many buildings: more than 9,801 districts".into()));
                }
                district_id = format!("D{district_no:02}");
                county = format!("99{:02}{:02}", (district_no - 1) / 99 + 1, (district_no - 1) % 99 + 1);
                self.district_name = format!("{}区", stem(&self.ew_perm, district_no + 3));
                self.district_counters = [0; 3];
                district_streets = 0;
            }
            // A band of 2–3 superblock rows.
            let r0 = self.row_y.len() - 1;
            let hr = self.rng.random_range(2..=3usize);
            for i in 0..hr {
                let y = self.row_y[r0 + i] + f64::from(self.rng.random_range(30u32..=50)) * 10.0;
                self.row_y.push(y);
                self.row_primary.push(i + 1 == hr);
            }
            let x_west = self.col_x[0];
            let mut band_xend = vec![x_west; hr];
            for si in 0..self.street_cols.len() {
                if self.done() {
                    break;
                }
                let (c0, wc) = self.street_cols[si];
                district_streets += 1;
                if district_streets > 999 {
                    return Err(SynthError::Options("too many buildings: more than 999 streets in a district".into()));
                }
                let street = StreetCtx {
                    id: format!("{district_id}-S{district_streets:02}"),
                    code: format!("{county}{district_streets:03}"),
                    stem: stem(&self.ns_perm, self.s.streets as usize + 7),
                };
                let mut k = 0usize;
                for t in 0..wc * hr {
                    if self.done() {
                        break;
                    }
                    self.community(c0 + t % wc, r0 + t / wc, &street, t)?;
                    k += 1;
                }
                // The street's outline: its complete rows and its partial top row.
                let mut rows = Vec::new();
                for (rr, xend) in band_xend.iter_mut().enumerate() {
                    let e = if rr < k / wc {
                        self.col_x[c0 + wc]
                    } else if rr == k / wc && !k.is_multiple_of(wc) {
                        self.col_x[c0 + k % wc]
                    } else {
                        break;
                    };
                    rows.push((self.row_y[r0 + rr], self.row_y[r0 + rr + 1], e));
                    *xend = e;
                }
                let mut p = Props::new();
                p.str("level", "street")
                    .str("name", &format!("{}街道", street.stem))
                    .str("code", &street.code)
                    .str("parent", &district_id);
                self.w.boundaries.write(&street.id, &p, Geom::Polygon(&staircase(self.col_x[c0], &rows)))?;
                self.s.streets += 1;
            }
            for (rr, &e) in band_xend.iter().enumerate() {
                if e > x_west {
                    district_rows.push((self.row_y[r0 + rr], self.row_y[r0 + rr + 1], e));
                }
            }
            self.flush_segments(Some(r0 + hr))?;
            band += 1;
            if (band.is_multiple_of(bands_per_district) || self.done()) && !district_rows.is_empty() {
                let mut p = Props::new();
                p.str("level", "district").str("name", &self.district_name).str("code", &county);
                self.w.boundaries.write(&district_id, &p, Geom::Polygon(&staircase(x_west, &district_rows)))?;
                self.s.districts += 1;
                district_rows.clear();
            }
        }
        self.flush_segments(None)
    }

    /// Name of a vertical (north–south) arterial.
    fn ns_name(&self, line: usize) -> String {
        let suffix = if self.col_primary[line] { "大道" } else { "路" };
        format!("{}{suffix}", stem(&self.ns_perm, line))
    }

    /// Name of a horizontal (east–west) arterial.
    fn ew_name(&self, line: usize) -> String {
        let suffix = if self.row_primary[line] { "大道" } else { "街" };
        format!("{}{suffix}", stem(&self.ew_perm, line))
    }

    /// Writes the arterial pieces that can get no more junctions: with `Some(r1)`, those below
    /// horizontal line `r1`; with `None`, all.
    fn flush_segments(&mut self, below: Option<usize>) -> Result<(), SynthError> {
        let keys: Vec<Seg> = self
            .segs
            .keys()
            .filter(|k| match (below, k) {
                (None, _) => true,
                (Some(r1), Seg::V { cell, .. }) => *cell < r1,
                (Some(r1), Seg::H { line, .. }) => *line < r1,
            })
            .copied()
            .collect();
        for key in keys {
            let mut js = self.segs.remove(&key).unwrap_or_default();
            js.sort_by(f64::total_cmp);
            js.dedup();
            let (id, pts, primary, name) = match key {
                Seg::V { line, cell } => {
                    let (x, a, b) = (self.col_x[line], self.row_y[cell], self.row_y[cell + 1]);
                    let mut pts = vec![(x, a)];
                    pts.extend(js.iter().filter(|&&y| y > a && y < b).map(|&y| (x, y)));
                    pts.push((x, b));
                    (format!("R-V{line:03}-{cell:03}"), pts, self.col_primary[line], self.ns_name(line))
                }
                Seg::H { line, cell } => {
                    let (y, a, b) = (self.row_y[line], self.col_x[cell], self.col_x[cell + 1]);
                    let mut pts = vec![(a, y)];
                    pts.extend(js.iter().filter(|&&x| x > a && x < b).map(|&x| (x, y)));
                    pts.push((b, y));
                    (format!("R-H{line:03}-{cell:03}"), pts, self.row_primary[line], self.ew_name(line))
                }
            };
            let mut p = Props::new();
            p.str("highway", if primary { "primary" } else { "secondary" }).str("name", &name);
            self.w.network.write(&id, &p, Geom::Line(&pts))?;
        }
        Ok(())
    }

    fn junction(&mut self, road: Road, pos: f64, locals: &mut Locals) {
        match road {
            Road::Arterial(seg) => self.segs.entry(seg).or_default().push(pos),
            Road::LocalH => {
                if let Some((_, js)) = &mut locals.h {
                    js.push(pos);
                }
            }
        }
    }

    fn community(&mut self, c: usize, r: usize, street: &StreetCtx, t: usize) -> Result<(), SynthError> {
        let rect = Rect { x0: self.col_x[c], y0: self.row_y[r], x1: self.col_x[c + 1], y1: self.row_y[r + 1] };
        let ctx = CommunityCtx {
            id: format!("{}-C{:02}", street.id, t + 1),
            stem: stem(&self.name_perm, self.community_no),
            rect,
            c,
            r,
        };
        self.community_no += 1;
        let mut p = Props::new();
        p.str("level", "community")
            .str("name", &format!("{}社区", ctx.stem))
            .str("code", &format!("{}{:03}", street.code, t + 1))
            .str("parent", &street.id);
        self.w.boundaries.write(&ctx.id, &p, Geom::Polygon(&rect.ring()))?;
        self.s.communities += 1;

        let (south, north) = (Seg::H { line: r, cell: c }, Seg::H { line: r + 1, cell: c });
        let (west, east) = (Seg::V { line: c, cell: r }, Seg::V { line: c + 1, cell: r });
        for seg in [south, north, west, east] {
            self.segs.entry(seg).or_default();
        }
        // Local streets split superblocks wider (taller) than 380 m, most of the time.
        let mut locals = Locals::default();
        if rect.w() >= 380.0 && self.rng.random_bool(0.85) {
            let x = round1(rect.x0 + rect.w() * self.rng.random_range(0.4..0.6));
            locals.v = Some((x, Vec::new()));
            self.junction(Road::Arterial(south), x, &mut locals);
            self.junction(Road::Arterial(north), x, &mut locals);
        }
        if rect.h() >= 380.0 && self.rng.random_bool(0.85) {
            let y = round1(rect.y0 + rect.h() * self.rng.random_range(0.4..0.6));
            locals.h = Some((y, Vec::new()));
            self.junction(Road::Arterial(west), y, &mut locals);
            self.junction(Road::Arterial(east), y, &mut locals);
        }
        if let (Some((x, vj)), Some((y, hj))) = (&mut locals.v, &mut locals.h) {
            vj.push(*y);
            hj.push(*x);
        }
        let xs: Vec<f64> =
            [Some(rect.x0), locals.v.as_ref().map(|v| v.0), Some(rect.x1)].into_iter().flatten().collect();
        let ys: Vec<f64> =
            [Some(rect.y0), locals.h.as_ref().map(|h| h.0), Some(rect.y1)].into_iter().flatten().collect();
        let mut parcels = Vec::new();
        for j in 0..ys.len() - 1 {
            for i in 0..xs.len() - 1 {
                let pr = Rect { x0: xs[i], y0: ys[j], x1: xs[i + 1], y1: ys[j + 1] };
                let set = |edge: bool| if edge { ARTERIAL_SETBACK } else { LOCAL_SETBACK };
                let wall = Rect {
                    x0: pr.x0 + set(i == 0),
                    y0: pr.y0 + set(j == 0),
                    x1: pr.x1 - set(i + 2 == xs.len()),
                    y1: pr.y1 - set(j + 2 == ys.len()),
                };
                parcels.push(Parcel {
                    rect: pr,
                    wall,
                    south: if j == 0 { Road::Arterial(south) } else { Road::LocalH },
                    north: if j + 2 == ys.len() { Road::Arterial(north) } else { Road::LocalH },
                });
            }
        }

        let forced = self.s.communities == 1;
        self.facilities(&ctx, street, t == 0, forced, &parcels)?;

        let old_community = self.rng.random_bool(0.08);
        let mut area_no = 0usize;
        let mut loose_no = 0usize;
        for parcel in &parcels {
            if self.done() {
                break;
            }
            if old_community || self.rng.random_bool(0.05) {
                let style = self.old_style();
                if self.rng.random_bool(0.5) {
                    // Two small walled compounds side by side.
                    let mid = round1((parcel.wall.x0 + parcel.wall.x1) / 2.0);
                    for (x0, x1) in [(parcel.wall.x0, mid - 3.0), (mid + 3.0, parcel.wall.x1)] {
                        area_no += 1;
                        let wall = Rect { x0, x1, ..parcel.wall };
                        let id = format!("{}-Q{area_no}", ctx.id);
                        self.area(&id, Some(wall), parcel, style, &ctx, &mut locals)?;
                    }
                } else {
                    loose_no += 1;
                    let id = format!("{}-L{loose_no}", ctx.id);
                    self.area(&id, None, parcel, style, &ctx, &mut locals)?;
                }
            } else {
                area_no += 1;
                let style = self.modern_style();
                let id = format!("{}-Q{area_no}", ctx.id);
                self.area(&id, Some(parcel.wall), parcel, style, &ctx, &mut locals)?;
            }
        }

        // The local streets, with a vertex wherever something joins them.
        if let Some((x, mut js)) = locals.v.take() {
            js.sort_by(f64::total_cmp);
            js.dedup();
            let mut pts = vec![(x, rect.y0)];
            pts.extend(js.iter().filter(|&&y| y > rect.y0 && y < rect.y1).map(|&y| (x, y)));
            pts.push((x, rect.y1));
            let mut p = Props::new();
            p.str("highway", "tertiary").str("name", &format!("{}路", stem(&self.ew_perm, self.local_no + 31)));
            self.local_no += 1;
            self.w.network.write(&format!("{}-WV", ctx.id), &p, Geom::Line(&pts))?;
        }
        if let Some((y, mut js)) = locals.h.take() {
            js.sort_by(f64::total_cmp);
            js.dedup();
            let mut pts = vec![(rect.x0, y)];
            pts.extend(js.iter().filter(|&&x| x > rect.x0 && x < rect.x1).map(|&x| (x, y)));
            pts.push((rect.x1, y));
            let mut p = Props::new();
            p.str("highway", "residential").str("name", &format!("{}巷", stem(&self.ns_perm, self.local_no + 53)));
            self.local_no += 1;
            self.w.network.write(&format!("{}-WH", ctx.id), &p, Geom::Line(&pts))?;
        }
        Ok(())
    }

    fn modern_style(&mut self) -> Style {
        let rng = &mut self.rng;
        let kind = rng.random_range(0..100u32);
        let (len, depth, floors, hpf, k) = if kind < 30 {
            // 多层: 6–9 storey slabs.
            (rng.random_range(20..=35u32) * 2, rng.random_range(11..=13u32), (6, 9), (2, 2), 1.0)
        } else if kind < 60 {
            // 小高层: 11–18 storey slabs.
            (rng.random_range(25..=45u32) * 2, rng.random_range(11..=13u32), (11, 18), (2, 3), 0.8)
        } else if kind < 80 {
            // 高层 slabs.
            (rng.random_range(20..=30u32) * 2, rng.random_range(12..=14u32), (18, 28), (2, 2), 0.7)
        } else {
            // 高层 towers.
            let side = rng.random_range(22..=28u32);
            (side, side, (24, 33), (3, 4), 0.6)
        };
        let height = f64::from(floors.1) * 3.0;
        Style {
            len: f64::from(len),
            depth: f64::from(depth),
            floors,
            hpf,
            old: false,
            row_gap: (height * k).max(15.0).round(),
            col_gap: f64::from(rng.random_range(13..=20u32)),
            lane: 14.0,
            margin: 8.0,
        }
    }

    fn old_style(&mut self) -> Style {
        let rng = &mut self.rng;
        let floors = if rng.random_bool(0.3) { (2, 4) } else { (5, 6) };
        Style {
            len: f64::from(rng.random_range(8..=18u32) * 2),
            depth: f64::from(rng.random_range(9..=11u32)),
            floors,
            hpf: (2, 3),
            old: true,
            row_gap: f64::from(rng.random_range(8..=12u32)),
            col_gap: f64::from(rng.random_range(6..=8u32)),
            lane: 8.0,
            margin: 4.0,
        }
    }

    /// Lays out rows of buildings in `inner`; returns the lane's x and the rows (south first).
    fn plan(&mut self, inner: Rect, st: &Style) -> (f64, Vec<Vec<Bld>>) {
        let gap = st.col_gap;
        let fit = |w: f64, len: f64| ((w + gap) / (len + gap)).floor().max(0.0) as usize;
        let half = (inner.w() - st.lane) / 2.0;
        let mut len = st.len;
        let (lane_x, spans) = if fit(half, len) >= 1 {
            let mid = round1((inner.x0 + inner.x1) / 2.0);
            (mid, vec![(inner.x0, mid - st.lane / 2.0), (mid + st.lane / 2.0, inner.x1)])
        } else {
            let lane_x = inner.x0 + st.lane / 2.0;
            let span = (inner.x0 + st.lane, inner.x1);
            len = len.min(span.1 - span.0);
            (lane_x, vec![span])
        };
        let mut rows = Vec::new();
        if len < 12.0 {
            return (lane_x, rows);
        }
        let mut y = inner.y0 + 6.0;
        while y + st.depth <= inner.y1 {
            let mut row = Vec::new();
            for &(a, b) in &spans {
                let n = fit(b - a, len);
                if n == 0 {
                    continue;
                }
                let total = n as f64 * len + (n - 1) as f64 * gap;
                let start = round1(a + (b - a - total) / 2.0);
                for i in 0..n {
                    let x0 = start + i as f64 * (len + gap);
                    let floors = self.rng.random_range(st.floors.0..=st.floors.1);
                    let hpf = self.rng.random_range(st.hpf.0..=st.hpf.1);
                    let nunits = if st.old {
                        if len < 24.0 { 1 } else { 2 }
                    } else if len <= st.depth + 4.0 {
                        2 // a tower
                    } else {
                        ((len / 16.0).round() as u32).clamp(2, 6)
                    };
                    row.push(Bld {
                        rect: Rect { x0, y0: y, x1: x0 + len, y1: y + st.depth },
                        floors,
                        units: vec![floors * hpf; nunits as usize],
                    });
                }
            }
            if !row.is_empty() {
                rows.push(row);
            }
            y += st.depth + st.row_gap;
        }
        (lane_x, rows)
    }

    /// One compound (walled when `wall` is given) or unwalled old area in `parcel`: its outline,
    /// buildings and paths.
    fn area(
        &mut self,
        id: &str,
        wall: Option<Rect>,
        parcel: &Parcel,
        st: Style,
        ctx: &CommunityCtx,
        locals: &mut Locals,
    ) -> Result<(), SynthError> {
        let outer = wall.unwrap_or(parcel.wall);
        let m = st.margin;
        let inner = Rect { x0: outer.x0 + m, y0: outer.y0 + m, x1: outer.x1 - m, y1: outer.y1 - m };
        let (lane_x, mut rows) = self.plan(inner, &st);
        // Keep exactly as many buildings as are still wanted.
        let mut left = self.target - self.s.buildings;
        rows.retain_mut(|row| {
            let keep = row.len().min(left.try_into().unwrap_or(usize::MAX));
            row.truncate(keep);
            left -= keep as u64;
            !row.is_empty()
        });
        if rows.is_empty() {
            return Ok(());
        }
        if let Some(wall) = wall {
            self.compound_no += 1;
            let suffixes = if st.old { OLD_SUFFIXES } else { COMPOUND_SUFFIXES };
            let suffix = suffixes[self.rng.random_range(0..suffixes.len())];
            let name = format!("{}{suffix}", stem(&self.ew_perm, self.compound_no + 11));
            let mut p = Props::new();
            p.str("level", "compound").str("name", &name).str("community", &ctx.id);
            self.w.boundaries.write(id, &p, Geom::Polygon(&wall.ring()))?;
            self.s.compounds += 1;
        }
        let mut n = 0usize;
        for row in &rows {
            for b in row {
                n += 1;
                let hh: u32 = b.units.iter().sum();
                let mut units = String::from("[");
                for (i, u) in b.units.iter().enumerate() {
                    if i > 0 {
                        units.push(',');
                    }
                    units.push_str(&format!("{{\"label\":\"{}\",\"households\":{u}}}", i + 1));
                }
                units.push(']');
                let mut p = Props::new();
                p.str("building", "residential")
                    .str("name", &format!("{n}栋"))
                    .int("levels", u64::from(b.floors))
                    .int("households", u64::from(hh))
                    .raw("units", &units);
                if wall.is_some() {
                    p.str("compound", id);
                }
                self.w.buildings.write(&format!("{id}-B{n:03}"), &p, Geom::Polygon(&b.rect.ring()))?;
                self.s.buildings += 1;
                self.s.units += b.units.len() as u64;
                self.s.households += u64::from(hh);
            }
        }

        // Paths: a spine along the lane from the south street (and through a north gate to the
        // north street, sometimes), and an alley in front of each row.
        let private = wall.is_some();
        let alleys: Vec<f64> = rows.iter().map(|row| row[0].rect.y0 - 5.0).collect();
        let north_gate = !private || self.rng.random_bool(0.5);
        let mut spine = vec![(lane_x, parcel.rect.y0)];
        spine.extend(alleys.iter().map(|&y| (lane_x, y)));
        if north_gate {
            spine.push((lane_x, parcel.rect.y1));
            self.junction(parcel.north, lane_x, locals);
        }
        self.junction(parcel.south, lane_x, locals);
        let mut p = Props::new();
        p.str("highway", if private { "service" } else { "footway" });
        if private {
            p.str("access", "private");
        }
        self.w.network.write(&format!("{id}-P0"), &p, Geom::Line(&spine))?;
        let mut p = Props::new();
        p.str("highway", "footway");
        if private {
            p.str("access", "private");
        }
        for (i, (row, &y)) in rows.iter().zip(&alleys).enumerate() {
            let mids = row.iter().map(|b| (b.rect.x0 + b.rect.x1) / 2.0);
            let lo = mids.clone().fold(lane_x, f64::min);
            let hi = mids.fold(lane_x, f64::max);
            let mut pts = vec![(lo, y)];
            if lane_x > lo && lane_x < hi {
                pts.push((lane_x, y));
            }
            if hi > lo {
                pts.push((hi, y));
            } else {
                continue;
            }
            self.w.network.write(&format!("{id}-P{}", i + 1), &p, Geom::Line(&pts))?;
        }
        (self.progress)(self.s.buildings);
        Ok(())
    }

    /// A point on the street side of a parcel's wall, 6 m out.
    fn frontage(&mut self, parcels: &[Parcel]) -> P {
        let p = &parcels[self.rng.random_range(0..parcels.len())];
        let t = self.rng.random_range(0.15..0.85);
        let w = p.wall;
        let (x, y) = (round1(w.x0 + t * w.w()), round1(w.y0 + t * w.h()));
        match self.rng.random_range(0..4u32) {
            0 => (x, w.y0 - 6.0),
            1 => (x, w.y1 + 6.0),
            2 => (w.x0 - 6.0, y),
            _ => (w.x1 + 6.0, y),
        }
    }

    fn facilities(
        &mut self,
        ctx: &CommunityCtx,
        street: &StreetCtx,
        street_level: bool,
        forced: bool,
        parcels: &[Parcel],
    ) -> Result<(), SynthError> {
        let mut list: Vec<&'static str> = Vec::new();
        for (cat, prob, max) in COMMUNITY_FACILITIES {
            if forced || self.rng.random_bool(prob) {
                let n = self.rng.random_range(1..=max);
                list.extend(std::iter::repeat_n(cat, n as usize));
            }
        }
        if street_level || forced {
            for (cat, prob) in STREET_FACILITIES {
                if forced || self.rng.random_bool(prob) {
                    list.push(cat);
                }
            }
        }
        let c = &ctx.stem;
        let st = &street.stem;
        for (i, cat) in list.into_iter().enumerate() {
            let pick = self.rng.random_range(0..3u32);
            let (pt, name) = if cat == "bus_stop" {
                // On the kerb of one of the community's arterials, named after it and a cross street.
                let r = ctx.rect;
                let t = self.rng.random_range(0.2..0.8);
                let (x, y) = (round1(r.x0 + t * r.w()), round1(r.y0 + t * r.h()));
                let west = if t < 0.5 { ctx.c } else { ctx.c + 1 };
                let south = if t < 0.5 { ctx.r } else { ctx.r + 1 };
                match self.rng.random_range(0..4u32) {
                    0 => ((x, r.y0 + 8.0), format!("{}{}站", self.ew_name(ctx.r), self.ns_name(west))),
                    1 => ((x, r.y1 - 8.0), format!("{}{}站", self.ew_name(ctx.r + 1), self.ns_name(west))),
                    2 => ((r.x0 + 8.0, y), format!("{}{}站", self.ns_name(ctx.c), self.ew_name(south))),
                    _ => ((r.x1 - 8.0, y), format!("{}{}站", self.ns_name(ctx.c + 1), self.ew_name(south))),
                }
            } else {
                let district = self.district_name.clone();
                let mut numbered = |k: usize, what: &str| {
                    self.district_counters[k] += 1;
                    format!("{district}第{}{what}", cn(self.district_counters[k]))
                };
                let name = match cat {
                    "kindergarten" => numbered(0, "幼儿园"),
                    "primary_school" => numbered(1, "小学"),
                    "middle_school" => numbered(2, "中学"),
                    "health_station" => format!("{c}社区卫生服务站"),
                    "health_centre" => format!("{st}街社区卫生服务中心"),
                    "pharmacy" => ["{c}大药房", "仁济堂药店（{c}店）", "{c}平价药房"][pick as usize].replace("{c}", c),
                    "elderly_day_care" => format!("{c}社区老年人日间照料中心"),
                    "nursing_home" => {
                        ["{s}街道养老院", "{s}颐养院", "{s}福寿园养老中心"][pick as usize].replace("{s}", st)
                    }
                    "community_service_station" => format!("{c}社区党群服务中心"),
                    "fresh_market" => ["{c}菜市场", "{c}生鲜超市", "{c}农贸市场"][pick as usize].replace("{c}", c),
                    "convenience" => {
                        ["{c}便利店", "{c}便民超市", "邻里便利店（{c}店）"][pick as usize].replace("{c}", c)
                    }
                    "sports_ground" => ["{c}社区健身广场", "{c}运动场", "{c}篮球场"][pick as usize].replace("{c}", c),
                    "park" => ["{c}游园", "{c}公园", "{c}口袋公园"][pick as usize].replace("{c}", c),
                    "cultural_centre" => format!("{st}街道文化活动中心"),
                    "police" => format!("{st}派出所"),
                    "post_office" => format!("{st}邮政所"),
                    other => other.to_string(),
                };
                (self.frontage(parcels), name)
            };
            let mut p = Props::new();
            p.str("category", cat).str("name", &name);
            self.w.facilities.write(&format!("{}-F{:02}", ctx.id, i + 1), &p, Geom::Point(pt))?;
            *self.s.facilities_by_category.entry(cat.to_string()).or_insert(0) += 1;
        }
        Ok(())
    }
}

/// A staircase outline from `x0`: rows `(y0, y1, x_end)` from south to north, contiguous, with
/// `x_end` not increasing northwards. Counter-clockwise, not closed.
fn staircase(x0: f64, rows: &[(f64, f64, f64)]) -> Vec<P> {
    let mut pts = Vec::with_capacity(2 * rows.len() + 2);
    let Some(&(bottom, _, first)) = rows.first() else { return pts };
    pts.push((x0, bottom));
    let mut cur = first;
    pts.push((cur, bottom));
    for &(y0, _, e) in &rows[1..] {
        if e != cur {
            pts.push((cur, y0));
            pts.push((e, y0));
            cur = e;
        }
    }
    let top = rows[rows.len() - 1].1;
    pts.push((cur, top));
    pts.push((x0, top));
    pts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staircase_outlines() {
        let rows = [(0.0, 10.0, 30.0), (10.0, 20.0, 30.0), (20.0, 30.0, 10.0)];
        assert_eq!(
            staircase(0.0, &rows),
            vec![(0.0, 0.0), (30.0, 0.0), (30.0, 20.0), (10.0, 20.0), (10.0, 30.0), (0.0, 30.0)]
        );
        assert_eq!(staircase(5.0, &rows[..1]), vec![(5.0, 0.0), (30.0, 0.0), (30.0, 10.0), (5.0, 10.0)]);
    }

    #[test]
    fn categories_are_the_default_catalogue() {
        let cat = wangge_core::Catalogue::default_catalogue();
        let mut ids: Vec<&str> = cat.categories.iter().map(|c| c.id.as_str()).collect();
        ids.sort_unstable();
        let mut ours = CATEGORIES.to_vec();
        ours.sort_unstable();
        assert_eq!(ids, ours);
        for (c, _, _) in COMMUNITY_FACILITIES {
            assert!(CATEGORIES.contains(&c));
        }
        for (c, _) in STREET_FACILITIES {
            assert!(CATEGORIES.contains(&c));
        }
    }
}
