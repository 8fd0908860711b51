//! The life-circle part of the store contract, run against the embedded SQLite store and against
//! PostGIS: round trips, wholesale replacement, filters, the empty state, bad data refused.
//!
//! PostGIS tests need a server: `export WANGGE_TEST_PG_URL=$(scripts/pg-cluster.sh start /tmp/wangge-pg)`
//! (an admin URL; every test creates its own database). Without it the PostGIS tests fail.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use wangge_core::catalogue::CircleLevel;
use wangge_store::{
    BuildingScore, CircleCategory, CircleResult, CirclesMeta, CirclesRun, CoverageLevel, CoverageSummary, GraphSummary,
    SiteSuggestion, Store, StoreError,
};

// ---- fixtures ------------------------------------------------------------------------------

struct Fixture {
    store: Arc<dyn Store>,
    url: String,
    _dir: Option<tempfile::TempDir>,
}

async fn sqlite_fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/circles.db", dir.path().display());
    let store = wangge_store::open(&url).await.unwrap();
    assert_eq!(store.backend(), "sqlite");
    Fixture { store, url, _dir: Some(dir) }
}

async fn pg_fixture() -> Fixture {
    let url = wangge_testkit::fresh_pg_database("wangge_circles").await;
    let store = wangge_store::open(&url).await.unwrap();
    assert_eq!(store.backend(), "postgres");
    Fixture { store, url, _dir: None }
}

// ---- test data -----------------------------------------------------------------------------

fn cat(id: &str, level: CircleLevel, distance_m: f64, weight: f64) -> CircleCategory {
    CircleCategory { id: id.into(), level, distance_m, weight }
}

fn result(b: &str, c: &str, d: Option<f64>, f: Option<&str>) -> CircleResult {
    CircleResult {
        building: b.into(),
        category: c.into(),
        distance_m: d,
        time_s: d.map(|d| d / 1.2),
        facility: f.map(Into::into),
    }
}

fn cov(c: &str, level: CoverageLevel, region: &str, hh: (u64, u64), b: (u64, u64)) -> CoverageSummary {
    CoverageSummary {
        category: c.into(),
        level,
        region: region.into(),
        households_covered: hh.0,
        households_total: hh.1,
        buildings_covered: b.0,
        buildings_total: b.1,
    }
}

fn site(c: &str, rank: u32, lon: f64, lat: f64, hh: u64) -> SiteSuggestion {
    SiteSuggestion {
        category: c.into(),
        rank,
        lon,
        lat,
        households_gained: hh,
        detail: serde_json::json!({"buildings_gained": rank * 3, "node": format!("osm:n{rank}"), "score": 0.1 + 0.2}),
    }
}

/// A run with awkward values: unreachable rows, non-ASCII ids, floats that must come back bit for
/// bit, extra graph fields, rows given out of order.
fn run_a() -> CirclesRun {
    let mut extra = serde_json::Map::new();
    extra.insert("largest_component_share".into(), serde_json::json!(0.987_654_321_012_345_6));
    extra.insert("cut_off_m".into(), serde_json::json!(2000));
    CirclesRun {
        meta: CirclesMeta {
            computed_at: "ignored".into(),
            speed_mps: 1.2,
            profile: "default".into(),
            categories: vec![
                cat("kindergarten", CircleLevel::Min5, 300.0, 1.0),
                cat("park", CircleLevel::Min5, 300.0, 0.5),
                cat("middle_school", CircleLevel::Min15, 1000.0, 2.0),
            ],
            graph: GraphSummary { nodes: 12_345, edges: 23_456, islands: 7, unreachable_buildings: 3, extra },
        },
        results: vec![
            result("osm:w2", "park", Some(123.456_789_012_345_67), Some("osm:n9")),
            result("osm:w1", "kindergarten", Some(0.0), Some("幼儿园-1")),
            result("osm:w1", "park", None, None),
            result("osm:w1", "middle_school", Some(1e-300), Some("osm:w77")),
            result("楼栋-甲", "kindergarten", Some(1_999.999_999_999_9), Some("幼儿园-1")),
            CircleResult {
                building: "osm:w2".into(),
                category: "kindergarten".into(),
                distance_m: Some(4000.5),
                time_s: None,
                facility: None,
            },
        ],
        scores: vec![
            BuildingScore { building: "osm:w2".into(), completeness: 0.333_333_333_333_333_3 },
            BuildingScore { building: "osm:w1".into(), completeness: 1.0 },
            BuildingScore { building: "楼栋-甲".into(), completeness: 0.0 },
        ],
        coverage: vec![
            cov("park", CoverageLevel::City, "city", (10, 30), (1, 3)),
            cov("kindergarten", CoverageLevel::Grid, "110108001001-01", (400, 400), (2, 2)),
            cov("kindergarten", CoverageLevel::Community, "社区-1", (0, 0), (0, 0)),
            cov("kindergarten", CoverageLevel::Street, "street-1", (4_000_000_000_000, 5_000_000_000_000), (3, 9)),
            cov("kindergarten", CoverageLevel::City, "city", (10, 30), (1, 3)),
            cov("park", CoverageLevel::Grid, "110108001001-01", (5, 400), (1, 2)),
        ],
    }
}

