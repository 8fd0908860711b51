//! Streaming GeoJSON FeatureCollection writers and the local metric frame.
//!
//! Features are written one per line as they are generated, to a temporary file next to the
//! final one (`NAME.tmp`); [`FeatureWriter::finish`] closes the collection, flushes and renames.
//! Coordinates are written with 7 decimals (about 1 cm), so equal metric inputs give equal text.

use crate::SynthError;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// Mean Earth radius (IUGG), metres; the same sphere as the haversine lengths in `wangge-core`.
const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// A metric point in the local frame: metres east and north of the origin.
pub(crate) type P = (f64, f64);

/// Local equirectangular frame: `lon = lon0 + x / (R·cos φ0)`, `lat = lat0 + y / R` (degrees).
///
/// Good to a fraction of a percent over a few tens of kilometres, which is all synthesis needs:
/// the layout is drawn in metres and every coordinate goes through the same conversion, so shared
/// vertices stay exactly shared.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Frame {
    lon0: f64,
    lat0: f64,
    deg_per_m_lon: f64,
    deg_per_m_lat: f64,
}

impl Frame {
    /// A frame whose origin (0, 0) is at `(lon0, lat0)`.
    pub(crate) fn new(lon0: f64, lat0: f64) -> Self {
        let deg_per_m_lat = 180.0 / (std::f64::consts::PI * EARTH_RADIUS_M);
        Self { lon0, lat0, deg_per_m_lat, deg_per_m_lon: deg_per_m_lat / lat0.to_radians().cos() }
    }

    /// Lon/lat of a metric point.
    pub(crate) fn lonlat(&self, p: P) -> (f64, f64) {
        (self.lon0 + p.0 * self.deg_per_m_lon, self.lat0 + p.1 * self.deg_per_m_lat)
    }
}

/// The properties of one feature, as JSON members being assembled.
#[derive(Debug, Default)]
pub(crate) struct Props {
    buf: String,
}

impl Props {
    pub(crate) fn new() -> Self {
        Self { buf: String::with_capacity(160) }
    }

    fn key(&mut self, k: &str) {
        if !self.buf.is_empty() {
            self.buf.push(',');
        }
        push_json_str(&mut self.buf, k);
        self.buf.push(':');
    }

    /// A string member.
    pub(crate) fn str(&mut self, k: &str, v: &str) -> &mut Self {
        self.key(k);
        push_json_str(&mut self.buf, v);
        self
    }

    /// An integer member.
    pub(crate) fn int(&mut self, k: &str, v: u64) -> &mut Self {
        self.key(k);
        // Writing into a String cannot fail.
        let _ = write!(self.buf, "{v}");
        self
    }

    /// A member whose value is already JSON text.
    pub(crate) fn raw(&mut self, k: &str, json: &str) -> &mut Self {
        self.key(k);
        self.buf.push_str(json);
        self
    }
}

