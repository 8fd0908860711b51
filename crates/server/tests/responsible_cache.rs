//! "Who is responsible here" answers from caches (the active plan with its grid index, the grid
//! workers): this server's own changes must show on the very next request, other writers' to the
//! same store within the cache's time to live.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use wangge_store::GridWorker;

const HERE: &str = "lon=114.3&lat=30.6";

fn at(b: &str) -> serde_json::Value {
    let (status, r) = call("GET", &format!("{b}/api/v1/responsible?{HERE}"), None, None);
    assert_eq!(status, 200, "{r}");
    r
}

fn own_changes_show_on_the_next_request(backend: &str) {
    let s = start(backend);
    let b = &s.base;
    let planner = login(b, "planner1");
    // Warm the caches.
    for _ in 0..3 {
        let r = at(b);
        assert_eq!((r["plan"].as_str(), r["grid"]["id"].as_str()), (Some("p2026"), Some("c1-01")));
        assert_eq!(r["workers"][0]["name"], "张三");
    }

    // New workers through this server: the very next answer has them.
    let body = r#"{"workers":[{"name":"李四","phone":"13900000002","role":"兼职网格员"}]}"#;
    let (status, set) = call("PUT", &format!("{b}/api/v1/grids/c1-01/workers"), Some(&planner), Some(body));
    assert_eq!(status, 200, "{set}");
    assert_eq!(at(b)["workers"][0]["name"], "李四");
    let (status, _) =
        call("PUT", &format!("{b}/api/v1/grids/c1-01/workers"), Some(&planner), Some(r#"{"workers":[]}"#));
    assert_eq!(status, 200);
    assert_eq!(at(b)["workers"], serde_json::json!([]));

    // Publishing another plan through this server: the next answer uses its grid.
    let (_, old) = call("GET", &format!("{b}/api/v1/plans/old"), None, None);
    let v = old["version"].as_i64().unwrap();
    let (status, r) =
        call("POST", &format!("{b}/api/v1/plans/old/publish"), Some(&planner), Some(&format!(r#"{{"version": {v}}}"#)));
    assert_eq!(status, 200, "{r}");
    let r = at(b);
    assert_eq!((r["plan"].as_str(), r["grid"]["id"].as_str()), (Some("old"), Some("c1-99")));
    assert_eq!(r["workers"], serde_json::json!([]), "no workers were ever set for c1-99");
}

fn other_writers_show_within_the_ttl(backend: &str) {
    let s = start(backend);
    let b = &s.base;
    assert_eq!(at(b)["workers"][0]["name"], "张三");
    let ttl = wangge_server::routes::responsible::STORE_TTL + std::time::Duration::from_millis(300);
    // Another writer (the CLI, another server) changes the store directly.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let w = GridWorker { name: "王五".into(), phone: "13700000003".into(), role: "专职网格员".into() };
    rt.block_on(s.store.set_grid_workers("c1-01", &[w], None, "cli")).unwrap();
    std::thread::sleep(ttl);
    let r = at(b);
    assert_eq!((r["grid"]["id"].as_str(), r["workers"][0]["name"].as_str()), (Some("c1-01"), Some("王五")));

    rt.block_on(s.store.activate_plan("old")).unwrap();
    std::thread::sleep(ttl);
    let r = at(b);
    assert_eq!((r["plan"].as_str(), r["grid"]["id"].as_str()), (Some("old"), Some("c1-99")));
}

/// Past three quarters of the time to live, a request still answers from memory and has the store asked again
/// in the background: a later request sees the other writer's change.
fn a_busy_server_refreshes_ahead(backend: &str) {
    let s = start(backend);
    let b = &s.base;
    assert_eq!(at(b)["workers"][0]["name"], "张三");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let w = GridWorker { name: "赵六".into(), phone: "13600000004".into(), role: "专职网格员".into() };
    rt.block_on(s.store.set_grid_workers("c1-01", &[w], None, "cli")).unwrap();
    std::thread::sleep(wangge_server::routes::responsible::STORE_TTL * 8 / 10);
    let r = at(b); // from memory (old or new), and the refresh starts
    assert_eq!(r["grid"]["id"], "c1-01");
    std::thread::sleep(std::time::Duration::from_millis(150));
    assert_eq!(at(b)["workers"][0]["name"], "赵六");
}

#[test]
fn sqlite_own_changes_show_on_the_next_request() {
    own_changes_show_on_the_next_request("sqlite");
}
#[test]
fn postgres_own_changes_show_on_the_next_request() {
    own_changes_show_on_the_next_request("postgres");
}
#[test]
fn sqlite_other_writers_show_within_the_ttl() {
    other_writers_show_within_the_ttl("sqlite");
}
#[test]
fn postgres_other_writers_show_within_the_ttl() {
    other_writers_show_within_the_ttl("postgres");
}
#[test]
fn sqlite_a_busy_server_refreshes_ahead() {
    a_busy_server_refreshes_ahead("sqlite");
}
#[test]
fn postgres_a_busy_server_refreshes_ahead() {
    a_busy_server_refreshes_ahead("postgres");
}
