//! The store contract: one suite, run against the embedded SQLite store and against PostGIS.
//!
//! PostGIS tests need a server: `export WANGGE_TEST_PG_URL=$(scripts/pg-cluster.sh start /tmp/wangge-pg)`
//! (an admin URL; every test creates its own database). Without it the PostGIS tests fail.
#![allow(clippy::unwrap_used)]

use geo::{Geometry, LineString, MultiPolygon, Point, Polygon, Rect};
use sqlx::Connection;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use wangge_core::plan::{PlanAssignment, PlanGrid, PlanRecord, PlanStatus};
use wangge_core::*;
use wangge_store::{ImportCommit, Store, StoreError};

// ---- fixtures ------------------------------------------------------------------------------

/// A store under test, with what keeps it alive and the URL to reopen it.
struct Fixture {
    store: Arc<dyn Store>,
    url: String,
    _dir: Option<tempfile::TempDir>,
}

async fn sqlite_fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/nested-not-needed.db", dir.path().display());
    let store = wangge_store::open(&url).await.unwrap();
    assert_eq!(store.backend(), "sqlite");
    Fixture { store, url, _dir: Some(dir) }
}

fn pg_admin_url() -> String {
    match std::env::var("WANGGE_TEST_PG_URL") {
        Ok(u) if !u.trim().is_empty() => u.trim().to_string(),
        _ => panic!(
            "WANGGE_TEST_PG_URL is not set: the PostGIS store tests need a server. Run\n    \
             export WANGGE_TEST_PG_URL=$(scripts/pg-cluster.sh start /tmp/wangge-pg)\n\
             then run the tests again (and `scripts/pg-cluster.sh stop /tmp/wangge-pg` afterwards)."
        ),
    }
}

/// `url` with its database name replaced by `db`.
fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_part = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{host_part}/{db}?{q}"),
        None => format!("{host_part}/{db}"),
    }
}

static DB_COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A fresh, empty database on the test server; returns its URL.
async fn fresh_pg_database() -> String {
    let admin = pg_admin_url();
    let name = format!(
        "wangge_test_{}_{}_{}",
        std::process::id(),
        DB_COUNTER.fetch_add(1, Ordering::SeqCst),
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos()
    );
    let mut conn = sqlx::PgConnection::connect(&admin)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to WANGGE_TEST_PG_URL ({e}); is the cluster running?"));
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.unwrap();
    conn.close().await.unwrap();
    with_database(&admin, &name)
}

async fn pg_fixture() -> Fixture {
    let url = fresh_pg_database().await;
    let store = wangge_store::open(&url).await.unwrap();
    assert_eq!(store.backend(), "postgres");
    Fixture { store, url, _dir: None }
}

// ---- test data -----------------------------------------------------------------------------

fn square(x: f64, y: f64, d: f64) -> Polygon<f64> {
    Polygon::new(LineString::from(vec![(x, y), (x + d, y), (x + d, y + d), (x, y + d), (x, y)]), vec![])
}

fn with_hole(x: f64, y: f64, d: f64) -> Polygon<f64> {
    let h = d / 4.0;
    Polygon::new(
        square(x, y, d).exterior().clone(),
        vec![LineString::from(vec![(x + h, y + h), (x + h, y + 2.0 * h), (x + 2.0 * h, y + 2.0 * h), (x + h, y + h)])],
    )
}

fn info(name: &str) -> DatasetInfo {
    DatasetInfo {
        name: name.into(),
        format: "geojson".into(),
        source: format!("/data/{name}"),
        sha256: format!("{:064x}", name.len()),
    }
}

fn building(id: &str, ds: &str, x: f64, y: f64) -> Building {
    Building {
        source_id: id.into(),
        dataset: ds.into(),
        shape: Shape::Footprint(MultiPolygon(vec![square(x, y, 0.0003)])),
        kind: "residential".into(),
        name: None,
        levels: None,
        households: Households::default(),
        units: vec![],
        compound: None,
        community: None,
        residential: true,
    }
}

fn node(id: &str, x: f64, y: f64) -> NetNode {
    NetNode { source_id: id.into(), location: Point::new(x, y) }
}

fn edge(id: &str, ds: &str, from: (&str, f64, f64), to: (&str, f64, f64)) -> NetEdge {
    NetEdge {
        source_id: id.into(),
        dataset: ds.into(),
        from: from.0.into(),
        to: to.0.into(),
        length_m: 123.456_789_012_345_6,
        highway: "footway".into(),
        name: Some("幸福路".into()),
        private: false,
        geometry: LineString::from(vec![(from.1, from.2), (to.1, to.2)]),
    }
}

/// A city with every kind of entity, all in dataset `ds`.
fn city(ds: &str) -> Layers {
    let d = ds.to_string();
    let mut b1 = building("osm:w1", ds, 114.300_000_000_000_01, 30.600_000_000_000_02);
    b1.shape =
        Shape::Footprint(MultiPolygon(vec![with_hole(114.3, 30.6, 0.001), square(114.302, 30.602, 1.0 / 3000.0)]));
    b1.name = Some("1号楼".into());
    b1.levels = Some(18);
    b1.households = Households::new(72, HouseholdSource::Register);
    b1.units = vec![Unit { label: "1单元".into(), households: 36 }, Unit { label: "2单元".into(), households: 36 }];
    b1.compound = Some("osm:w100".into());
    b1.community = Some("cn:420106001001".into());
    let mut b2 = building("osm:n2", ds, 0.0, 0.0);
    b2.shape = Shape::Point(Point::new(114.305_123_456_789, 30.605_987_654_321));
    b2.kind = "yes".into();
    b2.households = Households::new(17, HouseholdSource::EstimateFloorArea);
    b2.residential = false;
    let mut b3 = building("osm:w3", ds, 114.31, 30.61);
    b3.households = Households::new(u32::MAX, HouseholdSource::EstimatePopulationGrid);
    b3.levels = Some(u16::MAX);
    Layers {
        buildings: vec![b3, b1, b2],
        compounds: vec![Compound {
            source_id: "osm:w100".into(),
            dataset: d.clone(),
            name: Some("幸福小区".into()),
            area: MultiPolygon(vec![square(114.299, 30.599, 0.01)]),
            community: Some("cn:420106001001".into()),
        }],
        regions: vec![
            Region {
                source_id: "cn:420106001001".into(),
                dataset: d.clone(),
                level: RegionLevel::Community,
                name: "幸福社区".into(),
                code: Some("420106001001".into()),
                parent: Some("cn:420106001".into()),
                area: MultiPolygon(vec![square(114.29, 30.59, 0.05)]),
            },
            Region {
                source_id: "cn:420106001".into(),
                dataset: d.clone(),
                level: RegionLevel::Street,
                name: "积玉桥街道".into(),
                code: None,
                parent: None,
                area: MultiPolygon(vec![square(114.2, 30.5, 0.2), square(114.5, 30.5, 0.1)]),
            },
        ],
        facilities: vec![Facility {
            source_id: "osm:n9".into(),
            dataset: d.clone(),
            category: "kindergarten".into(),
            name: None,
            location: Point::new(114.303, 30.603),
        }],
        nodes: vec![node("osm:n20", 114.3, 30.6), node("osm:n21", 114.301, 30.6), node("osm:n22", 114.302, 30.601)],
        edges: vec![
            edge("osm:w7:0", ds, ("osm:n20", 114.3, 30.6), ("osm:n21", 114.301, 30.6)),
            NetEdge {
                private: true,
                name: None,
                ..edge("osm:w7:1", ds, ("osm:n21", 114.301, 30.6), ("osm:n22", 114.302, 30.601))
            },
        ],
        basemap: vec![
            BasemapFeature {
                source_id: "osm:w50".into(),
                dataset: d.clone(),
                kind: BasemapKind::Road,
                class: "primary".into(),
                name: Some("中山路".into()),
                geometry: Geometry::LineString(LineString::from(vec![(114.28, 30.58), (114.35, 30.62)])),
            },
            BasemapFeature {
                source_id: "osm:w51".into(),
                dataset: d.clone(),
                kind: BasemapKind::Water,
                class: "lake".into(),
                name: None,
                geometry: Geometry::Polygon(square(114.33, 30.63, 0.004)),
            },
            BasemapFeature {
                source_id: "osm:r52".into(),
                dataset: d.clone(),
                kind: BasemapKind::Park,
                class: "park".into(),
                name: None,
                geometry: Geometry::MultiPolygon(MultiPolygon(vec![square(114.34, 30.64, 0.002)])),
            },
        ],
        cells: vec![PopulationCell {
            source_id: "cell:1".into(),
            dataset: d.clone(),
            population: 1_234.567_890_123,
            area: Rect::new((114.3, 30.6), (114.309, 30.609)).to_polygon(),
        }],
        register: vec![
            RegisterEntry {
                building: "osm:w1".into(), unit: Some("2单元".into()), households: 36, dataset: d.clone()
            },
            RegisterEntry {
                building: "osm:w1".into(), unit: Some("1单元".into()), households: 36, dataset: d.clone()
            },
            RegisterEntry { building: "osm:n2".into(), unit: None, households: 17, dataset: d.clone() },
            RegisterEntry { building: "gone:1".into(), unit: None, households: 3, dataset: d },
        ],
    }
}

