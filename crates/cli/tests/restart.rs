//! `wangge serve` killed with SIGKILL and started again, on the embedded store and on PostGIS:
//! every committed plan edit and every finished job's result are still there, and a job that was
//! running when the process died is marked failed.
//!
//! PostGIS needs `WANGGE_TEST_PG_URL` (see `scripts/pg-cluster.sh`); without it the test fails.
#![allow(clippy::unwrap_used)]

mod common;

use common::serve;
use geo::{LineString, MultiPolygon, Polygon};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use wangge_core::plan::{PlanRecord, PlanStatus};
use wangge_core::*;
use wangge_store::Role;

const PASSWORD: &str = "pw 密码";

fn square(x: f64, y: f64, d: f64) -> Polygon<f64> {
    Polygon::new(LineString::from(vec![(x, y), (x + d, y), (x + d, y + d), (x, y + d), (x, y)]), vec![])
}

/// `n` communities of 6 × 6 buildings of 40 households, in one street.
fn city(n: usize) -> Layers {
    let mut regions = vec![Region {
        source_id: "s1".into(),
        dataset: "city.geojson".into(),
        level: RegionLevel::Street,
        name: "积玉桥街道".into(),
        code: Some("420106001".into()),
        parent: None,
        area: MultiPolygon(vec![square(114.2, 30.5, 3.0)]),
    }];
    let mut buildings = Vec::new();
    for k in 0..n {
        let (x0, y0) = (114.29 + 0.02 * (k % 20) as f64, 30.59 + 0.02 * (k / 20) as f64);
        let c = format!("c{}", k + 1);
        regions.push(Region {
            source_id: c.clone(),
            dataset: "city.geojson".into(),
            level: RegionLevel::Community,
            name: format!("社区{}", k + 1),
            code: Some(format!("420106001{:03}", k + 1)),
            parent: Some("s1".into()),
            area: MultiPolygon(vec![square(x0, y0, 0.0199)]),
        });
        for i in 0..6 {
            for j in 0..6 {
                buildings.push(Building {
                    source_id: format!("{c}-{i}-{j}"),
                    dataset: "city.geojson".into(),
                    shape: Shape::Footprint(MultiPolygon(vec![square(
                        x0 + 0.001 + 0.0015 * i as f64,
                        y0 + 0.001 + 0.0015 * j as f64,
                        0.0004,
                    )])),
                    kind: "residential".into(),
                    name: None,
                    levels: Some(6),
                    households: Households::new(40, HouseholdSource::Register),
                    units: vec![],
                    compound: None,
                    community: Some(c.clone()),
                    residential: true,
                });
            }
        }
    }
    Layers { buildings, regions, ..Layers::default() }
}

/// Fills a store: the city, a planner, and a draft `d1` of community c1 made by the engine.
fn fill(url: &str) {
    let layers = city(120);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = wangge_store::open(url).await.unwrap();
        let info = DatasetInfo {
            name: "city.geojson".into(),
            format: "geojson".into(),
            source: "/data/city.geojson".into(),
            sha256: format!("{:064x}", 7),
        };
        store
            .commit_import(&wangge_store::ImportCommit { datasets: vec![(info, layers.clone())], households: vec![] })
            .await
            .unwrap();
        store.add_user("planner1", PASSWORD, Role::Planner).await.unwrap();
        let atlas = Atlas::new(layers);
        let inputs =
            wangge_planning::run::select(atlas.layers(), &wangge_planning::run::Selection::Community("c1".into()))
                .unwrap();
        let quota = wangge_partition::Quota::new(300, 500, None).unwrap();
        let cancel = std::sync::atomic::AtomicBool::new(false);
        let hooks = wangge_planning::run::Hooks { progress: &|_, _| {}, cancel: &cancel };
        let r = wangge_planning::run::run(inputs, &[], &[], &quota, 1, None, &hooks).unwrap();
        let plan = PlanRecord {
            name: "d1".into(),
            status: PlanStatus::Draft,
            version: 0,
            quota_min: 300,
            quota_max: 500,
            quota_target: 400,
            metrics: json!({}),
            assignments: r.assignments,
            grids: r.grids,
            created_at: String::new(),
        };
        store.save_plan(&plan).await.unwrap();
    });
}

