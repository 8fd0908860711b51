//! Vector tiles over HTTP on the real Helsinki sample (read as `wangge import` reads it, stored in
//! the embedded store, served by the real server on a free port): ETags and 304s, gzip made once
//! and decoding to the same bytes, household numbers only for signed-in leaders, composite tiles,
//! TileJSON and the style, every bad input as a JSON 4xx, and a plan edit that drops only the
//! tiles it touches.
#![allow(clippy::unwrap_used)]

mod common;

use common::{PASSWORD, assert_error, call, login};
use geo::{BoundingRect, LineString, Polygon};
use geozero::mvt::{Message, Tile};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::sync::OnceLock;
use std::time::Duration;
use wangge_core::plan::{PlanGrid, PlanRecord, PlanStatus};
use wangge_core::{Atlas, Catalogue};
use wangge_store::Role;
use wangge_tiles::{Audience, LayerName, MercBox, TileId};

struct Server {
    base: String,
    state: wangge_server::AppState,
    rt: tokio::runtime::Handle,
    /// The city's box (lon/lat).
    extent: wangge_core::geometry::Bbox,
    _dir: tempfile::TempDir,
}

fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> Polygon<f64> {
    Polygon::new(LineString::from(vec![(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)]), vec![])
}

/// The active plan `quadrants`: the city's box cut into four grids at its centre.
fn quadrants(e: &wangge_core::geometry::Bbox, east_edge_of_sw: f64) -> PlanRecord {
    let (cx, cy) = ((e.min_lon + e.max_lon) / 2.0, (e.min_lat + e.max_lat) / 2.0);
    let grid = |id: &str, p: Polygon<f64>| PlanGrid {
        grid: id.into(),
        community: "helsinki".into(),
        households: 400,
        buildings: 10,
        area: Some(p),
    };
    PlanRecord {
        name: "quadrants".into(),
        status: PlanStatus::Active,
        version: 0,
        quota_min: 300,
        quota_max: 500,
        quota_target: 400,
        metrics: serde_json::json!({}),
        assignments: vec![],
        grids: vec![
            grid("Q-NE", rect(cx, cy, e.max_lon, e.max_lat)),
            grid("Q-NW", rect(e.min_lon, cy, cx, e.max_lat)),
            grid("Q-SE", rect(cx, e.min_lat, e.max_lon, cy)),
            grid("Q-SW", rect(e.min_lon, e.min_lat, east_edge_of_sw, cy)),
        ],
        created_at: String::new(),
    }
}

/// One server shared by the tests that only read (importing the sample takes a while in a debug
/// build); a test that edits or counts cache misses starts its own.
fn server() -> &'static Server {
    static S: OnceLock<Server> = OnceLock::new();
    S.get_or_init(start)
}

fn start() -> Server {
    {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Runtime::new().unwrap();
            let handle = rt.handle().clone();
            rt.block_on(async move {
                let dir = tempfile::tempdir().unwrap();
                let url = format!("sqlite://{}/tiles.db", dir.path().display());
                let store = wangge_store::open(&url).await.unwrap();
                let path = wangge_testkit::geodata("helsinki/Helsinki.osm.pbf");
                let imported = wangge_io::read(&path, &wangge_io::ReadOptions::default()).unwrap();
                let mut layers = imported.layers;
                layers.assign_containers();
                wangge_io::estimate::estimate_households(&mut layers, &Default::default());
                let extent = Atlas::new(layers.clone()).extent().unwrap();
                // Completeness scores as a life-circle run would store them (any values in 0..1
                // will do: the tiles carry them, they do not compute them).
                let scores = layers
                    .buildings
                    .iter()
                    .enumerate()
                    .map(|(i, b)| wangge_store::BuildingScore {
                        building: b.source_id.clone(),
                        completeness: (i % 11) as f64 / 10.0,
                    })
                    .collect();
                let commit =
                    wangge_store::ImportCommit { datasets: vec![(imported.dataset, layers)], households: vec![] };
                store.commit_import(&commit).await.unwrap();
                let run = wangge_store::CirclesRun {
                    meta: wangge_store::CirclesMeta {
                        computed_at: String::new(),
                        speed_mps: 1.2,
                        profile: "default".into(),
                        categories: vec![],
                        graph: Default::default(),
                    },
                    results: vec![],
                    scores,
                    coverage: vec![],
                };
                store.save_circles(&run).await.unwrap();
                store.add_user("leader1", PASSWORD, Role::Leader).await.unwrap();
                store.add_user("resident1", PASSWORD, Role::Resident).await.unwrap();
                let cx = (extent.min_lon + extent.max_lon) / 2.0;
                store.save_plan(&quadrants(&extent, cx)).await.unwrap();
                let state = wangge_server::AppState::load(store.clone(), Catalogue::default_catalogue(), "t".into())
                    .await
                    .unwrap();
                let options = wangge_server::Options { rate_limit: 0, ..Default::default() };
                let app = wangge_server::app_with(state.clone(), None, &options);
                let addr: std::net::SocketAddr = "127.0.0.1:0".parse().unwrap();
                wangge_server::serve(app, addr, move |a| {
                    tx.send((format!("http://{a}"), state, handle, extent, dir)).unwrap();
                })
                .await
                .unwrap();
            });
        });
        let (base, state, rt, extent, dir) =
            rx.recv_timeout(Duration::from_secs(300)).expect("the server did not start");
        Server { base, state, rt, extent, _dir: dir }
    }
}

