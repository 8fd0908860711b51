//! OpenStreetMap XML (`.osm`) into the common element model.

use super::model::{Loc, Member, MemberKind, OsmData, Relation, Tags, Way, check_loc};
use crate::error::{IoError, Result};
use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};
use std::path::Path;

const FORMAT: &str = "OpenStreetMap XML";

/// Where a byte offset lies, as `line L, byte B` (lines from 1).
fn position(bytes: &[u8], offset: u64) -> String {
    let at = usize::try_from(offset).unwrap_or(usize::MAX).min(bytes.len());
    let line = bytes[..at].iter().filter(|&&b| b == b'\n').count() + 1;
    format!("line {line}, byte {at}")
}

/// The element being read (its children `nd`, `tag`, `member` are added to it).
enum Open {
    Node { id: i64, loc: Loc, tags: Tags, skip: bool },
    Way(Way, bool),
    Relation(Relation, bool),
}

struct Ctx<'a> {
    path: &'a Path,
    bytes: &'a [u8],
}

impl Ctx<'_> {
    fn malformed(&self, offset: u64, reason: impl std::fmt::Display) -> IoError {
        IoError::Malformed {
            path: self.path.to_path_buf(),
            format: FORMAT,
            reason: format!("{} ({})", reason, position(self.bytes, offset)),
        }
    }

    fn field(&self, location: String, field: &str, reason: String) -> IoError {
        IoError::Field { path: self.path.to_path_buf(), location, field: field.to_string(), reason }
    }

    /// The attributes of an element as (name, unescaped value).
    fn attrs(&self, e: &BytesStart<'_>, offset: u64) -> Result<Vec<(String, String)>> {
        let mut out = Vec::new();
        for a in e.attributes() {
            let a = a.map_err(|err| self.malformed(offset, format!("bad attribute: {err}")))?;
            let key = a.key.as_ref().to_string();
            let value = a
                .normalized_value(XmlVersion::Implicit1_0)
                .map_err(|err| self.malformed(offset, format!("attribute `{key}`: {err}")))?;
            out.push((key, value.into_owned()));
        }
        Ok(out)
    }
}

fn attr<'a>(attrs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    attrs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// Whether the element is marked deleted (JOSM `action="delete"`) or invisible (history files).
fn deleted(attrs: &[(String, String)]) -> bool {
    attr(attrs, "action") == Some("delete") || attr(attrs, "visible") == Some("false")
}

/// Parses a coordinate into 1e-7 degrees.
fn degrees7(text: Option<&str>) -> std::result::Result<i64, String> {
    let text = text.ok_or_else(|| "missing".to_string())?;
    let v: f64 = text.trim().parse().map_err(|_| format!("`{text}` is not a number"))?;
    if !v.is_finite() || v.abs() > 1000.0 {
        return Err(format!("`{text}` is not a valid coordinate"));
    }
    Ok((v * 1e7).round() as i64)
}

/// Reads OpenStreetMap XML into the element model.
pub(crate) fn parse(path: &Path, bytes: &[u8]) -> Result<OsmData> {
    let ctx = Ctx { path, bytes };
    let text = std::str::from_utf8(bytes).map_err(|e| ctx.malformed(e.valid_up_to() as u64, "not UTF-8 text"))?;
    let mut reader = Reader::from_str(text);
    let mut data = OsmData::default();
    let mut stack: Vec<String> = Vec::new();
    let mut open: Option<Open> = None;
    let mut saw_root = false;
    loop {
        let before = reader.buffer_position();
        let event = reader.read_event().map_err(|e| ctx.malformed(reader.error_position(), e))?;
        let (e, empty) = match event {
            Event::Start(e) => (e, false),
            Event::Empty(e) => (e, true),
            Event::End(_) => {
                if let Some(name) = stack.pop() {
                    end(&name, &mut open, &mut data)?;
                }
                continue;
            }
            Event::Text(t) if stack.is_empty() && !t.trim().is_empty() => {
                return Err(ctx.malformed(before, "text outside the <osm> element"));
            }
            Event::Eof => break,
            _ => continue,
        };
        let name = e.name().as_ref().to_string();
        let attrs = ctx.attrs(&e, before)?;
        if stack.is_empty() {
            if saw_root {
                return Err(ctx.malformed(before, format!("a second root element <{name}> after </osm>")));
            }
            if name != "osm" {
                return Err(ctx.malformed(before, format!("the root element is <{name}>, not <osm>")));
            }
            saw_root = true;
        }
        start(&ctx, &name, &attrs, &mut open, stack.len())?;
        if empty {
            end(&name, &mut open, &mut data)?;
        } else {
            stack.push(name);
        }
    }
    if let Some(name) = stack.last() {
        return Err(ctx
            .malformed(bytes.len() as u64, format!("unexpected end of file inside <{name}> (the file is truncated)")));
    }
    if !saw_root {
        return Err(ctx.malformed(0, "no <osm> element"));
    }
    Ok(data)
}