/// What the store must hold after `commits`, computed with the in-memory model.
fn expected(commits: &[&ImportCommit]) -> Layers {
    let mut l = Layers::default();
    for c in commits {
        for (info, layers) in &c.datasets {
            l.replace_dataset(&info.name, layers.clone());
        }
        for (id, h) in &c.households {
            for b in l.buildings.iter_mut().filter(|b| &b.source_id == id) {
                b.households = *h;
            }
        }
    }
    l.sort();
    l
}

fn commit_of(datasets: Vec<(DatasetInfo, Layers)>) -> ImportCommit {
    ImportCommit { datasets, households: vec![] }
}

/// Equal, and bit for bit (Debug prints the shortest exact form of every float, and tells -0.0 from 0.0).
fn assert_exact(got: &Layers, want: &Layers) {
    assert_eq!(got, want);
    assert_eq!(format!("{got:?}"), format!("{want:?}"));
}

// ---- the contract --------------------------------------------------------------------------

async fn round_trip_is_exact(f: Fixture) {
    let s = &f.store;
    assert_eq!(s.load().await.unwrap(), Layers::default());
    assert!(s.datasets().await.unwrap().is_empty());
    let c = commit_of(vec![(info("city.geojson"), city("city.geojson"))]);
    s.commit_import(&c).await.unwrap();
    let want = expected(&[&c]);
    assert_eq!(want.buildings.len(), 3);
    assert_exact(&s.load().await.unwrap(), &want);

    let ds = s.datasets().await.unwrap();
    assert_eq!(ds.len(), 1);
    assert_eq!(ds[0].info, info("city.geojson"));
    let t = &ds[0].imported_at;
    assert_eq!(t.len(), 20, "RFC 3339 UTC, got {t}");
    assert!(t.ends_with('Z') && t.as_bytes()[10] == b'T' && t.starts_with("20"), "got {t}");

    // Reopening the same database (migrations already applied) sees the same content.
    let again = wangge_store::open(&f.url).await.unwrap();
    assert_exact(&again.load().await.unwrap(), &want);
}

async fn reimport_does_not_duplicate(f: Fixture) {
    let s = &f.store;
    let c = commit_of(vec![(info("city.geojson"), city("city.geojson"))]);
    s.commit_import(&c).await.unwrap();
    s.commit_import(&c).await.unwrap();
    assert_exact(&s.load().await.unwrap(), &expected(&[&c]));
    assert_eq!(s.datasets().await.unwrap().len(), 1);
}

async fn replacing_removes_rows_no_longer_there(f: Fixture) {
    let s = &f.store;
    let first = commit_of(vec![(info("a"), city("a"))]);
    s.commit_import(&first).await.unwrap();
    let mut smaller = city("a");
    smaller.buildings.retain(|b| b.source_id != "osm:w3");
    smaller.regions.truncate(1);
    smaller.edges.truncate(1); // osm:n22 is no longer used by any edge
    smaller.nodes.retain(|n| n.source_id != "osm:n22");
    smaller.basemap.clear();
    smaller.cells.clear();
    smaller.register.retain(|r| r.unit.is_none());
    smaller.buildings[0].name = Some("renamed".into());
    let second = commit_of(vec![(info("a"), smaller)]);
    s.commit_import(&second).await.unwrap();
    let got = s.load().await.unwrap();
    assert_exact(&got, &expected(&[&first, &second]));
    assert_eq!(got.buildings.len(), 2);
    assert!(got.basemap.is_empty() && got.cells.is_empty());
    assert_eq!(got.nodes.iter().map(|n| n.source_id.as_str()).collect::<Vec<_>>(), ["osm:n20", "osm:n21"]);
    assert_eq!(got.register.len(), 2);

    // An empty re-import empties the dataset, and nodes no edge uses go.
    let empty = commit_of(vec![(info("a"), Layers::default())]);
    s.commit_import(&empty).await.unwrap();
    assert_eq!(s.load().await.unwrap(), Layers::default());
    assert_eq!(s.datasets().await.unwrap().len(), 1);
}

