// wangge web map: entry point. Views (planner, resident, leader) will build on the pieces here.
import 'maplibre-gl/dist/maplibre-gl.css';
import './style.css';
import {
  AttributionControl,
  Map as MlMap,
  NavigationControl,
  Popup,
  ScaleControl,
  setWorkerUrl,
  type GeoJSONSource,
  type MapMouseEvent,
} from 'maplibre-gl';
// The worker is resolved at run time by MapLibre, so the bundler must be told to emit it.
import workerUrl from 'maplibre-gl/dist/maplibre-gl-worker.mjs?url';
import { fetchLayer, fetchMeta, LAYER_NAMES, type BBox, type Category, type LayerName, type Meta } from './api';
import type { FeatureCollection } from 'geojson';
import { HOUSEHOLD_CLASSES } from './colors';
import { initialLang, messages, saveLang, type Lang, type Messages } from './i18n';
import { installIcons } from './icons';
import { buildStyle, CLICKABLE, LAYER, SOURCE } from './layers';
import { renderLegend } from './legend';
import { buildingPopup, facilityPopup } from './popup';

setWorkerUrl(new URL(workerUrl, window.location.href).href);

/** What tests and later views can reach from outside: `window.__wangge`. */
export interface WanggeHandle {
  map: MlMap | null;
  meta: Meta | null;
  lang: Lang;
  /** Completed viewport loads. */
  loads: number;
  /** ms since navigation start at the first `idle` with buildings rendered. */
  firstBuildingsIdleMs: number | null;
  layers: typeof LAYER;
  householdColors: string[];
  setLang: (lang: Lang) => void;
}

declare global {
  interface Window {
    __wangge: WanggeHandle;
  }
}

const OSM_COPYRIGHT = 'https://www.openstreetmap.org/copyright';
const REFETCH_DEBOUNCE_MS = 250;
/** The viewport is fetched with this much margin on each side (fraction of its size). */
const FETCH_MARGIN = 0.25;
/** Below these zooms a layer is not fetched (a whole city's buildings are too many to draw at once). */
const MIN_ZOOM: Record<LayerName, number> = { basemap: 0, communities: 0, compounds: 12, facilities: 12, buildings: 13 };

let lang: Lang = initialLang();
let t: Messages = messages(lang);
let categories = new Map<string, Category>();
let popup: Popup | null = null;

const status = { loading: false, error: null as string | null, truncated: false, zoomIn: false };
const handle: WanggeHandle = {
  map: null,
  meta: null,
  lang,
  loads: 0,
  firstBuildingsIdleMs: null,
  layers: LAYER,
  householdColors: HOUSEHOLD_CLASSES.map((c) => c.color),
  setLang,
};
window.__wangge = handle;

function $(id: string): HTMLElement {
  const e = document.getElementById(id);
  if (!e) throw new Error(`missing #${id}`);
  return e;
}

function renderStatus(): void {
  const box = $('status');
  const text =
    status.error ?? (status.loading ? t.loading : status.truncated ? t.truncated : status.zoomIn ? t.zoomInForBuildings : '');
  box.textContent = text;
  box.hidden = text === '';
  box.classList.toggle('error', status.error !== null);
  box.classList.toggle('loading', status.error === null && status.loading);
}

function renderChrome(): void {
  document.documentElement.lang = t.lang;
  document.title = handle.meta ? `${handle.meta.name} · ${t.appTitle}` : t.appTitle;
  $('title').textContent = handle.meta ? `${t.appTitle} · ${handle.meta.name}` : t.appTitle;
  for (const b of $('lang-switch').querySelectorAll<HTMLButtonElement>('button')) {
    b.setAttribute('aria-pressed', String(b.dataset.lang === lang));
  }
  if (handle.meta) renderLegend($('legend'), t, lang, handle.meta);
  renderStatus();
}

function setLang(next: Lang): void {
  lang = next;
  t = messages(lang);
  handle.lang = lang;
  saveLang(lang);
  popup?.remove();
  renderChrome();
}

// ---- attribution -------------------------------------------------------------------------------

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Escapes an attribution string and turns its http(s) addresses into links. */
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
    // the OSM notice is already shown as the first entry; keep its licence details only
    const rest = a.replace(/^©\s*OpenStreetMap contributors\s*/i, '').replace(/^\((.*)\)$/, '$1');
    if (rest) custom.push(attributionHtml(rest));
  }
  if (attributionControl) map.removeControl(attributionControl);
  attributionControl = new AttributionControl({ compact: false, customAttribution: custom });
  map.addControl(attributionControl, 'bottom-right');
}

// ---- data loading --------------------------------------------------------------------------------

const EMPTY: FeatureCollection = { type: 'FeatureCollection', features: [] };
let inFlight: AbortController | null = null;
let loadedBBox: BBox | null = null;
let loadedComplete = false;
let loadedLayers = '';

const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));

