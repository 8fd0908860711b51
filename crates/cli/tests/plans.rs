//! Store mode: `wangge partition --community all` saves a draft plan; `wangge plans` lists it;
//! `wangge plan activate` makes it the active one; a re-run starts from the active plan. The same
//! on the embedded store and on PostGIS.

use std::process::Command;
use wangge_testkit::{fresh_pg_database_blocking, geodata};

fn ok(db: &str, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_wangge")).args(args).env("DATABASE_URL", db).output().expect("run");
    assert!(out.status.success(), "wangge {args:?}:\n{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).to_string()
}

fn partition_report(db: &str, dir: &std::path::Path, tag: &str) -> String {
    let rep = dir.join(format!("{tag}.json"));
    ok(
        db,
        &[
            "partition",
            "--community",
            "all",
            "--min",
            "300",
            "--max",
            "500",
            "--plan",
            tag,
            "--report",
            rep.to_str().expect("p"),
        ],
    );
    std::fs::read_to_string(rep).expect("report")
}

#[test]
fn plans_are_saved_listed_and_activated_in_both_stores() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let lite = format!("sqlite://{}", tmp.path().join("p.db").display());
    let pg = fresh_pg_database_blocking("cli_plans");
    let beijing = geodata("beijing/haidian-liudaokou.osm.pbf");
    let mut reports = Vec::new();
    for db in [&lite, &pg] {
        ok(db, &["import", beijing.to_str().expect("path")]);
        let out = ok(db, &["partition", "--community", "all", "--min", "300", "--max", "500", "--plan", "first"]);
        assert!(out.contains("saved draft plan `first` (version 1)"), "{out}");
        let list = ok(db, &["plans"]);
        assert!(list.contains("first") && list.contains("draft"), "{list}");
        ok(db, &["plan", "activate", "first"]);
        let list = ok(db, &["plans"]);
        assert!(list.lines().any(|l| l.starts_with("first") && l.contains("active")), "{list}");
        // A second plan starts from the active one: with nothing changed, nothing moves.
        let report: serde_json::Value =
            serde_json::from_str(&partition_report(db, tmp.path(), "second")).expect("report json");
        let r = &report["all"];
        assert_eq!(r["households_moved"].as_u64(), Some(0), "{r}");
        assert_eq!(r["within_quota_share"].as_f64(), Some(1.0), "{r}");
        assert_eq!(r["contiguous_share"].as_f64(), Some(1.0), "{r}");
        let mut r = r.clone();
        r.as_object_mut().expect("object").remove("elapsed_ms");
        reports.push(r);
        let bad = Command::new(env!("CARGO_BIN_EXE_wangge"))
            .args(["plan", "activate", "nope"])
            .env("DATABASE_URL", db)
            .output()
            .expect("run");
        assert!(!bad.status.success());
        assert!(String::from_utf8_lossy(&bad.stderr).contains("nope"));
    }
    assert_eq!(reports[0], reports[1], "the embedded store and PostGIS disagree");
}
