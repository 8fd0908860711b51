// wangge web map: the shell. Map, base layers for the viewport, language, session and the three
// views (resident, planner, leader) chosen by the URL hash (#resident, #planner, #leader).
import 'maplibre-gl/dist/maplibre-gl.css';
import './style.css';
import {
  AttributionControl,
  Map as MlMap,
  NavigationControl,
  Popup,
  prewarm,
  ScaleControl,
  setWorkerUrl,
  type MapMouseEvent,
  type VectorTileSource,
} from 'maplibre-gl';
// The worker is resolved at run time by MapLibre, so the bundler must be told to emit it.
import workerUrl from 'maplibre-gl/dist/maplibre-gl-worker.mjs?url';
import { api, getToken, setOnUnauthorized, setToken, type BuildingProps, type Category, type Meta, type PlanSummary, type Role } from './api';
import type { FeatureCollection } from 'geojson';
import { VIEW_ROLE, clicks, roleAllows, type Ctx, type View, type ViewName } from './app';
import { HOUSEHOLD_CLASSES } from './colors';
import { describeError } from './errors';
import { initialLang, messages, saveLang, type Lang, type Messages } from './i18n';
import { installIcons } from './icons';
import { applyLayerVisibility, BASE_SOURCE, baseTiles, buildStyle, BUILDINGS_MINZOOM, CLICKABLE, gridTileLabel, HIDDEN_GROUPS, LAYER, LAYER_GROUPS, setGridTiles } from './layers';
import { renderLegend } from './legend';
import { buildingPopup, facilityPopup } from './popup';
import { el } from './util';
import { ResidentView } from './views/resident';

setWorkerUrl(new URL(workerUrl, window.location.href).href);
// Fetch and start the map's workers while the page asks the server for its metadata.
prewarm();

/** What tests can reach from outside: `window.__wangge`. */
export interface WanggeHandle {
  map: MlMap | null;
  meta: Meta | null;
  lang: Lang;
  /** Completed loads of the base tiles (each time the tiles of the viewport are all in). */
  loads: number;
  /** ms since navigation start at the first `idle` with buildings rendered. */
  firstBuildingsIdleMs: number | null;
  /** ms since navigation start at the first frame with buildings drawn (the map takes input from then on). */
  firstBuildingsRenderMs: number | null;
  layers: typeof LAYER;
  householdColors: string[];
  setLang: (lang: Lang) => void;
  view: ViewName | null;
  role: Role;
  /** The mounted view object (its state is read by tests). */
  current: View | null;
  /** ms since navigation start of the start-up steps (for the first-view budget). */
  timings: Record<string, number>;
  /** The buildings of the loaded tiles, one GeoJSON feature each. */
  buildings: () => FeatureCollection<GeoJSON.Geometry, BuildingProps>;
  /** The active plan drawn from the grid tiles, and the version in its tile URLs. */
  activePlan: () => { name: string; version: number } | null;
}

declare global {
  interface Window {
    __wangge: WanggeHandle;
  }
}

const OSM_COPYRIGHT = 'https://www.openstreetmap.org/copyright';
const TOKEN_KEY = 'wangge.session';
const VIEWS: ViewName[] = ['resident', 'planner', 'leader'];

let lang: Lang = initialLang();
let t: Messages = messages(lang);
let categories = new Map<string, Category>();
let popup: Popup | null = null;
let role: Role = 'resident';
let userName: string | null = null;
let current: View | null = null;
let currentName: ViewName | null = null;
let ctx: Ctx | null = null;
/** Whether the buildings on the map carry household numbers (the legend explains their colours only then). */
let buildingsHaveHouseholds = false;

