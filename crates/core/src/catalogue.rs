//! The facility-category catalogue: life-circle categories with their walking thresholds and the
//! tag rules that map source features (OpenStreetMap tags, GeoJSON properties) to them.
//!
//! The catalogue is data. [`Catalogue::default_catalogue`] is built from GB 50180-2018 and
//! TD/T 1062-2021 (see `catalogue.default.toml`); a city replaces it with its own TOML file.
//!
//! # Rule syntax
//! Each category has a list of `match` rules; a feature matches the category when any rule holds.
//! A rule is conditions joined by `&`, each one of:
//! `key=v1|v2` (equals one of), `key!=v1|v2` (absent or none of), `key~s1|s2` (contains one of,
//! case-insensitive), `key!~s1|s2` (contains none of), `key` (present), `!key` (absent).
//!
//! ```
//! use wangge_core::catalogue::Catalogue;
//! let cat = Catalogue::default_catalogue();
//! let tags = [("amenity", "school"), ("name", "附属实验小学")];
//! assert_eq!(cat.classify(tags.iter().copied()).map(|c| c.id.as_str()), Some("primary_school"));
//! ```

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Errors reading a catalogue.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CatalogueError {
    /// The TOML text is not a catalogue.
    #[error("catalogue is not valid TOML: {0}")]
    Toml(#[from] toml::de::Error),
    /// A rule could not be parsed.
    #[error("category `{category}`: rule `{rule}` is not valid: {reason}")]
    Rule {
        /// Category id.
        category: String,
        /// The rule text.
        rule: String,
        /// Why.
        reason: String,
    },
    /// Two categories share an id.
    #[error("category id `{0}` appears twice")]
    DuplicateId(String),
    /// A category has a bad field.
    #[error("category `{category}`: field `{field}` {reason}")]
    Field {
        /// Category id.
        category: String,
        /// Field name.
        field: &'static str,
        /// Why.
        reason: String,
    },
    /// A category id that the catalogue does not know.
    #[error("unknown facility category `{id}`; known categories: {known}")]
    UnknownCategory {
        /// The id asked for.
        id: String,
        /// Comma-separated known ids.
        known: String,
    },
}

/// One condition of a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// `key=v1|v2`
    Equals(String, Vec<String>),
    /// `key!=v1|v2`
    NotEquals(String, Vec<String>),
    /// `key~s1|s2`
    Contains(String, Vec<String>),
    /// `key!~s1|s2`
    NotContains(String, Vec<String>),
    /// `key`
    Present(String),
    /// `!key`
    Absent(String),
}

impl Condition {
    fn parse(text: &str) -> Result<Self, String> {
        let t = text.trim();
        if t.is_empty() {
            return Err("empty condition".into());
        }
        let split = |sep: &str| -> Option<(String, Vec<String>)> {
            let (k, v) = t.split_once(sep)?;
            let k = k.trim().to_string();
            let vals: Vec<String> = v.split('|').map(|s| s.trim().to_string()).collect();
            Some((k, vals))
        };
        let checked = |(k, v): (String, Vec<String>)| -> Result<(String, Vec<String>), String> {
            if k.is_empty() {
                return Err(format!("condition `{t}` has no key"));
            }
            if v.iter().any(|s| s.is_empty()) {
                return Err(format!("condition `{t}` has an empty value"));
            }
            Ok((k, v))
        };
        if let Some(kv) = split("!~") {
            let (k, v) = checked(kv)?;
            return Ok(Self::NotContains(k, v.into_iter().map(|s| s.to_lowercase()).collect()));
        }
        if let Some(kv) = split("!=") {
            let (k, v) = checked(kv)?;
            return Ok(Self::NotEquals(k, v));
        }
        if let Some(kv) = split("~") {
            let (k, v) = checked(kv)?;
            return Ok(Self::Contains(k, v.into_iter().map(|s| s.to_lowercase()).collect()));
        }
        if let Some(kv) = split("=") {
            let (k, v) = checked(kv)?;
            return Ok(Self::Equals(k, v));
        }
        if let Some(k) = t.strip_prefix('!') {
            let k = k.trim();
            if k.is_empty() || k.contains(char::is_whitespace) {
                return Err(format!("`{t}` is not a key"));
            }
            return Ok(Self::Absent(k.to_string()));
        }
        if t.contains(char::is_whitespace) {
            return Err(format!("`{t}` is not a key (missing `=`, `~`, `!=` or `!~`?)"));
        }
        Ok(Self::Present(t.to_string()))
    }