/// A smaller run with other categories.
fn run_b() -> CirclesRun {
    CirclesRun {
        meta: CirclesMeta {
            computed_at: String::new(),
            speed_mps: 0.8,
            profile: "elderly".into(),
            categories: vec![cat("pharmacy", CircleLevel::Min10, 500.0, 1.0)],
            graph: GraphSummary { nodes: 1, edges: 0, islands: 0, unreachable_buildings: 1, extra: Default::default() },
        },
        results: vec![result("osm:w3", "pharmacy", Some(42.0), Some("osm:n1"))],
        scores: vec![BuildingScore { building: "osm:w3".into(), completeness: 1.0 }],
        coverage: vec![cov("pharmacy", CoverageLevel::City, "city", (1, 1), (1, 1))],
    }
}

fn sorted_results(run: &CirclesRun) -> Vec<CircleResult> {
    let mut r = run.results.clone();
    r.sort_by(|a, b| (&a.building, &a.category).cmp(&(&b.building, &b.category)));
    r
}

fn sorted_scores(run: &CirclesRun) -> Vec<BuildingScore> {
    let mut s = run.scores.clone();
    s.sort_by(|a, b| a.building.cmp(&b.building));
    s
}

fn sorted_coverage(run: &CirclesRun) -> Vec<CoverageSummary> {
    let mut c = run.coverage.clone();
    c.sort_by(|a, b| (&a.category, a.level, &a.region).cmp(&(&b.category, b.level, &b.region)));
    c
}

fn assert_rfc3339_utc(t: &str) {
    let ok = t.len() == 20
        && t.as_bytes().iter().enumerate().all(|(i, &c)| match i {
            4 | 7 => c == b'-',
            10 => c == b'T',
            13 | 16 => c == b':',
            19 => c == b'Z',
            _ => c.is_ascii_digit(),
        });
    assert!(ok, "not RFC 3339 UTC with whole seconds: {t}");
}

/// Everything the store holds of the life circles, read back through every getter.
async fn assert_holds(s: &Arc<dyn Store>, run: &CirclesRun) {
    let meta = s.circles_run().await.unwrap().expect("a stored run");
    assert_rfc3339_utc(&meta.computed_at);
    assert_eq!(CirclesMeta { computed_at: run.meta.computed_at.clone(), ..meta }, run.meta);
    // Bit for bit, not merely equal (0.0 vs -0.0, last digits).
    let got = s.circle_results(None).await.unwrap();
    let want = sorted_results(run);
    assert_eq!(got, want);
    for (g, w) in got.iter().zip(&want) {
        assert_eq!(g.distance_m.map(f64::to_bits), w.distance_m.map(f64::to_bits), "{g:?}");
        assert_eq!(g.time_s.map(f64::to_bits), w.time_s.map(f64::to_bits), "{g:?}");
    }
    let scores = s.circle_scores().await.unwrap();
    assert_eq!(scores, sorted_scores(run));
    for (g, w) in scores.iter().zip(&sorted_scores(run)) {
        assert_eq!(g.completeness.to_bits(), w.completeness.to_bits());
    }
    assert_eq!(s.coverage_summaries(None, None).await.unwrap(), sorted_coverage(run));
}

fn invalid_reason(r: Result<impl std::fmt::Debug, StoreError>) -> String {
    match r {
        Err(StoreError::Invalid { reason, .. }) => reason,
        other => panic!("expected StoreError::Invalid, got {other:?}"),
    }
}

// ---- the contract --------------------------------------------------------------------------

