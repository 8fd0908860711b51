//! Users, tokens and grid workers: one suite, run against the embedded SQLite store and PostGIS.
//!
//! PostGIS tests need `WANGGE_TEST_PG_URL` (see `scripts/pg-cluster.sh`); without it they fail.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;
use wangge_store::{GridWorker, Role, Store, StoreError};

async fn sqlite() -> (Arc<dyn Store>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = wangge_store::open(&format!("sqlite://{}/u.db", dir.path().display())).await.unwrap();
    (store, dir)
}

async fn postgres() -> Arc<dyn Store> {
    let url = wangge_testkit::fresh_pg_database("users").await;
    let store = wangge_store::open(&url).await.unwrap();
    assert_eq!(store.backend(), "postgres");
    store
}

fn is_invalid(r: &Result<impl std::fmt::Debug, StoreError>, needle: &str) -> bool {
    matches!(r, Err(StoreError::Invalid { reason, .. }) if reason.contains(needle))
}

async fn users_and_tokens(s: &dyn Store) {
    let u = s.add_user("王芳", "correct horse", Role::Planner).await.unwrap();
    assert_eq!((u.name.as_str(), u.role), ("王芳", Role::Planner));
    assert!(u.created_at.ends_with('Z') && u.created_at.len() == 20, "{}", u.created_at);
    s.add_user("li", "pw", Role::Leader).await.unwrap();

    // Refused, nothing written.
    assert!(is_invalid(&s.add_user("王芳", "other", Role::Resident).await, "already exists"));
    assert!(is_invalid(&s.add_user("", "pw", Role::Resident).await, "1 to 64"));
    assert!(is_invalid(&s.add_user(" x", "pw", Role::Resident).await, "spaces"));
    assert!(is_invalid(&s.add_user("x", "", Role::Resident).await, "empty password"));
    let names: Vec<_> = s.users().await.unwrap().into_iter().map(|u| (u.name, u.role)).collect();
    assert_eq!(names, [("li".to_string(), Role::Leader), ("王芳".to_string(), Role::Planner)]);

    // Wrong name or password: no session.
    assert!(s.login("王芳", "wrong", Duration::from_secs(60)).await.unwrap().is_none());
    assert!(s.login("nobody", "correct horse", Duration::from_secs(60)).await.unwrap().is_none());

    let a = s.login("王芳", "correct horse", Duration::from_secs(3600)).await.unwrap().unwrap();
    let b = s.login("王芳", "correct horse", Duration::from_secs(3600)).await.unwrap().unwrap();
    assert_ne!(a.token, b.token);
    assert_eq!(a.token.len(), 64);
    assert_eq!(a.user, u);
    assert!(a.expires_at > u.created_at, "{} vs {}", a.expires_at, u.created_at);
    assert_eq!(s.token_user(&a.token).await.unwrap(), Some(u.clone()));
    assert_eq!(s.token_user("0000").await.unwrap(), None);

    // Revoking one token leaves the other.
    assert!(s.revoke_token(&a.token).await.unwrap());
    assert!(!s.revoke_token(&a.token).await.unwrap());
    assert_eq!(s.token_user(&a.token).await.unwrap(), None);
    assert_eq!(s.token_user(&b.token).await.unwrap().map(|u| u.role), Some(Role::Planner));

    // Expiry: a one-second token stops working.
    let short = s.login("li", "pw", Duration::from_secs(1)).await.unwrap().unwrap();
    assert_eq!(s.token_user(&short.token).await.unwrap().map(|u| u.role), Some(Role::Leader));
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(s.token_user(&short.token).await.unwrap(), None);
}

async fn grid_workers(s: &dyn Store) {
    let w = |n: &str, p: &str| GridWorker { name: n.into(), phone: p.into(), role: "专职网格员".into() };
    assert_eq!(s.grid_workers("g1").await.unwrap(), None);
    assert!(s.grid_worker_history("g1").await.unwrap().is_empty());

    let one = s.set_grid_workers("g1", &[w("张三", "13800000001")], Some("2026-01-01"), "planner-a").await.unwrap();
    assert_eq!(one.version, 1);
    let two = s
        .set_grid_workers("g1", &[w("李四", "13800000002"), w("王五", "")], Some("2026-06-01"), "planner-b")
        .await
        .unwrap();
    assert_eq!(two.version, 2);
    s.set_grid_workers("g2", &[w("赵六", "1")], Some("2026-01-01"), "p").await.unwrap();

    let now = s.grid_workers("g1").await.unwrap().unwrap();
    assert_eq!(now, two);
    assert_eq!(now.workers.iter().map(|w| w.name.as_str()).collect::<Vec<_>>(), ["李四", "王五"]);
    let hist = s.grid_worker_history("g1").await.unwrap();
    assert_eq!(hist, vec![one, two]);

    // An empty set is a set: the grid has nobody now, history keeps the rest.
    let empty = s.set_grid_workers("g1", &[], None, "p").await.unwrap();
    assert_eq!(empty.valid_from, empty.set_at, "valid_from defaults to the time of storing");
    assert_eq!(s.grid_workers("g1").await.unwrap(), Some(empty));
    assert_eq!(s.grid_worker_history("g1").await.unwrap().len(), 3);

    assert!(is_invalid(&s.set_grid_workers("", &[], Some("2026"), "p").await, "grid id"));
    assert!(is_invalid(&s.set_grid_workers("g1", &[w(" ", "1")], Some("2026"), "p").await, "worker 1"));
    assert!(is_invalid(&s.set_grid_workers("g1", &[], Some(" "), "p").await, "valid_from"));
    assert_eq!(s.grid_worker_history("g1").await.unwrap().len(), 3);
}

#[tokio::test]
async fn sqlite_users_and_tokens() {
    let (s, _d) = sqlite().await;
    users_and_tokens(&*s).await;
}

#[tokio::test]
async fn postgres_users_and_tokens() {
    users_and_tokens(&*postgres().await).await;
}

#[tokio::test]
async fn sqlite_grid_workers() {
    let (s, _d) = sqlite().await;
    grid_workers(&*s).await;
}

#[tokio::test]
async fn postgres_grid_workers() {
    grid_workers(&*postgres().await).await;
}

/// Users and workers survive reopening the embedded file.
#[tokio::test]
async fn sqlite_users_persist() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/p.db", dir.path().display());
    let token = {
        let s = wangge_store::open(&url).await.unwrap();
        s.add_user("a", "pw", Role::Leader).await.unwrap();
        s.login("a", "pw", Duration::from_secs(600)).await.unwrap().unwrap().token
    };
    let s = wangge_store::open(&url).await.unwrap();
    assert_eq!(s.token_user(&token).await.unwrap().map(|u| u.name), Some("a".into()));
}