/// A raw answer: status, headers (lower-case names), body bytes.
struct Raw {
    status: u16,
    headers: BTreeMap<String, String>,
    body: Vec<u8>,
}

impl Raw {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }
}

fn get(url: &str, headers: &[(&str, &str)]) -> Raw {
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let mut r = agent.get(url);
    for (k, v) in headers {
        r = r.header(*k, *v);
    }
    let mut resp = r.call().expect("request");
    let status = resp.status().as_u16();
    let mut headers = BTreeMap::new();
    for (k, v) in resp.headers() {
        let v = v.to_str().unwrap().to_string();
        headers.entry(k.as_str().to_string()).and_modify(|o: &mut String| *o = format!("{o}, {v}")).or_insert(v);
    }
    let mut body = Vec::new();
    resp.body_mut().as_reader().read_to_end(&mut body).unwrap();
    Raw { status, headers, body }
}

fn gunzip(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(b).read_to_end(&mut out).expect("a gzip stream");
    out
}

/// Every (layer name, property keys) of a tile.
fn keys(bytes: &[u8]) -> BTreeMap<String, BTreeSet<String>> {
    let tile = Tile::decode(bytes).expect("an MVT tile");
    tile.layers
        .iter()
        .map(|l| {
            let used: BTreeSet<String> =
                l.features.iter().flat_map(|f| f.tags.chunks(2).map(|kv| l.keys[kv[0] as usize].clone())).collect();
            (l.name.clone(), used)
        })
        .collect()
}

/// The z-level tile holding the most buildings of the sample (so tiles are never trivially empty).
fn busiest(s: &Server, z: u8) -> TileId {
    let atlas = s.state.atlas();
    let mut count: BTreeMap<TileId, usize> = BTreeMap::new();
    for b in &atlas.layers().buildings {
        let c = match &b.shape {
            wangge_core::Shape::Footprint(mp) => mp.bounding_rect().unwrap().center(),
            wangge_core::Shape::Point(p) => p.0,
        };
        *count.entry(TileId::containing(c.x, c.y, z)).or_default() += 1;
    }
    count.into_iter().max_by_key(|(t, n)| (*n, std::cmp::Reverse(*t))).unwrap().0
}

fn tile_url(s: &Server, layer: &str, t: TileId) -> String {
    format!("{}/tiles/{layer}/{}/{}/{}.mvt", s.base, t.z, t.x, t.y)
}