async fn empty_store_has_no_circles(f: Fixture) {
    let s = &f.store;
    assert_eq!(s.circles_run().await.unwrap(), None);
    assert!(s.circle_results(None).await.unwrap().is_empty());
    assert!(s.circle_results(Some("park")).await.unwrap().is_empty());
    assert!(s.circle_scores().await.unwrap().is_empty());
    assert!(s.coverage_summaries(None, None).await.unwrap().is_empty());
    assert!(s.coverage_summaries(Some(CoverageLevel::City), Some("park")).await.unwrap().is_empty());
    assert!(s.sites(None).await.unwrap().is_empty());
    assert!(s.sites(Some("park")).await.unwrap().is_empty());
}

async fn run_round_trips_exactly(f: Fixture) {
    let run = run_a();
    let saved = f.store.save_circles(&run).await.unwrap();
    assert_rfc3339_utc(&saved.computed_at);
    assert_eq!(f.store.circles_run().await.unwrap().as_ref(), Some(&saved));
    assert_holds(&f.store, &run).await;
    // And from a new connection.
    let again = wangge_store::open(&f.url).await.unwrap();
    assert_holds(&again, &run).await;
    assert_eq!(again.circles_run().await.unwrap(), Some(saved));
}

async fn saving_replaces_the_previous_run(f: Fixture) {
    let s = &f.store;
    s.save_circles(&run_a()).await.unwrap();
    s.save_sites("park", &[site("park", 1, 24.94, 60.17, 120)]).await.unwrap();
    s.save_circles(&run_b()).await.unwrap();
    assert_holds(s, &run_b()).await;
    assert!(s.circle_results(Some("park")).await.unwrap().is_empty());
    assert!(s.coverage_summaries(None, Some("kindergarten")).await.unwrap().is_empty());
    // Sites were found against the previous results: they go with them.
    assert!(s.sites(None).await.unwrap().is_empty());
    // Saving the same run twice leaves one copy.
    s.save_circles(&run_a()).await.unwrap();
    s.save_circles(&run_a()).await.unwrap();
    assert_holds(s, &run_a()).await;
    // An empty run is a run too.
    let empty = CirclesRun { results: vec![], scores: vec![], coverage: vec![], ..run_b() };
    s.save_circles(&empty).await.unwrap();
    assert_holds(s, &empty).await;
    assert!(s.circles_run().await.unwrap().is_some());
}

async fn filters_select_rows(f: Fixture) {
    let s = &f.store;
    let run = run_a();
    s.save_circles(&run).await.unwrap();
    let want: Vec<CircleResult> = sorted_results(&run).into_iter().filter(|r| r.category == "kindergarten").collect();
    assert_eq!(want.len(), 3);
    assert_eq!(s.circle_results(Some("kindergarten")).await.unwrap(), want);
    assert!(s.circle_results(Some("Kindergarten")).await.unwrap().is_empty(), "ids compare byte for byte");
    assert!(s.circle_results(Some("zoo")).await.unwrap().is_empty());

    let all = sorted_coverage(&run);
    for level in CoverageLevel::ALL {
        let want: Vec<_> = all.iter().filter(|c| c.level == level).cloned().collect();
        assert_eq!(s.coverage_summaries(Some(level), None).await.unwrap(), want, "{level:?}");
        for category in ["kindergarten", "park", "middle_school"] {
            let want: Vec<_> = want.iter().filter(|c| c.category == category).cloned().collect();
            assert_eq!(s.coverage_summaries(Some(level), Some(category)).await.unwrap(), want);
        }
    }
    let park: Vec<_> = all.iter().filter(|c| c.category == "park").cloned().collect();
    assert_eq!(park.len(), 2);
    assert_eq!(s.coverage_summaries(None, Some("park")).await.unwrap(), park);
    assert!(s.coverage_summaries(None, Some("middle_school")).await.unwrap().is_empty());
}

async fn sites_round_trip_and_replace_per_category(f: Fixture) {
    let s = &f.store;
    s.save_circles(&run_a()).await.unwrap();
    let parks =
        vec![site("park", 2, 24.941_234_567_890_12, 60.170_987_654_321_09, 80), site("park", 1, -180.0, 90.0, 0)];
    let kgs = vec![site("kindergarten", 1, 116.3, 39.99, 4_000_000_000_000)];
    s.save_sites("park", &parks).await.unwrap();
    s.save_sites("kindergarten", &kgs).await.unwrap();
    let mut want = vec![kgs[0].clone(), parks[1].clone(), parks[0].clone()];
    assert_eq!(s.sites(None).await.unwrap(), want);
    let got = s.sites(Some("park")).await.unwrap();
    assert_eq!(got, vec![parks[1].clone(), parks[0].clone()]);
    assert_eq!(got[1].lon.to_bits(), parks[0].lon.to_bits());
    assert_eq!(got[1].lat.to_bits(), parks[0].lat.to_bits());
    // Replacing one category leaves the others.
    let fewer = vec![site("park", 1, 25.0, 60.0, 7)];
    s.save_sites("park", &fewer).await.unwrap();
    want = vec![kgs[0].clone(), fewer[0].clone()];
    assert_eq!(s.sites(None).await.unwrap(), want);
    s.save_sites("park", &[]).await.unwrap();
    assert_eq!(s.sites(None).await.unwrap(), kgs);
    assert!(s.sites(Some("park")).await.unwrap().is_empty());
    // The results are untouched by site writes.
    assert_holds(s, &run_a()).await;
}

