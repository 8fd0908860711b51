//! `wangge serve` as a real process: health, GeoJSON by bbox, coordinate systems, errors.

mod common;

use common::serve;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use wangge_testkit::geodata;

fn get(url: &str) -> (u16, serde_json::Value) {
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let mut resp = agent.get(url).call().expect("request");
    let status = resp.status().as_u16();
    let body = resp.body_mut().read_to_string().expect("body");
    (status, serde_json::from_str(&body).unwrap_or(serde_json::Value::String(body)))
}

fn coords_of(f: &serde_json::Value) -> Vec<(f64, f64)> {
    fn walk(v: &serde_json::Value, out: &mut Vec<(f64, f64)>) {
        match v.as_array() {
            Some(a) if a.len() >= 2 && a[0].is_number() => {
                out.push((a[0].as_f64().unwrap_or(f64::NAN), a[1].as_f64().unwrap_or(f64::NAN)))
            }
            Some(a) => a.iter().for_each(|x| walk(x, out)),
            None => {}
        }
    }
    let mut out = Vec::new();
    walk(&f["geometry"]["coordinates"], &mut out);
    out
}

#[test]
fn the_server_answers_health_and_layers_by_bbox() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite://{}", tmp.path().join("s.db").display());
    let st = Command::new(env!("CARGO_BIN_EXE_wangge"))
        .args(["import", geodata("beijing/haidian-liudaokou.osm.pbf").to_str().expect("path")])
        .env("DATABASE_URL", &db)
        .output()
        .expect("import");
    assert!(st.status.success(), "{}", String::from_utf8_lossy(&st.stderr));
    let s = serve(&db);

    let (code, body) = get(&format!("{}/healthz", s.base));
    assert_eq!((code, body["status"].as_str()), (200, Some("ok")));

    let (code, meta) = get(&format!("{}/api/v1/meta", s.base));
    assert_eq!(code, 200);
    let bbox: Vec<f64> = meta["bbox"].as_array().expect("bbox").iter().filter_map(|v| v.as_f64()).collect();
    assert_eq!(bbox.len(), 4);
    assert!(bbox[0] < 116.36 && bbox[2] > 116.34 && bbox[1] < 40.0 && bbox[3] > 40.0, "{bbox:?}");
    assert_eq!(meta["categories"].as_array().map(Vec::len), Some(17));

    // A small box in the middle of the sample: every building returned must touch it, and the
    // whole-city answer must hold more.
    let q = "116.348,39.999,116.356,40.005";
    let (code, fc) = get(&format!("{}/api/v1/buildings?bbox={q}", s.base));
    assert_eq!(code, 200);
    let feats = fc["features"].as_array().expect("features");
    assert!(!feats.is_empty());
    for f in feats {
        let c = coords_of(f);
        let (x0, x1) = c.iter().fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p.0), b.max(p.0)));
        let (y0, y1) = c.iter().fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p.1), b.max(p.1)));
        assert!(x1 >= 116.348 && x0 <= 116.356 && y1 >= 39.999 && y0 <= 40.005, "{} outside the bbox", f["id"]);
        // Anonymous callers are residents: no household numbers (issue 5, roles and privacy).
        let props = f["properties"].as_object().expect("properties");
        assert!(props.keys().all(|k| !k.starts_with("households") && k != "units"), "{props:?}");
    }
    let (_, all) = get(&format!("{}/api/v1/buildings", s.base));
    assert!(all["features"].as_array().map_or(0, Vec::len) > feats.len());

    // The same query in GCJ-02: the answer's coordinates are the WGS84 ones shifted by the GCJ offset.
    let (code, fac) = get(&format!("{}/api/v1/facilities", s.base));
    assert_eq!(code, 200);
    let first = &fac["features"][0];
    let (lon, lat) = coords_of(first)[0];
    // (the conversion itself is checked against published reference points in wangge-core)
    let (glon, glat) = wangge_core::chinacoords::wgs84_to_gcj02(lon, lat);
    let gb = format!("{},{},{},{}", glon - 0.0001, glat - 0.0001, glon + 0.0001, glat + 0.0001);
    let (_, gfac) = get(&format!("{}/api/v1/facilities?coords=gcj02&bbox={gb}", s.base));
    let hit = gfac["features"].as_array().expect("features").iter().find(|f| f["id"] == first["id"]).expect("found");
    let (hx, hy) = coords_of(hit)[0];
    assert!((hx - glon).abs() < 1e-6 && (hy - glat).abs() < 1e-6, "({hx},{hy}) vs ({glon},{glat})");

    let (code, err) = get(&format!("{}/api/v1/buildings?bbox=1,2,3", s.base));
    assert_eq!(code, 400);
    assert_eq!(err["error"]["code"], "BadParameter");
    assert!(err["error"]["message"].as_str().unwrap_or("").contains("bbox"));
    let (code, _) = get(&format!("{}/api/v1/buildings?coords=mars", s.base));
    assert_eq!(code, 400);
}

/// Starts `wangge serve` with extra arguments and environment; returns the child and its first
/// line of output (the ready line, or nothing when it failed) and its error output when it exited.
fn spawn(args: &[&str], env: &[(&str, &str)]) -> (Child, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_wangge"));
    cmd.args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("starting wangge");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("reading");
    (child, line)
}

#[test]
fn a_config_file_sets_what_the_command_line_and_environment_leave_unset() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite://{}/c.db", tmp.path().display());
    let config = tmp.path().join("wangge.toml");
    // The file picks a free port (the default is 8080) and the store; the rate limit is read too.
    std::fs::write(&config, format!("db = \"{db}\"\n[serve]\nbind = \"127.0.0.1:0\"\nrate_limit = 0\n"))
        .expect("write");
    let cfg = config.to_str().expect("utf-8 path");
    let (mut child, line) = spawn(&["serve", "--config", cfg, "--web", "/nonexistent"], &[]);
    let base =
        line.trim().strip_prefix("wangge listening on ").unwrap_or_else(|| panic!("unexpected: {line}")).to_string();
    assert!(!base.ends_with(":8080"), "{base}");
    assert_eq!(get(&format!("{base}/healthz")).0, 200);
    let _ = child.kill();
    let _ = child.wait();

    // The environment wins over the file.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let bind = format!("127.0.0.1:{port}");
    let (mut child, line) =
        spawn(&["serve", "--web", "/nonexistent"], &[("WANGGE_CONFIG", cfg), ("WANGGE_BIND", &bind)]);
    assert_eq!(line.trim(), format!("wangge listening on http://{bind}"));
    let _ = child.kill();
    let _ = child.wait();

    // A key the file may not have is refused, naming the file and the key; nothing is served.
    std::fs::write(&config, "[serve]\nbind = \"127.0.0.1:0\"\nrate_limt = 5\n").expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_wangge")).args(["serve", "--config", cfg]).output().expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("wangge.toml") && err.contains("rate_limt"), "{err}");
    assert!(out.stdout.is_empty());
}