const status = { loading: false, error: null as string | null, truncated: false, zoomIn: false, note: null as string | null };
const handle: WanggeHandle = {
  map: null,
  meta: null,
  lang,
  loads: 0,
  firstBuildingsIdleMs: null,
  firstBuildingsRenderMs: null,
  layers: LAYER,
  householdColors: HOUSEHOLD_CLASSES.map((c) => c.color),
  setLang,
  view: null,
  role,
  current: null,
  timings: {},
  buildings: () => (handle.map ? tileBuildings(handle.map) : { type: 'FeatureCollection', features: [] }),
  activePlan: () => activePlan,
};
const mark = (name: string): void => void (handle.timings[name] = Math.round(performance.now()));
mark('script');
window.__wangge = handle;

function $(id: string): HTMLElement {
  const e = document.getElementById(id);
  if (!e) throw new Error(`missing #${id}`);
  return e;
}

function renderStatus(): void {
  const box = $('status');
  const text =
    status.error ??
    status.note ??
    (status.loading ? t.loading : status.truncated ? t.truncated : status.zoomIn ? t.zoomInForBuildings : '');
  box.textContent = text;
  box.hidden = text === '';
  box.classList.toggle('error', status.error !== null);
  box.classList.toggle('loading', status.error === null && status.note === null && status.loading);
}

let noteTimer: number | undefined;
function notify(text: string, kind: 'info' | 'error' = 'info'): void {
  window.clearTimeout(noteTimer);
  if (kind === 'error') {
    status.error = text;
    status.note = null;
  } else {
    status.error = null;
    status.note = text || null;
    noteTimer = window.setTimeout(() => {
      status.note = null;
      renderStatus();
    }, 4000);
  }
  renderStatus();
}

function renderTabs(): void {
  const nav = $('view-tabs');
  nav.setAttribute('aria-label', t.viewsLabel);
  nav.replaceChildren();
  for (const v of VIEWS) {
    const a = el('a', 'tab', t.views[v], { href: `#${v}`, role: 'tab', 'aria-selected': String(v === currentName), id: `tab-${v}` });
    nav.append(a);
  }
}

function renderSession(): void {
  const box = $('session');
  box.replaceChildren();
  if (userName) {
    box.append(el('span', 'who', t.signedInAs(userName, t.roles[role] ?? role)));
    const out = el('button', 'btn small', t.logout, { type: 'button', id: 'logout' });
    out.addEventListener('click', () => void logout());
    box.append(out);
  } else {
    const b = el('button', 'btn small', t.login, { type: 'button', id: 'login' });
    b.addEventListener('click', () => openLogin(null));
    box.append(b);
  }
}

function renderChrome(): void {
  document.documentElement.lang = t.lang;
  document.title = handle.meta ? `${handle.meta.name} · ${t.appTitle}` : t.appTitle;
  $('title').textContent = handle.meta ? `${t.appTitle} · ${handle.meta.name}` : t.appTitle;
  for (const b of $('lang-switch').querySelectorAll<HTMLButtonElement>('button')) {
    b.setAttribute('aria-pressed', String(b.dataset.lang === lang));
  }
  $('legend-summary').textContent = t.legendTitle;
  if (handle.meta) renderLegend($('legend'), t, lang, handle.meta, buildingsHaveHouseholds, currentName === 'planner');
  renderLayerSwitch();
  renderTabs();
  renderSession();
  renderStatus();
}

// ---- layer switcher ------------------------------------------------------------------------------

function renderLayerSwitch(): void {
  const box = $('legend');
  const fs = el('fieldset', 'layer-switch', undefined, { id: 'layer-switch' });
  fs.append(el('legend', undefined, t.layersTitle));
  for (const group of Object.keys(LAYER_GROUPS)) {
    const label = el('label');
    const cb = el('input', undefined, undefined, { type: 'checkbox', 'data-group': group });
    cb.checked = !HIDDEN_GROUPS.has(group);
    cb.addEventListener('change', () => {
      if (cb.checked) HIDDEN_GROUPS.delete(group);
      else HIDDEN_GROUPS.add(group);
      if (handle.map) applyLayerVisibility(handle.map);
    });
    label.append(cb, document.createTextNode(` ${t.layerGroups[group] ?? group}`));
    fs.append(label);
  }
  box.append(fs);
}