/** The view's bounds grown by `margin` on each side, kept inside lon ±180 / lat ±90 (the server checks). */
function viewBBox(map: MlMap, margin: number): BBox {
  const b = map.getBounds();
  const dx = (b.getEast() - b.getWest()) * margin;
  const dy = (b.getNorth() - b.getSouth()) * margin;
  return [
    clamp(b.getWest() - dx, -180, 180),
    clamp(b.getSouth() - dy, -90, 90),
    clamp(b.getEast() + dx, -180, 180),
    clamp(b.getNorth() + dy, -90, 90),
  ];
}

function contains(outer: BBox, inner: BBox): boolean {
  return outer[0] <= inner[0] && outer[1] <= inner[1] && outer[2] >= inner[2] && outer[3] >= inner[3];
}

async function loadViewport(map: MlMap): Promise<void> {
  const view = viewBBox(map, 0);
  const zoom = map.getZoom();
  const wanted = LAYER_NAMES.filter((name) => zoom >= MIN_ZOOM[name]);
  const wantedKey = wanted.join(',');
  // Nothing new to see: the last complete load of the same layers already covers this view.
  if (loadedBBox && loadedComplete && loadedLayers === wantedKey && contains(loadedBBox, view)) return;
  inFlight?.abort();
  const ctrl = new AbortController();
  inFlight = ctrl;
  const bbox = viewBBox(map, FETCH_MARGIN);
  status.loading = true;
  renderStatus();
  try {
    const results = await Promise.all(wanted.map((name: LayerName) => fetchLayer(name, bbox, ctrl.signal)));
    if (ctrl.signal.aborted) return;
    for (const name of LAYER_NAMES) {
      const i = wanted.indexOf(name);
      const data = i >= 0 ? results[i] : EMPTY;
      map.getSource<GeoJSONSource>(SOURCE[name])?.setData(data);
    }
    addAttributions(map, results.map((fc) => fc.attribution));
    status.truncated = results.some((fc) => fc.truncated === true);
    status.error = null;
    loadedBBox = bbox;
    status.zoomIn = !wanted.includes('buildings');
    loadedComplete = !status.truncated;
    loadedLayers = wantedKey;
    handle.loads += 1;
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
  const layers = CLICKABLE.filter((id) => map.getLayer(id));
  const [f] = map.queryRenderedFeatures(e.point, { layers });
  if (!f) return;
  const content = f.layer.id === LAYER.facility ? facilityPopup(f, t, lang, categories) : buildingPopup(f, t);
  popup?.remove();
  popup = new Popup({ maxWidth: '280px' }).setLngLat(e.lngLat).setDOMContent(content).addTo(map);
}

function wireInteraction(map: MlMap): void {
  map.on('click', (e) => onClick(map, e));
  for (const id of CLICKABLE) {
    map.on('mouseenter', id, () => (map.getCanvas().style.cursor = 'pointer'));
    map.on('mouseleave', id, () => (map.getCanvas().style.cursor = ''));
  }
}

/** Records when the map first settles with buildings on screen (performance.now() is ms since navigation start). */
function watchFirstIdle(map: MlMap): void {
  const onIdle = (): void => {
    if (handle.loads === 0) return;
    if (map.queryRenderedFeatures({ layers: [LAYER.buildingFill] }).length === 0) return;
    handle.firstBuildingsIdleMs = Math.round(performance.now());
    map.off('idle', onIdle);
  };
  map.on('idle', onIdle);
}

// ---- start -------------------------------------------------------------------------------------

function wireLangSwitch(): void {
  $('lang-switch').addEventListener('click', (e) => {
    const b = (e.target as HTMLElement).closest('button');
    const next = b?.dataset.lang;
    if ((next === 'zh' || next === 'en') && next !== lang) setLang(next);
  });
}

async function start(): Promise<void> {
  wireLangSwitch();
  renderChrome();
  let meta: Meta;
  try {
    meta = await fetchMeta();
  } catch (err) {
    console.warn('wangge: /api/v1/meta failed', err);
    status.error = t.metaFailed;
    renderStatus();
    return;
  }
  handle.meta = meta;
  categories = new Map(meta.categories.map((c) => [c.id, c]));
  renderChrome();

  const map = new MlMap({
    container: 'map',
    style: buildStyle(),
    bounds: meta.bbox,
    fitBoundsOptions: { padding: 24 },
    attributionControl: false,
    maxZoom: 20,
  });
  handle.map = map;
  map.addControl(new NavigationControl({ showCompass: false }), 'top-right');
  map.addControl(new ScaleControl({ unit: 'metric' }), 'bottom-left');
  addAttributions(map, [meta.attribution]);
  wireInteraction(map);
  watchFirstIdle(map);
  map.on('load', () => {
    installIcons(
      map,
      meta.categories.map((c) => c.id),
    );
    void loadViewport(map);
    map.on(
      'moveend',
      debounce(() => void loadViewport(map), REFETCH_DEBOUNCE_MS),
    );
  });
}

void start();
