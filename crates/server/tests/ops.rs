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

/// One GET with a bearer token or none: status and the `Retry-After` header.
fn get_status(url: &str, token: Option<&str>) -> (u16, Option<String>, String) {
    let mut r = agent().get(url);
    if let Some(t) = token {
        r = r.header("Authorization", &format!("Bearer {t}"));
    }
    let mut resp = r.call().unwrap();
    let retry = resp.headers().get("retry-after").map(|v| v.to_str().unwrap().to_string());
    (resp.status().as_u16(), retry, resp.body_mut().read_to_string().unwrap())
}

#[test]
fn each_client_has_its_own_rate_limit_and_metrics_count_requests() {
    let s = start_with(
        "sqlite",
        wangge_server::Options { rate_limit: 2, rate_burst: 5, ..wangge_server::Options::default() },
    );
    let url = format!("{}/api/v1/meta", s.base);
    // The token is made before the anonymous budget is spent (login counts against it too).
    let token = login(&s.base, "leader1");
    let statuses: Vec<u16> = (0..12).map(|_| get_status(&url, None).0).collect();
    let ok = statuses.iter().filter(|&&c| c == 200).count();
    // A burst of 5 (less the login), then 2 per second: a dozen quick requests cannot all pass.
    assert!((3..=8).contains(&ok), "{statuses:?}");
    let (status, retry, body) = get_status(&url, None);
    assert_eq!(status, 429, "{body}");
    assert!(retry.unwrap().parse::<u64>().unwrap() >= 1);
    let err: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(err["error"]["code"], "TooManyRequests");
    // Another client (a signed-in user) still has its own budget.
    assert_eq!(get_status(&url, Some(&token)).0, 200);
    // The budget refills.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    assert_eq!(get_status(&url, None).0, 200);

    // /metrics counts by route template and status, and the refusals.
    let (status, _, text) = get_status(&format!("{}/metrics", s.base), None);
    assert_eq!(status, 200);
    let count = |needle: &str| -> f64 {
        text.lines()
            .filter(|l| l.starts_with("wangge_http_requests_total{") && l.contains(needle))
            .map(|l| l.rsplit(' ').next().unwrap().parse::<f64>().unwrap())
            .sum()
    };
    let served_ok = ok as f64 + 2.0;
    assert_eq!(count(r#"route="/api/v1/meta",status="200""#), served_ok, "{text}");
    let limited: f64 = text
        .lines()
        .filter(|l| l.starts_with("wangge_http_rate_limited_total"))
        .map(|l| l.rsplit(' ').next().unwrap().parse::<f64>().unwrap())
        .sum();
    assert_eq!(limited, (12 - ok + 1) as f64, "{text}");
    assert!(text.contains("wangge_http_request_duration_seconds_bucket"));
}

#[test]
fn grid_ids_do_not_become_metric_labels() {
    let s = start_with("sqlite", wangge_server::Options { rate_limit: 0, ..wangge_server::Options::default() });
    for id in ["a1", "b2", "c3"] {
        call("GET", &format!("{}/api/v1/grids/{id}/workers", s.base), None, None);
    }
    let (_, _, text) = get_status(&format!("{}/metrics", s.base), None);
    assert!(text.contains(r#"route="/api/v1/grids/{id}/workers""#), "{text}");
    assert!(!text.contains("b2"));
}