#[test]
fn tiles_carry_etags_answer_304_and_serve_gzip_made_once() {
    let s = server();
    let t = busiest(s, 15);
    let url = tile_url(s, "buildings", t);
    let plain = get(&url, &[]);
    assert_eq!(plain.status, 200, "{}", String::from_utf8_lossy(&plain.body));
    assert_eq!(plain.header("content-type"), Some("application/vnd.mapbox-vector-tile"));
    assert_eq!(plain.header("content-encoding"), None, "a client without gzip gets the raw tile");
    assert_eq!(plain.header("cache-control"), Some("public, max-age=60, stale-while-revalidate=300"));
    assert_eq!(plain.header("vary"), Some("Authorization, Accept-Encoding"));
    let etag = plain.header("etag").unwrap().to_string();
    assert!(etag.starts_with('"') && etag.ends_with('"') && etag.len() == 34, "{etag}");
    let decoded = Tile::decode(&plain.body[..]).unwrap();
    assert_eq!(decoded.layers.len(), 1);
    assert_eq!(decoded.layers[0].name, "buildings");
    assert!(decoded.layers[0].features.len() > 20, "{} features", decoded.layers[0].features.len());

    // Revalidation: the same tag gives 304 with no body; another tag gives the tile again.
    let again = get(&url, &[("If-None-Match", &etag)]);
    assert_eq!((again.status, again.body.len()), (304, 0));
    assert_eq!(again.header("etag"), Some(etag.as_str()));
    assert_eq!(again.header("vary"), Some("Authorization, Accept-Encoding"));
    let listed = get(&url, &[("If-None-Match", &format!("\"0000\", W/{etag}"))]);
    assert_eq!(listed.status, 304, "a weak or listed tag matches too");
    assert_eq!(get(&url, &[("If-None-Match", "\"00000000000000000000000000000000\"")]).status, 200);

    // gzip: compressed once (the server-wide compression layer leaves tiles alone), same tag,
    // decoding to exactly the raw bytes; a second request gets byte-identical gzip.
    let gz = get(&url, &[("Accept-Encoding", "gzip, deflate, br")]);
    assert_eq!(gz.status, 200);
    assert_eq!(gz.header("content-encoding"), Some("gzip"));
    assert_eq!(gz.header("etag"), Some(etag.as_str()));
    assert!(gz.body.len() < plain.body.len(), "{} gzip vs {} raw", gz.body.len(), plain.body.len());
    assert_eq!(gunzip(&gz.body), plain.body, "one gunzip gives the tile: it was not compressed twice");
    let gz2 = get(&url, &[("Accept-Encoding", "gzip")]);
    assert_eq!(gz2.body, gz.body);
    assert_eq!(get(&url, &[("Accept-Encoding", "gzip;q=0, br")]).header("content-encoding"), None);
    // The gzip copy sits in the cache beside the raw bytes.
    let cached = s.state.tiles.cached(&[(LayerName::Buildings, None)], t, Audience::Public).unwrap().unwrap();
    assert!(cached.has_gzip());
    assert_eq!(&*cached.gzip(), &gz.body[..]);
    assert_eq!(&*cached.etag, etag.as_str());

    // 304 also for gzip clients; an empty tile is 204 with its tag.
    assert_eq!(get(&url, &[("Accept-Encoding", "gzip"), ("If-None-Match", &etag)]).status, 304);
    let far = TileId::containing(-170.0, -80.0, 15);
    let empty = get(&tile_url(s, "buildings", far), &[("Accept-Encoding", "gzip")]);
    assert_eq!((empty.status, empty.body.len()), (204, 0));
    assert!(empty.header("etag").is_some());
    assert_eq!(empty.header("content-encoding"), None);

    // JSON answers are still compressed for clients that ask.
    let style = get(&format!("{}/style.json", s.base), &[("Accept-Encoding", "gzip")]);
    assert_eq!((style.status, style.header("content-encoding")), (200, Some("gzip")));
    let doc: serde_json::Value = serde_json::from_slice(&gunzip(&style.body)).unwrap();
    assert_eq!(doc["version"], 8);
}