async fn second_dataset_takes_rows_over(f: Fixture) {
    let s = &f.store;
    let a = commit_of(vec![(info("a"), city("a"))]);
    s.commit_import(&a).await.unwrap();
    // Dataset b brings a building and an edge with ids of dataset a, and a node a also has.
    let mut lb = Layers::default();
    let mut taken = building("osm:w1", "b", 114.4, 30.7);
    taken.households = Households::new(5, HouseholdSource::Declared);
    lb.buildings.push(taken);
    lb.buildings.push(building("b:1", "b", 114.41, 30.71));
    lb.edges.push(edge("osm:w7:1", "b", ("osm:n21", 114.3011, 30.6), ("b:n1", 114.5, 30.5)));
    lb.nodes.push(node("osm:n21", 114.3011, 30.6));
    lb.nodes.push(node("b:n1", 114.5, 30.5));
    lb.register.push(RegisterEntry { building: "osm:n2".into(), unit: None, households: 99, dataset: "b".into() });
    let b = commit_of(vec![(info("b"), lb)]);
    s.commit_import(&b).await.unwrap();
    let got = s.load().await.unwrap();
    assert_exact(&got, &expected(&[&a, &b]));
    let w1 = got.buildings.iter().find(|x| x.source_id == "osm:w1").unwrap();
    assert_eq!(w1.dataset, "b");
    assert_eq!(got.register.iter().find(|r| r.building == "osm:n2").unwrap().households, 99);
    // osm:n22 was only used by the edge b took over.
    assert!(!got.nodes.iter().any(|n| n.source_id == "osm:n22"));

    // Re-importing a takes them back; b keeps only what a does not have.
    s.commit_import(&a).await.unwrap();
    let got = s.load().await.unwrap();
    assert_exact(&got, &expected(&[&a, &b, &a]));
    assert_eq!(got.buildings.iter().filter(|x| x.dataset == "b").count(), 1);

    // Both in one commit: the later one wins.
    let both = commit_of(vec![
        (info("a"), city("a")),
        (info("c"), {
            let mut l = Layers::default();
            l.buildings.push(building("osm:w3", "c", 1.0, 2.0));
            l
        }),
    ]);
    s.commit_import(&both).await.unwrap();
    assert_exact(&s.load().await.unwrap(), &expected(&[&a, &b, &a, &both]));
    let names: Vec<String> = s.datasets().await.unwrap().into_iter().map(|d| d.info.name).collect();
    assert_eq!(names, ["a", "b", "c"]);
}

async fn household_updates_apply(f: Fixture) {
    let s = &f.store;
    let a = commit_of(vec![(info("a"), city("a"))]);
    s.commit_import(&a).await.unwrap();
    let up = ImportCommit {
        datasets: vec![],
        households: vec![
            ("osm:w3".into(), Households::new(40, HouseholdSource::EstimatePopulationGrid)),
            ("osm:n2".into(), Households::new(1, HouseholdSource::Declared)),
            ("osm:n2".into(), Households::new(2, HouseholdSource::EstimateFloorArea)),
            ("no-such-building".into(), Households::new(9, HouseholdSource::Declared)),
        ],
    };
    s.commit_import(&up).await.unwrap();
    let got = s.load().await.unwrap();
    assert_exact(&got, &expected(&[&a, &up]));
    let h = |id: &str| got.buildings.iter().find(|b| b.source_id == id).unwrap().households;
    assert_eq!(h("osm:w3"), Households::new(40, HouseholdSource::EstimatePopulationGrid));
    assert_eq!(h("osm:n2"), Households::new(2, HouseholdSource::EstimateFloorArea));
    assert_eq!(h("osm:w1"), Households::new(72, HouseholdSource::Register));

    // A dataset and updates for its new buildings in one commit.
    let mut lc = Layers::default();
    lc.buildings.push(building("c:1", "c", 114.0, 30.0));
    let c = ImportCommit {
        datasets: vec![(info("c"), lc)],
        households: vec![("c:1".into(), Households::new(12, HouseholdSource::EstimateFloorArea))],
    };
    s.commit_import(&c).await.unwrap();
    assert_exact(&s.load().await.unwrap(), &expected(&[&a, &up, &c]));
}

async fn failing_commit_changes_nothing(f: Fixture) {
    let s = &f.store;
    let a = commit_of(vec![(info("a"), city("a"))]);
    s.commit_import(&a).await.unwrap();
    let before = s.load().await.unwrap();
    let datasets_before = s.datasets().await.unwrap();

    // The first dataset is fine (and replaces a); the second has a NaN coordinate.
    let mut bad = Layers::default();
    bad.buildings.push(building("x:1", "x", 114.0, 30.0));
    bad.nodes.push(node("x:n", f64::NAN, 30.0));
    let c = ImportCommit {
        datasets: vec![(info("a"), Layers::default()), (info("x"), bad)],
        households: vec![("osm:w1".into(), Households::new(1, HouseholdSource::Declared))],
    };
    let e = s.commit_import(&c).await.unwrap_err();
    assert!(e.to_string().contains("x:n"), "{e}");
    assert_exact(&s.load().await.unwrap(), &before);
    assert_eq!(s.datasets().await.unwrap(), datasets_before);

    // A row the database refuses (empty source id violates a CHECK constraint).
    let mut bad = Layers::default();
    bad.buildings.push(building("", "y", 114.0, 30.0));
    let c = commit_of(vec![(info("a"), Layers::default()), (info("y"), bad)]);
    let e = s.commit_import(&c).await.unwrap_err();
    assert!(matches!(e, StoreError::Query { .. }), "{e:?}");
    assert_exact(&s.load().await.unwrap(), &before);
    assert_eq!(s.datasets().await.unwrap(), datasets_before);

    // A non-finite number.
    let mut bad = city("a");
    bad.cells[0].population = f64::INFINITY;
    s.commit_import(&commit_of(vec![(info("a"), bad)])).await.unwrap_err();
    assert_exact(&s.load().await.unwrap(), &before);

    // The store still works afterwards.
    s.commit_import(&commit_of(vec![(info("a"), Layers::default())])).await.unwrap();
    assert_eq!(s.load().await.unwrap(), Layers::default());
}

async fn large_import_is_batched(f: Fixture) {
    // More rows than fit into one statement on either backend, with nodes, edges and register rows.
    let s = &f.store;
    let l = synthetic("big", 9_000);
    let c = commit_of(vec![(info("big"), l)]);
    s.commit_import(&c).await.unwrap();
    let got = s.load().await.unwrap();
    assert_eq!(got.buildings.len(), 9_000);
    assert_exact(&got, &expected(&[&c]));
    let up = ImportCommit {
        datasets: vec![],
        households: (0..25_000)
            .map(|i| (format!("big:b{i:07}"), Households::new(i, HouseholdSource::EstimateFloorArea)))
            .collect(),
    };
    s.commit_import(&up).await.unwrap();
    assert_exact(&s.load().await.unwrap(), &expected(&[&c, &up]));
}

/// `n` buildings in a grid, with a node and an edge per building and a register row per 10.
fn synthetic(ds: &str, n: u32) -> Layers {
    let mut l = Layers::default();
    for i in 0..n {
        let x = 114.0 + f64::from(i % 300) * 0.001;
        let y = 30.0 + f64::from(i / 300) * 0.001;
        let mut b = building(&format!("{ds}:b{i:07}"), ds, x, y);
        b.levels = Some((i % 30) as u16);
        b.households = Households::new(i % 97, HouseholdSource::EstimateFloorArea);
        b.units = vec![Unit { label: "1".into(), households: i % 7 }];
        l.buildings.push(b);
        l.nodes.push(node(&format!("{ds}:n{i:07}"), x, y));
        if i > 0 {
            l.edges.push(edge(
                &format!("{ds}:e{i:07}"),
                ds,
                (&format!("{ds}:n{:07}", i - 1), x - 0.001, y),
                (&format!("{ds}:n{i:07}"), x, y),
            ));
        }
        if i % 10 == 0 {
            l.register.push(RegisterEntry {
                building: format!("{ds}:b{i:07}"),
                unit: None,
                households: i,
                dataset: ds.into(),
            });
        }
    }
    l
}