function setLang(next: Lang): void {
  lang = next;
  t = messages(lang);
  handle.lang = lang;
  saveLang(lang);
  popup?.remove();
  if (handle.map?.getLayer(LAYER.gridTileLabel)) handle.map.setLayoutProperty(LAYER.gridTileLabel, 'text-field', gridTileLabel(t.householdsUnit));
  renderChrome();
  current?.render();
}

// ---- attribution -------------------------------------------------------------------------------

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
function attributionHtml(s: string): string {
  return escapeHtml(s).replace(/https?:\/\/[^\s,;)&]+/g, (u) => `<a href="${u}" target="_blank" rel="noopener">${u}</a>`);
}
const attributions = new Set<string>();
let attributionControl: AttributionControl | null = null;
function addAttributions(map: MlMap, list: (string | undefined)[]): void {
  const before = attributions.size;
  for (const a of list) if (a && a.trim()) attributions.add(a.trim());
  if (attributionControl && attributions.size === before) return;
  const custom = [`<a href="${OSM_COPYRIGHT}" target="_blank" rel="noopener">© OpenStreetMap contributors</a>`];
  for (const a of attributions) {
    const rest = a.replace(/^©\s*OpenStreetMap contributors\s*/i, '').replace(/^\((.*)\)$/, '$1');
    if (rest) custom.push(attributionHtml(rest));
  }
  if (attributionControl) map.removeControl(attributionControl);
  attributionControl = new AttributionControl({ compact: false, customAttribution: custom });
  map.addControl(attributionControl, 'bottom-right');
}

// ---- base layers: the server's vector tiles ----------------------------------------------------------

/** Version of the base tile URLs: bumped when the audience (token or not) changes or households change. */
let baseVersion = 0;
/** The tiles' audience: whether the view sends the token (signed-in views get household numbers). */
let baseAuth: boolean | null = null;
/** The active plan whose grids are drawn from tiles, and the version its tile URLs carry. */
let activePlan: { name: string; version: number } | null = null;
let tileSeen = false;

/** Resident requests go out without the token: a resident never receives household numbers. */
function authForView(): boolean {
  return (currentName ?? viewFromHash()) !== 'resident';
}

/** Buildings of the loaded tiles as GeoJSON (one feature per building: pieces cut at tile edges are dropped). */
function tileBuildings(map: MlMap): FeatureCollection<GeoJSON.Geometry, BuildingProps> {
  const seen = new Set<string>();
  const features: GeoJSON.Feature<GeoJSON.Geometry, BuildingProps>[] = [];
  if (!map.getSource(BASE_SOURCE)) return { type: 'FeatureCollection', features };
  for (const f of map.querySourceFeatures(BASE_SOURCE, { sourceLayer: 'buildings' })) {
    const id = String(f.properties?.id ?? f.id ?? '');
    if (!id || seen.has(id)) continue;
    seen.add(id);
    features.push({ type: 'Feature', id, geometry: f.geometry, properties: f.properties as BuildingProps });
  }
  return { type: 'FeatureCollection', features };
}

/** Fetches the base tiles again (new URLs, so neither MapLibre's nor the browser's cache answers). */
function reloadBaseTiles(map: MlMap): void {
  baseVersion += 1;
  baseAuth = authForView();
  tileSeen = false;
  map.getSource<VectorTileSource>(BASE_SOURCE)?.setTiles(baseTiles(baseVersion));
}