#[test]
fn anonymous_tiles_carry_no_household_numbers_and_a_leader_gets_them() {
    let s = server();
    let leader = login(&s.base, "leader1");
    let resident = login(&s.base, "resident1");
    let private = |k: &str| k.contains("household") || k == "units" || k == "covered" || k == "gap";
    let mut checked = 0;
    for (layer, z) in [("buildings", 16u8), ("buildings", 14), ("heat", 14), ("cells", 13), ("grids", 14)] {
        let t = busiest(s, z);
        let url = tile_url(s, layer, t);
        for token in [None, Some(resident.as_str())] {
            let auth = token.map(|t| format!("Bearer {t}"));
            let h: Vec<(&str, &str)> = auth.iter().map(|a| ("Authorization", a.as_str())).collect();
            let r = get(&url, &h);
            assert_eq!(r.status, 200, "{layer} {t}");
            for (name, ks) in keys(&r.body) {
                assert!(!ks.iter().any(|k| private(k)), "{layer}/{name} public tile has {ks:?}");
            }
            assert!(r.header("cache-control").unwrap().starts_with("public"));
        }
        let r = get(&url, &[("Authorization", &format!("Bearer {leader}"))]);
        assert_eq!(r.status, 200);
        assert_eq!(r.header("cache-control"), Some("private, no-cache"));
        let ks = keys(&r.body);
        assert!(ks[layer].contains("households"), "{layer}: the leader's tile lacks households: {ks:?}");
        checked += 1;
    }
    assert_eq!(checked, 5);
    // Building tiles: the same features with and without the private fields.
    let t = busiest(s, 16);
    let public = Tile::decode(&get(&tile_url(s, "buildings", t), &[]).body[..]).unwrap();
    let full =
        Tile::decode(&get(&tile_url(s, "buildings", t), &[("Authorization", &format!("Bearer {leader}"))]).body[..])
            .unwrap();
    let ids = |t: &Tile| t.layers[0].features.iter().map(|f| f.id.unwrap()).collect::<BTreeSet<_>>();
    assert_eq!(ids(&public), ids(&full));
    // TileJSON lists the fields each audience gets.
    let (st, pubdoc) = call("GET", &format!("{}/tiles/buildings.json", s.base), None, None);
    assert_eq!(st, 200);
    let (_, fulldoc) = call("GET", &format!("{}/tiles/buildings.json", s.base), Some(&leader), None);
    assert!(pubdoc["vector_layers"][0]["fields"].get("households").is_none());
    assert_eq!(fulldoc["vector_layers"][0]["fields"]["households"], "Number");
    // A wrong token is a 401, never a silently public tile.
    assert_error(&call("GET", &tile_url(s, "buildings", t), Some("0123abcd"), None), 401, "unknown or expired");
}

#[test]
fn composite_tiles_hold_each_layer_as_served_alone() {
    let s = server();
    for z in [12u8, 14, 16] {
        let t = busiest(s, z);
        let both = get(&tile_url(s, "buildings,basemap", t), &[]);
        assert_eq!(both.status, 200, "z{z}");
        let b = get(&tile_url(s, "buildings", t), &[]);
        let m = get(&tile_url(s, "basemap", t), &[]);
        // An empty part (buildings below zoom 14) is left out.
        let mut expected = Vec::new();
        for part in [&b, &m] {
            if part.status == 200 {
                expected.extend_from_slice(&part.body);
            } else {
                assert_eq!(part.status, 204);
            }
        }
        assert_eq!(both.body, expected, "z{z}: the composite is its parts in order");
        let names: Vec<String> = Tile::decode(&both.body[..]).unwrap().layers.into_iter().map(|l| l.name).collect();
        let want: Vec<&str> = if z >= 14 { vec!["buildings", "basemap"] } else { vec!["basemap"] };
        assert_eq!(names, want, "z{z}");
        let etag = both.header("etag").unwrap().to_string();
        assert_eq!(get(&tile_url(s, "buildings,basemap", t), &[("If-None-Match", &etag)]).status, 304);
        let gz = get(&tile_url(s, "buildings,basemap", t), &[("Accept-Encoding", "gzip")]);
        assert_eq!(gunzip(&gz.body), both.body);
    }
}

#[test]
fn tilejson_and_style_point_at_this_server() {
    let s = server();
    let (st, doc) = call("GET", &format!("{}/tiles/grids.json?plan=quadrants", s.base), None, None);
    assert_eq!(st, 200, "{doc}");
    assert_eq!(doc["tilejson"], "3.0.0");
    assert_eq!(doc["tiles"][0], format!("{}/tiles/grids/{{z}}/{{x}}/{{y}}.mvt?plan=quadrants", s.base));
    assert!(doc["attribution"].as_str().unwrap().contains("OpenStreetMap"));
    let (st, style) = call("GET", &format!("{}/style.json", s.base), None, None);
    assert_eq!(st, 200);
    assert_eq!(style["glyphs"], format!("{}/assets/glyphs/{{fontstack}}/{{range}}.pbf", s.base));
    assert_eq!(style["sprite"], format!("{}/assets/sprite/wangge", s.base));
    let sources = style["sources"].as_object().unwrap();
    assert!(sources.contains_key("grids"), "the active plan's grids are drawn");
    for (name, src) in sources {
        assert_eq!(src["url"], format!("{}/tiles/{name}.json", s.base));
        assert!(src["attribution"].as_str().unwrap().contains("OpenStreetMap"));
        let (st, tj) = call("GET", src["url"].as_str().unwrap(), None, None);
        assert_eq!(st, 200, "{name}: {tj}");
    }
    let fonts: BTreeSet<String> = style["layers"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|l| l["layout"]["text-font"].as_array())
        .flatten()
        .map(|f| f.as_str().unwrap().to_string())
        .collect();
    assert_eq!(fonts, BTreeSet::from(["wangge-sans".to_string()]));
}