async fn concurrent_imports_serialise(f: Fixture) {
    let s = &f.store;
    let a = commit_of(vec![(info("a"), city("a"))]);
    let mut lb = city("b");
    lb.buildings.truncate(2); // overlapping ids with a
    let b = commit_of(vec![(info("b"), lb)]);
    let (ra, rb) = tokio::join!(s.commit_import(&a), s.commit_import(&b));
    ra.unwrap();
    rb.unwrap();
    let got = s.load().await.unwrap();
    assert!(got == expected(&[&a, &b]) || got == expected(&[&b, &a]), "not one of the two orders: {got:?}");
}

// ---- grid plans ----------------------------------------------------------------------------

/// Counts rows with raw SQL on a connection of its own (what another client of the database sees).
async fn raw_count(f: &Fixture, sql: &str) -> i64 {
    if f.store.backend() == "sqlite" {
        let mut c = sqlx::SqliteConnection::connect(&f.url).await.unwrap();
        sqlx::query_scalar(sql).fetch_one(&mut c).await.unwrap()
    } else {
        let mut c = sqlx::PgConnection::connect(&f.url).await.unwrap();
        sqlx::query_scalar(sql).fetch_one(&mut c).await.unwrap()
    }
}

/// Runs a raw statement on a connection of its own.
async fn raw_exec(f: &Fixture, sql: &str) -> Result<u64, sqlx::Error> {
    if f.store.backend() == "sqlite" {
        let mut c = sqlx::SqliteConnection::connect(&f.url).await?;
        Ok(sqlx::query(sql).execute(&mut c).await?.rows_affected())
    } else {
        let mut c = sqlx::PgConnection::connect(&f.url).await?;
        Ok(sqlx::query(sql).execute(&mut c).await?.rows_affected())
    }
}

fn assignment(building: &str, unit: Option<&str>, grid: &str) -> PlanAssignment {
    PlanAssignment { building: building.into(), unit: unit.map(Into::into), grid: grid.into() }
}

/// A plan with every kind of content: units and whole buildings (given unsorted), grids with and
/// without an outline (one with a hole), awkward floats and JSON metrics.
fn plan(name: &str, status: PlanStatus) -> PlanRecord {
    PlanRecord {
        name: name.into(),
        status,
        version: 42, // ignored by the store
        quota_min: 300,
        quota_max: 500,
        quota_target: u32::MAX,
        metrics: serde_json::json!({
            "grids": 3,
            "households": {"min": 0, "max": 18_446_744_073_709_551_615u64, "mean": 0.1 + 0.2},
            "compactness": [1.0 / 3.0, 5e-324, 1.797_693_134_862_315_7e308, -2.5e-7, 0.0],
            "warnings": ["网格 G2 跨越道路", null, true],
            "signed": -9_223_372_036_854_775_808i64,
        }),
        assignments: vec![
            assignment("osm:w3", None, "G2"),
            assignment("osm:w1", Some("2单元"), "G2"),
            assignment("osm:w1", Some("1单元"), "G1"),
            assignment("osm:n2", None, "G1"),
            assignment("osm:w1", None, "G1"),
        ],
        grids: vec![
            PlanGrid {
                grid: "G2".into(),
                community: "幸福社区".into(),
                households: i64::MAX as u64,
                buildings: u32::MAX,
                area: Some(with_hole(114.300_000_000_000_01, 30.600_000_000_000_02, 1.0 / 3000.0)),
            },
            PlanGrid { grid: "G1".into(), community: "幸福社区".into(), households: 72, buildings: 2, area: None },
            PlanGrid {
                grid: "G0".into(),
                community: String::new(),
                households: 0,
                buildings: 0,
                area: Some(square(-0.0, 1e-9, 0.123_456_789_012_345_67)),
            },
        ],
        created_at: "ignored".into(),
    }
}

/// `p` as the store should give it back: sorted, with `version` and the store's `created_at`.
fn as_stored(p: &PlanRecord, version: i64, created_at: &str) -> PlanRecord {
    let mut p = p.clone();
    p.assignments.sort();
    p.grids.sort_by(|a, b| a.grid.cmp(&b.grid));
    p.version = version;
    p.created_at = created_at.into();
    p
}

/// Equal, and bit for bit.
fn assert_plan_exact(got: &PlanRecord, want: &PlanRecord) {
    assert_eq!(got, want);
    assert_eq!(format!("{got:?}"), format!("{want:?}"));
}

fn assert_rfc3339_utc(t: &str) {
    assert_eq!(t.len(), 20, "RFC 3339 UTC seconds, got {t}");
    assert!(t.starts_with("20") && t.as_bytes()[10] == b'T' && t.ends_with('Z'), "got {t}");
}

/// `(name, status, version)` of every plan.
async fn statuses(s: &Arc<dyn Store>) -> Vec<(String, PlanStatus, i64)> {
    s.plans().await.unwrap().into_iter().map(|p| (p.name, p.status, p.version)).collect()
}

fn st(name: &str, status: PlanStatus, version: i64) -> (String, PlanStatus, i64) {
    (name.to_string(), status, version)
}

async fn plan_round_trip_is_exact(f: Fixture) {
    let s = &f.store;
    assert!(s.plans().await.unwrap().is_empty());
    assert!(s.active_plan().await.unwrap().is_none());
    assert!(s.load_plan("p").await.unwrap().is_none());

    let p = plan("p", PlanStatus::Draft);
    let saved = s.save_plan(&p).await.unwrap();
    assert_rfc3339_utc(&saved.created_at);
    let want = as_stored(&p, 1, &saved.created_at);
    assert_plan_exact(&saved, &want);
    assert_plan_exact(&s.load_plan("p").await.unwrap().unwrap(), &want);
    // Sorted by (building, unit), the whole building first.
    assert_eq!(
        want.assignments.iter().map(|a| (a.building.as_str(), a.unit.as_deref())).collect::<Vec<_>>(),
        [("osm:n2", None), ("osm:w1", None), ("osm:w1", Some("1单元")), ("osm:w1", Some("2单元")), ("osm:w3", None)]
    );
    assert!(s.active_plan().await.unwrap().is_none(), "a draft is not in force");
    assert_eq!(raw_count(&f, "SELECT COUNT(*) FROM plan_assignments WHERE unit = ''").await, 3);

    // A plan without assignments or grids, and metrics that are not an object.
    let mut empty = plan("empty", PlanStatus::Retired);
    empty.assignments.clear();
    empty.grids.clear();
    empty.metrics = serde_json::Value::Null;
    let saved_empty = s.save_plan(&empty).await.unwrap();
    assert_plan_exact(&s.load_plan("empty").await.unwrap().unwrap(), &saved_empty);

    // Reopening the database sees the same.
    let again = wangge_store::open(&f.url).await.unwrap();
    assert_plan_exact(&again.load_plan("p").await.unwrap().unwrap(), &want);
}

async fn metrics_floats_round_trip(f: Fixture) {
    // Many awkward doubles (a pseudo-random walk over the bit patterns) come back bit for bit.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut values = Vec::new();
    while values.len() < 2_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let v = f64::from_bits(x);
        if v.is_finite() {
            values.push(v);
        }
    }
    let mut p = plan("floats", PlanStatus::Draft);
    p.metrics = serde_json::json!({ "values": values });
    s_round_trip(&f.store, &p).await;
}