async fn bad_data_is_refused_naming_the_field(f: Fixture) {
    let s = &f.store;
    s.save_circles(&run_a()).await.unwrap();
    s.save_sites("park", &[site("park", 1, 24.9, 60.1, 5)]).await.unwrap();

    let bad = |edit: &dyn Fn(&mut CirclesRun)| {
        let mut r = run_b();
        edit(&mut r);
        r
    };
    let cases: Vec<(CirclesRun, &str)> = vec![
        (
            bad(&|r| r.results[0].distance_m = Some(f64::NAN)),
            "building `osm:w3` category `pharmacy`: distance_m is NaN",
        ),
        (bad(&|r| r.results[0].distance_m = Some(f64::INFINITY)), "distance_m is inf"),
        (bad(&|r| r.results[0].distance_m = Some(-0.5)), "distance_m is -0.5"),
        (bad(&|r| r.results[0].time_s = Some(f64::NAN)), "time_s is NaN"),
        (bad(&|r| r.results[0].category = "zoo".into()), "category `zoo` is not one of the run's categories"),
        (bad(&|r| r.results.push(r.results[0].clone())), "is given twice"),
        (bad(&|r| r.results[0].building = String::new()), "empty building id"),
        (bad(&|r| r.results[0].facility = Some(String::new())), "empty facility id"),
        (bad(&|r| r.scores[0].completeness = 1.000_001), "completeness is 1.000001"),
        (bad(&|r| r.scores[0].completeness = f64::NAN), "completeness is NaN"),
        (bad(&|r| r.scores.push(r.scores[0].clone())), "has two scores"),
        (bad(&|r| r.coverage[0].households_covered = 2), "households_covered 2 exceeds households_total 1"),
        (bad(&|r| r.coverage[0].buildings_covered = 2), "buildings_covered 2 exceeds buildings_total 1"),
        (
            bad(&|r| {
                r.coverage[0].households_total = u64::MAX;
            }),
            "households_total 18446744073709551615 is too large",
        ),
        (bad(&|r| r.coverage[0].region = String::new()), "empty region id"),
        (bad(&|r| r.coverage.push(r.coverage[0].clone())), "is given twice"),
        (bad(&|r| r.coverage[0].category = "zoo".into()), "category `zoo` is not one of"),
        (bad(&|r| r.meta.speed_mps = f64::NAN), "speed_mps is NaN"),
        (bad(&|r| r.meta.speed_mps = -1.2), "speed_mps is -1.2"),
        (bad(&|r| r.meta.profile = String::new()), "profile"),
        (bad(&|r| r.meta.categories[0].distance_m = 0.0), "category `pharmacy`: distance_m is 0"),
        (bad(&|r| r.meta.categories[0].weight = f64::NAN), "category `pharmacy`: weight is NaN"),
        (bad(&|r| r.meta.categories.push(r.meta.categories[0].clone())), "listed twice"),
    ];
    for (run, want) in cases {
        let reason = invalid_reason(s.save_circles(&run).await);
        assert!(reason.contains(want), "expected `{want}` in `{reason}`");
    }
    // Nothing was written: the first run and its site are still there.
    assert_holds(s, &run_a()).await;
    assert_eq!(s.sites(None).await.unwrap().len(), 1);

    let site_cases: Vec<(&str, Vec<SiteSuggestion>, &str)> = vec![
        ("park", vec![site("park", 0, 24.9, 60.1, 1)], "rank 0"),
        ("park", vec![site("park", 1, 24.9, 60.1, 1), site("park", 1, 24.8, 60.1, 1)], "rank 1 is given twice"),
        ("park", vec![site("park", 1, f64::NAN, 60.1, 1)], "lon is NaN"),
        ("park", vec![site("park", 1, 24.9, 91.0, 1)], "lat is 91"),
        ("park", vec![site("park", 1, 24.9, 60.1, u64::MAX)], "households_gained"),
        ("park", vec![site("kindergarten", 1, 24.9, 60.1, 1)], "is of category `kindergarten`"),
        ("", vec![], "empty category"),
    ];
    for (category, sites, want) in site_cases {
        let reason = invalid_reason(s.save_sites(category, &sites).await);
        assert!(reason.contains(want), "expected `{want}` in `{reason}`");
    }
    assert_eq!(s.sites(None).await.unwrap(), vec![site("park", 1, 24.9, 60.1, 5)]);
}

