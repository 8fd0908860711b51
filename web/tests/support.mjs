// Shared by the browser tests: a real `wangge serve` on the Beijing sample with two test communities,
// an active plan, grid workers, computed coverage and siting suggestions, a planner and a leader
// user, and anonymous callers served as residents; Chromium through playwright-core (no download).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const WEB = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const ROOT = resolve(WEB, '..');
export const DIST = join(WEB, 'dist');
export const SHOTS = join(ROOT, 'docs/screenshots');
export const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
export const USERS = {
  planner: { name: 'planner1', password: 'plan-pass-1', role: 'planner' },
  leader: { name: 'leader1', password: 'lead-pass-1', role: 'leader' },
};
const SERVER_START_TIMEOUT_MS = 120_000;
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export function wanggeBin() {
  const bin = process.env.WANGGE_BIN;
  if (!bin) throw new Error('WANGGE_BIN is not set: point it at the wangge binary, e.g. WANGGE_BIN=$CARGO_TARGET_DIR/debug/wangge');
  if (!existsSync(bin)) throw new Error(`WANGGE_BIN=${bin} does not exist (cargo build -p wangge)`);
  return bin;
}

function newestMtime(path) {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((name) => newestMtime(join(path, name))));
}

/** Fails when web/dist is missing or older than the sources it is built from. */
export function checkBuild() {
  const index = join(DIST, 'index.html');
  if (!existsSync(index)) throw new Error(`${index} is missing: run \`npm run build\` in web/ first`);
  const sources = ['src', 'public', 'index.html', 'vite.config.ts', 'package-lock.json'].map((p) => join(WEB, p)).filter(existsSync);
  if (Math.max(...sources.map(newestMtime)) > statSync(index).mtimeMs) {
    throw new Error(`${DIST} is older than the sources: run \`npm run build\` in web/ first`);
  }
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM} (set CHROMIUM_BIN)`);
  mkdirSync(SHOTS, { recursive: true });
}

function run(bin, args, input) {
  const r = spawnSync(bin, args, { encoding: 'utf8', input, env: { ...process.env, RUST_LOG: 'warn' } });
  if (r.status !== 0) throw new Error(`${bin} ${args.join(' ')} failed (${r.status}):\n${r.stderr}\n${r.stdout}`);
  return r.stdout;
}

/** Imports the sample and the test regions into a fresh store and prepares plans, workers, coverage, users. */
export function prepareStore(bin, dir) {
  const db = `sqlite://${join(dir, 'wangge.db')}`;
  const t0 = Date.now();
  run(bin, ['import', '--db', db, join(ROOT, 'geodata/beijing/haidian-liudaokou.osm.pbf'), join(WEB, 'tests/fixtures/regions.geojson')]);
  run(bin, ['partition', '--db', db, '--community', 'all', '--min', '300', '--max', '500', '--plan', 'city-2026']);
  run(bin, ['plan', '--db', db, 'activate', 'city-2026']);
  run(bin, ['partition', '--db', db, '--community', 'all', '--min', '300', '--max', '500', '--plan', 'draft']);
  // grid workers for every grid of the active plan (codes are community code + 3 digits)
  const rows = ['grid_id,name,phone,role'];
  for (const [code, n] of [['110108012001', 18], ['110108012002', 10]]) {
    for (let i = 1; i <= n; i++) {
      const id = `${code}${String(i).padStart(3, '0')}`;
      rows.push(`${id},网格员${String(i).padStart(2, '0')},1380000${String(i).padStart(4, '0')},专职网格员`);
    }
  }
  const csvPath = join(dir, 'workers.csv');
  writeFileSync(csvPath, `${rows.join('\n')}\n`);
  run(bin, ['workers', '--db', db, 'import', csvPath]);
  run(bin, ['circles', '--db', db, 'compute']);
  run(bin, ['circles', '--db', db, 'site', '--category', 'health_centre', '--count', '3']);
  for (const u of Object.values(USERS)) run(bin, ['user', '--db', db, 'add', '--role', u.role, '--password-stdin', u.name], `${u.password}\n`);
  return { db, prepareMs: Date.now() - t0 };
}

/** Starts `wangge <args>` and resolves with its base URL once it prints `wangge listening on http://…`. */
export function startServer(bin, args) {
  const proc = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const stderr = [];
  proc.stderr.on('data', (d) => {
    stderr.push(d.toString());
    if (stderr.length > 200) stderr.shift();
  });
  const tail = () => stderr.join('').split('\n').slice(-25).join('\n');
  const ready = new Promise((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`${bin} ${args.join(' ')} did not start within ${SERVER_START_TIMEOUT_MS / 1000} s.\n${tail()}`)), SERVER_START_TIMEOUT_MS);
    createInterface({ input: proc.stdout }).on('line', (line) => {
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
      reject(new Error(`${bin} exited (code ${code}, signal ${signal}) before it was ready.\n${tail()}`));
    });
  });
  return { proc, ready, tail };
}

