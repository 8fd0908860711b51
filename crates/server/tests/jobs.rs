//! Background jobs over HTTP against both stores: starting a partition job (planner only), its
//! progress as Server-Sent Events ending with `done`, its stored result, cancelling a running job,
//! reading by role, and every bad input answered with a JSON 4xx naming the field.
//!
//! PostGIS tests need `WANGGE_TEST_PG_URL` (see `scripts/pg-cluster.sh`); without it they fail.
#![allow(clippy::unwrap_used)]

mod common;
mod grid_city;

use common::*;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use wangge_store::Role;

fn post_job(base: &str, token: Option<&str>, body: &Value) -> (u16, Value) {
    call("POST", &format!("{base}/api/v1/jobs"), token, Some(&body.to_string()))
}

/// Waits until the job is no longer running and returns it.
fn wait(base: &str, token: &str, id: i64) -> Value {
    let started = Instant::now();
    loop {
        let (status, j) = call("GET", &format!("{base}/api/v1/jobs/{id}"), Some(token), None);
        assert_eq!(status, 200, "{j}");
        if j["status"] != "running" {
            return j;
        }
        assert!(started.elapsed() < Duration::from_secs(300), "job {id} still running: {j}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn partition_jobs(backend: &str) {
    let city = grid_city::blocks(3, 4, 3);
    let s = start_city(backend, wangge_server::Options::default(), Role::Resident, Some(city));
    let b = &s.base;
    let planner = login(b, "planner1");
    let leader = login(b, "leader1");
    let resident = login(b, "resident1");
    let job = json!({"kind": "partition", "community": "c1", "min": 100, "max": 200, "plan": "j1"});

    // Roles.
    assert_error(&post_job(b, None, &job), 401, "sign in");
    assert_error(&post_job(b, Some(&resident), &job), 403, "planner");
    assert_error(&post_job(b, Some(&leader), &job), 403, "planner");
    assert_error(&call("GET", &format!("{b}/api/v1/jobs"), None, None), 401, "sign in");
    assert_error(&call("GET", &format!("{b}/api/v1/jobs"), Some(&resident), None), 403, "leader");

    // Bad input, nothing started.
    let bad = |body: Value, needle: &str| assert_error(&post_job(b, Some(&planner), &body), 422, needle);
    bad(json!({"community": "c1", "min": 100, "max": 200}), "kind");
    bad(json!({"kind": "teleport"}), "teleport");
    bad(json!({"kind": "partition", "community": "c1", "min": 300, "max": 200}), "min");
    bad(json!({"kind": "partition", "community": "c1", "max": 200}), "min");
    bad(json!({"kind": "partition", "community": "nowhere", "min": 100, "max": 200}), "nowhere");
    bad(json!({"kind": "partition", "street": "nowhere", "min": 100, "max": 200}), "street");
    bad(json!({"kind": "partition", "community": "c1", "street": "s1", "min": 100, "max": 200}), "street");
    bad(json!({"kind": "partition", "min": 100, "max": 200}), "community");
    bad(json!({"kind": "partition", "community": "c1", "min": 100, "max": 200, "plan": "p2026"}), "active");
    bad(json!({"kind": "partition", "community": "c1", "min": 100, "max": 200, "plan": ""}), "plan");
    bad(json!({"kind": "partition", "community": "c1", "min": 100, "max": 200, "colour": "red"}), "colour");
    assert_error(&call("POST", &format!("{b}/api/v1/jobs"), Some(&planner), Some("{nope")), 400, "");
    let (_, list) = call("GET", &format!("{b}/api/v1/jobs"), Some(&leader), None);
    assert_eq!(list["jobs"], json!([]), "refused requests start nothing");
    assert_error(&call("GET", &format!("{b}/api/v1/jobs/abc"), Some(&leader), None), 400, "id");
    assert_error(&call("GET", &format!("{b}/api/v1/jobs/999"), Some(&leader), None), 404, "999");
    assert_error(&call("DELETE", &format!("{b}/api/v1/jobs/999"), Some(&planner), None), 404, "999");

    // A job: accepted, followed as events to `done`, its result stored.
    let (status, started) = post_job(b, Some(&planner), &job);
    assert_eq!(status, 202, "{started}");
    assert_eq!((started["status"].as_str(), started["author"].as_str()), (Some("running"), Some("planner1")));
    let id = started["id"].as_i64().unwrap();
    assert_eq!(grid_city::sse(&format!("{b}/api/v1/jobs/{id}/events"), None).0, 401);
    assert_eq!(grid_city::sse(&format!("{b}/api/v1/jobs/{id}/events"), Some(&resident)).0, 403);
    let (status, events) = grid_city::sse(&format!("{b}/api/v1/jobs/{id}/events"), Some(&leader));
    assert_eq!(status, 200);
    let (last, data) = events.last().unwrap();
    assert_eq!(last, "done", "{events:?}");
    assert!(events[..events.len() - 1].iter().all(|(e, _)| e == "progress"), "{events:?}");
    let fractions: Vec<f64> = events.iter().map(|(_, d)| d["progress"].as_f64().unwrap()).collect();
    assert!(fractions.windows(2).all(|w| w[0] <= w[1]), "progress only grows: {fractions:?}");
    assert_eq!(data["progress"], 1.0);
    assert_eq!(data["result"]["plan"], "j1");
    let grids = data["result"]["grids"].as_u64().unwrap();
    assert!(grids >= 2, "{data}");
    assert_eq!(data["result"]["communities"], 1);

    let j = wait(b, &leader, id);
    assert_eq!((j["status"].as_str(), j["progress"].as_f64()), (Some("done"), Some(1.0)));
    assert_eq!(j["result"], data["result"]);
    assert_eq!(j["params"], job);
    assert!(j["finished_at"].as_str().unwrap().ends_with('Z'));
    // The plan it made is a draft with every building of c1.
    let (_, plan) = call("GET", &format!("{b}/api/v1/plans/j1"), Some(&leader), None);
    assert_eq!((plan["status"].as_str(), plan["grid_count"].as_u64()), (Some("draft"), Some(grids)));
    let hh: u64 = plan["grids"].as_array().unwrap().iter().map(|g| g["households"].as_u64().unwrap()).sum();
    assert_eq!(hh, 12 * 40);
    // Following a finished job gives its end at once.
    let (_, again) = grid_city::sse(&format!("{b}/api/v1/jobs/{id}/events"), Some(&planner));
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].0, "done");
    // A finished job cannot be cancelled.
    let got = call("DELETE", &format!("{b}/api/v1/jobs/{id}"), Some(&planner), None);
    assert_error(&got, 409, "ended");
    assert_eq!(got.1["current"]["status"], "done");

    // A street: all its communities; running it again into the same draft replaces it.
    let street = json!({"kind": "partition", "street": "积玉桥街道", "min": 100, "max": 200, "plan": "j1"});
    let (status, started) = post_job(b, Some(&planner), &street);
    assert_eq!(status, 202, "{started}");
    let j = wait(b, &planner, started["id"].as_i64().unwrap());
    assert_eq!(j["status"], "done", "{j}");
    assert_eq!(j["result"]["communities"], 3);
    assert_eq!(j["result"]["version"], 2);
    let (_, list) = call("GET", &format!("{b}/api/v1/jobs"), Some(&leader), None);
    let ids: Vec<i64> = list["jobs"].as_array().unwrap().iter().map(|j| j["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [started["id"].as_i64().unwrap(), id], "newest first");
}

fn cancelling(backend: &str) {
    // Enough communities that the run lasts: cancellation is checked between communities.
    let city = grid_city::blocks(120, 6, 6);
    let s = start_city(backend, wangge_server::Options::default(), Role::Resident, Some(city));
    let b = &s.base;
    let planner = login(b, "planner1");
    let leader = login(b, "leader1");
    let (status, started) = post_job(
        b,
        Some(&planner),
        &json!({"kind": "partition", "community": "all", "min": 300, "max": 500, "plan": "big"}),
    );
    assert_eq!(status, 202, "{started}");
    let id = started["id"].as_i64().unwrap();
    let url = format!("{b}/api/v1/jobs/{id}");
    // Follow it while it runs, then cancel.
    let follower = {
        let (url, token) = (format!("{url}/events"), leader.clone());
        std::thread::spawn(move || grid_city::sse(&url, Some(&token)))
    };
    std::thread::sleep(Duration::from_millis(300));
    assert_error(&call("DELETE", &url, Some(&leader), None), 403, "planner");
    assert_error(&call("DELETE", &url, None, None), 401, "sign in");
    let (status, r) = call("DELETE", &url, Some(&planner), None);
    assert_eq!(status, 202, "the job was still running: {r}");
    let j = wait(b, &leader, id);
    assert_eq!(j["status"], "cancelled", "{j}");
    assert!(j["result"].is_null());
    let (status, events) = follower.join().unwrap();
    assert_eq!(status, 200);
    assert_eq!(events.last().unwrap().0, "cancelled", "{events:?}");
    // Nothing was saved.
    assert_error(&call("GET", &format!("{b}/api/v1/plans/big"), None, None), 404, "big");
}

fn circles_jobs(backend: &str) {
    // The small city has no walking network: refused up front.
    let s = start(backend);
    let planner = login(&s.base, "planner1");
    assert_error(&post_job(&s.base, Some(&planner), &json!({"kind": "circles"})), 422, "walking network");
    drop(s);

    let s = start_city(backend, wangge_server::Options::default(), Role::Resident, Some(beijing()));
    let b = &s.base;
    let planner = login(b, "planner1");
    let bad = |body: Value, needle: &str| assert_error(&post_job(b, Some(&planner), &body), 422, needle);
    bad(json!({"kind": "circles", "category": "casino"}), "casino");
    bad(json!({"kind": "circles", "profile": "sprinter"}), "profile");
    bad(json!({"kind": "circles", "max_snap_m": -5.0}), "max_snap_m");
    bad(json!({"kind": "circles", "min": 3}), "min");
    // No run stored yet: the heat tiles know only the completeness score.
    let (status, heat) = call("GET", &format!("{b}/tiles/heat.json"), Some(&planner), None);
    assert_eq!(status, 200, "{heat}");
    assert_eq!(heat["metrics"], json!(["completeness"]));
    let c = &heat["center"];
    let (lon, lat) = (c[0].as_f64().unwrap(), c[1].as_f64().unwrap());
    let z = 14u32;
    let n = f64::from(1u32 << z);
    let x = ((lon + 180.0) / 360.0 * n).floor();
    let y = ((1.0 - lat.to_radians().tan().asinh() / std::f64::consts::PI) / 2.0 * n).floor();
    let tile = format!("{b}/tiles/heat/{z}/{x}/{y}.mvt?metric=primary_school");
    assert_error(&call("GET", &tile, Some(&planner), None), 404, "primary_school");

    let (status, started) =
        post_job(b, Some(&planner), &json!({"kind": "circles", "category": "kindergarten,primary_school"}));
    assert_eq!(status, 202, "{started}");
    let id = started["id"].as_i64().unwrap();
    let (status, events) = grid_city::sse(&format!("{b}/api/v1/jobs/{id}/events"), Some(&planner));
    assert_eq!(status, 200);
    let (last, data) = events.last().unwrap();
    assert_eq!(last, "done", "{events:?}");
    assert_eq!(data["result"]["categories"], json!(["kindergarten", "primary_school"]));
    assert!(data["result"]["results"].as_u64().unwrap() > 0, "{data}");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let meta = rt.block_on(s.store.circles_run()).unwrap().expect("a stored run");
    assert_eq!(meta.categories.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(), ["kindergarten", "primary_school"]);
    assert_eq!(Some(meta.computed_at.as_str()), data["result"]["computed_at"].as_str());
    let stored = rt.block_on(s.store.circle_results(Some("primary_school"))).unwrap();
    assert_eq!(stored.len() as u64 * 2, data["result"]["results"].as_u64().unwrap());

    // The served tiles follow the new run at once: one heat metric per category, and the
    // centre tile of each has points.
    let (_, heat) = call("GET", &format!("{b}/tiles/heat.json"), Some(&planner), None);
    assert_eq!(heat["metrics"], json!(["completeness", "kindergarten", "primary_school"]));
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let resp = agent.get(&tile).header("Authorization", &format!("Bearer {planner}")).call().unwrap();
    assert_eq!(resp.status().as_u16(), 200, "{tile}");
    assert!(!resp.into_body().read_to_vec().unwrap().is_empty());
}

/// Imports through the API: the data is read before the job starts (bad data is a 422 naming
/// the feature, nothing written), then merged, stored and served; the job keeps the data's size,
/// not the data.
fn import_jobs(backend: &str) {
    let s = start_city(backend, wangge_server::Options::default(), Role::Resident, Some(beijing()));
    let b = &s.base;
    let planner = login(b, "planner1");
    let leader = login(b, "leader1");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let datasets = || rt.block_on(s.store.datasets()).unwrap().len();
    let before = datasets();
    let fc = |features: Value| json!({"type": "FeatureCollection", "features": features});
    let kindergarten = |id: &str, lon: f64| {
        json!({"type": "Feature", "id": id, "geometry": {"type": "Point", "coordinates": [lon, 39.995]},
               "properties": {"category": "kindergarten", "name": format!("新幼儿园 {id}")}})
    };
    let good = fc(json!([kindergarten("k-new-1", 116.333), kindergarten("k-new-2", 116.336)]));
    let bad = |body: Value, field: &str, needle: &str| {
        let (status, answer) = post_job(b, Some(&planner), &body);
        assert_eq!(status, 422, "{body}: {answer}");
        let message = answer["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(field) && message.contains(needle), "{message}");
    };
    bad(json!({"kind": "import", "dataset": "", "geojson": good}), "dataset", "1 to 100");
    bad(json!({"kind": "import", "dataset": "k"}), "geojson", "one of them");
    bad(json!({"kind": "import", "dataset": "k", "geojson": good, "csv": "a,b"}), "geojson", "one of them");
    bad(json!({"kind": "import", "dataset": "k", "geojson": good, "input_coords": "utm"}), "input_coords", "gcj02");
    let mut casino = kindergarten("k-bad", 116.334);
    casino["properties"]["category"] = json!("casino");
    bad(
        json!({"kind": "import", "dataset": "k", "geojson": fc(json!([kindergarten("k-ok", 116.3), casino]))}),
        "category",
        "casino",
    );
    assert_eq!(datasets(), before, "a refused import writes nothing");
    assert_error(
        &post_job(b, Some(&leader), &json!({"kind": "import", "dataset": "k", "geojson": good})),
        403,
        "planner",
    );

    let (status, started) =
        post_job(b, Some(&planner), &json!({"kind": "import", "dataset": "new-kindergartens", "geojson": good}));
    assert_eq!(status, 202, "{started}");
    assert!(
        started["params"].get("geojson").is_none() && started["params"]["geojson_bytes"].as_u64().unwrap() > 100,
        "{started}"
    );
    let done = wait(b, &planner, started["id"].as_i64().unwrap());
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!(done["result"]["counts"]["facilities"], 2, "{done}");
    assert_eq!(datasets(), before + 1);
    // Served at once: the facility by id, and in the nearest-services answer next to it.
    let (status, f) = call("GET", &format!("{b}/api/v1/facilities/k-new-1"), None, None);
    assert_eq!(status, 200, "{f}");
    assert_eq!(f["properties"]["name"], "新幼儿园 k-new-1");

    // Register rows must name buildings of the store: the job fails and writes nothing.
    let csv = "building_id,households\nno-such-building,12\n";
    let (status, started) = post_job(b, Some(&planner), &json!({"kind": "import", "dataset": "reg", "csv": csv}));
    assert_eq!(status, 202, "{started}");
    let failed = wait(b, &planner, started["id"].as_i64().unwrap());
    assert_eq!(failed["status"], "failed", "{failed}");
    assert!(failed["message"].as_str().unwrap().contains("no-such-building"), "{failed}");
    assert_eq!(datasets(), before + 1);
}

#[test]
fn import_jobs_read_store_and_serve_a_dataset_on_the_embedded_store() {
    import_jobs("sqlite");
}

#[test]
fn import_jobs_read_store_and_serve_a_dataset_on_postgis() {
    import_jobs("postgres");
}

#[test]
fn circles_jobs_recompute_and_store_coverage_on_the_embedded_store() {
    circles_jobs("sqlite");
}

#[test]
fn circles_jobs_recompute_and_store_coverage_on_postgis() {
    circles_jobs("postgres");
}

#[test]
fn partition_jobs_run_with_progress_and_keep_their_results_on_the_embedded_store() {
    partition_jobs("sqlite");
}

#[test]
fn partition_jobs_run_with_progress_and_keep_their_results_on_postgis() {
    partition_jobs("postgres");
}

#[test]
fn a_running_job_is_cancelled_on_the_embedded_store() {
    cancelling("sqlite");
}

#[test]
fn a_running_job_is_cancelled_on_postgis() {
    cancelling("postgres");
}
