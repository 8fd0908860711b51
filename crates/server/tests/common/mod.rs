//! A real server over a real store (embedded SQLite or PostGIS) with a small city, users of every
//! role and an active plan, served on a free port; and a plain HTTP client.
#![allow(clippy::unwrap_used, dead_code)]

use geo::{LineString, MultiPolygon, Polygon};
use std::sync::Arc;
use std::time::Duration;
use wangge_core::plan::{PlanGrid, PlanRecord, PlanStatus};
use wangge_core::*;
use wangge_store::{GridWorker, Role, Store};

pub fn square(x: f64, y: f64, d: f64) -> Polygon<f64> {
    Polygon::new(LineString::from(vec![(x, y), (x + d, y), (x + d, y + d), (x, y + d), (x, y)]), vec![])
}

fn building(id: &str, x: f64, y: f64, households: u32, units: Vec<Unit>) -> Building {
    Building {
        source_id: id.into(),
        dataset: "city.geojson".into(),
        shape: Shape::Footprint(MultiPolygon(vec![square(x, y, 0.0003)])),
        kind: "residential".into(),
        name: Some(format!("{id}号楼")),
        levels: Some(6),
        households: Households::new(households, HouseholdSource::Register),
        units,
        compound: None,
        community: Some("c1".into()),
        residential: true,
    }
}

/// Street `s1` is 114.20..114.40 × 30.50..30.70; community `c1` is 114.29..114.34 × 30.59..30.64;
/// the active plan's grid `c1-01` is 114.29..114.31 × 30.59..30.61 (its west corner), with workers.
pub fn city() -> Layers {
    Layers {
        buildings: vec![
            building(
                "b1",
                114.300,
                30.600,
                72,
                vec![Unit { label: "1单元".into(), households: 36 }, Unit { label: "2单元".into(), households: 36 }],
            ),
            building("b2", 114.320, 30.620, 17, vec![]),
        ],
        regions: vec![
            Region {
                source_id: "c1".into(),
                dataset: "city.geojson".into(),
                level: RegionLevel::Community,
                name: "幸福社区".into(),
                code: Some("420106001001".into()),
                parent: Some("s1".into()),
                area: MultiPolygon(vec![square(114.29, 30.59, 0.05)]),
            },
            Region {
                source_id: "s1".into(),
                dataset: "city.geojson".into(),
                level: RegionLevel::Street,
                name: "积玉桥街道".into(),
                code: Some("420106001".into()),
                parent: None,
                area: MultiPolygon(vec![square(114.2, 30.5, 0.2)]),
            },
        ],
        ..Layers::default()
    }
}

fn plan(name: &str, status: PlanStatus, grid: &str) -> PlanRecord {
    PlanRecord {
        name: name.into(),
        status,
        version: 0,
        quota_min: 1,
        quota_max: 300,
        quota_target: 150,
        metrics: serde_json::json!({}),
        assignments: vec![],
        grids: vec![PlanGrid {
            grid: grid.into(),
            community: "c1".into(),
            households: 72,
            buildings: 1,
            area: Some(square(114.29, 30.59, 0.02)),
        }],
        created_at: String::new(),
    }
}

pub const PASSWORD: &str = "s3cret 密码";

/// A running server: its base URL and its store.
pub struct TestServer {
    pub base: String,
    pub store: Arc<dyn Store>,
    _dir: Option<tempfile::TempDir>,
}

async fn fill(store: &Arc<dyn Store>, city: Option<Layers>) {
    let commit = wangge_store::ImportCommit {
        datasets: vec![(
            DatasetInfo {
                name: "city.geojson".into(),
                format: "geojson".into(),
                source: "/data/city.geojson".into(),
                sha256: format!("{:064x}", 1),
            },
            city.unwrap_or_else(self::city),
        )],
        households: vec![],
    };
    store.commit_import(&commit).await.unwrap();
    for (name, role) in [("resident1", Role::Resident), ("leader1", Role::Leader), ("planner1", Role::Planner)] {
        store.add_user(name, PASSWORD, role).await.unwrap();
    }
    store.save_plan(&plan("old", PlanStatus::Draft, "c1-99")).await.unwrap();
    store.save_plan(&plan("p2026", PlanStatus::Active, "c1-01")).await.unwrap();
    let w = GridWorker { name: "张三".into(), phone: "13800000001".into(), role: "专职网格员".into() };
    store.set_grid_workers("c1-01", &[w], Some("2026-01-01"), "setup").await.unwrap();
}

/// Starts the server on a free port over `backend` (`sqlite` or `postgres`), in its own thread and runtime.
pub fn start(backend: &str) -> TestServer {
    start_with(backend, wangge_server::Options::default())
}

/// [`start`] with HTTP options (CORS, body limit).
pub fn start_with(backend: &str, options: wangge_server::Options) -> TestServer {
    start_as(backend, options, Role::Resident)
}