async fn large_run_is_batched(f: Fixture) {
    let categories = ["kindergarten", "park", "middle_school"];
    let n = 12_000;
    let mut run = run_a();
    run.results.clear();
    run.scores.clear();
    run.coverage.clear();
    for i in 0..n {
        let b = format!("osm:w{i:06}");
        for (k, c) in categories.iter().enumerate() {
            let d = (i % 7 != 0).then(|| f64::from(i) * 0.123_456_789 + k as f64);
            run.results.push(result(&b, c, d, d.map(|_| "osm:n1")));
        }
        run.scores.push(BuildingScore { building: b, completeness: f64::from(i % 11) / 10.0 });
    }
    for c in categories {
        for g in 0..500 {
            run.coverage.push(cov(c, CoverageLevel::Grid, &format!("g{g:04}"), (g, g + 400), (1, 2)));
        }
    }
    f.store.save_circles(&run).await.unwrap();
    assert_holds(&f.store, &run).await;
    assert_eq!(f.store.circle_results(Some("park")).await.unwrap().len(), n as usize);
}

async fn concurrent_saves_never_mix(f: Fixture) {
    let (s1, s2) = (f.store.clone(), f.store.clone());
    let (a, b) = tokio::join!(
        tokio::spawn(async move { s1.save_circles(&run_a()).await }),
        tokio::spawn(async move { s2.save_circles(&run_b()).await }),
    );
    a.unwrap().unwrap();
    b.unwrap().unwrap();
    let profile = f.store.circles_run().await.unwrap().unwrap().profile;
    let last = if profile == "default" { run_a() } else { run_b() };
    assert_holds(&f.store, &last).await;
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
    empty_store_has_no_circles,
    run_round_trips_exactly,
    saving_replaces_the_previous_run,
    filters_select_rows,
    sites_round_trip_and_replace_per_category,
    bad_data_is_refused_naming_the_field,
    large_run_is_batched,
    concurrent_saves_never_mix,
);

// ---- across backends -------------------------------------------------------------------------

#[tokio::test]
async fn both_backends_give_identical_circles() {
    let (a, b) = (sqlite_fixture().await, pg_fixture().await);
    for f in [&a, &b] {
        f.store.save_circles(&run_a()).await.unwrap();
        f.store.save_sites("park", &[site("park", 1, 24.9, 60.1, 5), site("park", 2, 24.8, 60.2, 4)]).await.unwrap();
    }
    let (sa, sb) = (&a.store, &b.store);
    let strip = |m: Option<CirclesMeta>| m.map(|m| CirclesMeta { computed_at: String::new(), ..m });
    assert_eq!(strip(sa.circles_run().await.unwrap()), strip(sb.circles_run().await.unwrap()));
    assert_eq!(sa.circle_results(None).await.unwrap(), sb.circle_results(None).await.unwrap());
    assert_eq!(sa.circle_scores().await.unwrap(), sb.circle_scores().await.unwrap());
    assert_eq!(sa.coverage_summaries(None, None).await.unwrap(), sb.coverage_summaries(None, None).await.unwrap());
    assert_eq!(sa.sites(None).await.unwrap(), sb.sites(None).await.unwrap());
}

#[tokio::test]
async fn postgis_circle_tables_are_typed_for_gis_clients() {
    let f = pg_fixture().await;
    f.store.save_circles(&run_a()).await.unwrap();
    f.store.save_sites("park", &[site("park", 1, 24.9, 60.1, 5)]).await.unwrap();
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(&f.url).await.unwrap();
    let (srid, kind): (i32, String) =
        sqlx::query_as("SELECT srid, type FROM geometry_columns WHERE f_table_name = 'circle_sites'")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert_eq!((srid, kind.as_str()), (4326, "POINT"));
    let wkt: String =
        sqlx::query_scalar("SELECT ST_AsText(geom) FROM circle_sites").fetch_one(&mut conn).await.unwrap();
    assert_eq!(wkt, "POINT(24.9 60.1)");
    conn.close().await.unwrap();
}
