//! `GET /api/v1/openapi.json` documents exactly the routes the server answers.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use std::collections::BTreeSet;
use wangge_server::routes::API_ROUTES;

#[test]
fn the_openapi_document_matches_the_routes() {
    let s = start("sqlite");
    let (status, doc) = call("GET", &format!("{}/api/v1/openapi.json", s.base), None, None);
    assert_eq!(status, 200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."), "{doc}");
    assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");

    let documented: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| item.as_object().unwrap().keys().map(move |m| (m.to_uppercase(), path.clone())))
        .collect();
    let listed: BTreeSet<(String, String)> = API_ROUTES.iter().map(|(m, p)| (m.to_string(), p.to_string())).collect();
    assert_eq!(documented, listed, "the document and the route list differ");

    // Every listed route is served (its own answer, not the router's "no route" or 405)...
    for (method, path) in API_ROUTES {
        let url = format!("{}{}", s.base, path.replace("{id}", "some-grid"));
        let (status, body) = call(method, &url, None, if *method == "GET" { None } else { Some("{}") });
        assert_ne!(status, 405, "{method} {path}: {body}");
        assert_ne!(body["error"]["code"], "NoRoute", "{method} {path}: {body}");
        assert!(status < 500, "{method} {path}: {status} {body}");
        // Every operation says what it answers.
        let op = &doc["paths"][*path][method.to_lowercase()];
        let responses = op["responses"].as_object().unwrap();
        assert!(responses.keys().any(|k| k.starts_with('2')), "{method} {path} documents no success answer");
    }
    // Operation ids are unique (client generators key their functions by them).
    let mut ids: Vec<&str> = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|item| item.as_object().unwrap().values().filter_map(|op| op["operationId"].as_str()))
        .collect();
    let n = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), n, "repeated operation ids");
    // ...and paths that are not listed are not: a JSON 404 naming the path.
    for path in ["/api/v1/nothing", "/api/v1/grids", "/api/v2/meta"] {
        let (status, body) = call("GET", &format!("{}{path}", s.base), None, None);
        assert_eq!((status, body["error"]["code"].as_str()), (404, Some("NoRoute")), "{path}: {body}");
    }
}
