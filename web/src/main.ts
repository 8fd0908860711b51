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
  type GeoJSONSource,
  type MapMouseEvent,
} from 'maplibre-gl';
// The worker is resolved at run time by MapLibre, so the bundler must be told to emit it.
import workerUrl from 'maplibre-gl/dist/maplibre-gl-worker.mjs?url';
import { api, getToken, LAYER_NAMES, setOnUnauthorized, setToken, withIds, type BBox, type BuildingProps, type Category, type LayerName, type Meta, type Role } from './api';
import type { FeatureCollection } from 'geojson';
import { VIEW_ROLE, clicks, roleAllows, type Ctx, type View, type ViewName } from './app';
import { HOUSEHOLD_CLASSES } from './colors';
import { describeError } from './errors';
import { initialLang, messages, saveLang, type Lang, type Messages } from './i18n';
import { installIcons } from './icons';
import { applyLayerVisibility, buildStyle, CLICKABLE, HIDDEN_GROUPS, LAYER, LAYER_GROUPS, SOURCE } from './layers';
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
  /** Completed viewport loads. */
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
}

declare global {
  interface Window {
    __wangge: WanggeHandle;
  }
}

const OSM_COPYRIGHT = 'https://www.openstreetmap.org/copyright';
const REFETCH_DEBOUNCE_MS = 250;
const FETCH_MARGIN = 0.25;
const MIN_ZOOM: Record<LayerName, number> = { basemap: 0, communities: 0, compounds: 12, facilities: 12, buildings: 13 };
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
let markStyleReady: () => void = () => {};
/** Resolves once the map's style (sources and layers) is ready for data. */
const styleReady = new Promise<void>((r) => (markStyleReady = r));
let buildings: FeatureCollection<GeoJSON.Geometry, BuildingProps> = { type: 'FeatureCollection', features: [] };
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

// ---- base layers for the viewport ------------------------------------------------------------------

const EMPTY: FeatureCollection = { type: 'FeatureCollection', features: [] };
let inFlight: AbortController | null = null;
let loadedBBox: BBox | null = null;
let loadedComplete = false;
let loadedKey = '';
const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));

function viewBBox(map: MlMap, margin: number): BBox {
  const b = map.getBounds();
  const dx = (b.getEast() - b.getWest()) * margin;
  const dy = (b.getNorth() - b.getSouth()) * margin;
  return [clamp(b.getWest() - dx, -180, 180), clamp(b.getSouth() - dy, -90, 90), clamp(b.getEast() + dx, -180, 180), clamp(b.getNorth() + dy, -90, 90)];
}
function contains(outer: BBox, inner: BBox): boolean {
  return outer[0] <= inner[0] && outer[1] <= inner[1] && outer[2] >= inner[2] && outer[3] >= inner[3];
}

/** Resident requests go out without the token: a resident never receives household numbers. */
function authForView(): boolean {
  return (currentName ?? viewFromHash()) !== 'resident';
}

async function loadViewport(map: MlMap, force = false): Promise<void> {
  const view = viewBBox(map, 0);
  const zoom = map.getZoom();
  const wanted = LAYER_NAMES.filter((name) => zoom >= MIN_ZOOM[name]);
  const key = `${wanted.join(',')}|${authForView()}`;
  if (!force && loadedBBox && loadedComplete && loadedKey === key && contains(loadedBBox, view)) return;
  inFlight?.abort();
  const ctrl = new AbortController();
  inFlight = ctrl;
  const bbox = viewBBox(map, FETCH_MARGIN);
  status.loading = true;
  renderStatus();
  try {
    const auth = authForView();
    const results = await Promise.all(wanted.map((name: LayerName) => api.layer(name, bbox, { signal: ctrl.signal, auth })));
    // the first load is asked for before the style has loaded: wait for it to take the data
    await styleReady;
    if (ctrl.signal.aborted) return;
    // buildings first: the worker takes the sources in this order, and buildings are what the first view is for
    for (const name of ['buildings', 'facilities', 'basemap', 'compounds', 'communities'] as LayerName[]) {
      const i = wanted.indexOf(name);
      const data = i >= 0 ? withIds(results[i] as FeatureCollection) : EMPTY;
      if (name === 'buildings') {
        buildings = data as FeatureCollection<GeoJSON.Geometry, BuildingProps>;
        const had = buildingsHaveHouseholds;
        if (i >= 0) buildingsHaveHouseholds = buildings.features.some((f) => typeof f.properties?.households === 'number');
        if (had !== buildingsHaveHouseholds) renderChrome();
      }
      map.getSource<GeoJSONSource>(SOURCE[name])?.setData(data);
    }
    addAttributions(map, results.map((fc) => fc.attribution));
    status.truncated = results.some((fc) => fc.truncated === true);
    if (status.error === t.loadFailed) status.error = null;
    loadedBBox = bbox;
    status.zoomIn = !wanted.includes('buildings');
    loadedComplete = !status.truncated;
    loadedKey = key;
    handle.loads += 1;
    if (handle.loads === 1) mark('firstData');
  } catch (err) {
    if (ctrl.signal.aborted) return;
    console.warn('wangge: loading the viewport failed', err);
    status.error = t.loadFailed;
  } finally {
    if (inFlight === ctrl) {
      inFlight = null;
      status.loading = false;
      renderStatus();
    }
  }
}

function debounce(fn: () => void, ms: number): () => void {
  let timer: number | undefined;
  return () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(fn, ms);
  };
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
  if (handle.loads > 0) void loadViewport(ctx.map, true);
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
      if (token && currentName !== 'resident' && url.startsWith(window.location.origin) && url.includes('/tiles/')) {
        return { url, headers: { Authorization: `Bearer ${token}` } };
      }
      return { url };
    },
  });
  handle.map = map;
  map.addControl(new NavigationControl({ showCompass: false }), 'top-right');
  map.addControl(new ScaleControl({ unit: 'metric' }), 'bottom-left');
  addAttributions(map, [meta.attribution]);
  map.on('click', (e) => onClick(map, e));
  for (const id of CLICKABLE) {
    map.on('mouseenter', id, () => (map.getCanvas().style.cursor = 'pointer'));
    map.on('mouseleave', id, () => (map.getCanvas().style.cursor = ''));
  }
  watchFirstIdle(map);
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
    buildings: () => buildings,
    reloadBase: () => void loadViewport(map, true),
  };
  renderChrome();
  map.once('styledata', () => mark('style'));
  // Ask for the first viewport's data at once, in parallel with the style, sprite and workers.
  void loadViewport(map);
  map.on('load', () => {
    mark('mapLoad');
    markStyleReady();
    installIcons(map);
    map.on('moveend', debounce(() => void loadViewport(map), REFETCH_DEBOUNCE_MS));
  });
  window.addEventListener('hashchange', () => void showView(viewFromHash()));
  await showView(viewFromHash());
}

void start();