    fn holds(&self, tags: &BTreeMap<&str, &str>) -> bool {
        match self {
            Self::Equals(k, vs) => tags.get(k.as_str()).is_some_and(|v| vs.iter().any(|x| x == v)),
            Self::NotEquals(k, vs) => tags.get(k.as_str()).is_none_or(|v| !vs.iter().any(|x| x == v)),
            Self::Contains(k, vs) => tags.get(k.as_str()).is_some_and(|v| {
                let v = v.to_lowercase();
                vs.iter().any(|x| v.contains(x.as_str()))
            }),
            Self::NotContains(k, vs) => tags.get(k.as_str()).is_none_or(|v| {
                let v = v.to_lowercase();
                !vs.iter().any(|x| v.contains(x.as_str()))
            }),
            Self::Present(k) => tags.contains_key(k.as_str()),
            Self::Absent(k) => !tags.contains_key(k.as_str()),
        }
    }
}

/// A rule: all its conditions must hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// The rule as written.
    pub text: String,
    /// Its conditions.
    pub conditions: Vec<Condition>,
}

impl Rule {
    /// Parses `a=b & c~d`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let conditions = text.split('&').map(Condition::parse).collect::<Result<Vec<_>, _>>()?;
        Ok(Self { text: text.to_string(), conditions })
    }
    /// True when every condition holds for the tags.
    pub fn matches(&self, tags: &BTreeMap<&str, &str>) -> bool {
        self.conditions.iter().all(|c| c.holds(tags))
    }
}

/// A life-circle level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum CircleLevel {
    /// 5-minute life circle.
    #[serde(rename = "5-min")]
    Min5,
    /// 10-minute life circle.
    #[serde(rename = "10-min")]
    Min10,
    /// 15-minute life circle.
    #[serde(rename = "15-min")]
    Min15,
}

impl CircleLevel {
    /// Walking minutes of the level.
    pub fn minutes(self) -> u32 {
        match self {
            Self::Min5 => 5,
            Self::Min10 => 10,
            Self::Min15 => 15,
        }
    }
}

/// A facility category.
#[derive(Debug, Clone, PartialEq)]
pub struct Category {
    /// Stable snake_case id, e.g. `kindergarten`.
    pub id: String,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
    /// The life circle it belongs to.
    pub level: CircleLevel,
    /// Walking-network distance within which a building counts as covered, in metres.
    pub distance_m: f64,
    /// Weight in the completeness score.
    pub weight: f64,
    /// Tag rules (any).
    pub rules: Vec<Rule>,
}

