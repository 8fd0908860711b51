//! Roles route by route, in both stores: every route in `API_ROUTES` is called anonymously and as a
//! resident, a leader and a planner, and must refuse exactly the callers below its role (401 for
//! anonymous callers, 403 for signed-in ones) and let the others through. A route missing from the
//! table fails the test, so a new route cannot ship without a decision on who may call it.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use wangge_server::routes::API_ROUTES;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Needs {
    Anyone,
    Leader,
    Planner,
}

fn needs(method: &str, path: &str) -> Needs {
    use Needs::*;
    match (method, path) {
        ("GET", p) if p.ends_with("/workers/history") => Leader,
        ("GET", "/api/v1/coverage" | "/api/v1/uncovered" | "/api/v1/sites") => Leader,
        ("GET", "/api/v1/plans/{name}/assignment" | "/api/v1/plans/{name}/diff" | "/api/v1/plans/{name}/edits") => {
            Leader
        }
        ("GET", p) if p.starts_with("/api/v1/jobs") => Leader,
        ("GET", "/api/v1/audit") => Leader,
        ("GET", _) => Anyone,
        ("POST", "/api/v1/login") => Anyone,
        ("POST" | "PUT" | "DELETE", _) => Planner,
        (m, p) => panic!("{m} {p}: no role decided for this route; add it to the table in tests/roles.rs"),
    }
}

/// The path with its parameters filled in with ids of the test city.
fn concrete(path: &str) -> String {
    path.replace("/plans/{name}", "/plans/old")
        .replace("/grids/{id}", "/grids/c1-01")
        .replace("/buildings/{id}", "/buildings/b1")
        .replace("/facilities/{id}", "/facilities/no-such-facility")
        .replace("/compounds/{id}", "/compounds/no-such-compound")
        .replace("/jobs/{id}", "/jobs/999999")
        .replace("{layer}/{z}/{x}/{y}.mvt", "buildings/14/13500/6560.mvt")
        .replace("{layer}.json", "buildings.json")
        + if path.ends_with("/diff") { "?against=p2026" } else { "" }
}

fn matrix(backend: &str) {
    let s = start(backend);
    let b = &s.base;
    let resident = login(b, "resident1");
    let leader = login(b, "leader1");
    let planner = login(b, "planner1");
    let callers: [(&str, Option<&str>, Needs); 4] = [
        ("anonymous", None, Needs::Anyone),
        ("resident", Some(&resident), Needs::Anyone),
        ("leader", Some(&leader), Needs::Leader),
        ("planner", Some(&planner), Needs::Planner),
    ];
    let mut checked = 0;
    for (method, path) in API_ROUTES {
        // Signing out is checked last (it revokes the token).
        if *path == "/api/v1/logout" {
            continue;
        }
        let need = needs(method, path);
        let url = format!("{b}{}", concrete(path));
        for (who, token, has) in &callers {
            // A body that no route accepts whole: allowed callers get a 4xx about the body, never a change.
            let body = (*method != "GET" && *method != "DELETE").then_some("{}");
            let (status, answer) = call(method, &url, *token, body);
            let refused = status == 401 || status == 403;
            let allowed = *has >= need;
            if allowed {
                assert!(!refused, "{who} {method} {path}: refused with {status} {answer}");
                assert!(status < 500, "{who} {method} {path}: {status} {answer}");
            } else {
                let want = if token.is_none() { 401 } else { 403 };
                assert_eq!(status, want, "{who} {method} {path}: {answer}");
                assert!(answer["error"]["message"].is_string(), "{who} {method} {path}: not a JSON error: {answer}");
            }
            checked += 1;
        }
    }
    assert!(checked >= 4 * (API_ROUTES.len() - 1));
    // Logout: anonymous 401; any signed-in caller may sign out.
    assert_eq!(call("POST", &format!("{b}/api/v1/logout"), None, None).0, 401);
    for t in [&resident, &leader, &planner] {
        assert_eq!(call("POST", &format!("{b}/api/v1/logout"), Some(t), None).0, 200);
    }
}

#[test]
fn sqlite_every_route_refuses_exactly_the_roles_below_it() {
    matrix("sqlite");
}

#[test]
fn postgres_every_route_refuses_exactly_the_roles_below_it() {
    matrix("postgres");
}
