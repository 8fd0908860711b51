// Real-browser test of the web map: starts `wangge demo` (the real server with the Beijing sample),
// opens the built page in headless Chromium and checks what is drawn.
//
//   WANGGE_BIN=/path/to/wangge npm test        (builds web/dist first)
//   WANGGE_BIN=/path/to/wangge node --test web/tests/
//
// CHROMIUM_BIN overrides the browser (default /usr/bin/chromium). Screenshots go to web/test-results/.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { PNG } from 'pngjs';

const WEB = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DIST = join(WEB, 'dist');
const RESULTS = join(WEB, 'test-results');
const SERVER_START_TIMEOUT_MS = 120_000;
const MAP_READY_TIMEOUT_MS = 90_000;
const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const VIEWPORT = { width: 1280, height: 800 };

/** Newest modification time (ms) of the files under `path`. */
function newestMtime(path) {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((name) => newestMtime(join(path, name))));
}

/** Fails when web/dist is missing or older than the sources it is built from. */
function checkBuild() {
  const index = join(DIST, 'index.html');
  if (!existsSync(index)) throw new Error(`${index} is missing: run \`npm run build\` in web/ first`);
  const sources = ['src', 'index.html', 'vite.config.ts', 'package-lock.json'].map((p) => join(WEB, p)).filter(existsSync);
  const newest = Math.max(...sources.map(newestMtime));
  if (newest > statSync(index).mtimeMs) {
    throw new Error(`${DIST} is older than the sources: run \`npm run build\` in web/ first`);
  }
}

