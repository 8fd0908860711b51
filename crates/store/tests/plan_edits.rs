//! Versioned plan edits (compare-and-set), jobs and the audit log, against both stores.
//!
//! PostGIS tests need `WANGGE_TEST_PG_URL` (an admin URL of the throwaway cluster, see
//! `scripts/pg-cluster.sh`); without it they fail.
#![allow(clippy::unwrap_used)]

use geo::{LineString, Polygon};
use serde_json::json;
use std::sync::Arc;
use wangge_core::plan::{PlanAssignment, PlanGrid, PlanRecord, PlanStatus};
use wangge_store::{JobStatus, Store, StoreError};

async fn open(backend: &str) -> (Arc<dyn Store>, String, Option<tempfile::TempDir>) {
    if backend == "postgres" {
        let url = wangge_testkit::fresh_pg_database("store_edits").await;
        (wangge_store::open(&url).await.unwrap(), url, None)
    } else {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/edits.db", dir.path().display());
        (wangge_store::open(&url).await.unwrap(), url, Some(dir))
    }
}

fn square(x: f64, y: f64, d: f64) -> Polygon<f64> {
    Polygon::new(LineString::from(vec![(x, y), (x + d, y), (x + d, y + d), (x, y + d), (x, y)]), vec![])
}

fn plan(name: &str, grids: &[(&str, &[&str])]) -> PlanRecord {
    PlanRecord {
        name: name.into(),
        status: PlanStatus::Draft,
        version: 0,
        quota_min: 1,
        quota_max: 10,
        quota_target: 5,
        metrics: json!({"note": name}),
        assignments: grids
            .iter()
            .flat_map(|(g, bs)| {
                bs.iter().map(|b| PlanAssignment { building: b.to_string(), unit: None, grid: g.to_string() })
            })
            .collect(),
        grids: grids
            .iter()
            .enumerate()
            .map(|(i, (g, bs))| PlanGrid {
                grid: g.to_string(),
                community: "c1".into(),
                households: bs.len() as u64,
                buildings: bs.len() as u32,
                area: Some(square(114.0 + i as f64 * 0.01, 30.0, 0.01)),
            })
            .collect(),
        created_at: String::new(),
    }
}

async fn compare_and_set(backend: &str) {
    let (store, _url, _dir) = open(backend).await;
    let v1 = store.save_plan(&plan("d", &[("g1", &["a", "b"]), ("g2", &["c"])])).await.unwrap();
    assert_eq!(v1.version, 1);

    // Based on the stored version: written, version bumped, edit appended.
    let moved = plan("d", &[("g1", &["a"]), ("g2", &["b", "c"])]);
    let (v, seq) = store.commit_plan_edit(&moved, 1, "planner1", &json!({"op": "move", "b": "b"})).await.unwrap();
    assert_eq!((v, seq), (2, 1));
    let now = store.load_plan("d").await.unwrap().unwrap();
    assert_eq!(now.version, 2);
    assert_eq!(now.assignments, moved.assignments);
    assert_eq!(now.grids.iter().map(|g| g.households).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(now.metrics, json!({"note": "d"}));
    assert_eq!((now.status, now.created_at.clone()), (PlanStatus::Draft, v1.created_at.clone()));

    // Stale: nothing written.
    let other = plan("d", &[("g1", &["a", "b", "c"])]);
    match store.commit_plan_edit(&other, 1, "planner2", &json!({"op": "x"})).await {
        Err(StoreError::Stale { name, expected, current }) => {
            assert_eq!((name.as_str(), expected, current), ("d", 1, 2))
        }
        other => panic!("expected Stale, got {other:?}"),
    }
    assert_eq!(store.load_plan("d").await.unwrap().unwrap(), now);
    assert_eq!(store.plan_edits("d").await.unwrap().len(), 1);

    // No such plan; an invalid plan (nothing written either).
    let ghost = plan("ghost", &[("g1", &["a"])]);
    assert!(matches!(
        store.commit_plan_edit(&ghost, 1, "p", &json!({})).await,
        Err(StoreError::NotFound { what: "plan", .. })
    ));
    let mut twice = plan("d", &[("g1", &["a"])]);
    twice.grids.push(twice.grids[0].clone());
    assert!(matches!(store.commit_plan_edit(&twice, 2, "p", &json!({})).await, Err(StoreError::Invalid { .. })));
    assert_eq!(store.load_plan("d").await.unwrap().unwrap(), now);

    // Many writers on the same version at once: exactly one wins, every other is told the new version.
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                let p = plan("d", &[("g1", &["a", "b", "c"][..(i % 3) + 1])]);
                store.commit_plan_edit(&p, 2, &format!("writer{i}"), &json!({ "writer": i })).await
            })
        })
        .collect();
    let mut wins = Vec::new();
    for (i, t) in tasks.into_iter().enumerate() {
        match t.await.unwrap() {
            Ok(v) => wins.push((i, v)),
            Err(StoreError::Stale { current, .. }) => assert_eq!(current, 3),
            Err(e) => panic!("writer {i}: {e}"),
        }
    }
    assert_eq!(wins.len(), 1, "{wins:?}");
    let (winner, (v, seq)) = wins[0];
    assert_eq!((v, seq), (3, 2));
    let edits = store.plan_edits("d").await.unwrap();
    assert_eq!(edits.len(), 2);
    assert_eq!(edits[1].2, format!("writer{winner}"));
    assert_eq!(edits[1].3, json!({ "writer": winner }));
    let p = store.load_plan("d").await.unwrap().unwrap();
    assert_eq!(p.assignments.len(), (winner % 3) + 1, "the winner's plan is the one stored");
}

