//! The one element model both readers fill: node locations in 1e-7 degrees (so PBF and XML give
//! bit-identical coordinates), tagged nodes, ways and relations in file order.

use std::collections::HashMap;

/// Tags of an element, in file order.
pub(crate) type Tags = Vec<(String, String)>;

/// The value of `key` in `tags`.
pub(crate) fn tag<'a>(tags: &'a Tags, key: &str) -> Option<&'a str> {
    tags.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// A node location in 1e-7 degrees (the precision OpenStreetMap stores).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Loc {
    /// Longitude × 1e7.
    pub lon7: i64,
    /// Latitude × 1e7.
    pub lat7: i64,
}

impl Loc {
    /// The location as a lon/lat coordinate.
    pub fn coord(self) -> geo::Coord<f64> {
        geo::Coord { x: self.lon7 as f64 / 1e7, y: self.lat7 as f64 / 1e7 }
    }
}

/// A way: its node references and tags.
#[derive(Debug, Clone)]
pub(crate) struct Way {
    pub id: i64,
    pub refs: Vec<i64>,
    pub tags: Tags,
}

/// What a relation member refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MemberKind {
    Node,
    Way,
    Relation,
}

/// A relation member.
#[derive(Debug, Clone)]
pub(crate) struct Member {
    pub kind: MemberKind,
    pub id: i64,
    pub role: String,
}

/// A relation: its members and tags.
#[derive(Debug, Clone)]
pub(crate) struct Relation {
    pub id: i64,
    pub members: Vec<Member>,
    pub tags: Tags,
}

/// Everything read from one OpenStreetMap file.
#[derive(Debug, Default)]
pub(crate) struct OsmData {
    /// Every node's location.
    pub locations: HashMap<i64, Loc>,
    /// Nodes that carry tags, in file order.
    pub tagged_nodes: Vec<(i64, Loc, Tags)>,
    /// Ways, in file order.
    pub ways: Vec<Way>,
    /// Relations, in file order.
    pub relations: Vec<Relation>,
}

/// Checks a latitude/longitude pair in 1e-7 degrees; the error names the field.
pub(crate) fn check_loc(loc: Loc) -> Result<(), (&'static str, String)> {
    if !(-900_000_000..=900_000_000).contains(&loc.lat7) {
        return Err(("lat", format!("{} is outside -90..90", loc.lat7 as f64 / 1e7)));
    }
    if !(-1_800_000_000..=1_800_000_000).contains(&loc.lon7) {
        return Err(("lon", format!("{} is outside -180..180", loc.lon7 as f64 / 1e7)));
    }
    Ok(())
}