#[test]
fn bad_tile_requests_are_json_4xx_naming_the_problem() {
    let s = server();
    let b = &s.base;
    let t = busiest(s, 14);
    let at = |layer: &str| format!("{b}/tiles/{layer}/{}/{}/{}.mvt", t.z, t.x, t.y);
    let cases: Vec<(String, u16, &str)> = vec![
        (format!("{b}/tiles/buildings/23/0/0.mvt"), 400, "zoom 23"),
        (format!("{b}/tiles/buildings/99999999999/0/0.mvt"), 400, "`99999999999`"),
        (format!("{b}/tiles/buildings/3/8/0.mvt"), 404, "3/8/0 does not exist"),
        (format!("{b}/tiles/buildings/3/0/8.mvt"), 404, "3/0/8 does not exist"),
        (format!("{b}/tiles/buildings/14/4294967295/0.mvt"), 404, "does not exist"),
        (format!("{b}/tiles/buildings/a/0/0.mvt"), 400, "tile z `a`"),
        (format!("{b}/tiles/buildings/3/-1/0.mvt"), 400, "tile x `-1`"),
        (format!("{b}/tiles/buildings/3/0/1.5.mvt"), 400, "tile y `1.5`"),
        (format!("{b}/tiles/buildings/3/0/0.png"), 400, ".mvt"),
        (format!("{b}/tiles/buildings/3/0/0"), 400, ".mvt"),
        (at("nope"), 404, "unknown tile layer `nope`"),
        (at("buildings,nope"), 404, "`nope`"),
        (at("buildings,buildings"), 400, "`buildings` twice"),
        (at("buildings,"), 404, "unknown tile layer ``"),
        (format!("{}?plan=nosuch", at("grids")), 404, "nosuch"),
        (format!("{}?metric=nosuch", at("heat")), 404, "nosuch"),
        (format!("{}?metric=nosuch", at("cells")), 404, "nosuch"),
        (format!("{}?plan=quadrants", at("buildings")), 400, "only the `grids` layer takes a plan"),
        (format!("{}?metric=completeness", at("grids")), 400, "`heat` and `cells`"),
        (format!("{}?plan=", at("grids")), 400, "must not be empty"),
        (format!("{b}/tiles/nope.json"), 404, "unknown tile layer `nope`"),
        (format!("{b}/tiles/grids.json?plan=nosuch"), 404, "nosuch"),
        (format!("{b}/tiles/heat.json?metric=nosuch"), 404, "nosuch"),
        (format!("{b}/tiles/buildings.json?plan=quadrants"), 400, "plan"),
        (format!("{b}/tiles/buildings,basemap.json"), 400, "per layer"),
        (format!("{b}/tiles/buildings.txt"), 404, "/tiles/buildings.txt"),
    ];
    for (url, status, needle) in &cases {
        let got = call("GET", url, None, None);
        assert!(got.0 < 500, "{url}: {}", got.1);
        assert_error(&got, *status, needle);
    }
    // A plan that exists and a metric that exists are fine (and the known lists are named).
    assert_eq!(get(&format!("{}?plan=quadrants", at("grids")), &[]).status, 200);
    assert_eq!(get(&format!("{}?metric=completeness", at("heat")), &[]).status, 200);
    let (_, e) = call("GET", &at("nope"), None, None);
    assert!(e["error"]["message"].as_str().unwrap().contains("buildings"), "{e}");
    assert_eq!(e["error"]["code"], "UnknownLayer");
}

/// Lon/lat box of a polygon, in Mercator.
fn merc(p: &Polygon<f64>) -> MercBox {
    let r = p.bounding_rect().unwrap();
    MercBox::from_lonlat(r.min().x, r.min().y, r.max().x, r.max().y)
}