async fn jobs_and_audit(backend: &str) {
    let (store, url, dir) = open(backend).await;
    let a = store.create_job("partition", &json!({"kind": "partition", "min": 1}), "planner1").await.unwrap();
    let b = store.create_job("circles", &json!({}), "planner1").await.unwrap();
    assert!(b.id > a.id);
    assert_eq!((a.status, a.progress, a.result.clone()), (JobStatus::Running, 0.0, None));
    assert!(a.created_at.ends_with('Z') && a.finished_at.is_none());
    assert!(matches!(store.create_job("", &json!({}), "p").await, Err(StoreError::Invalid { .. })));

    assert!(store.job_progress(a.id, 0.5, "half").await.unwrap());
    assert!(store.job_progress(a.id, 7.0, "clamped").await.unwrap());
    assert_eq!(store.job(a.id).await.unwrap().unwrap().progress, 1.0);
    assert!(store.job_progress(a.id, 0.25, "a quarter").await.unwrap());
    let result = json!({"plan": "d", "grids": 3});
    assert!(store.finish_job(a.id, JobStatus::Done, "done", Some(&result)).await.unwrap());
    // Finished once: later ends and progress are refused.
    assert!(!store.finish_job(a.id, JobStatus::Failed, "late", None).await.unwrap());
    assert!(!store.job_progress(a.id, 0.1, "late").await.unwrap());
    assert!(matches!(store.finish_job(b.id, JobStatus::Running, "", None).await, Err(StoreError::Invalid { .. })));
    let done = store.job(a.id).await.unwrap().unwrap();
    assert_eq!((done.status, done.progress, done.result.clone()), (JobStatus::Done, 1.0, Some(result.clone())));
    assert!(done.finished_at.unwrap().ends_with('Z'));
    assert_eq!(done.params, json!({"kind": "partition", "min": 1}));
    assert!(store.job(999).await.unwrap().is_none());

    // A restart: jobs left running fail, finished ones stay.
    drop(store);
    let store = wangge_store::open(&url).await.unwrap();
    assert_eq!(store.fail_running_jobs("interrupted by a restart").await.unwrap(), 1);
    assert_eq!(store.fail_running_jobs("again").await.unwrap(), 0);
    let jobs = store.jobs().await.unwrap();
    assert_eq!(
        jobs.iter().map(|j| (j.id, j.status)).collect::<Vec<_>>(),
        [(b.id, JobStatus::Failed), (a.id, JobStatus::Done)]
    );
    assert_eq!(jobs[0].message, "interrupted by a restart");
    assert_eq!(jobs[1].result, Some(result));

    // The audit log.
    let s1 = store.append_audit("planner1", "building:b1", &json!({"households": [3, 5]})).await.unwrap();
    let s2 = store.append_audit("planner2", "facility:f1", &json!({"deleted": true})).await.unwrap();
    assert!(s2 > s1);
    assert!(matches!(store.append_audit("p", "", &json!({})).await, Err(StoreError::Invalid { .. })));
    let all = store.audit(None).await.unwrap();
    assert_eq!(all.iter().map(|e| e.target.as_str()).collect::<Vec<_>>(), ["building:b1", "facility:f1"]);
    assert!(all[0].at.ends_with('Z'));
    let fac = store.audit(Some("facility:")).await.unwrap();
    assert_eq!((fac.len(), fac[0].author.as_str(), fac[0].change.clone()), (1, "planner2", json!({"deleted": true})));
    drop(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn plan_edits_are_compare_and_set_on_the_embedded_store() {
    compare_and_set("sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn plan_edits_are_compare_and_set_on_postgis() {
    compare_and_set("postgres").await;
}

#[tokio::test]
async fn jobs_and_the_audit_log_survive_a_reopen_on_the_embedded_store() {
    jobs_and_audit("sqlite").await;
}

#[tokio::test]
async fn jobs_and_the_audit_log_survive_a_reopen_on_postgis() {
    jobs_and_audit("postgres").await;
}
