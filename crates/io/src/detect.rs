//! Tells a file's format from its first bytes, whatever its extension says.

use crate::error::{IoError, Result};
use std::io::Read;
use std::path::Path;

/// The formats wangge reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// OpenStreetMap PBF.
    OsmPbf,
    /// OpenStreetMap XML (`.osm`, what the OpenStreetMap export gives).
    OsmXml,
    /// GeoJSON (FeatureCollection, Feature or bare geometry).
    GeoJson,
    /// A CSV household register.
    RegisterCsv,
    /// A GeoPackage (SQLite) population grid.
    GeoPackage,
}

impl Format {
    /// Stable name, as recorded with the dataset.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OsmPbf => "osm_pbf",
            Self::OsmXml => "osm_xml",
            Self::GeoJson => "geojson",
            Self::RegisterCsv => "register_csv",
            Self::GeoPackage => "population_gpkg",
        }
    }
}

/// Detects the format of the file at `path` from its content.
pub fn detect(path: &Path) -> Result<Format> {
    let mut head = Vec::with_capacity(512);
    std::fs::File::open(path)
        .and_then(|f| f.take(512).read_to_end(&mut head))
        .map_err(|e| IoError::Read { path: path.to_path_buf(), source: e })?;
    detect_bytes(&head).ok_or_else(|| IoError::UnknownFormat {
        path: path.to_path_buf(),
        reason: if head.is_empty() {
            "the file is empty".into()
        } else {
            "not OpenStreetMap (PBF or XML), GeoJSON, a CSV register or a GeoPackage".into()
        },
    })
}

/// Detects a format from the first bytes of a file (512 are plenty).
pub fn detect_bytes(head: &[u8]) -> Option<Format> {
    if head.starts_with(b"SQLite format 3\0") {
        return Some(Format::GeoPackage);
    }
    // PBF: a 4-byte big-endian BlobHeader length, then the header whose type string is "OSMHeader".
    if head.len() > 16 && head[..4] == [0, 0, 0, head[3]] && head.windows(9).take(32).any(|w| w == b"OSMHeader") {
        return Some(Format::OsmPbf);
    }
    let text = String::from_utf8_lossy(head);
    let t = text.trim_start_matches('\u{feff}').trim_start();
    if t.starts_with('<') {
        return (t.contains("<osm") || t.starts_with("<?xml")).then_some(Format::OsmXml);
    }
    if t.starts_with('{') {
        return Some(Format::GeoJson);
    }
    let first_line = t.lines().next().unwrap_or("");
    if first_line.contains(',') || first_line.contains('\t') || first_line.contains(';') {
        return Some(Format::RegisterCsv);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_told_by_content() {
        assert_eq!(detect_bytes(b"<?xml version='1.0'?><osm version=\"0.6\">"), Some(Format::OsmXml));
        assert_eq!(detect_bytes(b"  {\"type\":\"FeatureCollection\"}"), Some(Format::GeoJson));
        assert_eq!(detect_bytes(b"building_id,households\nb1,3\n"), Some(Format::RegisterCsv));
        assert_eq!(detect_bytes(b"SQLite format 3\0rest"), Some(Format::GeoPackage));
        assert_eq!(detect_bytes(b"\x89PNG\r\n"), None);
        assert_eq!(detect_bytes(b"<html><body>"), None);
    }

    #[test]
    fn the_sample_pbf_is_detected_as_pbf() {
        let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../geodata/helsinki/Helsinki.osm.pbf");
        assert_eq!(detect(&p).expect("readable"), Format::OsmPbf);
        let x = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../geodata/beijing/haidian-liudaokou.osm");
        assert_eq!(detect(&x).expect("readable"), Format::OsmXml);
    }
}
