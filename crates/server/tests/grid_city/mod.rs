//! A city of regular blocks for the plan and job tests: communities of `nx × ny` residential
//! buildings (40 households each; the first building of each community has two units of 20), a
//! draft plan made by the real partition engine, and helpers for Server-Sent Events.
#![allow(clippy::unwrap_used, dead_code)]

use geo::{LineString, MultiPolygon, Polygon};
use wangge_core::plan::{PlanRecord, PlanStatus};
use wangge_core::*;

pub fn square(x: f64, y: f64, d: f64) -> Polygon<f64> {
    Polygon::new(LineString::from(vec![(x, y), (x + d, y), (x + d, y + d), (x, y + d), (x, y)]), vec![])
}

/// Degrees between building corners.
pub const STEP: f64 = 0.0015;

/// `communities` communities side by side (each 0.02° wide, starting at 114.29, 30.59), all in
/// street `s1`; community `c{k}` holds buildings `c{k}-{i}-{j}`.
pub fn blocks(communities: usize, nx: usize, ny: usize) -> Layers {
    let mut buildings = Vec::new();
    let mut regions = vec![Region {
        source_id: "s1".into(),
        dataset: "city.geojson".into(),
        level: RegionLevel::Street,
        name: "积玉桥街道".into(),
        code: Some("420106001".into()),
        parent: None,
        area: MultiPolygon(vec![square(114.2, 30.5, 0.6)]),
    }];
    for k in 0..communities {
        let x0 = 114.29 + 0.02 * k as f64;
        let c = format!("c{}", k + 1);
        regions.push(Region {
            source_id: c.clone(),
            dataset: "city.geojson".into(),
            level: RegionLevel::Community,
            name: format!("社区{}", k + 1),
            code: Some(format!("4201060010{:02}", k + 1)),
            parent: Some("s1".into()),
            area: MultiPolygon(vec![square(x0, 30.59, 0.0199)]),
        });
        for i in 0..nx {
            for j in 0..ny {
                let units = if i == 0 && j == 0 {
                    vec![Unit { label: "1单元".into(), households: 20 }, Unit { label: "2单元".into(), households: 20 }]
                } else {
                    vec![]
                };
                buildings.push(Building {
                    source_id: format!("{c}-{i}-{j}"),
                    dataset: "city.geojson".into(),
                    shape: Shape::Footprint(MultiPolygon(vec![square(
                        x0 + 0.001 + STEP * i as f64,
                        30.591 + STEP * j as f64,
                        0.0004,
                    )])),
                    kind: "residential".into(),
                    name: None,
                    levels: Some(6),
                    households: Households::new(40, HouseholdSource::Register),
                    units,
                    compound: None,
                    community: Some(c.clone()),
                    residential: true,
                });
            }
        }
    }
    Layers { buildings, regions, ..Layers::default() }
}

/// A draft plan of every community of `layers` made by the partition engine.
pub fn engine_plan(layers: &Layers, name: &str, min: u32, max: u32) -> PlanRecord {
    use wangge_planning::run;
    let atlas = Atlas::new(layers.clone());
    let inputs = run::select(atlas.layers(), &run::Selection::All).unwrap();
    let quota = wangge_partition::Quota::new(min, max, None).unwrap();
    let cancel = std::sync::atomic::AtomicBool::new(false);
    let hooks = run::Hooks { progress: &|_, _| {}, cancel: &cancel };
    let r = run::run(inputs, &[], &[], &quota, 1, None, &hooks).unwrap();
    PlanRecord {
        name: name.into(),
        status: PlanStatus::Draft,
        version: 0,
        quota_min: quota.min,
        quota_max: quota.max,
        quota_target: quota.target,
        metrics: serde_json::json!({}),
        assignments: r.assignments,
        grids: r.grids,
        created_at: String::new(),
    }
}

/// Reads a Server-Sent Events stream to its end: `(event, data as JSON)` in order.
pub fn sse(url: &str, token: Option<&str>) -> (u16, Vec<(String, serde_json::Value)>) {
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let mut r = agent.get(url);
    if let Some(t) = token {
        r = r.header("Authorization", &format!("Bearer {t}"));
    }
    let mut resp = r.call().expect("request");
    let status = resp.status().as_u16();
    let text = resp.body_mut().with_config().limit(64 << 20).read_to_string().expect("body");
    let mut out = Vec::new();
    for block in text.split("\n\n") {
        let mut event = String::from("message");
        let mut data = String::new();
        for line in block.lines() {
            if let Some(e) = line.strip_prefix("event:") {
                event = e.trim().to_string();
            } else if let Some(d) = line.strip_prefix("data:") {
                data.push_str(d.trim_start());
            }
        }
        if !data.is_empty() {
            out.push((event, serde_json::from_str(&data).unwrap_or(serde_json::Value::String(data))));
        } else if status != 200 && !block.trim().is_empty() {
            out.push(("error".into(), serde_json::from_str(block).unwrap_or(serde_json::Value::Null)));
        }
    }
    (status, out)
}
