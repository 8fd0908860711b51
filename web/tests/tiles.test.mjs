// Vector tiles checked with an independent decoder (@mapbox/vector-tile + pbf, the decoder MapLibre
// descends from) against the GeoJSON API of the same server: starts a real `wangge demo --sample
// helsinki` with anonymous callers as residents, decodes buildings and facilities tiles at z14-16
// and compares ids, attributes and positions (within a pixel) with /api/v1/buildings and
// /api/v1/facilities over the same area; anonymous tiles must carry no household numbers.
//
//   WANGGE_BIN=/path/to/wangge node --test web/tests/tiles.test.mjs
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { gunzipSync } from 'node:zlib';
import { VectorTile } from '@mapbox/vector-tile';
import { PbfReader } from 'pbf';

const SERVER_START_TIMEOUT_MS = 240_000;
const EXTENT = 4096;
const BUFFER = 64;
// Tile attributes that must never reach an anonymous client.
const PRIVATE_KEY = /household|^units$|^covered$|^gap$|population/;

/** Starts `wangge demo --sample helsinki`; resolves with the base URL (no trailing slash). */
function startServer(bin, dataDir) {
  const args = [
    'demo', '--sample', 'helsinki', '--dir', dataDir, '--bind', '127.0.0.1:0',
    '--anonymous-role', 'resident', '--rate-limit', '0', '--web', join(dataDir, 'no-web'),
  ];
  const proc = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const stderr = [];
  proc.stderr.on('data', (d) => {
    stderr.push(d.toString());
    if (stderr.length > 200) stderr.shift();
  });
  const tail = () => stderr.join('').split('\n').slice(-25).join('\n');
  const ready = new Promise((resolveUrl, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`${bin} ${args.join(' ')} was not ready within ${SERVER_START_TIMEOUT_MS / 1000} s.\n${tail()}`));
    }, SERVER_START_TIMEOUT_MS);
    createInterface({ input: proc.stdout }).on('line', (line) => {
      const m = /wangge listening on (http:\/\/[^\s]+)/.exec(line);
      if (m) {
        clearTimeout(timer);
        resolveUrl(m[1].replace(/\/$/, ''));
      }
    });
    proc.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`could not start ${bin}: ${err.message}`));
    });
    proc.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${bin} exited (code ${code}, signal ${signal}) before it was ready.\n${tail()}`));
    });
  });
  return { proc, ready };
}

async function stopServer(proc) {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

/** A GET with node:http (no automatic decompression): { status, headers, body: Buffer }. */
function get(url, headers = {}) {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

async function getJson(url) {
  const r = await get(url);
  assert.equal(r.status, 200, `${url}: ${r.body.toString()}`);
  return JSON.parse(r.body.toString());
}

// Web Mercator tile maths, written here from the formulas (not taken from the server).
const lonToX = (lon, z) => ((lon + 180) / 360) * 2 ** z;
const latToY = (lat, z) => {
  const r = (lat * Math.PI) / 180;
  return ((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2) * 2 ** z;
};
const xToLon = (x, z) => (x / 2 ** z) * 360 - 180;
const yToLat = (y, z) => {
  const n = Math.PI - (2 * Math.PI * y) / 2 ** z;
  return (180 / Math.PI) * Math.atan(Math.sinh(n));
};
/** Tile pixel of a lon/lat in tile (z, x, y). */
const pixel = ([lon, lat], t) => [(lonToX(lon, t.z) - t.x) * EXTENT, (latToY(lat, t.z) - t.y) * EXTENT];
/** The lon/lat box of a tile grown by `px` tile pixels: minLon,minLat,maxLon,maxLat. */
function tileBbox(t, px) {
  const d = px / EXTENT;
  return [xToLon(t.x - d, t.z), yToLat(t.y + 1 + d, t.z), xToLon(t.x + 1 + d, t.z), yToLat(t.y - d, t.z)];
}

/** Every [lon, lat] of a GeoJSON geometry. */
function coords(g) {
  switch (g.type) {
    case 'Point': return [g.coordinates];
    case 'MultiPoint': case 'LineString': return g.coordinates;
    case 'MultiLineString': case 'Polygon': return g.coordinates.flat();
    case 'MultiPolygon': return g.coordinates.flat(2);
    default: throw new Error(`geometry ${g.type}`);
  }
}
/** The segments of a GeoJSON geometry's rings and lines, as pairs of [lon, lat]. */
function segments(g) {
  const lines = g.type === 'Polygon' ? g.coordinates : g.type === 'MultiPolygon' ? g.coordinates.flat() : [];
  return lines.flatMap((l) => l.slice(1).map((p, i) => [l[i], p]));
}
function distToSegment([px, py], [ax, ay], [bx, by]) {
  const dx = bx - ax;
  const dy = by - ay;
  const len2 = dx * dx + dy * dy;
  const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / len2));
  return Math.hypot(px - (ax + t * dx), py - (ay + t * dy));
}
const featureId = (f) => String(f.id ?? f.properties?.id);
const centre = (f) => {
  const c = coords(f.geometry);
  return [c.reduce((s, p) => s + p[0], 0) / c.length, c.reduce((s, p) => s + p[1], 0) / c.length];
};

/** Decodes a tile: { layerName: [{ id, props, rings: [[x, y], …][] }] } in tile pixels. */
function decode(buf) {
  const vt = new VectorTile(new PbfReader(buf));
  const out = {};
  for (const [name, layer] of Object.entries(vt.layers)) {
    assert.equal(layer.extent, EXTENT, `${name} extent`);
    out[name] = [];
    for (let i = 0; i < layer.length; i++) {
      const f = layer.feature(i);
      out[name].push({ id: f.id, type: f.type, props: f.properties, rings: f.loadGeometry().map((r) => r.map((p) => [p.x, p.y])) });
    }
  }
  return out;
}

/** The tile at zoom z holding the most of these features' centres. */
function busiestTile(features, z) {
  const count = new Map();
  for (const f of features) {
    const [lon, lat] = centre(f);
    const key = `${Math.floor(lonToX(lon, z))}/${Math.floor(latToY(lat, z))}`;
    count.set(key, (count.get(key) ?? 0) + 1);
  }
  const [best] = [...count.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0];
  const [x, y] = best.split('/').map(Number);
  return { z, x, y };
}

describe('vector tiles of `wangge demo --sample helsinki` against its GeoJSON API', () => {
  let server;
  let dataDir;
  let base;
  let allBuildings;
  let allFacilities;

  before(async () => {
    const bin = process.env.WANGGE_BIN;
    if (!bin) throw new Error('WANGGE_BIN is not set: point it at the wangge binary');
    if (!existsSync(bin)) throw new Error(`WANGGE_BIN=${bin} does not exist`);
    dataDir = mkdtempSync(join(tmpdir(), 'wangge-tiles-test-'));
    server = startServer(bin, dataDir);
    base = await server.ready;
    allBuildings = (await getJson(`${base}/api/v1/buildings`)).features;
    allFacilities = (await getJson(`${base}/api/v1/facilities`)).features;
    assert.ok(allBuildings.length > 200, `${allBuildings.length} buildings`);
    assert.ok(allFacilities.length > 10, `${allFacilities.length} facilities`);
  });

  after(async () => {
    await stopServer(server?.proc);
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  for (const z of [14, 15, 16]) {
    test(`buildings at z${z} match /api/v1/buildings: ids, attributes, positions within a pixel`, async () => {
      const t = busiestTile(allBuildings, z);
      const r = await get(`${base}/tiles/buildings/${t.z}/${t.x}/${t.y}.mvt`);
      assert.equal(r.status, 200);
      assert.equal(r.headers['content-type'], 'application/vnd.mapbox-vector-tile');
      const tile = decode(r.body);
      assert.deepEqual(Object.keys(tile), ['buildings']);
      const feats = tile.buildings;
      const geo = (await getJson(`${base}/api/v1/buildings?bbox=${tileBbox(t, BUFFER).join(',')}`)).features;
      assert.ok(!geo.truncated);
      const byId = new Map(geo.map((f) => [featureId(f), f]));
      const inTile = new Set();
      let compared = 0;
      for (const f of feats) {
        const g = byId.get(f.props.id);
        assert.ok(g, `tile feature ${f.props.id} is not in the GeoJSON of the same area`);
        inTile.add(f.props.id);
        assert.equal(typeof f.id, 'number', 'every feature has a numeric id');
        for (const k of ['kind', 'name', 'levels', 'residential', 'compound', 'community']) {
          assert.equal(f.props[k], g.properties[k], `${f.props.id}: ${k}`);
        }
        // Inside the tile: every tile vertex is a source vertex snapped to the pixel grid, and every
        // source vertex lies within a pixel of the simplified outline.
        const src = coords(g.geometry).map((p) => pixel(p, t));
        const inside = src.every(([x, y]) => x >= 0 && x <= EXTENT && y >= 0 && y <= EXTENT);
        if (!inside) continue;
        const tileSegs = f.rings.flatMap((ring) => ring.slice(1).map((p, i) => [ring[i], p]));
        for (const v of f.rings.flat()) {
          const d = Math.min(...src.map(([x, y]) => Math.hypot(x - v[0], y - v[1])));
          assert.ok(d <= 1, `${f.props.id}: tile vertex ${v} is ${d.toFixed(2)} px from the source`);
        }
        for (const [a, b] of segments(g.geometry)) {
          const p = pixel(a, t);
          const d = Math.min(...tileSegs.map(([s0, s1]) => distToSegment(p, s0, s1)));
          assert.ok(d <= 1.5, `${f.props.id}: source vertex ${a} is ${d.toFixed(2)} px from the tile outline`);
          void b;
        }
        compared++;
      }
      assert.ok(compared >= 10, `only ${compared} buildings lay wholly inside tile ${t.z}/${t.x}/${t.y}`);
      // Every building wholly inside the tile is in it (nothing is thinned from zoom 14 on).
      for (const g of geo) {
        const src = coords(g.geometry).map((p) => pixel(p, t));
        if (src.every(([x, y]) => x > 0 && x < EXTENT && y > 0 && y < EXTENT)) {
          assert.ok(inTile.has(featureId(g)), `building ${featureId(g)} lies in ${t.z}/${t.x}/${t.y} but not in its tile`);
        }
      }
      // Anonymous: no household numbers anywhere in the tile.
      for (const f of feats) {
        for (const k of Object.keys(f.props)) assert.doesNotMatch(k, PRIVATE_KEY, `anonymous tile has ${k}`);
      }
      // gzip is the same tile.
      const gz = await get(`${base}/tiles/buildings/${t.z}/${t.x}/${t.y}.mvt`, { 'Accept-Encoding': 'gzip' });
      assert.equal(gz.headers['content-encoding'], 'gzip');
      assert.deepEqual(gunzipSync(gz.body), r.body);
    });
  }

  for (const z of [15, 16]) {
    test(`facilities at z${z} match /api/v1/facilities: ids, categories, names, positions`, async () => {
      const t = busiestTile(allFacilities, z);
      const r = await get(`${base}/tiles/facilities/${t.z}/${t.x}/${t.y}.mvt`);
      assert.equal(r.status, 200);
      const feats = decode(r.body).facilities;
      const geo = (await getJson(`${base}/api/v1/facilities?bbox=${tileBbox(t, BUFFER).join(',')}`)).features;
      const byId = new Map(geo.map((f) => [featureId(f), f]));
      for (const f of feats) {
        const g = byId.get(f.props.id);
        assert.ok(g, `tile facility ${f.props.id} is not in the GeoJSON of the same area`);
        assert.equal(f.props.category, g.properties.category);
        assert.equal(f.props.name, g.properties.name);
        const [px, py] = pixel(g.geometry.coordinates, t);
        const [[vx, vy]] = f.rings[0];
        assert.ok(Math.hypot(px - vx, py - vy) <= 1, `${f.props.id}: ${[vx, vy]} vs ${[px, py]}`);
      }
      const inside = geo.filter((g) => {
        const [x, y] = pixel(g.geometry.coordinates, t);
        return x >= 0 && x < EXTENT && y >= 0 && y < EXTENT;
      });
      assert.ok(inside.length >= 1);
      const ids = new Set(feats.map((f) => f.props.id));
      for (const g of inside) assert.ok(ids.has(featureId(g)), `facility ${featureId(g)} missing from its tile`);
    });
  }

  test('anonymous tiles of every layer carry no household numbers; composites hold both layers', async () => {
    const t = busiestTile(allBuildings, 14);
    let layersSeen = 0;
    for (const layer of ['buildings', 'compounds', 'communities', 'streets', 'heat', 'cells', 'basemap', 'network', 'facilities']) {
      const r = await get(`${base}/tiles/${layer}/${t.z}/${t.x}/${t.y}.mvt`);
      assert.ok(r.status === 200 || r.status === 204, `${layer}: ${r.status} ${r.body}`);
      if (r.status === 204) continue;
      for (const [name, feats] of Object.entries(decode(r.body))) {
        layersSeen++;
        for (const f of feats) {
          for (const k of Object.keys(f.props)) assert.doesNotMatch(k, PRIVATE_KEY, `${name}: ${k}`);
        }
      }
    }
    assert.ok(layersSeen >= 4, `${layersSeen} non-empty layers`);
    const both = await get(`${base}/tiles/buildings,basemap/${t.z}/${t.x}/${t.y}.mvt`);
    assert.equal(both.status, 200);
    assert.deepEqual(Object.keys(decode(both.body)).sort(), ['basemap', 'buildings']);
    // A bad tile is a JSON 4xx.
    const bad = await get(`${base}/tiles/buildings/30/0/0.mvt`);
    assert.equal(bad.status, 400);
    assert.match(JSON.parse(bad.body.toString()).error.message, /zoom 30/);
  });
});
