//! The real server over HTTP against both stores: login and tokens, household privacy per role,
//! "who is responsible here" and grid workers.
//!
//! PostGIS tests need `WANGGE_TEST_PG_URL` (see `scripts/pg-cluster.sh`); without it they fail.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use serde_json::Value;
use std::time::Duration;

fn sessions(backend: &str) {
    let s = start(backend);
    let b = &s.base;
    let url = format!("{b}/api/v1/login");

    // Wrong name and wrong password get the same 401 and message.
    let wrong_pw = call("POST", &url, None, Some(r#"{"name":"planner1","password":"nope"}"#));
    let wrong_name = call("POST", &url, None, Some(r#"{"name":"nobody","password":"nope"}"#));
    assert_error(&wrong_pw, 401, "wrong name or password");
    assert_eq!(wrong_pw.1, wrong_name.1);
    // Malformed bodies: JSON errors, never 500.
    assert_error(&call("POST", &url, None, Some("{not json")), 400, "");
    assert_error(&call("POST", &url, None, Some(r#"{"name":"x"}"#)), 422, "password");
    assert_error(&call("POST", &url, None, Some(r#"{"name":"x","password":"y","extra":1}"#)), 422, "extra");

    for (name, role) in [("resident1", "resident"), ("leader1", "leader"), ("planner1", "planner")] {
        let (status, body) = call("POST", &url, None, Some(&format!(r#"{{"name":"{name}","password":"{PASSWORD}"}}"#)));
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["role"], role);
        assert_eq!(body["token_type"], "Bearer");
        assert!(body["expires_at"].as_str().unwrap().ends_with('Z'));
        let token = body["token"].as_str().unwrap();
        let (status, me) = call("GET", &format!("{b}/api/v1/me"), Some(token), None);
        assert_eq!(status, 200);
        assert_eq!((me["name"].as_str(), me["role"].as_str()), (Some(name), Some(role)));
    }
    let (_, anon) = call("GET", &format!("{b}/api/v1/me"), None, None);
    assert_eq!((anon["role"].as_str(), anon["name"].is_null()), (Some("resident"), true));

    // A wrong token is a 401 on every route, never silently anonymous.
    for path in ["/api/v1/me", "/api/v1/buildings", "/api/v1/facilities", "/api/v1/responsible?lon=114.3&lat=30.6"] {
        assert_error(&call("GET", &format!("{b}{path}"), Some("0123abcd"), None), 401, "unknown or expired");
    }
    assert_error(&get_with_auth_header(&format!("{b}/api/v1/me"), "Basic dXNlcjpwYXNz"), 401, "Bearer <token>");
    assert_error(&get_with_auth_header(&format!("{b}/api/v1/me"), "Bearer"), 401, "Bearer <token>");

    // Logout revokes that token only.
    let t1 = login(b, "leader1");
    let t2 = login(b, "leader1");
    let (status, _) = call("POST", &format!("{b}/api/v1/logout"), Some(&t1), None);
    assert_eq!(status, 200);
    assert_error(&call("GET", &format!("{b}/api/v1/me"), Some(&t1), None), 401, "unknown or expired");
    assert_eq!(call("GET", &format!("{b}/api/v1/me"), Some(&t2), None).1["role"], "leader");
    assert_error(&call("POST", &format!("{b}/api/v1/logout"), None, None), 401, "bearer token");

    // An expired token is refused with 401.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let short = rt.block_on(s.store.login("planner1", PASSWORD, Duration::from_secs(1))).unwrap().unwrap();
    assert_eq!(call("GET", &format!("{b}/api/v1/me"), Some(&short.token), None).1["role"], "planner");
    std::thread::sleep(Duration::from_millis(2100));
    assert_error(&call("GET", &format!("{b}/api/v1/me"), Some(&short.token), None), 401, "unknown or expired");
}

/// Every property name of every feature, and the raw text.
fn building_props(body: &Value) -> Vec<String> {
    let mut keys: Vec<String> = body["features"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["properties"].as_object().unwrap().keys().cloned().collect::<Vec<_>>())
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

fn privacy(backend: &str) {
    let s = start(backend);
    let b = &s.base;
    let resident = login(b, "resident1");
    let leader = login(b, "leader1");
    let planner = login(b, "planner1");
    let private = ["households", "households_estimated", "households_source", "units"];

    for (who, token) in [("anonymous", None), ("resident", Some(resident.as_str()))] {
        for path in ["/api/v1/buildings", "/api/v1/buildings?bbox=114.29,30.59,114.34,30.64&coords=gcj02"] {
            let (status, body) = call("GET", &format!("{b}{path}"), token, None);
            assert_eq!(status, 200, "{who}: {body}");
            assert_eq!(body["features"].as_array().unwrap().len(), 2, "{who}");
            let keys = building_props(&body);
            assert!(private.iter().all(|k| !keys.contains(&k.to_string())), "{who} sees {keys:?}");
            let text = body.to_string();
            assert!(!text.contains("household") && !text.contains("单元"), "{who}: {text}");
        }
        // The responsible answer carries no household numbers either.
        let (_, r) = call("GET", &format!("{b}/api/v1/responsible?lon=114.3&lat=30.6"), token, None);
        assert!(!r.to_string().contains("household"), "{who}: {r}");
    }
    for (who, token) in [("leader", &leader), ("planner", &planner)] {
        let (status, body) = call("GET", &format!("{b}/api/v1/buildings"), Some(token), None);
        assert_eq!(status, 200);
        let keys = building_props(&body);
        assert!(private.iter().all(|k| keys.contains(&k.to_string())), "{who} misses some of {keys:?}");
        let b1 = body["features"].as_array().unwrap().iter().find(|f| f["id"] == "b1").unwrap();
        assert_eq!(b1["properties"]["households"], 72);
        assert_eq!(b1["properties"]["units"][0]["households"], 36);
        let (_, r) = call("GET", &format!("{b}/api/v1/responsible?lon=114.3&lat=30.6"), Some(token), None);
        assert_eq!(r["grid"]["households"], 72, "{who}: {r}");
    }
    // The other layers answer everyone the same.
    for path in ["/api/v1/communities", "/api/v1/streets", "/api/v1/facilities", "/api/v1/meta"] {
        let anon = call("GET", &format!("{b}{path}"), None, None);
        assert_eq!(anon.0, 200, "{path}");
        assert_eq!(anon, call("GET", &format!("{b}{path}"), Some(&planner), None), "{path}");
    }
}

fn responsible(backend: &str) {
    let s = start(backend);
    let b = &s.base;
    let at = |q: &str| call("GET", &format!("{b}/api/v1/responsible?{q}"), None, None);

    // Inside the active plan's grid: community, street, grid and its worker card.
    let (status, r) = at("lon=114.3&lat=30.6");
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["community"]["id"], "c1");
    assert_eq!(r["community"]["name"], "幸福社区");
    assert_eq!(r["street"]["id"], "s1");
    assert_eq!(r["plan"], "p2026");
    assert_eq!(r["grid"]["id"], "c1-01");
    assert_eq!(r["workers"], serde_json::json!([{"name": "张三", "phone": "13800000001", "role": "专职网格员"}]));

    // The same place sent in GCJ-02 and BD-09 gives the same answer.
    for sys in [wangge_core::chinacoords::CoordSystem::Gcj02, wangge_core::chinacoords::CoordSystem::Bd09] {
        let (x, y) = sys.from_wgs84(114.3, 30.6);
        let name = if sys == wangge_core::chinacoords::CoordSystem::Gcj02 { "gcj02" } else { "bd09" };
        let (status, r2) = at(&format!("lon={x}&lat={y}&coords={name}"));
        assert_eq!(status, 200);
        assert_eq!((&r2["grid"], &r2["workers"], &r2["community"]), (&r["grid"], &r["workers"], &r["community"]));
    }

    // In the community, outside every grid: no grid, no workers.
    let (status, r) = at("lon=114.33&lat=30.63");
    assert_eq!(status, 200);
    assert_eq!((r["community"]["id"].as_str(), r["grid"].is_null()), (Some("c1"), true));
    assert_eq!(r["workers"], serde_json::json!([]));

    // Outside every community: 404 JSON.
    assert_error(&at("lon=116.4&lat=39.9"), 404, "community");
    // Malformed: 400 naming the parameter.
    assert_error(&at("lon=abc&lat=30.6"), 400, "lon");
    assert_error(&at("lon=114.3"), 400, "lat");
    assert_error(&at("lon=114.3&lat=91"), 400, "lat");
    assert_error(&at("lon=NaN&lat=30"), 400, "lon");
    assert_error(&at("lon=114.3&lat=30.6&coords=mars"), 400, "coords");
}

fn workers(backend: &str) {
    let s = start(backend);
    let b = &s.base;
    let url = format!("{b}/api/v1/grids/c1-01/workers");
    let body = r#"{"workers":[{"name":"李四","phone":"13900000002","role":"兼职网格员"}],"valid_from":"2026-07-01"}"#;

    // Only planners set workers.
    assert_error(&call("PUT", &url, None, Some(body)), 401, "sign in");
    for who in ["resident1", "leader1"] {
        assert_error(&call("PUT", &url, Some(&login(b, who)), Some(body)), 403, "planner");
    }
    let planner = login(b, "planner1");
    assert_error(&call("PUT", &url, Some(&planner), Some(r#"{"workers":[{"name":" "}]}"#)), 422, "");
    assert_error(
        &call("PUT", &url, Some(&planner), Some(r#"{"workers":[{"name":"x","phone":"1","role":""}],"valid_from":""}"#)),
        422,
        "valid_from",
    );
    assert_error(&call("PUT", &url, Some(&planner), Some("[]")), 422, "");
    let (status, set) = call("PUT", &url, Some(&planner), Some(body));
    assert_eq!(status, 200, "{set}");
    assert_eq!((set["version"].as_i64(), set["set_by"].as_str()), (Some(2), Some("planner1")));

    // Everyone sees the card in force; the responsible lookup follows at once.
    let (status, now) = call("GET", &url, None, None);
    assert_eq!(status, 200);
    assert_eq!(now["workers"][0]["name"], "李四");
    assert_eq!(now["valid_from"], "2026-07-01");
    let (_, r) = call("GET", &format!("{b}/api/v1/responsible?lon=114.3&lat=30.6"), None, None);
    assert_eq!(r["workers"][0]["phone"], "13900000002");
    assert_error(&call("GET", &format!("{b}/api/v1/grids/nope/workers"), None, None), 404, "nope");

    // History for leaders and planners.
    let hist_url = format!("{url}/history");
    assert_error(&call("GET", &hist_url, None, None), 401, "sign in");
    assert_error(&call("GET", &hist_url, Some(&login(b, "resident1")), None), 403, "leader");
    let (status, hist) = call("GET", &hist_url, Some(&login(b, "leader1")), None);
    assert_eq!(status, 200);
    let names: Vec<&str> = hist.as_array().unwrap().iter().map(|s| s["workers"][0]["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["张三", "李四"]);
}

#[test]
fn sqlite_sessions() {
    sessions("sqlite");
}
#[test]
fn postgres_sessions() {
    sessions("postgres");
}
#[test]
fn sqlite_privacy() {
    privacy("sqlite");
}
#[test]
fn postgres_privacy() {
    privacy("postgres");
}
#[test]
fn sqlite_responsible() {
    responsible("sqlite");
}
#[test]
fn postgres_responsible() {
    responsible("postgres");
}
#[test]
fn sqlite_workers() {
    workers("sqlite");
}
#[test]
fn postgres_workers() {
    workers("postgres");
}

/// A local demo may let anonymous callers read as leaders; acting still needs a sign-in.
#[test]
fn anonymous_role_can_be_raised_for_a_demo() {
    let s = start_as("sqlite", wangge_server::Options::default(), wangge_store::Role::Leader);
    let b = &s.base;
    let (_, body) = call("GET", &format!("{b}/api/v1/buildings"), None, None);
    assert!(building_props(&body).contains(&"households".to_string()));
    assert_eq!(call("GET", &format!("{b}/api/v1/me"), None, None).1["role"], "leader");
    let body = r#"{"workers":[]}"#;
    assert_error(&call("PUT", &format!("{b}/api/v1/grids/c1-01/workers"), None, Some(body)), 401, "sign in");
    assert_error(&call("GET", &format!("{b}/api/v1/grids/c1-01/workers/history"), None, None), 401, "sign in");
    // A signed-in resident is still a resident.
    let (_, body) = call("GET", &format!("{b}/api/v1/buildings"), Some(&login(b, "resident1")), None);
    assert!(!building_props(&body).contains(&"households".to_string()));
}