/// [`start_with`] with the role of anonymous callers.
pub fn start_as(backend: &str, options: wangge_server::Options, anonymous_role: Role) -> TestServer {
    start_city(backend, options, anonymous_role, None)
}

/// The Beijing sample (OpenStreetMap, `geodata/`) read, containment assigned and households
/// estimated, as `wangge import` does.
pub fn beijing() -> Layers {
    let path = wangge_testkit::geodata("beijing/haidian-liudaokou.osm.pbf");
    let opts = wangge_io::ReadOptions {
        catalogue: Catalogue::default_catalogue(),
        dataset: Some("city.geojson".into()),
        population_field: None,
        input_coords: wangge_core::chinacoords::CoordSystem::Wgs84,
        geojson_role: wangge_io::GeoJsonRole::Auto,
    };
    let mut layers = wangge_io::read(&path, &opts).unwrap().layers;
    layers.assign_containers();
    wangge_io::estimate::estimate_households(&mut layers, &wangge_io::estimate::EstimateParams::default());
    layers.sort();
    layers
}

/// [`start_as`] over `city` instead of the small test city (same users and plans).
pub fn start_city(
    backend: &str,
    options: wangge_server::Options,
    anonymous_role: Role,
    city: Option<Layers>,
) -> TestServer {
    let (tx, rx) = std::sync::mpsc::channel();
    let backend = backend.to_string();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async move {
            let (url, dir) = if backend == "postgres" {
                (wangge_testkit::fresh_pg_database("server").await, None)
            } else {
                let dir = tempfile::tempdir().unwrap();
                (format!("sqlite://{}/api.db", dir.path().display()), Some(dir))
            };
            let store = wangge_store::open(&url).await.unwrap();
            fill(&store, city).await;
            let mut state = wangge_server::AppState::load(store.clone(), Catalogue::default_catalogue(), "test".into())
                .await
                .unwrap();
            state.anonymous_role = anonymous_role;
            let app = wangge_server::app_with(state, None, &options);
            let addr: std::net::SocketAddr = "127.0.0.1:0".parse().unwrap();
            let tx2 = tx.clone();
            let store2 = store.clone();
            wangge_server::serve(app, addr, move |a| {
                tx2.send((format!("http://{a}"), store2, dir)).unwrap();
            })
            .await
            .unwrap();
        });
    });
    let (base, store, dir) = rx.recv_timeout(Duration::from_secs(120)).expect("the server did not start");
    TestServer { base, store, _dir: dir }
}

/// One request: `(status, JSON body)` (a non-JSON body comes back as a JSON string).
pub fn call(method: &str, url: &str, token: Option<&str>, body: Option<&str>) -> (u16, serde_json::Value) {
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let auth = token.map(|t| format!("Bearer {t}"));
    let resp = match (method, body) {
        ("GET", _) => {
            let mut r = agent.get(url);
            if let Some(a) = &auth {
                r = r.header("Authorization", a);
            }
            r.call()
        }
        ("DELETE", _) => {
            let mut r = agent.delete(url);
            if let Some(a) = &auth {
                r = r.header("Authorization", a);
            }
            r.call()
        }
        (m, b) => {
            let mut r = match m {
                "POST" => agent.post(url),
                "PUT" => agent.put(url),
                other => panic!("method {other}"),
            };
            if let Some(a) = &auth {
                r = r.header("Authorization", a);
            }
            r = r.header("Content-Type", "application/json");
            r.send(b.unwrap_or(""))
        }
    };
    let mut resp = resp.expect("request");
    let status = resp.status().as_u16();
    let text = resp.body_mut().read_to_string().expect("body");
    (status, serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)))
}

/// A raw header value instead of `Bearer …`.
pub fn get_with_auth_header(url: &str, header: &str) -> (u16, serde_json::Value) {
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let mut resp = agent.get(url).header("Authorization", header).call().expect("request");
    let status = resp.status().as_u16();
    let text = resp.body_mut().read_to_string().expect("body");
    (status, serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)))
}

/// Logs in and returns the token.
pub fn login(base: &str, name: &str) -> String {
    let (status, body) = call(
        "POST",
        &format!("{base}/api/v1/login"),
        None,
        Some(&format!(r#"{{"name":"{name}","password":"{PASSWORD}"}}"#)),
    );
    assert_eq!(status, 200, "{body}");
    body["token"].as_str().unwrap().to_string()
}

/// Asserts a JSON error body with that status whose message contains `needle`.
pub fn assert_error(got: &(u16, serde_json::Value), status: u16, needle: &str) {
    assert_eq!(got.0, status, "{}", got.1);
    let msg = got.1["error"]["message"].as_str().unwrap_or_else(|| panic!("not a JSON error: {}", got.1));
    assert!(msg.contains(needle), "`{msg}` does not contain `{needle}`");
    assert!(got.1["error"]["code"].is_string());
}
