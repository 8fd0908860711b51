//! Coverage: households covered and not covered per group (grid, community, street, city) and
//! category, and each building's life-circle completeness score. Pure functions over the
//! distance results of [`crate::Accessibility`].
//!
//! A building is *covered* for a category when its walking distance to the nearest facility is
//! within the category's catalogue threshold. *Unreachable* households (no facility can be walked
//! to at all, or the building is not on the network) are a part of the not-covered ones.
//!
//! ```
//! use wangge_circles::coverage::Grouping;
//! let g = Grouping::city("Helsinki", 3);
//! assert_eq!(g.keys, vec![Some("Helsinki".to_string()); 3]);
//! ```

use crate::CirclesError;
use crate::access::{Accessibility, ReachStatus};
use std::collections::{BTreeMap, HashMap};

/// One grouping level: a name (`grid`, `community`, `street`, `city`, …) and each building's key.
#[derive(Debug, Clone, PartialEq)]
pub struct Grouping {
    /// The level's name.
    pub level: String,
    /// One key per building (origin), `None` when the building belongs to no group of this level.
    pub keys: Vec<Option<String>>,
}

impl Grouping {
    /// A level with one key per building.
    pub fn by(level: impl Into<String>, keys: Vec<Option<String>>) -> Self {
        Self { level: level.into(), keys }
    }
    /// The whole city as one group.
    pub fn city(name: &str, buildings: usize) -> Self {
        Self { level: "city".into(), keys: vec![Some(name.to_string()); buildings] }
    }
}

/// Coverage of one category in one group.
#[derive(Debug, Clone, PartialEq)]
pub struct CoverageRow {
    /// The grouping level.
    pub level: String,
    /// The group (`None`: buildings without a key at this level).
    pub group: Option<String>,
    /// Category id.
    pub category: String,
    /// The category's threshold, metres.
    pub threshold_m: f64,
    /// Households within the threshold.
    pub households_covered: u64,
    /// Households beyond it (unreachable ones included).
    pub households_not_covered: u64,
    /// Households that cannot reach any facility of the category (a part of the not covered).
    pub households_unreachable: u64,
    /// Buildings within the threshold.
    pub buildings_covered: usize,
    /// Buildings beyond it.
    pub buildings_not_covered: usize,
}

impl CoverageRow {
    /// Share of households covered (0 when the group has none).
    pub fn share_covered(&self) -> f64 {
        let all = self.households_covered + self.households_not_covered;
        if all == 0 { 0.0 } else { self.households_covered as f64 / all as f64 }
    }
}

fn unreachable(s: Option<ReachStatus>) -> bool {
    matches!(s, Some(ReachStatus::NoPath | ReachStatus::NoFacility | ReachStatus::NotOnNetwork(_)))
}

/// Households covered and not covered, per grouping level, group and category. Rows come by
/// level (in the order given), then group (sorted, `None` last), then category (catalogue order).
pub fn coverage(
    access: &Accessibility,
    households: &[u32],
    groupings: &[Grouping],
) -> Result<Vec<CoverageRow>, CirclesError> {
    let n = access.categories.first().map_or(households.len(), |c| c.len());
    if households.len() != n {
        return Err(CirclesError::LengthMismatch { what: "households", expected: n, got: households.len() });
    }
    for g in groupings {
        if g.keys.len() != n {
            return Err(CirclesError::LengthMismatch { what: "grouping keys", expected: n, got: g.keys.len() });
        }
    }
    let mut rows = Vec::new();
    for g in groupings {
        let mut groups: BTreeMap<(bool, Option<&str>), Vec<usize>> = BTreeMap::new();
        for (i, k) in g.keys.iter().enumerate() {
            groups.entry((k.is_none(), k.as_deref())).or_default().push(i);
        }
        for ((_, key), members) in &groups {
            for cat in &access.categories {
                let mut row = CoverageRow {
                    level: g.level.clone(),
                    group: key.map(str::to_string),
                    category: cat.category.clone(),
                    threshold_m: cat.threshold_m,
                    households_covered: 0,
                    households_not_covered: 0,
                    households_unreachable: 0,
                    buildings_covered: 0,
                    buildings_not_covered: 0,
                };
                for &i in members {
                    let h = u64::from(households[i]);
                    if cat.covered(i) {
                        row.households_covered += h;
                        row.buildings_covered += 1;
                    } else {
                        row.households_not_covered += h;
                        row.buildings_not_covered += 1;
                        if unreachable(cat.status(i)) {
                            row.households_unreachable += h;
                        }
                    }
                }
                rows.push(row);
            }
        }
    }
    Ok(rows)
}

/// Each building's life-circle completeness: the weighted share of the catalogue's categories it
/// reaches within their thresholds, in 0..=1. Weights are the catalogue's (equal by default),
/// replaced per category id by `weights`. `None` for buildings not on the network.
pub fn completeness(access: &Accessibility, weights: &HashMap<String, f64>) -> Result<Vec<Option<f64>>, CirclesError> {
    for (id, w) in weights {
        if access.category(id).is_none() {
            return Err(CirclesError::UnknownCategory {
                id: id.clone(),
                known: access.categories.iter().map(|c| c.category.as_str()).collect::<Vec<_>>().join(", "),
            });
        }
        if !(w.is_finite() && *w >= 0.0) {
            return Err(CirclesError::InvalidParameter {
                name: "weights",
                reason: format!("the weight of `{id}` must be a non-negative number, got {w}"),
            });
        }
    }
    let w: Vec<f64> = access.categories.iter().map(|c| weights.get(&c.category).copied().unwrap_or(c.weight)).collect();
    let total: f64 = w.iter().sum();
    if total <= 0.0 {
        return Err(CirclesError::InvalidParameter { name: "weights", reason: "all weights are zero".into() });
    }
    let n = access.categories.first().map_or(0, |c| c.len());
    Ok((0..n)
        .map(|i| {
            if matches!(access.categories.first().and_then(|c| c.status(i)), Some(ReachStatus::NotOnNetwork(_))) {
                return None;
            }
            let got: f64 = access.categories.iter().zip(&w).filter(|(c, _)| c.covered(i)).map(|(_, w)| *w).sum();
            Some(got / total)
        })
        .collect())
}