async fn s_round_trip(s: &Arc<dyn Store>, p: &PlanRecord) {
    let saved = s.save_plan(p).await.unwrap();
    let got = s.load_plan(&p.name).await.unwrap().unwrap();
    assert_plan_exact(&got, &saved);
    assert_eq!(got.metrics, p.metrics);
}

async fn replacing_a_plan_bumps_its_version(f: Fixture) {
    let s = &f.store;
    let first = s.save_plan(&plan("p", PlanStatus::Draft)).await.unwrap();
    s.append_plan_edit("p", "张三", &serde_json::json!({"move": "osm:w3"})).await.unwrap();

    let mut second = plan("p", PlanStatus::Draft);
    second.assignments = vec![assignment("osm:w9", None, "G9"), assignment("osm:w1", None, "G9")];
    second.grids = vec![PlanGrid {
        grid: "G9".into(),
        community: "c".into(),
        households: 5,
        buildings: 2,
        area: Some(square(114.0, 30.0, 0.01)),
    }];
    second.quota_target = 400;
    second.metrics = serde_json::json!({"grids": 1});
    let saved = s.save_plan(&second).await.unwrap();
    assert_eq!(saved.version, 2);
    assert_eq!(saved.created_at, first.created_at, "a replace keeps the creation time");
    let want = as_stored(&second, 2, &first.created_at);
    assert_plan_exact(&saved, &want);
    assert_plan_exact(&s.load_plan("p").await.unwrap().unwrap(), &want);
    // The old rows are gone, not just hidden; the edit history stays.
    assert_eq!(raw_count(&f, "SELECT COUNT(*) FROM plan_assignments").await, 2);
    assert_eq!(raw_count(&f, "SELECT COUNT(*) FROM plan_grids").await, 1);
    assert_eq!(s.plan_edits("p").await.unwrap().len(), 1);

    assert_eq!(s.save_plan(&second).await.unwrap().version, 3);
    assert_eq!(statuses(s).await, [st("p", PlanStatus::Draft, 3)]);
}

async fn listing_has_no_assignments(f: Fixture) {
    let s = &f.store;
    let names = ["网格方案-2025", "b", "a", "B", "aa"];
    let mut saved = Vec::new();
    for n in names {
        saved.push(s.save_plan(&plan(n, PlanStatus::Draft)).await.unwrap());
    }
    let list = s.plans().await.unwrap();
    // Byte order, whatever the database collation.
    assert_eq!(list.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["B", "a", "aa", "b", "网格方案-2025"]);
    for p in &list {
        assert!(p.assignments.is_empty() && p.grids.is_empty(), "{p:?}");
        let full = saved.iter().find(|x| x.name == p.name).unwrap();
        let header = PlanRecord { assignments: vec![], grids: vec![], ..full.clone() };
        assert_plan_exact(p, &header);
    }
}

async fn activation_retires_the_plan_in_force(f: Fixture) {
    let s = &f.store;
    s.save_plan(&plan("a", PlanStatus::Draft)).await.unwrap();
    s.save_plan(&plan("b", PlanStatus::Draft)).await.unwrap();

    s.activate_plan("a").await.unwrap();
    assert_eq!(statuses(s).await, [st("a", PlanStatus::Active, 2), st("b", PlanStatus::Draft, 1)]);
    let active = s.active_plan().await.unwrap().unwrap();
    assert_plan_exact(&active, &s.load_plan("a").await.unwrap().unwrap());
    assert_eq!(active.assignments.len(), 5);
    assert_eq!(active.grids.len(), 3);

    s.activate_plan("b").await.unwrap();
    assert_eq!(statuses(s).await, [st("a", PlanStatus::Retired, 3), st("b", PlanStatus::Active, 2)]);
    assert_eq!(s.active_plan().await.unwrap().unwrap().name, "b");

    // Activating the plan in force changes nothing.
    s.activate_plan("b").await.unwrap();
    assert_eq!(statuses(s).await, [st("a", PlanStatus::Retired, 3), st("b", PlanStatus::Active, 2)]);

    // As a compare-and-set: a stale version writes nothing; the current one activates.
    s.save_plan(&plan("d", PlanStatus::Draft)).await.unwrap();
    match s.activate_plan_at("d", Some(7)).await.unwrap_err() {
        StoreError::Stale { name, expected, current } => assert_eq!((name.as_str(), expected, current), ("d", 7, 1)),
        other => panic!("expected Stale, got {other:?}"),
    }
    assert_eq!(s.active_plan().await.unwrap().unwrap().name, "b");
    s.activate_plan_at("d", Some(1)).await.unwrap();
    assert_eq!(s.active_plan().await.unwrap().unwrap().name, "d");
    s.activate_plan("b").await.unwrap();
    s.delete_plan("d").await.unwrap();
    assert_eq!(statuses(s).await, [st("a", PlanStatus::Retired, 3), st("b", PlanStatus::Active, 4)]);

    // Saving a plan as active retires the one in force; a retired plan can come back.
    s.save_plan(&plan("c", PlanStatus::Active)).await.unwrap();
    assert_eq!(
        statuses(s).await,
        [st("a", PlanStatus::Retired, 3), st("b", PlanStatus::Retired, 5), st("c", PlanStatus::Active, 1)]
    );
    s.activate_plan("a").await.unwrap();
    assert_eq!(
        statuses(s).await,
        [st("a", PlanStatus::Active, 4), st("b", PlanStatus::Retired, 5), st("c", PlanStatus::Retired, 2)]
    );
    // Re-saving the active plan as active keeps it in force and retires nobody.
    s.save_plan(&plan("a", PlanStatus::Active)).await.unwrap();
    assert_eq!(
        statuses(s).await,
        [st("a", PlanStatus::Active, 5), st("b", PlanStatus::Retired, 5), st("c", PlanStatus::Retired, 2)]
    );

    // The database itself refuses a second active plan.
    let e = raw_exec(&f, "UPDATE plans SET status = 'active' WHERE name = 'b'").await.unwrap_err();
    assert!(e.to_string().to_lowercase().contains("unique"), "{e}");
    let e = raw_exec(&f, "UPDATE plans SET status = 'gone' WHERE name = 'b'").await.unwrap_err();
    assert!(e.to_string().to_lowercase().contains("check"), "{e}");
    assert_eq!(raw_count(&f, "SELECT COUNT(*) FROM plans WHERE status = 'active'").await, 1);

    // Replacing the active plan as a draft leaves no plan in force.
    s.save_plan(&plan("a", PlanStatus::Draft)).await.unwrap();
    assert!(s.active_plan().await.unwrap().is_none());
}

