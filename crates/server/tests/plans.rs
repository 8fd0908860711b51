//! Plans over HTTP against both stores: reading by role, copying, editing with versions (two
//! planners at once: exactly one 409, nothing lost), undo and redo, publication keeping the
//! previous plan, and every bad input answered with a JSON 4xx naming the field.
//!
//! PostGIS tests need `WANGGE_TEST_PG_URL` (see `scripts/pg-cluster.sh`); without it they fail.
#![allow(clippy::unwrap_used)]

mod common;
mod grid_city;

use common::*;
use serde_json::json;
use std::collections::BTreeMap;
use wangge_store::Role;

/// The server over three communities of 4 × 3 buildings and a draft `d1` made by the engine
/// (quota 100..200).
fn server(backend: &str) -> TestServer {
    let city = grid_city::blocks(3, 4, 3);
    let s = start_city(backend, wangge_server::Options::default(), Role::Resident, Some(city.clone()));
    let plan = grid_city::engine_plan(&city, "d1", 100, 200);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let saved = rt.block_on(s.store.save_plan(&plan)).unwrap();
    assert_eq!(saved.version, 1);
    assert!(saved.grids.len() >= 6, "{} grids", saved.grids.len());
    s
}

/// building → grid of a plan (whole buildings only).
fn assignment(base: &str, token: &str, plan: &str) -> BTreeMap<String, String> {
    let (status, body) = call("GET", &format!("{base}/api/v1/plans/{plan}/assignment"), Some(token), None);
    assert_eq!(status, 200, "{body}");
    body["assignments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["unit"].is_null())
        .map(|a| (a["building"].as_str().unwrap().to_string(), a["grid"].as_str().unwrap().to_string()))
        .collect()
}

fn version(base: &str, plan: &str) -> i64 {
    call("GET", &format!("{base}/api/v1/plans/{plan}"), None, None).1["version"].as_i64().unwrap()
}

/// A building of community `c1` and a grid of `c1` it is not in.
fn move_target(a: &BTreeMap<String, String>, skip: &[&str]) -> (String, String) {
    let c1: Vec<(&String, &String)> =
        a.iter().filter(|(b, _)| b.starts_with("c1-") && !skip.contains(&b.as_str())).collect();
    for (b, g) in &c1 {
        if let Some((_, other)) = c1.iter().find(|(_, g2)| g2 != g) {
            return (b.to_string(), other.to_string());
        }
    }
    panic!("community c1 has one grid: {a:?}");
}

fn move_edit(version: i64, building: &str, to: &str) -> String {
    json!({ "version": version, "edit": { "op": "move_atoms", "atoms": [{ "building": building, "unit": null }], "to": to } })
        .to_string()
}

fn reading(backend: &str) {
    let s = server(backend);
    let b = &s.base;
    let leader = login(b, "leader1");
    let resident = login(b, "resident1");

    // The listing: everyone, metrics only for leaders and planners.
    let (status, anon) = call("GET", &format!("{b}/api/v1/plans"), None, None);
    assert_eq!(status, 200, "{anon}");
    let names: Vec<&str> = anon["plans"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["d1", "old", "p2026"]);
    assert!(anon["plans"][0]["metrics"].is_null());
    assert_eq!(anon["plans"][0]["status"], "draft");
    let (_, led) = call("GET", &format!("{b}/api/v1/plans"), Some(&leader), None);
    assert!(led["plans"][0]["metrics"].is_object(), "{led}");

    // One plan: grids with households only for leaders.
    let (status, one) = call("GET", &format!("{b}/api/v1/plans/d1"), Some(&resident), None);
    assert_eq!(status, 200);
    assert!(one["grids"][0]["households"].is_null() && one["grids"][0]["grid"].is_string(), "{one}");
    let (_, one) = call("GET", &format!("{b}/api/v1/plans/d1"), Some(&leader), None);
    let total: u64 = one["grids"].as_array().unwrap().iter().map(|g| g["households"].as_u64().unwrap()).sum();
    assert_eq!(total, 3 * 12 * 40);
    assert_eq!(one["version"], 1);
    assert_error(&call("GET", &format!("{b}/api/v1/plans/nope"), None, None), 404, "nope");

    // Grids as GeoJSON, in WGS-84 or GCJ-02.
    let (status, fc) = call("GET", &format!("{b}/api/v1/plans/d1/grids"), None, None);
    assert_eq!(status, 200);
    assert_eq!(fc["type"], "FeatureCollection");
    let f0 = &fc["features"][0];
    assert!(f0["properties"]["households"].is_null() && f0["geometry"]["type"] == "Polygon", "{f0}");
    let (_, fc_l) = call("GET", &format!("{b}/api/v1/plans/d1/grids"), Some(&leader), None);
    assert!(fc_l["features"][0]["properties"]["households"].as_u64().unwrap() > 0);
    let (_, gcj) = call("GET", &format!("{b}/api/v1/plans/d1/grids?coords=gcj02"), None, None);
    let (x0, x1) = (
        f0["geometry"]["coordinates"][0][0][0].as_f64().unwrap(),
        gcj["features"][0]["geometry"]["coordinates"][0][0][0].as_f64().unwrap(),
    );
    assert!((x1 - x0).abs() > 1e-4, "GCJ-02 is shifted from WGS-84: {x0} {x1}");
    assert_error(&call("GET", &format!("{b}/api/v1/plans/d1/grids?coords=utm"), None, None), 400, "coords");

    // The assignment and the diff: leaders and planners only.
    assert_error(&call("GET", &format!("{b}/api/v1/plans/d1/assignment"), None, None), 401, "sign in");
    assert_error(&call("GET", &format!("{b}/api/v1/plans/d1/assignment"), Some(&resident), None), 403, "leader");
    let a = assignment(b, &leader, "d1");
    assert!(a.len() >= 3 * 11 && a.keys().all(|k| k.starts_with('c')), "{a:?}");
    assert_error(&call("GET", &format!("{b}/api/v1/plans/d1/diff?against=d1"), Some(&resident), None), 403, "leader");
    assert_error(&call("GET", &format!("{b}/api/v1/plans/d1/diff"), Some(&leader), None), 400, "against");
    assert_error(&call("GET", &format!("{b}/api/v1/plans/d1/diff?against=nope"), Some(&leader), None), 404, "nope");
    let (status, d) = call("GET", &format!("{b}/api/v1/plans/d1/diff?against=d1"), Some(&leader), None);
    assert_eq!(status, 200);
    assert_eq!((d["buildings_moved"].as_u64(), d["households_moved"].as_u64()), (Some(0), Some(0)), "{d}");
}

fn editing(backend: &str) {
    let s = server(backend);
    let b = &s.base;
    let planner = login(b, "planner1");
    let leader = login(b, "leader1");
    let edits = format!("{b}/api/v1/plans/d1/edits");

    // A copy to compare with at the end.
    let (status, _) =
        call("POST", &format!("{b}/api/v1/plans/d1/copy"), Some(&planner), Some(r#"{"to": "d1-before"}"#));
    assert_eq!(status, 201);

    // Roles.
    let before = assignment(b, &planner, "d1");
    let (bld, to) = move_target(&before, &[]);
    assert_error(&call("POST", &edits, None, Some(&move_edit(1, &bld, &to))), 401, "sign in");
    assert_error(&call("POST", &edits, Some(&leader), Some(&move_edit(1, &bld, &to))), 403, "planner");
    assert_eq!(version(b, "d1"), 1, "a refused edit writes nothing");

    // Bad input: a JSON 4xx naming the problem, nothing written.
    let bad = |body: &str, status: u16, needle: &str| {
        assert_error(&call("POST", &edits, Some(&planner), Some(body)), status, needle);
    };
    bad("{not json", 400, "");
    bad(r#"{"edit": {"op": "merge", "a": "x", "b": "y"}}"#, 422, "version");
    bad(&json!({"version": 1, "edit": {"op": "teleport"}}).to_string(), 422, "edit");
    bad(&json!({"version": 1, "edit": {"a": "x"}}).to_string(), 422, "edit.op");
    bad(&move_edit(1, &bld, "no-such-grid"), 422, "no-such-grid");
    bad(&move_edit(1, "no-such-building", &to), 422, "no-such-building");
    bad(&json!({"version": 1, "edit": {"op": "merge", "a": to, "b": to}}).to_string(), 422, "itself");
    // A bow tie: the drawn polygon crosses itself.
    let bow = json!([[[114.291, 30.591], [114.296, 30.596], [114.296, 30.591], [114.291, 30.596], [114.291, 30.591]]]);
    bad(&json!({"version": 1, "edit": {"op": "reassign", "area": bow, "to": to}}).to_string(), 422, "edit.area");
    let far = json!([[[500.0, 30.591], [114.296, 30.596], [114.296, 30.591], [500.0, 30.591]]]);
    bad(&json!({"version": 1, "edit": {"op": "reassign", "area": far, "to": to}}).to_string(), 422, "edit.area");
    bad(&json!({"version": 1, "edit": {"op": "reassign", "area": [], "to": to}}).to_string(), 422, "edit");
    bad(
        &json!({"version": 1, "edit": {"op": "split", "grid": to, "line": [[114.3, 30.6]]}}).to_string(),
        422,
        "edit.line",
    );
    assert_error(
        &call("POST", &format!("{edits}?coords=mars"), Some(&planner), Some(&move_edit(1, &bld, &to))),
        400,
        "coords",
    );
    assert_error(
        &call("POST", &format!("{b}/api/v1/plans/nope/edits"), Some(&planner), Some(&move_edit(1, &bld, &to))),
        404,
        "nope",
    );
    // Only drafts are edited.
    let (_, active) = call("GET", &format!("{b}/api/v1/plans/p2026"), None, None);
    let v = active["version"].as_i64().unwrap();
    let got =
        call("POST", &format!("{b}/api/v1/plans/p2026/edits"), Some(&planner), Some(&move_edit(v, &bld, "c1-01")));
    assert_error(&got, 409, "only drafts");
    assert_eq!(got.1["current"]["status"], "active");
    assert_eq!(version(b, "d1"), 1);
    assert_eq!(assignment(b, &planner, "d1"), before);

    // A move: the new version, what changed, the violations.
    let (status, r) = call("POST", &edits, Some(&planner), Some(&move_edit(1, &bld, &to)));
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["version"], 2);
    assert_eq!(r["changes"][0]["building"], bld.as_str());
    assert_eq!(r["changes"][0]["to"], to.as_str());
    assert!(r["changed_grids"].as_array().unwrap().iter().any(|g| g == to.as_str()));
    assert!(r["violations"].is_array() && r["new_violations"].is_array());
    let after = assignment(b, &planner, "d1");
    assert_eq!(after[&bld], to);

    // A stale version: 409 with the current state; nothing written.
    let (bld2, to2) = move_target(&after, &[&bld]);
    let got = call("POST", &edits, Some(&planner), Some(&move_edit(1, &bld2, &to2)));
    assert_error(&got, 409, "version 2");
    assert_eq!(got.1["error"]["code"], "StaleVersion");
    assert_eq!(got.1["current"]["version"], 2);
    assert_eq!(got.1["current"]["edits"], 1);
    assert_eq!(assignment(b, &planner, "d1"), after);

    // Split (automatic and along a line), merge, and a drawn polygon into a new grid.
    let grid_of_bld = after[&bld].clone();
    let (status, r) = call(
        "POST",
        &edits,
        Some(&planner),
        Some(&json!({"version": 2, "edit": {"op": "split", "grid": grid_of_bld, "line": null}}).to_string()),
    );
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["version"], 3);
    assert_eq!(r["changed_grids"].as_array().unwrap().len(), 2, "{r}");
    let new_grid = r["changes"][0]["to"].as_str().unwrap().to_string();
    let (status, r) = call(
        "POST",
        &edits,
        Some(&planner),
        Some(&json!({"version": 3, "edit": {"op": "merge", "a": grid_of_bld, "b": new_grid}}).to_string()),
    );
    assert_eq!(status, 200, "{r}");
    // A square around building c2-1-1 (community c2 starts at 114.31), in GCJ-02.
    let (x, y) = (114.31 + 0.001 + grid_city::STEP, 30.591 + grid_city::STEP);
    let ring: Vec<[f64; 2]> = [
        (x - 0.0003, y - 0.0003),
        (x + 0.0007, y - 0.0003),
        (x + 0.0007, y + 0.0007),
        (x - 0.0003, y + 0.0007),
        (x - 0.0003, y - 0.0003),
    ]
    .iter()
    .map(|&(lon, lat)| {
        let (gx, gy) = wangge_core::chinacoords::wgs84_to_gcj02(lon, lat);
        [gx, gy]
    })
    .collect();
    let (status, r) = call(
        "POST",
        &format!("{edits}?coords=gcj02"),
        Some(&planner),
        Some(&json!({"version": 4, "edit": {"op": "reassign", "area": [ring], "to": "new"}}).to_string()),
    );
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["version"], 5);
    let moved: Vec<&str> = r["changes"].as_array().unwrap().iter().map(|c| c["building"].as_str().unwrap()).collect();
    assert_eq!(moved, ["c2-1-1"], "{r}");
    let lone = r["changes"][0]["to"].as_str().unwrap().to_string();
    // The new grid of one building is below the quota: shown, not refused.
    assert!(
        r["violations"].as_array().unwrap().iter().any(|v| v["kind"] == "quota" && v["grid"] == lone.as_str()),
        "{r}"
    );
    let (_, one) = call("GET", &format!("{b}/api/v1/plans/d1"), Some(&planner), None);
    let g = one["grids"].as_array().unwrap().iter().find(|g| g["grid"] == lone.as_str()).unwrap().clone();
    assert_eq!((g["households"].as_u64(), g["quota_status"].as_str()), (Some(40), Some("below")));

    // Undo and redo, versioned and in the history.
    let (status, r) = call("POST", &format!("{b}/api/v1/plans/d1/undo"), Some(&planner), Some(r#"{"version": 5}"#));
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["version"], 6);
    let a6 = assignment(b, &planner, "d1");
    assert_eq!(a6["c2-1-1"], after["c2-1-1"], "undo puts the building back");
    assert_error(
        &call("POST", &format!("{b}/api/v1/plans/d1/undo"), Some(&planner), Some(r#"{"version": 5}"#)),
        409,
        "version 6",
    );
    let (status, r) = call("POST", &format!("{b}/api/v1/plans/d1/undo"), Some(&planner), Some(r#"{"version": 6}"#));
    assert_eq!(status, 200, "{r}");
    let (status, r) = call("POST", &format!("{b}/api/v1/plans/d1/redo"), Some(&planner), Some(r#"{"version": 7}"#));
    assert_eq!(status, 200, "{r}");
    assert_eq!(assignment(b, &planner, "d1"), a6, "redo does the merge again");
    assert_error(
        &call("POST", &format!("{b}/api/v1/plans/d1/redo"), Some(&leader), Some(r#"{"version": 8}"#)),
        403,
        "planner",
    );
    assert_error(
        &call("POST", &format!("{b}/api/v1/plans/d1/redo"), Some(&planner), Some(r#"{"versio": 8}"#)),
        422,
        "versio",
    );
    let (status, r) = call("POST", &format!("{b}/api/v1/plans/d1/redo"), Some(&planner), Some(r#"{"version": 8}"#));
    assert_eq!(status, 200, "{r}");
    let got = call("POST", &format!("{b}/api/v1/plans/d1/redo"), Some(&planner), Some(r#"{"version": 9}"#));
    assert_error(&got, 409, "nothing to redo");
    assert_eq!(assignment(b, &planner, "d1")["c2-1-1"], lone);

    // The history: who, when, what.
    assert_error(&call("GET", &edits, None, None), 401, "sign in");
    let (status, h) = call("GET", &edits, Some(&leader), None);
    assert_eq!(status, 200, "{h}");
    let ops: Vec<&str> = h["edits"].as_array().unwrap().iter().map(|e| e["op"].as_str().unwrap()).collect();
    assert_eq!(ops, ["edit", "edit", "edit", "edit", "undo", "undo", "redo", "redo"]);
    let first = &h["edits"][0];
    assert_eq!((first["author"].as_str(), first["seq"].as_i64()), (Some("planner1"), Some(1)));
    assert!(first["at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(first["edit"]["op"], "move_atoms");
    assert_eq!((h["can_undo"].as_bool(), h["can_redo"].as_bool()), (Some(true), Some(false)));
    // The reassign is kept in WGS-84.
    let area = &h["edits"][3]["edit"]["area"][0][0];
    assert!((area[0].as_f64().unwrap() - (x - 0.0003)).abs() < 1e-5, "{area}");

    // The diff against the copy made before: the moved buildings and their households.
    let (status, d) = call("GET", &format!("{b}/api/v1/plans/d1/diff?against=d1-before"), Some(&leader), None);
    assert_eq!(status, 200, "{d}");
    assert_eq!((d["buildings_moved"].as_u64(), d["households_moved"].as_u64()), (Some(2), Some(80)), "{d}");
    let changed: Vec<&str> = d["grids_changed"].as_array().unwrap().iter().map(|g| g.as_str().unwrap()).collect();
    assert!(changed.contains(&lone.as_str()) && changed.contains(&to.as_str()), "{d}");
    assert_eq!(d["grids_added"], json!([lone]));
}

fn concurrent(backend: &str) {
    let s = server(backend);
    let b = s.base.clone();
    let p1 = login(&b, "planner1");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(s.store.add_user("planner2", PASSWORD, Role::Planner)).unwrap();
    let p2 = login(&b, "planner2");
    let before = assignment(&b, &p1, "d1");
    let (b1, to1) = move_target(&before, &[]);
    let (b2, to2) = move_target(&before, &[&b1]);
    for round in 0..3 {
        let v = version(&b, "d1");
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(2));
        let go = |token: String, body: String| {
            let (barrier, url) = (barrier.clone(), format!("{b}/api/v1/plans/d1/edits"));
            std::thread::spawn(move || {
                barrier.wait();
                call("POST", &url, Some(&token), Some(&body))
            })
        };
        // Round 0 moves the two buildings; later rounds move them back and forth.
        let (t1, t2) =
            if round % 2 == 0 { (to1.clone(), to2.clone()) } else { (before[&b1].clone(), before[&b2].clone()) };
        let h1 = go(p1.clone(), move_edit(v, &b1, &t1));
        let h2 = go(p2.clone(), move_edit(v, &b2, &t2));
        let (r1, r2) = (h1.join().unwrap(), h2.join().unwrap());
        let mut statuses = [r1.0, r2.0];
        statuses.sort();
        assert_eq!(statuses, [200, 409], "round {round}: exactly one wins: {} / {}", r1.1, r2.1);
        let (loser, loser_body, loser_token) =
            if r1.0 == 409 { (&r1, move_edit(v + 1, &b1, &t1), &p1) } else { (&r2, move_edit(v + 1, &b2, &t2), &p2) };
        assert_eq!(loser.1["current"]["version"], v + 1, "{}", loser.1);
        assert_eq!(loser.1["error"]["code"], "StaleVersion");
        // The loser reloads and edits again: both edits are in.
        let (status, r) = call("POST", &format!("{b}/api/v1/plans/d1/edits"), Some(loser_token), Some(&loser_body));
        assert_eq!(status, 200, "{r}");
        let now = assignment(&b, &p1, "d1");
        assert_eq!((now[&b1].as_str(), now[&b2].as_str()), (t1.as_str(), t2.as_str()), "round {round}: nothing lost");
        assert_eq!(version(&b, "d1"), v + 2);
    }
    let (_, h) = call("GET", &format!("{b}/api/v1/plans/d1/edits"), Some(&p1), None);
    assert_eq!(h["edits"].as_array().unwrap().len(), 6, "every successful edit is in the history once");
    let authors: std::collections::BTreeSet<&str> =
        h["edits"].as_array().unwrap().iter().map(|e| e["author"].as_str().unwrap()).collect();
    assert_eq!(authors.into_iter().collect::<Vec<_>>(), ["planner1", "planner2"]);
}

fn copy_and_publish(backend: &str) {
    let s = server(backend);
    let b = &s.base;
    let planner = login(b, "planner1");
    let leader = login(b, "leader1");
    let copy = format!("{b}/api/v1/plans/p2026/copy");

    assert_error(&call("POST", &copy, None, Some(r#"{"to": "x"}"#)), 401, "sign in");
    assert_error(&call("POST", &copy, Some(&leader), Some(r#"{"to": "x"}"#)), 403, "planner");
    assert_error(&call("POST", &copy, Some(&planner), Some(r#"{"to": ""}"#)), 422, "to");
    assert_error(&call("POST", &copy, Some(&planner), Some(r#"{"to": "a/b"}"#)), 422, "to");
    assert_error(&call("POST", &copy, Some(&planner), Some(r#"{"name": "x"}"#)), 422, "to");
    let got = call("POST", &copy, Some(&planner), Some(r#"{"to": "d1"}"#));
    assert_error(&got, 409, "exists");
    assert_eq!(got.1["current"]["name"], "d1");
    assert_error(
        &call("POST", &format!("{b}/api/v1/plans/nope/copy"), Some(&planner), Some(r#"{"to": "x"}"#)),
        404,
        "nope",
    );

    // A copy of the active plan is a draft at version 1 with the same grids.
    let (status, c) = call("POST", &format!("{b}/api/v1/plans/d1/copy"), Some(&planner), Some(r#"{"to": "d1-copy"}"#));
    assert_eq!(status, 201, "{c}");
    assert_eq!((c["status"].as_str(), c["version"].as_i64()), (Some("draft"), Some(1)));
    assert_eq!(assignment(b, &planner, "d1-copy"), assignment(b, &planner, "d1"));

    // Publication: the draft is in force, the previous active plan kept as retired.
    let publish = format!("{b}/api/v1/plans/d1/publish");
    assert_error(&call("POST", &publish, None, Some(r#"{"version": 1}"#)), 401, "sign in");
    assert_error(&call("POST", &publish, Some(&leader), Some(r#"{"version": 1}"#)), 403, "planner");
    assert_error(&call("POST", &publish, Some(&planner), Some(r#"{"version": 7}"#)), 409, "version 1");
    assert_error(&call("POST", &publish, Some(&planner), Some("{}")), 422, "version");
    let (status, r) = call("POST", &publish, Some(&planner), Some(r#"{"version": 1}"#));
    assert_eq!(status, 200, "{r}");
    assert_eq!((r["status"].as_str(), r["previous"]["name"].as_str()), (Some("active"), Some("p2026")));
    assert_eq!(r["previous"]["status"], "retired");
    let (_, list) = call("GET", &format!("{b}/api/v1/plans"), None, None);
    let status_of: BTreeMap<&str, &str> = list["plans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].as_str().unwrap(), p["status"].as_str().unwrap()))
        .collect();
    assert_eq!(status_of["d1"], "active");
    assert_eq!(status_of["p2026"], "retired");
    assert_eq!(status_of["d1-copy"], "draft");
    let (status, old) = call("GET", &format!("{b}/api/v1/plans/p2026/grids"), None, None);
    assert_eq!((status, old["features"].as_array().unwrap().len()), (200, 1), "the retired plan keeps its grids");
    // A published plan is no longer a draft.
    let v = version(b, "d1");
    assert_error(&call("POST", &publish, Some(&planner), Some(&format!(r#"{{"version": {v}}}"#))), 409, "only drafts");
    // The responsible-grid lookup now uses the published plan.
    let (status, resp) = call("GET", &format!("{b}/api/v1/responsible?lon=114.2927&lat=30.5927"), None, None);
    assert_eq!(status, 200, "{resp}");
    assert_eq!(resp["plan"], "d1");
    // And the map's start-up document names it.
    let (_, meta) = call("GET", &format!("{b}/api/v1/meta"), None, None);
    assert_eq!(meta["active_plan"], json!({"name": "d1", "version": v}), "{meta}");
}

/// Registers go through the same audited path: households of a building, facilities.
fn registers(backend: &str) {
    let s = server(backend);
    let b = &s.base;
    let planner = login(b, "planner1");
    let leader = login(b, "leader1");
    let hh = format!("{b}/api/v1/buildings/c1-1-1/households");

    assert_error(&call("PUT", &hh, None, Some(r#"{"households": 55}"#)), 401, "sign in");
    assert_error(&call("PUT", &hh, Some(&leader), Some(r#"{"households": 55}"#)), 403, "planner");
    assert_error(&call("PUT", &hh, Some(&planner), Some(r#"{"households": -1}"#)), 422, "households");
    assert_error(&call("PUT", &hh, Some(&planner), Some(r#"{"households": "many"}"#)), 422, "households");
    assert_error(&call("PUT", &hh, Some(&planner), Some(r#"{"households": 4294967296}"#)), 422, "households");
    assert_error(&call("PUT", &hh, Some(&planner), Some("{}")), 422, "households");
    assert_error(&call("PUT", &hh, Some(&planner), Some("[1")), 400, "");
    assert_error(
        &call("PUT", &format!("{b}/api/v1/buildings/nope/households"), Some(&planner), Some(r#"{"households": 5}"#)),
        404,
        "nope",
    );
    let (status, r) = call("PUT", &hh, Some(&planner), Some(r#"{"households": 55}"#));
    assert_eq!(status, 200, "{r}");
    assert_eq!((r["households"].as_u64(), r["households_source"].as_str()), (Some(55), Some("register")));
    assert_eq!(r["audit"]["change"]["households"], json!({"before": 40, "after": 55}));
    assert_eq!(r["audit"]["author"], "planner1");
    let (_, f) = call("GET", &format!("{b}/api/v1/buildings/c1-1-1"), Some(&leader), None);
    assert_eq!(f["properties"]["households"], 55, "{f}");

    // Facilities: add, change, remove.
    let fac = format!("{b}/api/v1/facilities");
    let body = json!({"id": "f-new", "category": "kindergarten", "name": "幸福幼儿园", "lon": 114.295, "lat": 30.595});
    assert_error(&call("POST", &fac, None, Some(&body.to_string())), 401, "sign in");
    assert_error(&call("POST", &fac, Some(&leader), Some(&body.to_string())), 403, "planner");
    let mut wrong = body.clone();
    wrong["category"] = json!("casino");
    assert_error(&call("POST", &fac, Some(&planner), Some(&wrong.to_string())), 422, "category");
    let mut wrong = body.clone();
    wrong["lat"] = json!(95.0);
    assert_error(&call("POST", &fac, Some(&planner), Some(&wrong.to_string())), 422, "lat");
    assert_error(
        &call("POST", &fac, Some(&planner), Some(r#"{"category": "kindergarten", "lon": 114.3}"#)),
        422,
        "lat",
    );
    assert_error(&call("POST", &format!("{fac}?coords=xyz"), Some(&planner), Some(&body.to_string())), 400, "coords");
    let (status, r) = call("POST", &fac, Some(&planner), Some(&body.to_string()));
    assert_eq!(status, 201, "{r}");
    assert_eq!(r["audit"]["target"], "facility:f-new");
    assert!(r["audit"]["change"]["before"].is_null());
    assert_error(&call("POST", &fac, Some(&planner), Some(&body.to_string())), 409, "exists");
    let (status, got) = call("GET", &format!("{fac}/f-new"), None, None);
    assert_eq!(status, 200, "{got}");
    // Without an id, one is made up; points may come in GCJ-02.
    let (status, r) = call(
        "POST",
        &format!("{fac}?coords=gcj02"),
        Some(&planner),
        Some(r#"{"category": "kindergarten", "lon": 114.30, "lat": 30.60}"#),
    );
    assert_eq!(status, 201, "{r}");
    assert!(r["id"].as_str().unwrap().starts_with("api:"));
    assert!((r["lon"].as_f64().unwrap() - 114.30).abs() > 1e-4, "stored in WGS-84: {r}");

    let one = format!("{fac}/f-new");
    let change = json!({"category": "kindergarten", "name": "新名字", "lon": 114.296, "lat": 30.596});
    assert_error(&call("PUT", &one, Some(&leader), Some(&change.to_string())), 403, "planner");
    assert_error(&call("PUT", &format!("{fac}/nope"), Some(&planner), Some(&change.to_string())), 404, "nope");
    let mut other = change.clone();
    other["id"] = json!("other");
    assert_error(&call("PUT", &one, Some(&planner), Some(&other.to_string())), 422, "id");
    let (status, r) = call("PUT", &one, Some(&planner), Some(&change.to_string()));
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["audit"]["change"]["before"]["name"], "幸福幼儿园");
    assert_eq!(r["audit"]["change"]["after"]["name"], "新名字");
    let (_, got) = call("GET", &one, None, None);
    assert_eq!(got["properties"]["name"], "新名字", "{got}");

    assert_error(&call("DELETE", &one, Some(&leader), None), 403, "planner");
    let (status, r) = call("DELETE", &one, Some(&planner), None);
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["deleted"], true);
    assert_error(&call("GET", &one, None, None), 404, "f-new");
    assert_error(&call("DELETE", &one, Some(&planner), None), 404, "f-new");

    // Every change is in the audit log, in order.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let log = rt.block_on(s.store.audit(None)).unwrap();
    let targets: Vec<&str> = log.iter().map(|e| e.target.as_str()).collect();
    assert_eq!(targets.len(), 5, "{targets:?}");
    assert_eq!(targets[0], "building:c1-1-1");
    assert_eq!(targets[1], "facility:f-new");
    assert!(targets[2].starts_with("facility:api:"));
    assert_eq!(&targets[3..], ["facility:f-new", "facility:f-new"]);
    assert!(log.iter().all(|e| e.author == "planner1"));

    // The same log over HTTP for leaders and planners: newest first, paged, filtered by target.
    let audit = format!("{b}/api/v1/audit");
    assert_error(&call("GET", &audit, None, None), 401, "sign in");
    let (status, page) = call("GET", &format!("{audit}?limit=2"), Some(&leader), None);
    assert_eq!(status, 200, "{page}");
    assert_eq!((page["matched"].as_u64(), page["next"].as_u64()), (Some(5), Some(2)), "{page}");
    let seqs: Vec<i64> = page["entries"].as_array().unwrap().iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, [log[4].seq, log[3].seq]);
    assert_eq!(page["entries"][0]["change"], log[4].change);
    let (_, last) = call("GET", &format!("{audit}?limit=2&offset=4"), Some(&planner), None);
    assert_eq!((last["entries"].as_array().unwrap().len(), last["next"].is_null()), (1, true), "{last}");
    let (_, one) = call("GET", &format!("{audit}?target=building:"), Some(&leader), None);
    assert_eq!(one["matched"], 1, "{one}");
    assert_eq!(one["entries"][0]["change"]["households"], json!({"before": 40, "after": 55}));
    assert_error(&call("GET", &format!("{audit}?limit=0"), Some(&leader), None), 400, "limit");
}

#[test]
fn registers_are_updated_by_planners_and_audited_on_the_embedded_store() {
    registers("sqlite");
}

#[test]
fn registers_are_updated_by_planners_and_audited_on_postgis() {
    registers("postgres");
}

#[test]
fn plans_are_read_by_role_on_the_embedded_store() {
    reading("sqlite");
}

#[test]
fn plans_are_read_by_role_on_postgis() {
    reading("postgres");
}

#[test]
fn drafts_are_edited_with_versions_undo_and_redo_on_the_embedded_store() {
    editing("sqlite");
}

#[test]
fn drafts_are_edited_with_versions_undo_and_redo_on_postgis() {
    editing("postgres");
}

#[test]
fn two_planners_editing_at_once_one_gets_409_and_nothing_is_lost_on_the_embedded_store() {
    concurrent("sqlite");
}

#[test]
fn two_planners_editing_at_once_one_gets_409_and_nothing_is_lost_on_postgis() {
    concurrent("postgres");
}

#[test]
fn copies_are_drafts_and_publishing_keeps_the_previous_plan_on_the_embedded_store() {
    copy_and_publish("sqlite");
}

#[test]
fn copies_are_drafts_and_publishing_keeps_the_previous_plan_on_postgis() {
    copy_and_publish("postgres");
}
