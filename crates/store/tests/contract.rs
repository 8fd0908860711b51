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
        ("compounds", "MULTIPOLYGON"),
        ("facilities", "POINT"),
        ("net_edges", "LINESTRING"),
        ("net_nodes", "POINT"),
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
    assert_eq!(gist, 8);
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
