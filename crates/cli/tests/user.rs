//! `wangge user add|list` and `wangge workers import|show`, then signing in to a real `wangge serve`.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

fn wangge(db: &str, args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wangge"))
        .args(args)
        .env("DATABASE_URL", db)
        .env_remove("WANGGE_PASSWORD")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(s) = stdin {
        input.write_all(s.as_bytes()).unwrap();
    }
    drop(input);
    let out = child.wait_with_output().unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

fn post(url: &str, body: &str) -> (u16, serde_json::Value) {
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let mut resp = agent.post(url).header("Content-Type", "application/json").send(body).unwrap();
    let status = resp.status().as_u16();
    (status, serde_json::from_str(&resp.body_mut().read_to_string().unwrap()).unwrap())
}

#[test]
fn users_and_workers_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/cli.db", dir.path().display());

    let (ok, out, err) =
        wangge(&db, &["user", "add", "alice", "--role", "planner", "--password-stdin"], Some("pw 1\n"));
    assert!(ok, "{err}");
    assert!(out.contains("added user alice (planner)"), "{out}");
    let (ok, _, err) = wangge(&db, &["user", "add", "bob", "--role", "leader", "--password", "pw2"], None);
    assert!(ok, "{err}");
    let (ok, _, err) = wangge(&db, &["user", "add", "alice", "--role", "leader", "--password", "x"], None);
    assert!(!ok && err.contains("already exists"), "{err}");
    let (ok, _, err) = wangge(&db, &["user", "add", "carol", "--role", "admin", "--password", "x"], None);
    assert!(!ok && err.contains("resident, leader, planner"), "{err}");
    let (ok, _, err) = wangge(&db, &["user", "add", "carol", "--role", "leader"], None);
    assert!(!ok && err.contains("--password-stdin"), "{err}");
    let (ok, out, _) = wangge(&db, &["user", "list"], None);
    assert!(ok);
    let lines: Vec<String> = out.lines().map(|l| l.split('\t').take(2).collect::<Vec<_>>().join(" ")).collect();
    assert_eq!(lines, ["alice planner", "bob leader"]);

    let csv = dir.path().join("workers.csv");
    std::fs::write(&csv, "grid_id,name,phone,role,valid_from\ng1,张三,13800000001,专职网格员,2026-01-01\ng1,李四,13800000002,兼职网格员,\ng2,王五,13800000003,专职网格员,\n").unwrap();
    let (ok, out, err) = wangge(&db, &["workers", "import", csv.to_str().unwrap()], None);
    assert!(ok, "{err}");
    assert!(out.contains("grid g1: 2 worker(s), version 1") && out.contains("2 grid(s) set"), "{out}");
    let (ok, out, _) = wangge(&db, &["workers", "show", "g1"], None);
    assert!(ok);
    let hist: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(hist[0]["valid_from"], "2026-01-01");
    assert_eq!(hist[0]["workers"][1]["name"], "李四");
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "grid_id,name,phone,role\ng1,,1,x\n").unwrap();
    let (ok, _, err) = wangge(&db, &["workers", "import", bad.to_str().unwrap()], None);
    assert!(!ok && err.contains("line 2"), "{err}");

    // The user signs in to the server.
    let mut child = Command::new(env!("CARGO_BIN_EXE_wangge"))
        .args(["serve", "--bind", "127.0.0.1:0", "--web", "/nonexistent-web-dir"])
        .env("DATABASE_URL", &db)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let base = line.trim().strip_prefix("wangge listening on ").unwrap().to_string();
    let (status, body) = post(&format!("{base}/api/v1/login"), r#"{"name":"alice","password":"pw 1"}"#);
    let (status2, _) = post(&format!("{base}/api/v1/login"), r#"{"name":"alice","password":"pw 1\n"}"#);
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["role"], "planner");
    assert_eq!(status2, 401);
}
