//! OpenStreetMap PBF into the common element model.
//!
//! Before decoding, the blob framing is walked over the whole file (4-byte header length, a
//! `BlobHeader`, then `datasize` bytes of blob), so that a truncated file or trailing garbage is an
//! error naming the byte offset instead of a silently shorter dataset.

use super::model::{Loc, Member, MemberKind, OsmData, Relation, Way, check_loc};
use crate::error::{IoError, Result};
use osmpbf::{Element, ElementReader, RelMemberType};
use std::path::Path;

const FORMAT: &str = "OpenStreetMap PBF";
/// The largest BlobHeader the format allows.
const MAX_HEADER: usize = 64 * 1024;
/// The largest blob the format allows.
const MAX_BLOB: usize = 32 * 1024 * 1024;

fn malformed(path: &Path, reason: impl Into<String>) -> IoError {
    IoError::Malformed { path: path.to_path_buf(), format: FORMAT, reason: reason.into() }
}

/// Reads a protobuf varint at `*pos`.
fn varint(buf: &[u8], pos: &mut usize) -> Option<u64> {
    let mut v: u64 = 0;
    for shift in (0..64).step_by(7) {
        let b = *buf.get(*pos)?;
        *pos += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

/// The `type` and `datasize` fields of a BlobHeader message.
fn blob_header(buf: &[u8]) -> Option<(String, u64)> {
    let mut pos = 0;
    let (mut kind, mut size) = (None, None);
    while pos < buf.len() {
        let key = varint(buf, &mut pos)?;
        match (key >> 3, key & 7) {
            (3, 0) => size = Some(varint(buf, &mut pos)?),
            (field, 2) => {
                let len = usize::try_from(varint(buf, &mut pos)?).ok()?;
                let end = pos.checked_add(len).filter(|&e| e <= buf.len())?;
                if field == 1 {
                    kind = Some(String::from_utf8_lossy(&buf[pos..end]).into_owned());
                }
                pos = end;
            }
            (_, 0) => {
                varint(buf, &mut pos)?;
            }
            _ => return None,
        }
    }
    Some((kind?, size?))
}

/// Walks the blob framing of the whole file.
fn check_framing(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut pos = 0usize;
    let mut blobs = 0usize;
    while pos < bytes.len() {
        let rest = bytes.len() - pos;
        if rest < 4 {
            return Err(malformed(
                path,
                format!("truncated: {rest} stray bytes at byte {pos} after the last complete blob"),
            ));
        }
        let len = u32::from_be_bytes([bytes[pos], bytes[pos + 1], bytes[pos + 2], bytes[pos + 3]]) as usize;
        if len == 0 || len > MAX_HEADER {
            return Err(malformed(path, format!("corrupt blob header length {len} at byte {pos}")));
        }
        let hstart = pos + 4;
        if len > bytes.len() - hstart {
            return Err(malformed(
                path,
                format!("truncated: blob header at byte {pos} needs {len} bytes, {} remain", bytes.len() - hstart),
            ));
        }
        let (kind, size) = blob_header(&bytes[hstart..hstart + len])
            .ok_or_else(|| malformed(path, format!("corrupt blob header at byte {pos}")))?;
        if blobs == 0 && kind != "OSMHeader" {
            return Err(malformed(path, format!("the first blob is `{kind}`, not `OSMHeader`")));
        }
        let size = usize::try_from(size).unwrap_or(usize::MAX);
        if size > MAX_BLOB {
            return Err(malformed(path, format!("corrupt blob size {size} at byte {pos}")));
        }
        let dstart = hstart + len;
        if size > bytes.len() - dstart {
            return Err(malformed(
                path,
                format!(
                    "truncated: blob `{kind}` at byte {pos} declares {size} bytes, only {} remain",
                    bytes.len() - dstart
                ),
            ));
        }
        pos = dstart + size;
        blobs += 1;
    }
    if blobs == 0 {
        return Err(malformed(path, "the file is empty"));
    }
    Ok(())
}

/// Reads OpenStreetMap PBF into the element model.
pub(crate) fn parse(path: &Path, bytes: &[u8]) -> Result<OsmData> {
    check_framing(path, bytes)?;
    let mut data = OsmData::default();
    let mut first_error: Option<IoError> = None;
    let decoded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        ElementReader::new(std::io::Cursor::new(bytes)).for_each(|el| {
            if first_error.is_some() {
                return;
            }
            if let Err(e) = add(path, &mut data, el) {
                first_error = Some(e);
            }
        })
    }));
    match decoded {
        Err(_) => return Err(malformed(path, "the decoder failed on corrupt data")),
        Ok(Err(e)) => return Err(malformed(path, e.to_string())),
        Ok(Ok(())) => {}
    }
    if let Some(e) = first_error {
        return Err(e);
    }
    Ok(data)
}

fn node(
    path: &Path,
    data: &mut OsmData,
    id: i64,
    nano_lon: i64,
    nano_lat: i64,
    tags: Vec<(String, String)>,
) -> Result<()> {
    let loc = Loc { lon7: (nano_lon + 50).div_euclid(100), lat7: (nano_lat + 50).div_euclid(100) };
    check_loc(loc).map_err(|(field, reason)| IoError::Field {
        path: path.to_path_buf(),
        location: format!("node n{id}"),
        field: field.to_string(),
        reason,
    })?;
    data.locations.insert(id, loc);
    if !tags.is_empty() {
        data.tagged_nodes.push((id, loc, tags));
    }
    Ok(())
}

fn owned<'a>(tags: impl Iterator<Item = (&'a str, &'a str)>) -> Vec<(String, String)> {
    tags.map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn add(path: &Path, data: &mut OsmData, el: Element<'_>) -> Result<()> {
    match el {
        Element::Node(n) => node(path, data, n.id(), n.nano_lon(), n.nano_lat(), owned(n.tags()))?,
        Element::DenseNode(n) => node(path, data, n.id(), n.nano_lon(), n.nano_lat(), owned(n.tags()))?,
        Element::Way(w) => data.ways.push(Way { id: w.id(), refs: w.refs().collect(), tags: owned(w.tags()) }),
        Element::Relation(r) => {
            let mut members = Vec::new();
            for m in r.members() {
                let role = m
                    .role()
                    .map_err(|e| malformed(path, format!("relation r{}: member role: {e}", r.id())))?
                    .to_string();
                let kind = match m.member_type {
                    RelMemberType::Node => MemberKind::Node,
                    RelMemberType::Way => MemberKind::Way,
                    RelMemberType::Relation => MemberKind::Relation,
                };
                members.push(Member { kind, id: m.member_id, role });
            }
            data.relations.push(Relation { id: r.id(), members, tags: owned(r.tags()) });
        }
    }
    Ok(())
}