/// The catalogue: categories in priority order (a feature belongs to the first category that matches).
#[derive(Debug, Clone, PartialEq)]
pub struct Catalogue {
    /// Categories, in match priority order.
    pub categories: Vec<Category>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogueFile {
    category: Vec<CategoryFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CategoryFile {
    id: String,
    name_zh: String,
    name_en: String,
    level: CircleLevel,
    distance_m: f64,
    #[serde(default = "one")]
    weight: f64,
    #[serde(default, rename = "match")]
    rules: Vec<String>,
}

fn one() -> f64 {
    1.0
}

const DEFAULT_TOML: &str = include_str!("catalogue.default.toml");

impl Catalogue {
    /// The default catalogue (GB 50180-2018 / TD/T 1062-2021), as shipped in `catalogue.default.toml`.
    pub fn default_catalogue() -> Self {
        Self::from_toml(DEFAULT_TOML).expect("the shipped default catalogue is valid")
    }

    /// The TOML text of the default catalogue, a starting point for a city's own.
    pub fn default_toml() -> &'static str {
        DEFAULT_TOML
    }

    /// Parses a catalogue from TOML text (see the module docs for the rule syntax).
    pub fn from_toml(text: &str) -> Result<Self, CatalogueError> {
        let file: CatalogueFile = toml::from_str(text)?;
        let mut categories = Vec::with_capacity(file.category.len());
        let mut seen = std::collections::BTreeSet::new();
        for c in file.category {
            if c.id.is_empty() || !c.id.chars().all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_') {
                return Err(CatalogueError::Field {
                    category: c.id.clone(),
                    field: "id",
                    reason: "must be snake_case ASCII (a-z, 0-9, _)".into(),
                });
            }
            if !seen.insert(c.id.clone()) {
                return Err(CatalogueError::DuplicateId(c.id));
            }
            if !(c.distance_m.is_finite() && c.distance_m > 0.0) {
                return Err(CatalogueError::Field {
                    category: c.id,
                    field: "distance_m",
                    reason: "must be a positive number of metres".into(),
                });
            }
            if !(c.weight.is_finite() && c.weight >= 0.0) {
                return Err(CatalogueError::Field { category: c.id, field: "weight", reason: "must be ≥ 0".into() });
            }
            let rules = c
                .rules
                .iter()
                .map(|r| {
                    Rule::parse(r).map_err(|reason| CatalogueError::Rule {
                        category: c.id.clone(),
                        rule: r.clone(),
                        reason,
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            categories.push(Category {
                id: c.id,
                name_zh: c.name_zh,
                name_en: c.name_en,
                level: c.level,
                distance_m: c.distance_m,
                weight: c.weight,
                rules,
            });
        }
        Ok(Self { categories })
    }

    /// The category with this id.
    pub fn get(&self, id: &str) -> Option<&Category> {
        self.categories.iter().find(|c| c.id == id)
    }

    /// The category with this id, or an error naming the id and listing the known ones.
    pub fn require(&self, id: &str) -> Result<&Category, CatalogueError> {
        self.get(id).ok_or_else(|| CatalogueError::UnknownCategory {
            id: id.to_string(),
            known: self.categories.iter().map(|c| c.id.as_str()).collect::<Vec<_>>().join(", "),
        })
    }

    /// The first category whose rules match the tags, if any.
    pub fn classify<'a>(&self, tags: impl IntoIterator<Item = (&'a str, &'a str)>) -> Option<&Category> {
        let map: BTreeMap<&str, &str> = tags.into_iter().collect();
        self.categories.iter().find(|c| c.rules.iter().any(|r| r.matches(&map)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(tags: &[(&str, &str)]) -> Option<String> {
        Catalogue::default_catalogue().classify(tags.iter().copied()).map(|c| c.id.clone())
    }

    #[test]
    fn default_catalogue_has_the_standard_categories_and_thresholds() {
        let c = Catalogue::default_catalogue();
        assert_eq!(c.categories.len(), 17);
        assert_eq!(c.get("kindergarten").map(|k| (k.level, k.distance_m)), Some((CircleLevel::Min5, 300.0)));
        assert_eq!(c.get("middle_school").map(|k| k.distance_m), Some(1000.0));
        assert_eq!(c.get("primary_school").map(|k| k.level.minutes()), Some(10));
    }

    #[test]
    fn schools_are_told_apart_by_level_or_name() {
        assert_eq!(class(&[("amenity", "school"), ("isced:level", "1")]).as_deref(), Some("primary_school"));
        assert_eq!(class(&[("amenity", "school"), ("name", "附属中学")]).as_deref(), Some("middle_school"));
        assert_eq!(class(&[("amenity", "school"), ("name", "Kallion Secondary")]).as_deref(), Some("middle_school"));
        assert_eq!(class(&[("amenity", "school"), ("name", "某学校")]), None);
    }

    #[test]
    fn a_community_health_centre_tagged_hospital_is_a_health_centre() {
        assert_eq!(
            class(&[("amenity", "hospital"), ("name", "中国农业大学东区社区卫生服务中心")]).as_deref(),
            Some("health_centre")
        );
        assert_eq!(class(&[("amenity", "clinic")]).as_deref(), Some("health_station"));
    }

    #[test]
    fn elderly_day_care_excludes_nursing_homes() {
        assert_eq!(
            class(&[("amenity", "social_facility"), ("social_facility:for", "senior")]).as_deref(),
            Some("elderly_day_care")
        );
        assert_eq!(
            class(&[
                ("amenity", "social_facility"),
                ("social_facility:for", "senior"),
                ("social_facility", "nursing_home")
            ])
            .as_deref(),
            Some("nursing_home")
        );
    }

    #[test]
    fn cultural_community_centres_are_cultural_centres() {
        assert_eq!(
            class(&[("amenity", "community_centre"), ("name", "文化活动中心")]).as_deref(),
            Some("cultural_centre")
        );
        assert_eq!(class(&[("amenity", "community_centre")]).as_deref(), Some("community_service_station"));
        assert_eq!(class(&[("public_transport", "platform"), ("bus", "yes")]).as_deref(), Some("bus_stop"));
        assert_eq!(class(&[("public_transport", "platform"), ("tram", "yes")]), None);
    }

    #[test]
    fn bad_catalogues_name_the_category_and_field() {
        let bad = r#"[[category]]
id = "x"
name_zh = "x"
name_en = "x"
level = "5-min"
distance_m = -3
"#;
        let e = Catalogue::from_toml(bad).expect_err("negative distance");
        assert!(e.to_string().contains("distance_m"), "{e}");
        let bad_rule = bad.replace("-3", "300\nmatch = [\"amenity = \"]");
        let e = Catalogue::from_toml(&bad_rule).expect_err("empty value");
        assert!(e.to_string().contains("category `x`"), "{e}");
        let e = Catalogue::default_catalogue().require("cinema").expect_err("unknown");
        assert!(e.to_string().contains("cinema") && e.to_string().contains("kindergarten"), "{e}");
    }
}