export async function stopServer(proc) {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

/** A prepared store served with anonymous callers as residents. Call `close()` when done. */
export async function startPreparedServer() {
  const bin = wanggeBin();
  checkBuild();
  const dir = mkdtempSync(join(tmpdir(), 'wangge-web-views-'));
  const { db, prepareMs } = prepareStore(bin, dir);
  const server = startServer(bin, ['serve', '--db', db, '--bind', '127.0.0.1:0', '--web', DIST, '--anonymous-role', 'resident']);
  const baseUrl = await server.ready;
  const openapi = await (await fetch(new URL('api/v1/openapi.json', baseUrl))).json();
  return {
    baseUrl,
    prepareMs,
    openapi,
    /** Whether the server documents `path` (routes of docs/api.md land one by one). */
    has: (path) => Object.prototype.hasOwnProperty.call(openapi.paths ?? {}, path),
    close: async () => {
      await stopServer(server.proc);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Headless Chromium with its own profile; returns { context, page, browserClose, log }. */
export async function openBrowser(baseUrl, { viewport = { width: 1280, height: 800 }, locale = 'zh-CN', isMobile = false } = {}) {
  const userDir = mkdtempSync(join(tmpdir(), 'wangge-web-chromium-'));
  const context = await chromium.launchPersistentContext(userDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport,
    locale,
    isMobile,
    hasTouch: isMobile,
    deviceScaleFactor: 1,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const log = { pageErrors: [], consoleErrors: [], badResponses: [], foreign: [], responses: [] };
  page.on('pageerror', (err) => log.pageErrors.push(String(err)));
  page.on('console', (msg) => {
    if (msg.type() === 'error') log.consoleErrors.push(msg.text());
  });
  page.on('response', (res) => {
    log.responses.push(res);
    if (res.status() >= 400) log.badResponses.push(`${res.status()} ${res.url()}`);
  });
  page.on('request', (req) => {
    const url = req.url();
    if (!url.startsWith(baseUrl) && !url.startsWith('data:') && !url.startsWith('blob:')) log.foreign.push(url);
  });
  return {
    context,
    page,
    log,
    close: async () => {
      await context.close().catch(() => {});
      rmSync(userDir, { recursive: true, force: true });
    },
  };
}

/** Waits for the map to be idle with buildings drawn; returns ms since navigation (page clock). */
export async function waitForMap(page, timeout = 60_000) {
  await page.waitForFunction(() => window.__wangge?.firstBuildingsIdleMs != null, null, { timeout, polling: 100 });
  await settle(page);
  return page.evaluate(() => window.__wangge.firstBuildingsIdleMs);
}

/** Resolves when the map has no pending tiles, sources or transitions. */
export async function settle(page) {
  await page.evaluate(
    () =>
      new Promise((r) => {
        const map = window.__wangge.map;
        const done = () => r();
        if (map.loaded() && !map.isMoving()) {
          map.once('idle', done);
          map.triggerRepaint();
        } else map.once('idle', done);
      }),
  );
}

/** Counts of rendered features per layer id. */
export function rendered(page, layerIds) {
  return page.evaluate((ids) => {
    const map = window.__wangge.map;
    const out = {};
    for (const id of ids) out[id] = map.getLayer(id) ? map.queryRenderedFeatures({ layers: [id] }).length : -1;
    return out;
  }, layerIds);
}

/** Signs in through the login dialog. */
export async function login(page, user) {
  await page.locator('#login-dialog[open]').waitFor({ timeout: 10_000 });
  await page.fill('#login-user', user.name);
  await page.fill('#login-pass', user.password);
  await page.click('#login-submit');
  await page.locator('#login-dialog[open]').waitFor({ state: 'detached', timeout: 10_000 }).catch(() => {});
  await page.waitForFunction((role) => window.__wangge.role === role, user.role, { timeout: 10_000 });
}

/** Names of the household fields that must never reach a resident. */
export const HOUSEHOLD_KEYS = ['households', 'households_source', 'households_estimated', 'units', 'households_gained', 'households_covered', 'households_total'];

/** Finds household fields anywhere in a JSON value (the names above, or any key naming households); returns their paths. */
export function householdPaths(value, path = '$', out = []) {
  if (Array.isArray(value)) value.forEach((v, i) => householdPaths(v, `${path}[${i}]`, out));
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      // a flag such as `households_visible: false` is no household number; counts and tables of them are
      if (HOUSEHOLD_KEYS.includes(k) || (/household/i.test(k) && typeof v !== 'boolean')) out.push(`${path}.${k}`);
      householdPaths(v, `${path}.${k}`, out);
    }
  }
  return out;
}