async fn unknown_plan_is_not_found(f: Fixture) {
    let s = &f.store;
    s.save_plan(&plan("a", PlanStatus::Active)).await.unwrap();
    let not_found = |e: StoreError| match e {
        StoreError::NotFound { what, name } => {
            assert_eq!((what, name.as_str()), ("plan", "nope"));
        }
        other => panic!("expected NotFound, got {other:?}"),
    };
    not_found(s.activate_plan("nope").await.unwrap_err());
    not_found(s.append_plan_edit("nope", "x", &serde_json::json!(1)).await.unwrap_err());
    not_found(s.plan_edits("nope").await.unwrap_err());
    assert_eq!(s.activate_plan("nope").await.unwrap_err().to_string(), "plan `nope` not found");
    assert!(s.load_plan("nope").await.unwrap().is_none());
    assert!(!s.delete_plan("nope").await.unwrap());
    // Nothing changed.
    assert_eq!(statuses(s).await, [st("a", PlanStatus::Active, 1)]);
}

async fn deleting_a_plan_cascades(f: Fixture) {
    let s = &f.store;
    s.save_plan(&plan("a", PlanStatus::Active)).await.unwrap();
    s.save_plan(&plan("b", PlanStatus::Draft)).await.unwrap();
    s.append_plan_edit("a", "x", &serde_json::json!({"n": 1})).await.unwrap();
    s.append_plan_edit("b", "x", &serde_json::json!({"n": 2})).await.unwrap();

    assert!(s.delete_plan("a").await.unwrap());
    assert!(!s.delete_plan("a").await.unwrap());
    assert!(s.load_plan("a").await.unwrap().is_none());
    assert!(s.active_plan().await.unwrap().is_none());
    for t in ["plan_assignments", "plan_grids", "plan_edits"] {
        assert_eq!(raw_count(&f, &format!("SELECT COUNT(*) FROM {t} WHERE plan = 'a'")).await, 0, "{t}");
        assert!(raw_count(&f, &format!("SELECT COUNT(*) FROM {t} WHERE plan = 'b'")).await > 0, "{t}");
    }
    // A new plan of the same name starts afresh.
    let again = s.save_plan(&plan("a", PlanStatus::Draft)).await.unwrap();
    assert_eq!(again.version, 1);
    assert!(s.plan_edits("a").await.unwrap().is_empty());
    assert_eq!(s.plan_edits("b").await.unwrap().len(), 1);
}

async fn edits_append_in_order(f: Fixture) {
    let s = &f.store;
    s.save_plan(&plan("a", PlanStatus::Draft)).await.unwrap();
    s.save_plan(&plan("b", PlanStatus::Draft)).await.unwrap();
    assert!(s.plan_edits("a").await.unwrap().is_empty());
    let edits = [
        ("张三", serde_json::json!({"op": "move", "building": "osm:w3", "from": "G2", "to": "G1"})),
        ("李四", serde_json::json!({"op": "split", "ratio": 0.1 + 0.2})),
        ("", serde_json::json!(["a", 1, null])),
    ];
    for (i, (author, e)) in edits.iter().enumerate() {
        assert_eq!(s.append_plan_edit("a", author, e).await.unwrap(), i as i64 + 1);
    }
    assert_eq!(s.append_plan_edit("b", "x", &serde_json::json!({})).await.unwrap(), 1, "seq counts per plan");
    let got = s.plan_edits("a").await.unwrap();
    assert_eq!(got.len(), 3);
    for (i, ((seq, at, author, edit), (want_author, want_edit))) in got.iter().zip(&edits).enumerate() {
        assert_eq!(*seq, i as i64 + 1);
        assert_rfc3339_utc(at);
        assert_eq!(author, want_author);
        assert_eq!(edit, want_edit);
    }
    assert!(got.windows(2).all(|w| w[0].1 <= w[1].1), "times do not go back");
    // Edits do not change the plan.
    assert_eq!(s.load_plan("a").await.unwrap().unwrap().version, 1);

    // Concurrent appends get distinct, gapless sequence numbers.
    let e = serde_json::json!({"op": "noop"});
    let results = append_concurrently(s, "b", &e, 8).await;
    let mut seqs: Vec<i64> = results.into_iter().map(|r| r.unwrap()).collect();
    seqs.sort_unstable();
    assert_eq!(seqs, (2..=9).collect::<Vec<i64>>());
    assert_eq!(s.plan_edits("b").await.unwrap().iter().map(|x| x.0).collect::<Vec<_>>(), (1..=9).collect::<Vec<_>>());
}

/// Appends `n` edits to `plan` at once, each from a task of its own.
async fn append_concurrently(
    s: &Arc<dyn Store>,
    plan: &str,
    edit: &serde_json::Value,
    n: usize,
) -> Vec<wangge_store::Result<i64>> {
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let (s, plan, edit) = (Arc::clone(s), plan.to_string(), edit.clone());
            tokio::spawn(async move { s.append_plan_edit(&plan, &format!("author {i}"), &edit).await })
        })
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

async fn failing_save_keeps_the_previous_version(f: Fixture) {
    let s = &f.store;
    let before = s.save_plan(&plan("p", PlanStatus::Draft)).await.unwrap();
    let in_force = s.save_plan(&plan("q", PlanStatus::Active)).await.unwrap();
    let check_unchanged = || async {
        assert_plan_exact(&s.load_plan("p").await.unwrap().unwrap(), &before);
        assert_plan_exact(&s.active_plan().await.unwrap().unwrap(), &in_force);
        assert_eq!(s.plans().await.unwrap().len(), 2);
    };

    // A NaN in a polygon: refused before anything is written.
    let mut bad = plan("p", PlanStatus::Active);
    bad.assignments = (0..5_000).map(|i| assignment(&format!("b{i}"), None, "G0")).collect();
    bad.grids[0].area = Some(square(f64::NAN, 30.0, 0.01));
    let e = s.save_plan(&bad).await.unwrap_err();
    assert!(matches!(&e, StoreError::Invalid { .. }), "{e:?}");
    assert!(e.to_string().contains("non-finite") && e.to_string().contains(&bad.grids[0].grid), "{e}");
    check_unchanged().await;

    // A row the database refuses after thousands were written (an empty building id violates a
    // CHECK constraint): the whole transaction, retiring the plan in force included, is undone.
    let mut bad = plan("p", PlanStatus::Active);
    bad.assignments = (0..9_000).map(|i| assignment(&format!("b{i:05}"), None, "G0")).collect();
    bad.assignments.push(assignment("", None, "G0"));
    let e = s.save_plan(&bad).await.unwrap_err();
    assert!(matches!(&e, StoreError::Query { .. }), "{e:?}");
    check_unchanged().await;

    // Invalid content of other kinds.
    let mut bad = plan("p", PlanStatus::Draft);
    bad.assignments.push(assignment("osm:w1", Some("1单元"), "G9"));
    assert!(matches!(s.save_plan(&bad).await.unwrap_err(), StoreError::Invalid { .. }));
    let mut bad = plan("p", PlanStatus::Draft);
    bad.grids[1].households = u64::MAX;
    assert!(matches!(s.save_plan(&bad).await.unwrap_err(), StoreError::Invalid { .. }));
    let mut bad = plan("", PlanStatus::Draft);
    bad.assignments.clear();
    assert!(matches!(s.save_plan(&bad).await.unwrap_err(), StoreError::Invalid { .. }));
    check_unchanged().await;

    // The store still works afterwards.
    assert_eq!(s.save_plan(&plan("p", PlanStatus::Draft)).await.unwrap().version, 2);
}

