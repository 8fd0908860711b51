//! Operations over HTTP: `/readyz`, CORS from the options, the request body limit (413 JSON).
#![allow(clippy::unwrap_used)]

mod common;

use common::*;

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder().http_status_as_error(false).build().into()
}

fn ready(backend: &str) {
    let s = start(backend);
    let (status, body) = call("GET", &format!("{}/readyz", s.base), None, None);
    assert_eq!(status, 200, "{body}");
    assert_eq!((body["status"].as_str(), body["store"].as_str()), (Some("ready"), Some(backend)));
    assert_eq!(call("GET", &format!("{}/healthz", s.base), None, None).1["status"], "ok");
}

#[test]
fn sqlite_ready() {
    ready("sqlite");
}

#[test]
fn postgres_ready() {
    ready("postgres");
}

#[test]
fn cors_follows_the_options() {
    let allowed = "https://map.example.cn";
    let s = start_with(
        "sqlite",
        wangge_server::Options { cors_origins: vec![allowed.into()], ..wangge_server::Options::default() },
    );
    let url = format!("{}/api/v1/buildings", s.base);
    // A preflight from the allowed origin, asking to send a bearer token.
    let resp = agent()
        .options(&url)
        .header("Origin", allowed)
        .header("Access-Control-Request-Method", "GET")
        .header("Access-Control-Request-Headers", "authorization")
        .call()
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.status());
    let h = resp.headers();
    assert_eq!(h.get("access-control-allow-origin").unwrap(), allowed);
    assert!(h.get("access-control-allow-headers").unwrap().to_str().unwrap().contains("authorization"));
    // A plain request from another origin gets no CORS header.
    let resp = agent().get(&url).header("Origin", "https://evil.example").call().unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers().get("access-control-allow-origin").is_none());

    // Without origins configured: no CORS headers at all.
    let plain = start("sqlite");
    let resp = agent().get(&format!("{}/api/v1/meta", plain.base)).header("Origin", allowed).call().unwrap();
    assert!(resp.headers().get("access-control-allow-origin").is_none());
}

#[test]
fn oversized_bodies_get_413_json() {
    let s = start_with("sqlite", wangge_server::Options { body_limit: 1024, ..wangge_server::Options::default() });
    let big = format!(r#"{{"name":"planner1","password":"{}"}}"#, "x".repeat(4096));
    let got = call("POST", &format!("{}/api/v1/login", s.base), None, Some(&big));
    assert_error(&got, 413, "");
    assert_eq!(got.1["error"]["code"], "PayloadTooLarge");
    // Under the limit, the same route works.
    login(&s.base, "planner1");
    let token = login(&s.base, "planner1");
    let workers = format!(r#"{{"workers":[{{"name":"{}","phone":"1","role":"x"}}]}}"#, "名".repeat(1000));
    let got = call("PUT", &format!("{}/api/v1/grids/c1-01/workers", s.base), Some(&token), Some(&workers));
    assert_error(&got, 413, "");
    // Not JSON: 415 JSON error.
    let resp =
        agent().post(&format!("{}/api/v1/login", s.base)).header("Content-Type", "text/plain").send("name=a").unwrap();
    assert_eq!(resp.status(), 415);
}
