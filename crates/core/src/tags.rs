//! Rules on OpenStreetMap-style tags shared by every importer: which ways are walkable, and which
//! buildings are residential. Tags are looked up through a closure so that OSM elements, GeoJSON
//! properties and test tables can all be asked.

/// Highway classes a pedestrian may use (STANDARDS: the walkable network).
pub const WALKABLE_HIGHWAYS: &[&str] = &[
    "footway",
    "path",
    "pedestrian",
    "steps",
    "corridor",
    "living_street",
    "residential",
    "service",
    "unclassified",
    "track",
    "road",
    "cycleway",
    "bridleway",
    "tertiary",
    "tertiary_link",
    "secondary",
    "secondary_link",
    "primary",
    "primary_link",
    "trunk",
    "trunk_link",
];

/// Highway classes whose `access=private` does not exclude pedestrians: in Chinese cities these are
/// mostly compound paths residents walk every day.
pub const PRIVATE_OK_HIGHWAYS: &[&str] = &["footway", "path", "steps", "service"];

/// Whether and how a way may be walked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Walkability {
    /// Not walkable.
    No,
    /// Walkable; `private` when it is a private compound path kept walkable.
    Yes {
        /// Tagged `access=private` (kept because of its class).
        private: bool,
    },
}

/// Applies the walkable-network rule to a way's tags:
/// `highway` in [`WALKABLE_HIGHWAYS`], unless `foot=no`, `area=yes`, or `access=no|private` without
/// `foot=yes|designated|permissive`; `access=private` does not exclude [`PRIVATE_OK_HIGHWAYS`].
/// motorway and motorway_link are never walkable. Ways are walkable in both directions.
pub fn walkability<'a>(tag: impl Fn(&str) -> Option<&'a str>) -> Walkability {
    let Some(hw) = tag("highway") else { return Walkability::No };
    if !WALKABLE_HIGHWAYS.contains(&hw) {
        return Walkability::No;
    }
    if tag("foot") == Some("no") || tag("area") == Some("yes") {
        return Walkability::No;
    }
    let foot_ok = matches!(tag("foot"), Some("yes" | "designated" | "permissive"));
    match tag("access") {
        Some("no") if !foot_ok => Walkability::No,
        Some("private") if !foot_ok => {
            if PRIVATE_OK_HIGHWAYS.contains(&hw) {
                Walkability::Yes { private: true }
            } else {
                Walkability::No
            }
        }
        _ => Walkability::Yes { private: false },
    }
}

/// Building types that are not homes.
pub const NON_RESIDENTIAL_BUILDINGS: &[&str] = &[
    "office",
    "retail",
    "commercial",
    "industrial",
    "warehouse",
    "church",
    "cathedral",
    "chapel",
    "mosque",
    "temple",
    "shrine",
    "synagogue",
    "religious",
    "university",
    "college",
    "school",
    "kindergarten",
    "hospital",
    "public",
    "civic",
    "government",
    "transportation",
    "train_station",
    "roof",
    "kiosk",
    "shed",
    "garage",
    "garages",
    "carport",
    "parking",
    "service",
    "hut",
    "cabin",
    "greenhouse",
    "stadium",
    "sports_hall",
    "sports_centre",
    "hotel",
    "museum",
    "barn",
    "farm_auxiliary",
    "construction",
    "ruins",
    "toilets",
    "bunker",
    "bridge",
    "gatehouse",
    "guardhouse",
    "supermarket",
    "fire_station",
    "police",
    "library",
    "theatre",
    "cinema",
    "power",
    "substation",
    "water_tower",
    "tower",
    "storage_tank",
    "silo",
    "stable",
    "military",
    "boathouse",
    "pavilion",
];

/// Building types that are homes.
pub const RESIDENTIAL_BUILDINGS: &[&str] = &[
    "residential",
    "apartments",
    "house",
    "detached",
    "semidetached_house",
    "terrace",
    "dormitory",
    "bungalow",
    "farm",
    "houseboat",
    "static_caravan",
];

/// Whether a building is taken to be residential from its tags: an explicitly residential type is;
/// a non-residential type is not; a generic `building=yes` is unless it carries a shop, office,
/// amenity, tourism or craft tag.
pub fn is_residential<'a>(tag: impl Fn(&str) -> Option<&'a str>) -> bool {
    let kind = tag("building").unwrap_or("yes");
    if RESIDENTIAL_BUILDINGS.contains(&kind) {
        return true;
    }
    if NON_RESIDENTIAL_BUILDINGS.contains(&kind) || kind == "no" {
        return false;
    }
    !["shop", "office", "amenity", "tourism", "craft"].iter().any(|k| tag(k).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn walk(tags: &[(&str, &str)]) -> Walkability {
        walkability(|k| tags.iter().find(|(a, _)| *a == k).map(|(_, v)| *v))
    }

    #[test]
    fn the_walkable_rule_follows_the_standard() {
        assert_eq!(walk(&[("highway", "footway")]), Walkability::Yes { private: false });
        assert_eq!(walk(&[("highway", "motorway")]), Walkability::No);
        assert_eq!(walk(&[("highway", "motorway_link"), ("foot", "yes")]), Walkability::No);
        assert_eq!(walk(&[("highway", "primary"), ("foot", "no")]), Walkability::No);
        assert_eq!(walk(&[("highway", "pedestrian"), ("area", "yes")]), Walkability::No);
        assert_eq!(walk(&[("highway", "residential"), ("access", "private")]), Walkability::No);
        assert_eq!(
            walk(&[("highway", "residential"), ("access", "private"), ("foot", "yes")]),
            Walkability::Yes { private: false }
        );
        assert_eq!(walk(&[("highway", "service"), ("access", "private")]), Walkability::Yes { private: true });
        assert_eq!(walk(&[("highway", "footway"), ("access", "no")]), Walkability::No);
        assert_eq!(walk(&[("highway", "trail")]), Walkability::No);
        assert_eq!(walk(&[("building", "yes")]), Walkability::No);
    }

    #[test]
    fn residential_buildings_are_told_from_tags() {
        let r = |tags: &[(&str, &str)]| is_residential(|k| tags.iter().find(|(a, _)| *a == k).map(|(_, v)| *v));
        assert!(r(&[("building", "apartments")]));
        assert!(r(&[("building", "yes")]));
        assert!(!r(&[("building", "yes"), ("shop", "mall")]));
        assert!(!r(&[("building", "university")]));
    }
}