fn call(method: &str, url: &str, token: &str, body: Option<&Value>) -> (u16, Value) {
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let auth = format!("Bearer {token}");
    let resp = match (method, body) {
        ("GET", _) => agent.get(url).header("Authorization", &auth).call(),
        ("POST", Some(b)) => agent
            .post(url)
            .header("Authorization", &auth)
            .header("Content-Type", "application/json")
            .send(b.to_string()),
        (m, _) => panic!("{m}"),
    };
    let mut resp = resp.expect("request");
    let status = resp.status().as_u16();
    let text = resp.body_mut().with_config().limit(64 << 20).read_to_string().expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

fn login(base: &str) -> String {
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let mut resp = agent
        .post(&format!("{base}/api/v1/login"))
        .header("Content-Type", "application/json")
        .send(json!({"name": "planner1", "password": PASSWORD}).to_string())
        .expect("login");
    let body: Value = serde_json::from_str(&resp.body_mut().read_to_string().unwrap()).unwrap();
    body["token"].as_str().unwrap().to_string()
}

/// The plan's version, assignment and history length.
fn plan_state(base: &str, token: &str) -> (i64, Value, usize) {
    let (status, a) = call("GET", &format!("{base}/api/v1/plans/d1/assignment"), token, None);
    assert_eq!(status, 200, "{a}");
    let (_, h) = call("GET", &format!("{base}/api/v1/plans/d1/edits"), token, None);
    (a["version"].as_i64().unwrap(), a["assignments"].clone(), h["edits"].as_array().unwrap().len())
}

fn wait_done(base: &str, token: &str, id: i64) -> Value {
    let started = Instant::now();
    loop {
        let (_, j) = call("GET", &format!("{base}/api/v1/jobs/{id}"), token, None);
        if j["status"] != "running" {
            return j;
        }
        assert!(started.elapsed() < Duration::from_secs(300), "job {id} still running");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn killed_and_restarted(db: &str) {
    fill(db);
    let mut s = serve(db);
    let token = login(&s.base);
    let b = s.base.clone();

    // Three committed edits: buildings of c1 moved into another grid of c1.
    let (_, a) = call("GET", &format!("{b}/api/v1/plans/d1/assignment"), &token, None);
    let grid_of: BTreeMap<String, String> = a["assignments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["building"].as_str().unwrap().to_string(), r["grid"].as_str().unwrap().to_string()))
        .collect();
    let grids: Vec<&String> = grid_of.values().collect::<std::collections::BTreeSet<_>>().into_iter().collect();
    assert!(grids.len() >= 2, "{grids:?}");
    let mut version = a["version"].as_i64().unwrap();
    for building in grid_of.iter().filter(|(_, g)| *g == grids[0]).map(|(b, _)| b).take(3) {
        let edit = json!({"version": version, "edit": {"op": "move_atoms", "atoms": [{"building": building, "unit": null}], "to": grids[1]}});
        let (status, r) = call("POST", &format!("{b}/api/v1/plans/d1/edits"), &token, Some(&edit));
        assert_eq!(status, 200, "{r}");
        version = r["version"].as_i64().unwrap();
    }
    let before = plan_state(&b, &token);
    assert_eq!(before.2, 3);

    // A finished job, then one still running when the process dies.
    let (status, j) = call(
        "POST",
        &format!("{b}/api/v1/jobs"),
        &token,
        Some(&json!({"kind": "partition", "community": "c2", "min": 300, "max": 500, "plan": "small"})),
    );
    assert_eq!(status, 202, "{j}");
    let finished = wait_done(&b, &token, j["id"].as_i64().unwrap());
    assert_eq!(finished["status"], "done", "{finished}");
    let (status, j) = call(
        "POST",
        &format!("{b}/api/v1/jobs"),
        &token,
        Some(&json!({"kind": "partition", "community": "all", "min": 300, "max": 500, "plan": "big"})),
    );
    assert_eq!(status, 202, "{j}");
    let running = j["id"].as_i64().unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let (_, now) = call("GET", &format!("{b}/api/v1/jobs/{running}"), &token, None);
    assert_eq!(now["status"], "running", "the job must still run when the server is killed: {now}");

    s.child.kill().unwrap(); // SIGKILL
    s.child.wait().unwrap();

    let s = serve(db);
    let b = s.base.clone();
    let token = login(&b);
    assert_eq!(plan_state(&b, &token), before, "every committed edit is still there");
    let (_, again) = call("GET", &format!("{b}/api/v1/jobs/{}", finished["id"]), &token, None);
    assert_eq!(again, finished, "a finished job's result survives");
    let (_, plan) = call("GET", &format!("{b}/api/v1/plans/small"), &token, None);
    assert_eq!(plan["version"], finished["result"]["version"]);
    let (_, dead) = call("GET", &format!("{b}/api/v1/jobs/{running}"), &token, None);
    assert_eq!((dead["status"].as_str(), dead["message"].as_str()), (Some("failed"), Some("interrupted by a restart")));
    let (status, _) = call("GET", &format!("{b}/api/v1/plans/big"), &token, None);
    assert_eq!(status, 404, "an interrupted job saved nothing");
    // Editing goes on from the stored version.
    let edit = json!({"version": before.0, "edit": {"op": "merge", "a": grids[0], "b": grids[1]}});
    let (status, r) = call("POST", &format!("{b}/api/v1/plans/d1/edits"), &token, Some(&edit));
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["version"], before.0 + 1);
}

#[test]
fn a_killed_server_keeps_edits_and_job_results_and_fails_interrupted_jobs_on_the_embedded_store() {
    let dir = tempfile::tempdir().unwrap();
    killed_and_restarted(&format!("sqlite://{}/restart.db", dir.path().display()));
}

#[test]
fn a_killed_server_keeps_edits_and_job_results_and_fails_interrupted_jobs_on_postgis() {
    killed_and_restarted(&wangge_testkit::fresh_pg_database_blocking("cli_restart"));
}
