//! Feature attributes and who may see them.

use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// Who a tile is for. Household numbers are personal data of the community's register: anonymous
/// clients get [`Audience::Public`] tiles, which carry none of them in any layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    /// Anonymous requests: no household numbers (building, unit, grid, area totals, heat weights).
    Public,
    /// Signed-in clients: every attribute.
    Full,
}

impl Audience {
    /// Stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Full => "full",
        }
    }
}

/// An attribute value.
#[derive(Debug, Clone, PartialEq)]
pub enum AttrValue {
    /// Text.
    Str(String),
    /// A whole number.
    Int(i64),
    /// A real number (non-finite values are not written).
    Float(f64),
    /// Yes or no.
    Bool(bool),
}

impl From<&str> for AttrValue {
    fn from(s: &str) -> Self {
        Self::Str(s.to_string())
    }
}
impl From<String> for AttrValue {
    fn from(s: String) -> Self {
        Self::Str(s)
    }
}
impl From<i64> for AttrValue {
    fn from(v: i64) -> Self {
        Self::Int(v)
    }
}
impl From<u32> for AttrValue {
    fn from(v: u32) -> Self {
        Self::Int(i64::from(v))
    }
}
impl From<u64> for AttrValue {
    fn from(v: u64) -> Self {
        Self::Int(i64::try_from(v).unwrap_or(i64::MAX))
    }
}
impl From<f64> for AttrValue {
    fn from(v: f64) -> Self {
        Self::Float(v)
    }
}
impl From<bool> for AttrValue {
    fn from(v: bool) -> Self {
        Self::Bool(v)
    }
}

/// The field type named in TileJSON `vector_layers[].fields`.
impl AttrValue {
    /// `String`, `Number` or `Boolean`.
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Str(_) => "String",
            Self::Int(_) | Self::Float(_) => "Number",
            Self::Bool(_) => "Boolean",
        }
    }
}

/// One named attribute. `private` attributes go only into [`Audience::Full`] tiles.
#[derive(Debug, Clone, PartialEq)]
pub struct Attr {
    /// Key (a `&'static str` for the built-in ones: no allocation per feature).
    pub key: Cow<'static, str>,
    /// Value.
    pub value: AttrValue,
    /// Only for signed-in clients.
    pub private: bool,
}

impl Attr {
    /// An attribute every audience sees (unless its key names households: see [`is_private_key`]).
    pub fn public(key: impl Into<Cow<'static, str>>, value: impl Into<AttrValue>) -> Self {
        Self { key: key.into(), value: value.into(), private: false }
    }
    /// An attribute only signed-in clients see.
    pub fn private(key: impl Into<Cow<'static, str>>, value: impl Into<AttrValue>) -> Self {
        Self { key: key.into(), value: value.into(), private: true }
    }
}

/// Keys that are private whatever the caller says: any `_`/`-`-separated word of the key naming
/// households, units or people (`households`, `grid_households`, `unit_households`, `units`,
/// `population`, `covered`, `gap`, …; not `community`). A second line of defence, so that an
/// attribute a caller forgot to mark never reaches an anonymous client.
pub fn is_private_key(key: &str) -> bool {
    key.to_ascii_lowercase().split(|c: char| !c.is_ascii_alphanumeric()).any(|w| {
        w.starts_with("household")
            || matches!(
                w,
                "unit"
                    | "units"
                    | "population"
                    | "resident"
                    | "residents"
                    | "covered"
                    | "gap"
                    | "person"
                    | "persons"
                    | "people"
            )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn household_keys_are_private_whatever_the_flag() {
        for k in ["households", "grid_households", "unit_households", "units", "Population", "gap"] {
            assert!(is_private_key(k), "{k}");
        }
        for k in
            ["id", "name", "completeness", "value", "quota_status", "compactness", "kind", "community", "buildings"]
        {
            assert!(!is_private_key(k), "{k}");
        }
    }
}
