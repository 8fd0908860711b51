//! Assignment CSV files (`building_id,unit,grid_id`): what `wangge partition --assignment` writes
//! and `--previous` reads. `unit` is empty when the whole building is in one grid.

use crate::error::{IoError, Result};
use std::collections::BTreeSet;
use std::path::Path;
use wangge_core::plan::PlanAssignment;

/// Reads an assignment CSV. Errors name the file, the row (the header is row 1) and the field.
pub fn read(path: &Path) -> Result<Vec<PlanAssignment>> {
    let bytes = std::fs::read(path).map_err(|e| IoError::Read { path: path.to_path_buf(), source: e })?;
    let mut r = csv::ReaderBuilder::new().has_headers(true).trim(csv::Trim::All).from_reader(bytes.as_slice());
    let field = |row: usize, field: &str, reason: String| IoError::Field {
        path: path.to_path_buf(),
        location: format!("row {row}"),
        field: field.into(),
        reason,
    };
    let headers = r
        .headers()
        .map_err(|e| IoError::Malformed { path: path.to_path_buf(), format: "CSV", reason: e.to_string() })?
        .clone();
    let col = |name: &str| headers.iter().position(|h| h.trim_start_matches('\u{feff}') == name);
    let (Some(b), Some(g)) = (col("building_id"), col("grid_id")) else {
        return Err(IoError::Malformed {
            path: path.to_path_buf(),
            format: "CSV",
            reason: "the header must name `building_id`, `unit` and `grid_id`".into(),
        });
    };
    let u = col("unit");
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    for (i, rec) in r.records().enumerate() {
        let row = i + 2;
        let rec = rec.map_err(|e| field(row, "-", e.to_string()))?;
        let building = rec.get(b).unwrap_or("").to_string();
        if building.is_empty() {
            return Err(field(row, "building_id", "empty".into()));
        }
        let grid = rec.get(g).unwrap_or("").to_string();
        if grid.is_empty() {
            return Err(field(row, "grid_id", "empty".into()));
        }
        let unit = u.and_then(|u| rec.get(u)).filter(|s| !s.is_empty()).map(str::to_string);
        if !seen.insert((building.clone(), unit.clone())) {
            return Err(field(row, "building_id", format!("building `{building}` (unit {unit:?}) appears twice")));
        }
        out.push(PlanAssignment { building, unit, grid });
    }
    Ok(out)
}

/// Writes an assignment CSV atomically (a temporary file renamed into place).
pub fn write(path: &Path, rows: &[PlanAssignment]) -> Result<()> {
    let err = |e: std::io::Error| IoError::Write { path: path.to_path_buf(), source: e };
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut push = |rec: [&str; 3]| w.write_record(rec).map_err(|e| err(std::io::Error::other(e)));
    push(["building_id", "unit", "grid_id"])?;
    for a in rows {
        push([&a.building, a.unit.as_deref().unwrap_or(""), &a.grid])?;
    }
    let bytes = w.into_inner().map_err(|e| err(std::io::Error::other(e.to_string())))?;
    crate::export::write_bytes_atomic(path, &bytes)
}