/// A plan of `n` assignments (two per building: the whole building and a unit) over `n / 50` grids.
fn big_plan(name: &str, n: usize, salt: &str) -> PlanRecord {
    let mut p = plan(name, PlanStatus::Draft);
    p.assignments = (0..n)
        .map(|i| {
            let unit = (i % 2 == 1).then_some("2单元");
            assignment(&format!("osm:w{:07}", i / 2), unit, &format!("{salt}{:05}", i / 50))
        })
        .collect();
    p.grids = (0..n / 50)
        .map(|g| PlanGrid {
            grid: format!("{salt}{g:05}"),
            community: format!("c{}", g % 7),
            households: g as u64 * 3,
            buildings: 50,
            area: Some(square(114.0 + (g % 100) as f64 * 0.001, 30.0 + (g / 100) as f64 * 0.001, 0.001)),
        })
        .collect();
    p
}

async fn large_plan_is_batched(f: Fixture) {
    let s = &f.store;
    let p = big_plan("big", 100_000, "G");
    let t = Instant::now();
    let saved = s.save_plan(&p).await.unwrap();
    let took = t.elapsed();
    let got = s.load_plan("big").await.unwrap().unwrap();
    assert_plan_exact(&got, &as_stored(&p, 1, &saved.created_at));
    eprintln!("{}: saved {} assignments in {:.2} s", s.backend(), p.assignments.len(), took.as_secs_f64());

    let q = big_plan("big", 100_000, "H");
    s.save_plan(&q).await.unwrap();
    assert_plan_exact(&s.load_plan("big").await.unwrap().unwrap(), &as_stored(&q, 2, &saved.created_at));
    let n = i64::try_from(q.assignments.len()).unwrap();
    assert_eq!(raw_count(&f, "SELECT COUNT(*) FROM plan_assignments").await, n);
}

async fn concurrent_plan_writes_serialise(f: Fixture) {
    let s = &f.store;
    // Several plans saved as active at once: all saved, exactly one in force.
    let tasks: Vec<_> = (0..6)
        .map(|i| {
            let s = Arc::clone(s);
            tokio::spawn(async move { s.save_plan(&plan(&format!("p{i}"), PlanStatus::Active)).await })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let all = statuses(s).await;
    assert_eq!(all.len(), 6);
    assert_eq!(all.iter().filter(|x| x.1 == PlanStatus::Active).count(), 1, "{all:?}");
    // And activations racing each other.
    let (a, b) = tokio::join!(s.activate_plan("p0"), s.activate_plan("p1"));
    a.unwrap();
    b.unwrap();
    let all = statuses(s).await;
    assert_eq!(all.iter().filter(|x| x.1 == PlanStatus::Active).count(), 1, "{all:?}");
}

macro_rules! contract {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(super::sqlite_fixture().await).await;
                }
            )*
        }
        mod postgis {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(super::pg_fixture().await).await;
                }
            )*
        }
    };
}

contract!(
    round_trip_is_exact,
    reimport_does_not_duplicate,
    replacing_removes_rows_no_longer_there,
    second_dataset_takes_rows_over,
    household_updates_apply,
    failing_commit_changes_nothing,
    large_import_is_batched,
    concurrent_imports_serialise,
    plan_round_trip_is_exact,
    metrics_floats_round_trip,
    replacing_a_plan_bumps_its_version,
    listing_has_no_assignments,
    activation_retires_the_plan_in_force,
    unknown_plan_is_not_found,
    deleting_a_plan_cascades,
    edits_append_in_order,
    failing_save_keeps_the_previous_version,
    large_plan_is_batched,
    concurrent_plan_writes_serialise,
);

// ---- across backends and backend-specific ----------------------------------------------------

#[tokio::test]
async fn both_backends_load_identical_layers() {
    let sq = sqlite_fixture().await;
    let pg = pg_fixture().await;
    let commits = [
        commit_of(vec![(info("a"), city("a"))]),
        commit_of(vec![(info("b"), synthetic("b", 500)), (info("c"), city("c"))]),
        ImportCommit {
            datasets: vec![(info("a"), synthetic("a", 50))],
            households: vec![("b:b0000007".into(), Households::new(3, HouseholdSource::Declared))],
        },
    ];
    for c in &commits {
        sq.store.commit_import(c).await.unwrap();
        pg.store.commit_import(c).await.unwrap();
        let (a, b) = (sq.store.load().await.unwrap(), pg.store.load().await.unwrap());
        assert_exact(&a, &b);
    }
    let refs: Vec<&ImportCommit> = commits.iter().collect();
    assert_exact(&sq.store.load().await.unwrap(), &expected(&refs));
    let names = |v: Vec<wangge_store::DatasetRecord>| v.into_iter().map(|d| d.info).collect::<Vec<_>>();
    assert_eq!(names(sq.store.datasets().await.unwrap()), names(pg.store.datasets().await.unwrap()));
}