/// Appends `s` as a JSON string literal.
pub(crate) fn push_json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A geometry in metric coordinates.
pub(crate) enum Geom<'a> {
    /// A polygon's exterior ring, counter-clockwise, not closed (the writer closes it).
    Polygon(&'a [P]),
    /// A line.
    Line(&'a [P]),
    /// A point.
    Point(P),
}

/// One GeoJSON FeatureCollection being streamed to disk.
pub(crate) struct FeatureWriter {
    out: BufWriter<File>,
    tmp: PathBuf,
    dest: PathBuf,
    frame: Frame,
    first: bool,
    line: String,
    /// Features written so far.
    pub(crate) count: u64,
}

impl FeatureWriter {
    /// Creates `dir/NAME.tmp` and writes the collection's opening.
    pub(crate) fn create(dir: &Path, name: &str, frame: Frame) -> Result<Self, SynthError> {
        let dest = dir.join(name);
        let tmp = dir.join(format!("{name}.tmp"));
        let file = File::create(&tmp).map_err(|e| SynthError::Io { path: tmp.clone(), source: e })?;
        let mut w = Self {
            out: BufWriter::with_capacity(1 << 20, file),
            tmp,
            dest,
            frame,
            first: true,
            line: String::with_capacity(1024),
            count: 0,
        };
        w.put(b"{\"type\":\"FeatureCollection\",\"features\":[\n")?;
        Ok(w)
    }

    fn put(&mut self, bytes: &[u8]) -> Result<(), SynthError> {
        self.out.write_all(bytes).map_err(|e| SynthError::Io { path: self.tmp.clone(), source: e })
    }

    fn coord(&mut self, p: P) {
        let (lon, lat) = self.frame.lonlat(p);
        let _ = write!(self.line, "[{lon:.7},{lat:.7}]");
    }

    /// Writes one feature.
    pub(crate) fn write(&mut self, id: &str, props: &Props, geom: Geom<'_>) -> Result<(), SynthError> {
        self.line.clear();
        if !self.first {
            self.line.push_str(",\n");
        }
        self.first = false;
        self.line.push_str("{\"type\":\"Feature\",\"id\":");
        push_json_str(&mut self.line, id);
        self.line.push_str(",\"properties\":{");
        self.line.push_str(&props.buf);
        self.line.push_str("},\"geometry\":");
        match geom {
            Geom::Point(p) => {
                self.line.push_str("{\"type\":\"Point\",\"coordinates\":");
                self.coord(p);
            }
            Geom::Line(pts) => {
                self.line.push_str("{\"type\":\"LineString\",\"coordinates\":[");
                for (i, &p) in pts.iter().enumerate() {
                    if i > 0 {
                        self.line.push(',');
                    }
                    self.coord(p);
                }
                self.line.push(']');
            }
            Geom::Polygon(ring) => {
                self.line.push_str("{\"type\":\"Polygon\",\"coordinates\":[[");
                for &p in ring {
                    self.coord(p);
                    self.line.push(',');
                }
                if let Some(&p0) = ring.first() {
                    self.coord(p0);
                }
                self.line.push_str("]]");
            }
        }
        self.line.push_str("}}");
        let line = std::mem::take(&mut self.line);
        let r = self.put(line.as_bytes());
        self.line = line;
        r?;
        self.count += 1;
        Ok(())
    }

    /// Closes the collection, flushes and syncs the temporary file and renames it to its final
    /// name. Returns the final path.
    pub(crate) fn finish(mut self) -> Result<PathBuf, SynthError> {
        let tail: &[u8] = if self.first { b"]}\n" } else { b"\n]}\n" };
        self.put(tail)?;
        let file =
            self.out.into_inner().map_err(|e| SynthError::Io { path: self.tmp.clone(), source: e.into_error() })?;
        file.sync_all().map_err(|e| SynthError::Io { path: self.tmp.clone(), source: e })?;
        drop(file);
        std::fs::rename(&self.tmp, &self.dest).map_err(|e| SynthError::Io { path: self.dest.clone(), source: e })?;
        Ok(self.dest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_are_escaped() {
        let mut s = String::new();
        push_json_str(&mut s, "a\"b\\c\n第三幼儿园\u{1}");
        assert_eq!(s, "\"a\\\"b\\\\c\\n第三幼儿园\\u0001\"");
    }

    #[test]
    fn the_frame_maps_metres_to_degrees() {
        let f = Frame::new(114.3, 30.55);
        let (lon, lat) = f.lonlat((0.0, 0.0));
        assert_eq!((lon, lat), (114.3, 30.55));
        let (_, lat) = f.lonlat((0.0, 111_195.08));
        assert!((lat - 31.55).abs() < 1e-6, "{lat}");
        let (lon, _) = f.lonlat((111_195.08 * 30.55f64.to_radians().cos(), 0.0));
        assert!((lon - 115.3).abs() < 1e-6, "{lon}");
    }
}