/** Starts the server and resolves with its base URL once it prints `wangge listening on http://…`. */
function startServer(bin, dataDir) {
  // The demo serves anonymous callers as residents; this test checks the signed-in colouring by
  // households on public sample data, so it lets anonymous callers read as a leader.
  const args = ['demo', '--sample', 'beijing', '--dir', dataDir, '--bind', '127.0.0.1:0', '--web', DIST, '--anonymous-role', 'leader'];
  const proc = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const stderr = [];
  proc.stderr.on('data', (d) => {
    stderr.push(d.toString());
    if (stderr.length > 200) stderr.shift();
  });
  const tail = () => stderr.join('').split('\n').slice(-25).join('\n');
  const ready = new Promise((resolveUrl, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`${bin} ${args.join(' ')} did not print "wangge listening on http://…" within ${SERVER_START_TIMEOUT_MS / 1000} s.\nstderr tail:\n${tail()}`));
    }, SERVER_START_TIMEOUT_MS);
    const lines = createInterface({ input: proc.stdout });
    lines.on('line', (line) => {
      const m = /wangge listening on (http:\/\/[^\s]+)/.exec(line);
      if (m) {
        clearTimeout(timer);
        resolveUrl(m[1].replace(/\/?$/, '/'));
      }
    });
    proc.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`could not start ${bin}: ${err.message}`));
    });
    proc.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${bin} exited (code ${code}, signal ${signal}) before it was ready.\nstderr tail:\n${tail()}`));
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

function hexToRgb(hex) {
  const n = parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

/** Distinct colours and how many pixels (outside `exclude` rects) are within `tol` of one of `colors`. */
function analysePng(buf, colors, exclude) {
  const png = PNG.sync.read(buf);
  const targets = colors.map(hexToRgb);
  const distinct = new Set();
  let matching = 0;
  let counted = 0;
  const tol = 6;
  for (let y = 0; y < png.height; y++) {
    for (let x = 0; x < png.width; x++) {
      if (exclude.some((r) => x >= r.x && x < r.x + r.width && y >= r.y && y < r.y + r.height)) continue;
      const i = (y * png.width + x) * 4;
      const [r, g, b] = [png.data[i], png.data[i + 1], png.data[i + 2]];
      distinct.add((r << 16) | (g << 8) | b);
      counted++;
      if (targets.some(([tr, tg, tb]) => Math.abs(r - tr) <= tol && Math.abs(g - tg) <= tol && Math.abs(b - tb) <= tol)) {
        matching++;
      }
    }
  }
  return { width: png.width, height: png.height, distinct: distinct.size, matching, counted };
}

describe('web map against `wangge demo --sample beijing`', () => {
  let server;
  let dataDir;
  let userDir;
  let context;
  let page;
  let baseUrl;
  const pageErrors = [];
  const consoleErrors = [];
  const badResponses = [];
  const foreignRequests = [];
  let navStart;
  let readyWallMs;

  before(async () => {
    const bin = process.env.WANGGE_BIN;
    if (!bin) {
      throw new Error('WANGGE_BIN is not set: point it at the wangge binary, e.g. WANGGE_BIN=$CARGO_TARGET_DIR/debug/wangge');
    }
    if (!existsSync(bin)) throw new Error(`WANGGE_BIN=${bin} does not exist (build it with cargo build -p wangge-cli?)`);
    checkBuild();
    if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM} (set CHROMIUM_BIN)`);
    mkdirSync(RESULTS, { recursive: true });

    dataDir = mkdtempSync(join(tmpdir(), 'wangge-web-test-data-'));
    server = startServer(bin, dataDir);
    baseUrl = await server.ready;

    userDir = mkdtempSync(join(tmpdir(), 'wangge-web-test-chromium-'));
    context = await chromium.launchPersistentContext(userDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: VIEWPORT,
      locale: 'zh-CN',
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (err) => pageErrors.push(String(err)));
    page.on('console', (msg) => {
      if (msg.type() === 'error') consoleErrors.push(msg.text());
    });
    page.on('response', (res) => {
      if (res.status() >= 400) badResponses.push(`${res.status()} ${res.url()}`);
    });
    page.on('request', (req) => {
      const url = req.url();
      if (!url.startsWith(baseUrl) && !url.startsWith('data:') && !url.startsWith('blob:')) foreignRequests.push(url);
    });

    navStart = Date.now();
    await page.goto(baseUrl, { waitUntil: 'domcontentloaded' });
    try {
      await page.waitForFunction(() => window.__wangge?.firstBuildingsIdleMs != null, null, {
        timeout: MAP_READY_TIMEOUT_MS,
        polling: 100,
      });
    } catch (err) {
      const state = await page
        .evaluate(() => ({ loads: window.__wangge?.loads, status: document.getElementById('status')?.textContent }))
        .catch(() => null);
      await page.screenshot({ path: join(RESULTS, 'map-beijing-timeout.png') }).catch(() => {});
      throw new Error(
        `the map did not settle with buildings drawn within ${MAP_READY_TIMEOUT_MS / 1000} s (${err.message}).\n` +
          `page state: ${JSON.stringify(state)}\npage errors: ${JSON.stringify(pageErrors)}\n` +
          `console errors: ${JSON.stringify(consoleErrors)}\nHTTP errors: ${JSON.stringify(badResponses)}`,
      );
    }
    readyWallMs = Date.now() - navStart;
    // Let the map settle completely (all sources parsed, no transitions) before looking at it.
    await page.evaluate(
      () =>
        new Promise((r) => {
          const map = window.__wangge.map;
          if (map.loaded()) r();
          else map.once('idle', () => r());
        }),
    );
  });

  after(async () => {
    await context?.close().catch(() => {});
    await stopServer(server?.proc);
    for (const d of [dataDir, userDir]) if (d) rmSync(d, { recursive: true, force: true });
  });

  test('reports time from navigation to the first idle with buildings', async (t) => {
    const inPage = await page.evaluate(() => window.__wangge.firstBuildingsIdleMs);
    assert.ok(inPage > 0);
    const line = `time to first idle with buildings: ${inPage} ms after navigation start (page clock); ${readyWallMs} ms wall clock seen by the test`;
    t.diagnostic(line);
  });

  test('renders buildings, facility icons and roads', async (t) => {
    const counts = await page.evaluate(() => {
      const { map, layers } = window.__wangge;
      const n = (id) => map.queryRenderedFeatures({ layers: [id] }).length;
      return {
        buildings: n(layers.buildingFill),
        facilities: n(layers.facility),
        roads: n(layers.road),
        landuse: n(layers.landuse),
        loads: window.__wangge.loads,
      };
    });
    t.diagnostic(`rendered features: ${JSON.stringify(counts)}`);
    assert.ok(counts.buildings > 0, 'no building fills rendered');
    assert.ok(counts.facilities > 0, 'no facility icons rendered');
    assert.ok(counts.roads > 0, 'no roads rendered');
  });

  test('shows the OpenStreetMap attribution', async () => {
    const text = await page.locator('.maplibregl-ctrl-attrib').innerText();
    assert.match(text, /© OpenStreetMap contributors/);
  });

  test('screenshot is not blank and shows buildings in the household colours', async (t) => {
    const path = join(RESULTS, 'map-beijing.png');
    const buf = await page.screenshot({ path });
    const colors = await page.evaluate(() => window.__wangge.householdColors);
    // The legend repeats the colours as swatches: leave the panels out of the count.
    const exclude = [];
    for (const sel of ['#legend', '#toolbar']) {
      const box = await page.locator(sel).boundingBox();
      if (box) exclude.push({ x: Math.floor(box.x), y: Math.floor(box.y), width: Math.ceil(box.width) + 1, height: Math.ceil(box.height) + 1 });
    }
    const a = analysePng(buf, colors, exclude);
    const share = a.matching / a.counted;
    t.diagnostic(`${path}: ${a.width}x${a.height}, ${a.distinct} distinct colours, ${a.matching} px (${(share * 100).toFixed(2)} %) in building colours`);
    assert.ok(a.distinct > 50, `screenshot looks blank: only ${a.distinct} distinct colours`);
    assert.ok(a.matching > 2000 && share > 0.005, `too few building-coloured pixels: ${a.matching}`);
  });

  test('clicking a building opens a popup with its households', async () => {
    const point = await page.evaluate(() => {
      const { map, layers } = window.__wangge;
      const canvas = map.getCanvas();
      const w = canvas.clientWidth;
      const h = canvas.clientHeight;
      // Search the middle of the screen (away from the panels) for a point on a building.
      for (let y = Math.round(h * 0.2); y < h * 0.8; y += 7) {
        for (let x = Math.round(w * 0.3); x < w * 0.85; x += 7) {
          const hit = map.queryRenderedFeatures([x, y], { layers: [layers.facility, layers.buildingFill] });
          if (hit.length > 0 && hit[0].layer.id === layers.buildingFill && typeof hit[0].properties.households === 'number') {
            return { x, y, households: hit[0].properties.households };
          }
        }
      }
      return null;
    });
    assert.ok(point, 'found no building with households on screen to click');
    const box = await page.locator('#map canvas').boundingBox();
    await page.mouse.click(box.x + point.x, box.y + point.y);
    const popup = page.locator('.maplibregl-popup .popup-building');
    await popup.waitFor({ timeout: 5_000 });
    const text = await popup.innerText();
    await page.screenshot({ path: join(RESULTS, 'map-beijing-popup.png') });
    assert.ok(text.includes(`${point.households} 户`), `popup text lacks "${point.households} 户": ${text}`);
  });

  test('switches the interface to English and back', async () => {
    await page.locator('#lang-switch button[data-lang="en"]').click();
    assert.match(await page.locator('#legend').innerText(), /Households per building/);
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'en');
    await page.screenshot({ path: join(RESULTS, 'map-beijing-en.png') });
    await page.locator('#lang-switch button[data-lang="zh"]').click();
    assert.match(await page.locator('#legend').innerText(), /楼栋户数/);
  });

  test('moving the map loads the new viewport', async () => {
    const before = await page.evaluate(() => window.__wangge.loads);
    await page.evaluate(() => {
      const map = window.__wangge.map;
      const b = window.__wangge.meta.bbox;
      // one data-bbox width/height to the north-east: well outside what was fetched
      map.jumpTo({ center: [2 * b[2] - b[0], 2 * b[3] - b[1]] });
    });
    await page.waitForFunction((n) => window.__wangge.loads > n, before, { timeout: 30_000 });
  });

  test('no page errors, console errors, failed requests or outside requests', () => {
    assert.deepEqual(pageErrors, [], 'page errors');
    assert.deepEqual(consoleErrors, [], 'console errors');
    assert.deepEqual(badResponses, [], 'HTTP errors');
    assert.deepEqual(foreignRequests, [], 'requests to other origins');
  });
});