#[tokio::test]
async fn both_backends_store_identical_plans() {
    let sq = sqlite_fixture().await;
    let pg = pg_fixture().await;
    let mut edited = plan("b", PlanStatus::Draft);
    edited.assignments.truncate(2);
    for s in [&sq.store, &pg.store] {
        s.save_plan(&plan("a", PlanStatus::Draft)).await.unwrap();
        s.save_plan(&plan("b", PlanStatus::Active)).await.unwrap();
        s.save_plan(&big_plan("c", 3_000, "G")).await.unwrap();
        s.activate_plan("a").await.unwrap();
        s.save_plan(&edited).await.unwrap();
        s.append_plan_edit("a", "张三", &serde_json::json!({"op": "move", "x": 0.1 + 0.2})).await.unwrap();
    }
    // Creation and edit times are the stores' own; both give RFC 3339 UTC seconds.
    let normalised = |mut p: PlanRecord| {
        assert_rfc3339_utc(&p.created_at);
        p.created_at = String::new();
        p
    };
    let list = |v: Vec<PlanRecord>| v.into_iter().map(normalised).collect::<Vec<_>>();
    let (a, b) = (list(sq.store.plans().await.unwrap()), list(pg.store.plans().await.unwrap()));
    assert_eq!(a.len(), 3);
    assert_eq!(format!("{a:?}"), format!("{b:?}"));
    for name in ["a", "b", "c"] {
        let a = normalised(sq.store.load_plan(name).await.unwrap().unwrap());
        let b = normalised(pg.store.load_plan(name).await.unwrap().unwrap());
        assert_plan_exact(&a, &b);
    }
    let a = normalised(sq.store.active_plan().await.unwrap().unwrap());
    let b = normalised(pg.store.active_plan().await.unwrap().unwrap());
    assert_plan_exact(&a, &b);
    let edits = |v: Vec<(i64, String, String, serde_json::Value)>| {
        v.into_iter()
            .map(|(seq, at, author, edit)| {
                assert_rfc3339_utc(&at);
                (seq, author, edit)
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(edits(sq.store.plan_edits("a").await.unwrap()), edits(pg.store.plan_edits("a").await.unwrap()));
}

#[tokio::test]
async fn unreachable_postgres_is_a_quick_connect_error_without_password() {
    let t = Instant::now();
    let e = match wangge_store::open("postgres://wangge:s3cret-pw@127.0.0.1:1/wangge").await {
        Err(e) => e,
        Ok(_) => panic!("connected to port 1?"),
    };
    assert!(t.elapsed() < Duration::from_secs(10), "took {:?}", t.elapsed());
    match &e {
        StoreError::Connect { url, .. } => assert_eq!(url, "postgres://wangge:***@127.0.0.1:1/wangge"),
        other => panic!("expected a Connect error, got {other:?}"),
    }
    assert!(!e.to_string().contains("s3cret"), "{e}");
    assert!(!format!("{e:?}").contains("s3cret"), "{e:?}");
}

#[tokio::test]
async fn bad_sqlite_path_is_a_quick_connect_error() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/no/such/dir/w.db", dir.path().display());
    let t = Instant::now();
    let e = match wangge_store::open(&url).await {
        Err(e) => e,
        Ok(_) => panic!("opened a file in a directory that does not exist"),
    };
    assert!(t.elapsed() < Duration::from_secs(10), "took {:?}", t.elapsed());
    assert!(matches!(&e, StoreError::Connect { url: u, .. } if *u == url), "{e:?}");
}

#[tokio::test]
async fn unknown_url_is_rejected() {
    assert!(
        matches!(wangge_store::open("mysql://u:pw@h/db").await, Err(StoreError::BadUrl(u)) if u == "mysql://u:***@h/db")
    );
}

#[tokio::test]
async fn sqlite_file_is_created_on_first_use() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new.db");
    assert!(!path.exists());
    let s = wangge_store::open(&format!("sqlite://{}", path.display())).await.unwrap();
    assert!(path.exists());
    assert!(s.redacted_url().ends_with("new.db"));
}

#[tokio::test]
async fn postgis_store_never_shows_the_password() {
    let url = fresh_pg_database().await; // trust authentication: any password is accepted
    let with_pw = url.replacen("://postgres@", "://postgres:s3cret-pw@", 1);
    assert_ne!(url, with_pw, "the test expects an admin URL like postgres://postgres@host:port/db");
    let s = wangge_store::postgres::PgStore::open(&with_pw).await.unwrap();
    assert!(s.redacted_url().contains("postgres:***@"), "{}", s.redacted_url());
    assert!(!format!("{s:?}").contains("s3cret"), "{s:?}");
}

#[tokio::test]
async fn postgis_geometry_columns_are_real() {
    let f = pg_fixture().await;
    f.store.commit_import(&commit_of(vec![(info("a"), city("a"))])).await.unwrap();
    let mut conn = sqlx::PgConnection::connect(&f.url).await.unwrap();

    let rows: Vec<(String, i32, String)> =
        sqlx::query_as("SELECT source_id, ST_SRID(geom), GeometryType(geom) FROM buildings ORDER BY source_id")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    assert_eq!(
        rows,
        [
            ("osm:n2".to_string(), 4326, "POINT".to_string()),
            ("osm:w1".to_string(), 4326, "MULTIPOLYGON".to_string()),
            ("osm:w3".to_string(), 4326, "MULTIPOLYGON".to_string()),
        ]
    );
    // A spatial query around building osm:w1 only.
    let hits: Vec<(String,)> = sqlx::query_as(
        "SELECT source_id FROM buildings \
         WHERE ST_Intersects(geom, ST_SetSRID(ST_MakeEnvelope(114.2995, 30.5995, 114.3005, 30.6005), 4326)) \
         ORDER BY source_id",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert_eq!(hits, [("osm:w1".to_string(),)]);
    // Distance on the sphere works on the stored geometry (a spatial function, not just bytes).
    let (len,): (f64,) =
        sqlx::query_as("SELECT ST_Length(geom::geography) FROM net_edges WHERE source_id = 'osm:w7:0'")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert!((len - 96.9).abs() < 1.0, "{len}");

    // Every geometry column is registered with its type and SRID 4326, and GiST-indexed.
    let cols: Vec<(String, String, i32)> = sqlx::query_as(
        "SELECT f_table_name::text, type::text, srid FROM geometry_columns \
         WHERE f_table_schema = 'public' ORDER BY f_table_name",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let want = [
        ("basemap", "GEOMETRY"),
        ("buildings", "GEOMETRY"),
        ("circle_sites", "POINT"),
        ("compounds", "MULTIPOLYGON"),
        ("facilities", "POINT"),
        ("net_edges", "LINESTRING"),
        ("net_nodes", "POINT"),
        ("plan_grids", "POLYGON"),
        ("population_cells", "POLYGON"),
        ("regions", "MULTIPOLYGON"),
    ];
    assert_eq!(cols, want.iter().map(|(t, g)| (t.to_string(), g.to_string(), 4326)).collect::<Vec<_>>());
    let (gist,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM pg_indexes WHERE schemaname = 'public' AND indexdef LIKE '%USING gist (geom)%'",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(gist, 10);

    // Plan grid outlines are real polygons too (NULL where a grid has none).
    f.store.save_plan(&plan("p", PlanStatus::Draft)).await.unwrap();
    let rows: Vec<(String, Option<i32>, Option<String>)> = sqlx::query_as(
        "SELECT grid_id, ST_SRID(geom), GeometryType(geom) FROM plan_grids WHERE plan = 'p' ORDER BY grid_id",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert_eq!(
        rows,
        [
            ("G0".to_string(), Some(4326), Some("POLYGON".to_string())),
            ("G1".to_string(), None, None),
            ("G2".to_string(), Some(4326), Some("POLYGON".to_string())),
        ]
    );
    let hits: Vec<(String,)> = sqlx::query_as(
        "SELECT grid_id FROM plan_grids \
         WHERE ST_Contains(geom, ST_SetSRID(ST_MakePoint(114.30001, 30.60001), 4326))",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert_eq!(hits, [("G2".to_string(),)]);
}

/// Import throughput: `cargo test -p wangge-store --release --test contract -- --ignored --nocapture bench`
/// (needs WANGGE_TEST_PG_URL for the PostGIS half).
#[tokio::test]
#[ignore = "benchmark; run explicitly"]
async fn bench_import_50k_buildings() {
    let n = 50_000;
    let l = synthetic("bench", n);
    let rows = l.buildings.len() + l.nodes.len() + l.edges.len() + l.register.len();
    let c = commit_of(vec![(info("bench"), l)]);
    for f in [sqlite_fixture().await, pg_fixture().await] {
        let t = Instant::now();
        f.store.commit_import(&c).await.unwrap();
        let w = t.elapsed();
        let t = Instant::now();
        f.store.commit_import(&c).await.unwrap();
        let w2 = t.elapsed();
        let t = Instant::now();
        let got = f.store.load().await.unwrap();
        let r = t.elapsed();
        assert_eq!(got.buildings.len(), n as usize);
        println!(
            "{}: {n} buildings ({rows} rows) first import {:.2} s ({:.0} rows/s, {:.0} buildings/s), re-import {:.2} s, load {:.2} s",
            f.store.backend(),
            w.as_secs_f64(),
            rows as f64 / w.as_secs_f64(),
            f64::from(n) / w.as_secs_f64(),
            w2.as_secs_f64(),
            r.as_secs_f64(),
        );
    }
}