/** The status line and the legend follow the base tiles: loading, zoom in for buildings, households or not. */
function watchBaseTiles(map: MlMap): void {
  map.on('sourcedataloading', (e) => {
    if (e.sourceId !== BASE_SOURCE) return;
    if (!status.loading) {
      status.loading = true;
      renderStatus();
    }
  });
  map.on('sourcedata', (e) => {
    if (e.sourceId !== BASE_SOURCE) return;
    if (e.tile) tileSeen = true;
    if (!e.isSourceLoaded || !tileSeen) return;
    tileSeen = false;
    handle.loads += 1;
    if (handle.loads === 1) mark('firstData');
    status.loading = false;
    status.zoomIn = map.getZoom() < BUILDINGS_MINZOOM;
    if (status.error === t.loadFailed) status.error = null;
    const had = buildingsHaveHouseholds;
    buildingsHaveHouseholds = map.querySourceFeatures(BASE_SOURCE, { sourceLayer: 'buildings' }).some((f) => typeof f.properties?.households === 'number');
    if (had !== buildingsHaveHouseholds && handle.meta) renderChrome();
    else renderStatus();
  });
  map.on('moveend', () => {
    const zoomIn = map.getZoom() < BUILDINGS_MINZOOM;
    if (zoomIn !== status.zoomIn) {
      status.zoomIn = zoomIn;
      renderStatus();
    }
  });
  map.on('error', (e) => {
    const sourceId = (e as { sourceId?: string }).sourceId;
    console.warn('wangge: map error', sourceId ?? '', e.error?.message ?? e);
    if (sourceId === BASE_SOURCE) {
      status.loading = false;
      status.error = t.loadFailed;
      renderStatus();
    }
  });
}

/** Draws the active plan's grids from tiles (`null`: no plan is active). */
function showActivePlan(map: MlMap, plan: { name: string; version: number } | null): void {
  activePlan = plan;
  setGridTiles(map, plan?.name ?? null, plan?.version ?? 0, t.householdsUnit);
}

// ---- interaction -----------------------------------------------------------------------------------

function onClick(map: MlMap, e: MapMouseEvent): void {
  if (clicks.taken) return;
  if (current?.click) {
    current.click(e);
    if (currentName === 'planner') return;
  }
  const layers = CLICKABLE.filter((id) => map.getLayer(id));
  const [f] = map.queryRenderedFeatures(e.point, { layers });
  if (!f) return;
  const content = f.layer.id === LAYER.facility ? facilityPopup(f, t, lang, categories) : buildingPopup(f, t);
  popup?.remove();
  popup = new Popup({ maxWidth: '280px' }).setLngLat(e.lngLat).setDOMContent(content).addTo(map);
}

function watchFirstIdle(map: MlMap): void {
  const onIdle = (): void => {
    if (handle.loads === 0) return;
    if (map.queryRenderedFeatures({ layers: [LAYER.buildingFill] }).length === 0) return;
    handle.firstBuildingsIdleMs = Math.round(performance.now());
    map.off('idle', onIdle);
  };
  map.on('idle', onIdle);
  const onRender = (): void => {
    if (handle.loads === 0) return;
    if (map.queryRenderedFeatures({ layers: [LAYER.buildingFill] }).length === 0) return;
    handle.firstBuildingsRenderMs = Math.round(performance.now());
    map.off('render', onRender);
  };
  map.on('render', onRender);
}

// ---- session ------------------------------------------------------------------------------------------

function saveSession(token: string | null, name: string | null): void {
  try {
    if (token) window.sessionStorage.setItem(TOKEN_KEY, JSON.stringify({ token, name }));
    else window.sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // storage disabled: the session lasts for this page
  }
}

async function restoreSession(): Promise<void> {
  try {
    const saved = window.sessionStorage.getItem(TOKEN_KEY);
    if (saved) {
      const s = JSON.parse(saved) as { token: string; name: string | null };
      setToken(s.token);
      userName = s.name;
    }
  } catch {
    // ignore
  }
  try {
    const me = await api.me();
    role = me.role;
    if (me.name) userName = me.name;
  } catch {
    setToken(null);
    userName = null;
    saveSession(null, null);
    role = 'resident';
    try {
      role = (await api.me()).role;
    } catch {
      // the server decides per request
    }
  }
  handle.role = role;
}

