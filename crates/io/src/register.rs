//! CSV household registers: one header row, then one row per building or per unit.
//!
//! Columns are found by name in any order (`docs/formats.md`): `building_id` (aliases `building`,
//! `楼栋编号`, `楼栋`), `households` (`户数`) and the optional `unit` (`单元`). The separator
//! (comma, semicolon or tab) is the one the header line uses most. Rows are numbered from 1 with
//! the header as row 1, so row N is line N of the file.
//!
//! This reader fills `Layers::register` only; whether each building exists is checked against the
//! store by the caller.

use crate::ReadOptions;
use crate::error::{IoError, Result};
use std::collections::HashMap;
use std::path::Path;
use wangge_core::{Layers, RegisterEntry};

/// The largest household count accepted in one row.
pub const MAX_HOUSEHOLDS: u64 = 100_000;

const BUILDING: &[&str] = &["building_id", "building", "楼栋编号", "楼栋"];
const HOUSEHOLDS: &[&str] = &["households", "户数"];
const UNIT: &[&str] = &["unit", "单元"];

/// The separator the header line uses most (comma when it uses none).
fn separator(header: &str) -> u8 {
    let counts = [
        (b',', header.matches(',').count()),
        (b';', header.matches(';').count()),
        (b'\t', header.matches('\t').count()),
    ];
    counts.iter().max_by_key(|(_, n)| *n).filter(|(_, n)| *n > 0).map(|(c, _)| *c).unwrap_or(b',')
}

fn find(headers: &[String], names: &[&str]) -> Option<usize> {
    headers.iter().position(|h| names.iter().any(|n| h.eq_ignore_ascii_case(n)))
}

/// Parses a households cell: a whole number from 0 to [`MAX_HOUSEHOLDS`].
fn households(cell: &str) -> std::result::Result<u32, String> {
    let t = cell.trim();
    if t.is_empty() {
        return Err("empty (a whole number ≥ 0 is required)".into());
    }
    match t.parse::<i64>() {
        Ok(n) if n < 0 => Err(format!("{t} is negative")),
        Ok(n) if n as u64 > MAX_HOUSEHOLDS => Err(format!("{t} is more than {MAX_HOUSEHOLDS}, not a plausible value")),
        Ok(n) => Ok(n as u32),
        Err(_) if t.parse::<f64>().is_ok_and(f64::is_finite) => Err(format!("{t} is not a whole number")),
        Err(_) => Err(format!("{t:?} is not a number")),
    }
}

/// Reads a CSV household register into `Layers::register`.
pub fn read(path: &Path, bytes: &[u8], _opts: &ReadOptions, dataset: &str) -> Result<(Layers, Vec<String>)> {
    let malformed = |reason: String| IoError::Malformed { path: path.to_path_buf(), format: "CSV register", reason };
    let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]);
    let Some(header_line) = head.lines().find(|l| !l.trim().is_empty()) else {
        return Err(malformed("the file is empty".into()));
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(separator(header_line))
        .has_headers(true)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| malformed(format!("cannot read the header row: {e}")))?
        .iter()
        .map(|h| h.trim().trim_start_matches('\u{feff}').to_string())
        .collect();
    let missing = |field: &str, aliases: &[&str]| IoError::Field {
        path: path.to_path_buf(),
        location: "row 1 (header)".into(),
        field: field.to_string(),
        reason: format!(
            "no `{field}` column (accepted names: {}); the columns are: {}",
            aliases.join(", "),
            headers.join(", ")
        ),
    };
    let b_col = find(&headers, BUILDING).ok_or_else(|| missing("building_id", BUILDING))?;
    let h_col = find(&headers, HOUSEHOLDS).ok_or_else(|| missing("households", HOUSEHOLDS))?;
    let u_col = find(&headers, UNIT);

    let mut register = Vec::new();
    // (building, unit) → row, and building → (row of a whole-building row, row of a unit row).
    let mut seen: HashMap<(String, Option<String>), u64> = HashMap::new();
    let mut kinds: HashMap<String, (Option<u64>, Option<u64>)> = HashMap::new();
    for (i, rec) in reader.records().enumerate() {
        let fallback_row = i as u64 + 2;
        let rec = rec.map_err(|e| {
            let row = e.position().map(|p| p.line()).unwrap_or(fallback_row);
            malformed(format!("row {row}: {e}"))
        })?;
        let row = rec.position().map(|p| p.line()).unwrap_or(fallback_row);
        let field = |field: &str, reason: String| IoError::Field {
            path: path.to_path_buf(),
            location: format!("row {row}"),
            field: field.to_string(),
            reason,
        };
        let cell = |c: usize| rec.get(c).unwrap_or("").trim();
        if rec.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let building = cell(b_col).to_string();
        if building.is_empty() {
            return Err(field(&headers[b_col], "empty: every row needs a building id".into()));
        }
        let hh = households(cell(h_col)).map_err(|e| field(&headers[h_col], e))?;
        let unit = u_col.map(cell).filter(|u| !u.is_empty()).map(str::to_string);
        if let Some(first) = seen.insert((building.clone(), unit.clone()), row) {
            let what = match &unit {
                Some(u) => format!("building {building:?} unit {u:?}"),
                None => format!("building {building:?}"),
            };
            return Err(field(&headers[b_col], format!("duplicate: {what} is already given in row {first}")));
        }
        let entry = kinds.entry(building.clone()).or_default();
        if unit.is_some() {
            entry.1.get_or_insert(row)
        } else {
            entry.0.get_or_insert(row)
        };
        if let (Some(whole), Some(per_unit)) = *entry {
            return Err(field(
                u_col.map(|c| headers[c].as_str()).unwrap_or("unit"),
                format!(
                    "building {building:?} has a whole-building row (row {whole}) and unit rows (row {per_unit}); give one or the other"
                ),
            ));
        }
        register.push(RegisterEntry { building, unit, households: hh, dataset: dataset.to_string() });
    }
    if register.is_empty() {
        return Err(malformed("no data rows after the header".into()));
    }
    let buildings = kinds.len();
    let notes = vec![format!("{}: {} register row(s) for {buildings} building(s)", path.display(), register.len())];
    Ok((Layers { register, ..Layers::default() }, notes))
}