#[test]
fn a_plan_edit_drops_only_the_tiles_it_touches() {
    let s = &start();
    let e = &s.extent;
    let all = |z: u8| -> Vec<TileId> {
        let b = MercBox::from_lonlat(e.min_lon, e.min_lat, e.max_lon, e.max_lat);
        let (xs, ys) = TileId::range(&b, z);
        xs.flat_map(|x| ys.clone().map(move |y| TileId { z, x, y })).collect()
    };
    let fetch = |ts: &[TileId]| -> BTreeMap<TileId, (u16, String)> {
        ts.iter()
            .map(|t| {
                let r = get(&tile_url(s, "grids", *t), &[]);
                (*t, (r.status, r.header("etag").unwrap_or("").to_string()))
            })
            .collect()
    };
    let tiles: Vec<TileId> = [14u8, 15, 16].into_iter().flat_map(all).collect();
    assert!(tiles.len() > 20, "{} tiles", tiles.len());
    let before = fetch(&tiles);
    assert!(before.values().all(|(st, _)| *st == 200 || *st == 204));
    // A buildings tile is cached too: the plan edit must not drop it.
    let bt = busiest(s, 15);
    let building_tag = get(&tile_url(s, "buildings", bt), &[]).header("etag").unwrap().to_string();
    // Everything is cached now: asking again encodes nothing.
    let misses0 = s.state.tiles.stats().misses;
    assert_eq!(fetch(&tiles), before);
    assert_eq!(s.state.tiles.stats().misses, misses0, "all served from the cache");

    // The edit: the south-west grid gives up its eastern 40 % (a planner's boundary move).
    let cx = (e.min_lon + e.max_lon) / 2.0;
    let new_edge = e.min_lon + (cx - e.min_lon) * 0.6;
    let old = quadrants(e, cx);
    let mut edited = quadrants(e, new_edge);
    edited.version = 1;
    let old_sw = old.grids[3].area.clone().unwrap();
    let new_sw = edited.grids[3].area.clone().unwrap();
    s.rt.block_on(async {
        s.state.store.save_plan(&edited).await.unwrap();
        s.state.plan_changed(&edited).await.unwrap();
    });
    let stats = s.state.tiles.stats();
    // Expected, worked out here: grid tiles whose buffered box meets the old or the new outline.
    let touched: BTreeSet<TileId> = tiles
        .iter()
        .copied()
        .filter(|t| {
            let bb = t.buffered_bounds();
            bb.intersects(&merc(&old_sw)) || bb.intersects(&merc(&new_sw))
        })
        .collect();
    assert!(!touched.is_empty() && touched.len() < tiles.len(), "{} of {}", touched.len(), tiles.len());

    let misses1 = s.state.tiles.stats().misses;
    let after = fetch(&tiles);
    let reencoded = s.state.tiles.stats().misses - misses1;
    assert_eq!(reencoded as usize, touched.len(), "exactly the touched tiles are encoded again ({stats:?})");
    let mut changed = 0;
    for t in &tiles {
        if after[t] != before[t] {
            assert!(touched.contains(t), "{t} changed but the edit does not touch it");
            changed += 1;
        }
    }
    // Tiles the moved edge crosses changed for sure.
    let edge_tile = TileId::containing(new_edge, (e.min_lat + (e.min_lat + e.max_lat) / 2.0) / 2.0, 16);
    assert_ne!(after[&edge_tile], before[&edge_tile], "the tile on the moved edge changed");
    assert!(changed >= 1);
    // Tiles away from the south-west grid kept their tags; so did the buildings tile.
    let far = TileId::containing(e.max_lon - 1e-6, e.max_lat - 1e-6, 16);
    assert!(!touched.contains(&far));
    assert_eq!(after[&far], before[&far]);
    let again = get(&tile_url(s, "buildings", bt), &[("If-None-Match", &building_tag)]);
    assert_eq!(again.status, 304, "a buildings tile is untouched by a plan edit");
    // And the edit is visible at once to a client revalidating its old tag.
    let (st, tag) = &before[&edge_tile];
    assert_eq!(*st, 200);
    assert_eq!(get(&tile_url(s, "grids", edge_tile), &[("If-None-Match", tag)]).status, 200);
}