let pendingView: ViewName | null = null;

function openLogin(forView: ViewName | null): void {
  pendingView = forView;
  const dlg = $('login-dialog') as HTMLDialogElement;
  $('login-title').textContent = t.loginTitle;
  $('login-note').textContent = forView ? t.loginNeeded(t.views[forView]) : '';
  $('login-user-label').textContent = t.userName;
  $('login-pass-label').textContent = t.password;
  $('login-submit').textContent = t.login;
  $('login-cancel').textContent = t.cancel;
  $('login-error').hidden = true;
  if (!dlg.open) dlg.showModal();
  ($('login-user') as HTMLInputElement).focus();
}

function wireLogin(): void {
  const dlg = $('login-dialog') as HTMLDialogElement;
  $('login-cancel').addEventListener('click', () => {
    dlg.close();
    if (pendingView && !roleAllows(role, VIEW_ROLE[pendingView])) window.location.hash = '#resident';
  });
  $('login-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const name = ($('login-user') as HTMLInputElement).value.trim();
    const password = ($('login-pass') as HTMLInputElement).value;
    void (async () => {
      try {
        const ans = await api.login(name, password);
        setToken(ans.token);
        userName = ans.name ?? name;
        role = ans.role;
        handle.role = role;
        saveSession(ans.token, userName);
        dlg.close();
        ($('login-pass') as HTMLInputElement).value = '';
        renderChrome();
        const target = pendingView ?? currentName ?? 'resident';
        pendingView = null;
        await showView(target, true);
      } catch (err) {
        const box = $('login-error');
        box.textContent = describeError(err, t);
        box.hidden = false;
      }
    })();
  });
}

async function logout(): Promise<void> {
  try {
    await api.logout();
  } catch {
    // the token is dropped here anyway
  }
  setToken(null);
  userName = null;
  saveSession(null, null);
  try {
    role = (await api.me()).role;
  } catch {
    role = 'resident';
  }
  handle.role = role;
  renderChrome();
  window.location.hash = '#resident';
  await showView('resident', true);
}

setOnUnauthorized(() => {
  setToken(null);
  userName = null;
  saveSession(null, null);
  role = 'resident';
  handle.role = role;
  renderChrome();
  notify(t.errors.unauthorized, 'error');
});

// ---- views ---------------------------------------------------------------------------------------------