fn parse_id(ctx: &Ctx<'_>, what: &str, attrs: &[(String, String)]) -> Result<i64> {
    let raw = attr(attrs, "id");
    raw.and_then(|v| v.trim().parse::<i64>().ok()).ok_or_else(|| {
        ctx.field(format!("{what} element"), "id", format!("`{}` is not an integer id", raw.unwrap_or("(missing)")))
    })
}

/// Handles an opening tag at nesting `depth` (the root is depth 0).
fn start(ctx: &Ctx<'_>, name: &str, attrs: &[(String, String)], open: &mut Option<Open>, depth: usize) -> Result<()> {
    match (name, depth) {
        ("node", 1) => {
            let id = parse_id(ctx, "node", attrs)?;
            let skip = deleted(attrs);
            let loc = if skip {
                Loc { lon7: 0, lat7: 0 }
            } else {
                let lat7 = degrees7(attr(attrs, "lat")).map_err(|r| ctx.field(format!("node n{id}"), "lat", r))?;
                let lon7 = degrees7(attr(attrs, "lon")).map_err(|r| ctx.field(format!("node n{id}"), "lon", r))?;
                let loc = Loc { lon7, lat7 };
                check_loc(loc).map_err(|(f, r)| ctx.field(format!("node n{id}"), f, r))?;
                loc
            };
            *open = Some(Open::Node { id, loc, tags: Vec::new(), skip });
        }
        ("way", 1) => {
            let id = parse_id(ctx, "way", attrs)?;
            *open = Some(Open::Way(Way { id, refs: Vec::new(), tags: Vec::new() }, deleted(attrs)));
        }
        ("relation", 1) => {
            let id = parse_id(ctx, "relation", attrs)?;
            *open = Some(Open::Relation(Relation { id, members: Vec::new(), tags: Vec::new() }, deleted(attrs)));
        }
        ("tag", 2) => {
            let (Some(k), Some(v)) = (attr(attrs, "k"), attr(attrs, "v")) else {
                return Err(ctx.field(open_name(open), "tag", "a <tag> needs both `k` and `v`".into()));
            };
            let pair = (k.to_string(), v.to_string());
            match open {
                Some(Open::Node { tags, .. }) => tags.push(pair),
                Some(Open::Way(w, _)) => w.tags.push(pair),
                Some(Open::Relation(r, _)) => r.tags.push(pair),
                None => {}
            }
        }
        ("nd", 2) => {
            if let Some(Open::Way(w, _)) = open {
                let raw = attr(attrs, "ref");
                let r = raw.and_then(|v| v.trim().parse::<i64>().ok()).ok_or_else(|| {
                    ctx.field(
                        format!("way w{}", w.id),
                        "nd ref",
                        format!("`{}` is not a node id", raw.unwrap_or("(missing)")),
                    )
                })?;
                w.refs.push(r);
            }
        }
        ("member", 2) => {
            if let Some(Open::Relation(rel, _)) = open {
                let kind = match attr(attrs, "type") {
                    Some("node") => MemberKind::Node,
                    Some("way") => MemberKind::Way,
                    Some("relation") => MemberKind::Relation,
                    other => {
                        return Err(ctx.field(
                            format!("relation r{}", rel.id),
                            "member type",
                            format!("`{}` is not node, way or relation", other.unwrap_or("(missing)")),
                        ));
                    }
                };
                let raw = attr(attrs, "ref");
                let id = raw.and_then(|v| v.trim().parse::<i64>().ok()).ok_or_else(|| {
                    ctx.field(
                        format!("relation r{}", rel.id),
                        "member ref",
                        format!("`{}` is not an id", raw.unwrap_or("(missing)")),
                    )
                })?;
                rel.members.push(Member { kind, id, role: attr(attrs, "role").unwrap_or("").to_string() });
            }
        }
        _ => {}
    }
    Ok(())
}

fn open_name(open: &Option<Open>) -> String {
    match open {
        Some(Open::Node { id, .. }) => format!("node n{id}"),
        Some(Open::Way(w, _)) => format!("way w{}", w.id),
        Some(Open::Relation(r, _)) => format!("relation r{}", r.id),
        None => "element".into(),
    }
}

/// Handles a closing tag: a finished node, way or relation goes into `data`.
fn end(name: &str, open: &mut Option<Open>, data: &mut OsmData) -> Result<()> {
    if !matches!(name, "node" | "way" | "relation") {
        return Ok(());
    }
    match open.take() {
        Some(Open::Node { id, loc, tags, skip: false }) => {
            data.locations.insert(id, loc);
            if !tags.is_empty() {
                data.tagged_nodes.push((id, loc, tags));
            }
        }
        Some(Open::Way(w, false)) => data.ways.push(w),
        Some(Open::Relation(r, false)) => data.relations.push(r),
        _ => {}
    }
    Ok(())
}