function viewFromHash(): ViewName {
  const h = window.location.hash.replace(/^#\/?/, '');
  return (VIEWS as string[]).includes(h) ? (h as ViewName) : 'resident';
}

async function showView(name: ViewName, force = false): Promise<void> {
  if (!ctx) return;
  if (!force && name === currentName) return;
  if (!roleAllows(role, VIEW_ROLE[name])) {
    if (userName) {
      notify(t.roleTooLow, 'error');
      window.location.hash = `#${currentName ?? 'resident'}`;
      return;
    }
    openLogin(name);
    return;
  }
  current?.unmount();
  popup?.remove();
  ctx.panel.replaceChildren();
  currentName = name;
  handle.view = name;
  document.body.dataset.view = name;
  // The signed-in views (and Chart.js) load on demand: the first view needs only the resident one.
  const view: View =
    name === 'resident'
      ? new ResidentView()
      : name === 'planner'
        ? new (await import('./views/planner')).PlannerView()
        : new (await import('./views/leader')).LeaderView();
  if (currentName !== name) return;
  current = view;
  handle.current = view;
  renderChrome();
  // The base tiles follow the audience: with the token (households) in signed-in views, without for residents.
  if (baseAuth !== null && (force || baseAuth !== authForView())) reloadBaseTiles(ctx.map);
  await view.mount(ctx);
}

// ---- start -----------------------------------------------------------------------------------------------

function wireLangSwitch(): void {
  $('lang-switch').addEventListener('click', (e) => {
    const b = (e.target as HTMLElement).closest('button');
    const next = b?.dataset.lang;
    if ((next === 'zh' || next === 'en') && next !== lang) setLang(next);
  });
}

async function start(): Promise<void> {
  // On a phone the legend starts folded, leaving the map and the panel the room.
  if (window.innerWidth < 700) $('legend-box').removeAttribute('open');
  wireLangSwitch();
  wireLogin();
  renderChrome();
  let meta: Meta;
  // The plans list is public: the active plan's grids are drawn from its tiles.
  const plans = api.plans({ auth: false }).then(
    (ans) => (Array.isArray(ans) ? ans : (ans.plans ?? [])) as PlanSummary[],
    () => [] as PlanSummary[],
  );
  try {
    [meta] = await Promise.all([api.meta(), restoreSession()]);
  } catch (err) {
    console.warn('wangge: /api/v1/meta failed', err);
    status.error = t.metaFailed;
    renderStatus();
    return;
  }
  mark('meta');
  handle.meta = meta;
  categories = new Map(meta.categories.map((c) => [c.id, c]));

  const map = new MlMap({
    container: 'map',
    style: buildStyle(window.location.href),
    bounds: meta.bbox,
    fitBoundsOptions: { padding: 24 },
    attributionControl: false,
    maxZoom: 20,
    // labels and icons appear at once: no fade frames to draw before the map is idle
    fadeDuration: 0,
    localIdeographFontFamily: "'Noto Sans CJK SC', 'WenQuanYi Zen Hei', 'PingFang SC', 'Microsoft YaHei', sans-serif",
    // Signed-in views get their audience's tiles (heat tiles carry households only for them).
    transformRequest: (url) => {
      const token = getToken();
      if (token && authForView() && url.startsWith(window.location.origin) && url.includes('/tiles/')) {
        return { url, headers: { Authorization: `Bearer ${token}` } };
      }
      return { url };
    },
  });
  handle.map = map;
  // The tiles carry buildings from zoom 14: a narrow screen that fits the whole area starts zoomed in on its centre.
  if (map.getZoom() < BUILDINGS_MINZOOM) {
    const [w, s, e, n] = meta.bbox;
    map.jumpTo({ center: meta.center ?? [(w + e) / 2, (s + n) / 2], zoom: BUILDINGS_MINZOOM });
  }
  map.addControl(new NavigationControl({ showCompass: false }), 'top-right');
  map.addControl(new ScaleControl({ unit: 'metric' }), 'bottom-left');
  addAttributions(map, [meta.attribution]);
  map.on('click', (e) => onClick(map, e));
  for (const id of CLICKABLE) {
    map.on('mouseenter', id, () => (map.getCanvas().style.cursor = 'pointer'));
    map.on('mouseleave', id, () => (map.getCanvas().style.cursor = ''));
  }
  watchFirstIdle(map);
  watchBaseTiles(map);
  baseAuth = authForView();
  ctx = {
    map,
    meta,
    categories,
    t: () => t,
    lang: () => lang,
    role: () => role,
    panel: $('side'),
    notify,
    fail: (err) => notify(describeError(err, t), 'error'),
    buildings: () => tileBuildings(map),
    reloadBase: () => reloadBaseTiles(map),
    activePlan: () => activePlan,
    setActivePlan: (plan) => showActivePlan(map, plan),
  };
  renderChrome();
  map.once('styledata', () => mark('style'));
  map.on('load', () => {
    mark('mapLoad');
    installIcons(map);
    void plans.then((list) => {
      const active = list.find((p) => p.status === 'active');
      if (active && !activePlan) showActivePlan(map, { name: active.name, version: active.version });
    });
  });
  window.addEventListener('hashchange', () => void showView(viewFromHash()));
  await showView(viewFromHash());
}

void start();
