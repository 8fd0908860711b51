// The map style: the server's own vector tiles (base layers in one composite source, the active plan's
// grids) and GeoJSON sources the views fill (routes, walking areas, edited grids, sites, drawings).
// No outside tiles, fonts or sprites.
import type {
  Map as MlMap,
  ExpressionSpecification,
  LayerSpecification,
  SourceSpecification,
  GeoJSONSource,
  StyleSpecification,
  VectorTileSource,
} from 'maplibre-gl';
import { BASEMAP, BUILDING_OUTLINE, GRID_STATUS, ISOCHRONE_COLORS, ROUTE, SELECTED, householdColorExpression } from './colors';
import { ICON_PREFIX } from './icons';

/** Layer ids other modules (popups, tests) refer to. */
export const LAYER = {
  background: 'background',
  landuse: 'landuse-fill',
  park: 'park-fill',
  water: 'water-fill',
  waterway: 'waterway-line',
  roadArea: 'road-area',
  roadCasing: 'road-casing',
  roadPath: 'road-path',
  road: 'road-line',
  rail: 'rail-line',
  compound: 'compound-outline',
  community: 'community-outline',
  buildingFill: 'building-fill',
  buildingOutline: 'building-outline',
  buildingOutlineEstimated: 'building-outline-estimated',
  buildingPoint: 'building-point',
  facility: 'facility-icon',
  facilityLabel: 'facility-label',
  compoundLabel: 'compound-label',
  isochrone: 'isochrone-fill',
  isochroneLine: 'isochrone-line',
  route: 'route-line',
  routeCasing: 'route-casing',
  place: 'place-point',
  gridFill: 'grid-fill',
  gridLine: 'grid-line',
  gridLabel: 'grid-label',
  gridTileFill: 'grid-tiles-fill',
  gridTileLine: 'grid-tiles-line',
  gridTileLabel: 'grid-tiles-label',
  selected: 'building-selected',
  moved: 'building-moved',
  heat: 'heat',
  heatTiles: 'heat-tiles',
  uncovered: 'uncovered-point',
  site: 'site-point',
  siteLabel: 'site-label',
  drawFill: 'draw-fill',
  drawLine: 'draw-line',
  drawPoint: 'draw-point',
} as const;

/** Sources filled by the views (GeoJSON, empty at start). */
export const VIEW_SOURCE = {
  isochrones: 'isochrones',
  routes: 'routes',
  place: 'place',
  grids: 'grids',
  heat: 'heat',
  sites: 'sites',
  draw: 'draw',
  /** One label point per grid of the grid tiles (tiles cut grids at their edges: a label per piece would repeat). */
  gridLabels: 'grid-labels',
} as const;

/** The font stack served under assets/glyphs/ (scripts/make-glyphs.mjs). */
export const FONT = ['wangge-sans'];

/** The one vector source of the base layers: the server's composite tiles (one request per tile). */
export const BASE_SOURCE = 'base';
/** Its source layers, in the order the server puts them into a tile. */
export const BASE_LAYERS = ['basemap', 'buildings', 'compounds', 'communities', 'facilities'] as const;
export type BaseLayer = (typeof BASE_LAYERS)[number];
/** Buildings are in the tiles from this zoom (the server's TileJSON `minzoom` of `buildings`). */
export const BUILDINGS_MINZOOM = 14;
/** The vector source of the active plan's grids (`/tiles/grids/…?plan=`), present when a plan is active. */
export const GRID_TILES = 'grid-tiles';

const base = (layer: BaseLayer): { source: string; 'source-layer': string } => ({ source: BASE_SOURCE, 'source-layer': layer });

/** An absolute same-origin tile URL template (`{z}/{x}/{y}` kept unescaped). */
export function tileUrl(path: string, baseUrl: string = window.location.href): string {
  return new URL(path, baseUrl).href.replace('%7Bz%7D', '{z}').replace('%7Bx%7D', '{x}').replace('%7By%7D', '{y}');
}

/** The composite tile URL of the base layers; `v` busts the caches when the audience changes. */
export function baseTiles(v: number, baseUrl?: string): string[] {
  return [tileUrl(`tiles/${BASE_LAYERS.join(',')}/{z}/{x}/{y}.mvt?v=${v}`, baseUrl)];
}

/** The grid tile URL of a plan at a version (the version makes the map fetch edited grids again). */
export function gridTiles(plan: string, v: number | string, baseUrl?: string): string[] {
  return [tileUrl(`tiles/grids/{z}/{x}/{y}.mvt?plan=${encodeURIComponent(plan)}&v=${encodeURIComponent(String(v))}`, baseUrl)];
}

const emptySource = (): SourceSpecification => ({
  type: 'geojson',
  data: { type: 'FeatureCollection', features: [] },
  promoteId: 'id',
});

const kind = (k: string): ExpressionSpecification => ['==', ['get', 'kind'], k];
const isPolygon: ExpressionSpecification = ['match', ['geometry-type'], ['Polygon', 'MultiPolygon'], true, false];
const isLine: ExpressionSpecification = ['match', ['geometry-type'], ['LineString', 'MultiLineString'], true, false];
const isPoint: ExpressionSpecification = ['match', ['geometry-type'], ['Point', 'MultiPoint'], true, false];

const MAJOR = ['motorway', 'motorway_link', 'trunk', 'trunk_link', 'primary', 'primary_link', 'secondary', 'secondary_link'];
const MINOR = ['tertiary', 'tertiary_link', 'unclassified', 'residential', 'living_street', 'road', 'service'];
const PATHS = ['footway', 'path', 'cycleway', 'pedestrian', 'steps', 'track', 'bridleway', 'corridor'];

/** Road width in pixels by class (given at zoom 16, scaled with zoom), plus `extra` pixels (for casings). */
function roadWidth(scale: number, extra = 0): ExpressionSpecification {
  const at16: ExpressionSpecification = [
    'match',
    ['get', 'class'],
    ['motorway', 'trunk'],
    9,
    ['primary'],
    8,
    ['secondary'],
    7,
    ['tertiary'],
    5.5,
    ['motorway_link', 'trunk_link', 'primary_link', 'secondary_link', 'tertiary_link'],
    4,
    ['residential', 'living_street', 'unclassified', 'road', 'pedestrian'],
    4,
    ['service'],
    2.5,
    1.2,
  ];
  const at = (k: number): ExpressionSpecification => ['+', ['*', at16, k * scale], extra];
  return ['interpolate', ['exponential', 1.6], ['zoom'], 12, at(0.2), 16, at(1), 19, at(3.5)];
}

const roadColor: ExpressionSpecification = [
  'match',
  ['get', 'class'],
  ['motorway', 'motorway_link'],
  BASEMAP.road.motorway,
  ['trunk', 'trunk_link'],
  BASEMAP.road.trunk,
  ['primary', 'primary_link'],
  BASEMAP.road.primary,
  ['secondary', 'secondary_link'],
  BASEMAP.road.secondary,
  ['tertiary', 'tertiary_link'],
  BASEMAP.road.tertiary,
  BASEMAP.road.minor,
];

function landuseColor(): ExpressionSpecification {
  const pairs = Object.entries(BASEMAP.landuse).flatMap(([k, v]) => [k, v]);
  return ['match', ['get', 'class'], ...pairs, BASEMAP.landuseDefault] as unknown as ExpressionSpecification;
}

function layers(): LayerSpecification[] {
  const estimated: ExpressionSpecification = ['==', ['get', 'households_estimated'], true];
  const notEstimated: ExpressionSpecification = ['!=', ['get', 'households_estimated'], true];
  return [
    { id: LAYER.background, type: 'background', paint: { 'background-color': BASEMAP.background } },
    {
      id: LAYER.landuse,
      type: 'fill',
      ...base('basemap'),
      filter: ['all', kind('landuse'), isPolygon],
      paint: { 'fill-color': landuseColor() },
    },
    {
      id: LAYER.park,
      type: 'fill',
      ...base('basemap'),
      filter: ['all', kind('park'), isPolygon],
      paint: { 'fill-color': BASEMAP.park, 'fill-outline-color': BASEMAP.parkOutline },
    },
    {
      id: LAYER.water,
      type: 'fill',
      ...base('basemap'),
      filter: ['all', kind('water'), isPolygon],
      paint: { 'fill-color': BASEMAP.water },
    },
    {
      id: LAYER.waterway,
      type: 'line',
      ...base('basemap'),
      filter: ['all', kind('waterway'), isLine],
      layout: { 'line-cap': 'round', 'line-join': 'round' },
      paint: {
        'line-color': BASEMAP.waterway,
        'line-width': ['interpolate', ['linear'], ['zoom'], 12, 1, 16, ['match', ['get', 'class'], ['river', 'canal'], 6, 2]],
      },
    },
    {
      id: LAYER.compound,
      type: 'line',
      ...base('compounds'),
      filter: isPolygon,
      paint: {
        'line-color': BASEMAP.compound,
        'line-width': ['interpolate', ['linear'], ['zoom'], 13, 0.8, 17, 2],
        'line-dasharray': [3, 2],
        'line-opacity': 0.8,
      },
    },
    {
      id: LAYER.roadArea,
      type: 'fill',
      ...base('basemap'),
      filter: ['all', kind('road'), isPolygon],
      paint: { 'fill-color': BASEMAP.road.area, 'fill-outline-color': BASEMAP.road.areaOutline },
    },
    {
      id: LAYER.roadPath,
      type: 'line',
      ...base('basemap'),
      filter: ['all', kind('road'), isLine, ['match', ['get', 'class'], PATHS, true, false]],
      minzoom: 14,
      paint: { 'line-color': BASEMAP.road.path, 'line-width': roadWidth(1), 'line-dasharray': [2, 1.5] },
    },
    {
      id: LAYER.roadCasing,
      type: 'line',
      ...base('basemap'),
      filter: ['all', kind('road'), isLine, ['match', ['get', 'class'], [...MAJOR, ...MINOR], true, false]],
      layout: { 'line-cap': 'round', 'line-join': 'round' },
      paint: { 'line-color': BASEMAP.road.casing, 'line-width': roadWidth(1, 1.5) },
    },
    {
      id: LAYER.road,
      type: 'line',
      ...base('basemap'),
      filter: ['all', kind('road'), isLine, ['match', ['get', 'class'], PATHS, false, true]],
      layout: { 'line-cap': 'round', 'line-join': 'round' },
      paint: { 'line-color': roadColor, 'line-width': roadWidth(1) },
    },
    {
      id: LAYER.rail,
      type: 'line',
      ...base('basemap'),
      filter: ['all', kind('rail'), isLine],
      paint: {
        'line-color': BASEMAP.rail,
        'line-width': ['interpolate', ['linear'], ['zoom'], 12, 1, 17, 2.5],
        'line-dasharray': [4, 2],
      },
    },
    {
      id: LAYER.isochrone,
      type: 'fill',
      source: VIEW_SOURCE.isochrones,
      paint: {
        'fill-color': ['step', ['get', 'minutes'], ISOCHRONE_COLORS[0], 7.5, ISOCHRONE_COLORS[1], 12.5, ISOCHRONE_COLORS[2]],
        'fill-opacity': 0.35,
      },
    },
    {
      id: LAYER.isochroneLine,
      type: 'line',
      source: VIEW_SOURCE.isochrones,
      paint: { 'line-color': '#2f6f9f', 'line-width': 1, 'line-opacity': 0.6 },
    },
    {
      id: LAYER.buildingFill,
      type: 'fill',
      ...base('buildings'),
      filter: isPolygon,
      paint: { 'fill-color': householdColorExpression() },
    },
    {
      id: LAYER.buildingOutline,
      type: 'line',
      ...base('buildings'),
      filter: ['all', isPolygon, notEstimated],
      paint: { 'line-color': BUILDING_OUTLINE, 'line-width': ['interpolate', ['linear'], ['zoom'], 14, 0.3, 18, 1.2] },
    },
    {
      id: LAYER.buildingOutlineEstimated,
      type: 'line',
      ...base('buildings'),
      filter: ['all', isPolygon, estimated],
      paint: {
        'line-color': BUILDING_OUTLINE,
        'line-width': ['interpolate', ['linear'], ['zoom'], 14, 0.5, 18, 1.5],
        'line-dasharray': [2, 2],
      },
    },
    {
      id: LAYER.buildingPoint,
      type: 'circle',
      ...base('buildings'),
      filter: isPoint,
      paint: {
        'circle-color': householdColorExpression(),
        'circle-radius': ['interpolate', ['linear'], ['zoom'], 13, 2, 18, 6],
        'circle-stroke-color': BUILDING_OUTLINE,
        'circle-stroke-width': 1,
      },
    },
    {
      id: LAYER.selected,
      type: 'line',
      ...base('buildings'),
      filter: ['in', ['get', 'id'], ['literal', []]],
      paint: { 'line-color': SELECTED, 'line-width': 3 },
    },
    {
      id: LAYER.moved,
      type: 'fill',
      ...base('buildings'),
      filter: ['in', ['get', 'id'], ['literal', []]],
      paint: { 'fill-color': '#7b3fbf', 'fill-opacity': 0.75 },
    },
    {
      id: LAYER.gridFill,
      type: 'fill',
      source: VIEW_SOURCE.grids,
      filter: ['!=', ['get', 'labelOnly'], true],
      paint: {
        'fill-color': ['match', ['get', 'status'], 'violation', GRID_STATUS.violation, 'under', GRID_STATUS.under, 'over', GRID_STATUS.over, GRID_STATUS.within],
        'fill-opacity': ['match', ['get', 'status'], 'violation', 0.45, 0.22],
      },
    },
    {
      id: LAYER.gridLine,
      type: 'line',
      source: VIEW_SOURCE.grids,
      filter: ['!=', ['get', 'labelOnly'], true],
      paint: {
        'line-color': ['match', ['get', 'status'], 'violation', GRID_STATUS.violation, '#31456a'],
        'line-width': ['match', ['get', 'status'], 'violation', 3, 1.5],
      },
    },
    {
      id: LAYER.heat,
      type: 'heatmap',
      source: VIEW_SOURCE.heat,
      paint: {
        'heatmap-weight': ['interpolate', ['linear'], ['coalesce', ['get', 'weight'], 0], 0, 0, 500, 1],
        'heatmap-intensity': ['interpolate', ['linear'], ['zoom'], 12, 1, 17, 3],
        'heatmap-radius': ['interpolate', ['linear'], ['zoom'], 12, 12, 17, 40],
        'heatmap-opacity': 0.75,
      },
    },
    {
      id: LAYER.routeCasing,
      type: 'line',
      source: VIEW_SOURCE.routes,
      layout: { 'line-cap': 'round', 'line-join': 'round' },
      paint: { 'line-color': '#ffffff', 'line-width': ['case', ['boolean', ['get', 'selected'], false], 8, 5] },
    },
    {
      id: LAYER.route,
      type: 'line',
      source: VIEW_SOURCE.routes,
      layout: { 'line-cap': 'round', 'line-join': 'round' },
      paint: {
        'line-color': ['case', ['boolean', ['get', 'selected'], false], ROUTE.selected, ROUTE.other],
        'line-width': ['case', ['boolean', ['get', 'selected'], false], 5, 2.5],
        'line-opacity': ['case', ['boolean', ['get', 'selected'], false], 1, 0.7],
      },
    },
    {
      id: LAYER.community,
      type: 'line',
      ...base('communities'),
      filter: isPolygon,
      paint: { 'line-color': BASEMAP.community, 'line-width': 2.5, 'line-opacity': 0.7, 'line-dasharray': [6, 3] },
    },
    {
      id: LAYER.facility,
      type: 'symbol',
      ...base('facilities'),
      filter: isPoint,
      layout: {
        'icon-image': ['concat', ICON_PREFIX, ['get', 'category']],
        'icon-size': ['interpolate', ['linear'], ['zoom'], 13, 0.45, 15, 0.65, 17, 0.95, 19, 1.15],
        'icon-allow-overlap': true,
        'icon-padding': 0,
      },
    },
    {
      id: LAYER.compoundLabel,
      type: 'symbol',
      ...base('compounds'),
      minzoom: 16,
      layout: {
        'text-field': ['coalesce', ['get', 'name'], ''],
        'text-font': FONT,
        'text-size': 11,
        'symbol-placement': 'point',
        'text-optional': true,
      },
      paint: { 'text-color': BASEMAP.compound, 'text-halo-color': '#ffffff', 'text-halo-width': 1.2 },
    },
    {
      id: LAYER.facilityLabel,
      type: 'symbol',
      ...base('facilities'),
      minzoom: 17,
      filter: isPoint,
      layout: {
        'text-field': ['coalesce', ['get', 'name'], ''],
        'text-font': FONT,
        'text-size': 11,
        'text-offset': [0, 1.3],
        'text-anchor': 'top',
        'text-optional': true,
      },
      paint: { 'text-color': '#333333', 'text-halo-color': '#ffffff', 'text-halo-width': 1.2 },
    },
    {
      id: LAYER.gridLabel,
      type: 'symbol',
      source: VIEW_SOURCE.grids,
      layout: {
        'text-field': ['get', 'label'],
        'text-font': FONT,
        'text-size': ['interpolate', ['linear'], ['zoom'], 14, 10, 17, 14],
        'text-allow-overlap': true,
        'text-ignore-placement': true,
      },
      paint: { 'text-color': '#1d2b45', 'text-halo-color': '#ffffff', 'text-halo-width': 1.5 },
    },
    {
      id: LAYER.uncovered,
      type: 'circle',
      source: VIEW_SOURCE.sites,
      filter: ['==', ['get', 'kind'], 'uncovered'],
      paint: {
        'circle-color': '#b2182b',
        'circle-opacity': 0.7,
        'circle-radius': ['interpolate', ['linear'], ['coalesce', ['get', 'households'], 0], 0, 3, 300, 12],
        'circle-stroke-color': '#ffffff',
        'circle-stroke-width': 1,
      },
    },
    {
      id: LAYER.site,
      type: 'circle',
      source: VIEW_SOURCE.sites,
      filter: ['==', ['get', 'kind'], 'site'],
      paint: { 'circle-color': '#1a9850', 'circle-radius': 11, 'circle-stroke-color': '#ffffff', 'circle-stroke-width': 2.5 },
    },
    {
      id: LAYER.siteLabel,
      type: 'symbol',
      source: VIEW_SOURCE.sites,
      filter: ['==', ['get', 'kind'], 'site'],
      layout: {
        'text-field': ['get', 'label'],
        'text-font': FONT,
        'text-size': 12,
        'text-offset': [0, 1.4],
        'text-anchor': 'top',
        'text-allow-overlap': true,
      },
      paint: { 'text-color': '#0b5d2a', 'text-halo-color': '#ffffff', 'text-halo-width': 1.5 },
    },
    {
      id: LAYER.place,
      type: 'circle',
      source: VIEW_SOURCE.place,
      paint: { 'circle-color': '#1565c0', 'circle-radius': 8, 'circle-stroke-color': '#ffffff', 'circle-stroke-width': 3 },
    },
    {
      id: LAYER.drawFill,
      type: 'fill',
      source: VIEW_SOURCE.draw,
      filter: isPolygon,
      paint: { 'fill-color': SELECTED, 'fill-opacity': 0.15 },
    },
    {
      id: LAYER.drawLine,
      type: 'line',
      source: VIEW_SOURCE.draw,
      filter: ['!', isPoint],
      paint: { 'line-color': SELECTED, 'line-width': 2.5, 'line-dasharray': [2, 1] },
    },
    {
      id: LAYER.drawPoint,
      type: 'circle',
      source: VIEW_SOURCE.draw,
      filter: isPoint,
      paint: {
        // the keyboard crosshair: a larger hollow ring; vertices: small white dots
        'circle-color': ['case', ['boolean', ['get', 'cursor'], false], 'rgba(0,0,0,0)', '#ffffff'],
        'circle-radius': ['case', ['boolean', ['get', 'cursor'], false], 9, 4],
        'circle-stroke-color': SELECTED,
        'circle-stroke-width': ['case', ['boolean', ['get', 'cursor'], false], 3, 2],
      },
    },
  ];
}

/**
 * The complete style. Glyphs and the sprite are this app's own files (public/assets/, made by
 * scripts/make-glyphs.mjs and scripts/make-sprite.mjs), given as absolute same-origin URLs.
 */
export function buildStyle(baseUrl: string): StyleSpecification {
  const sources: Record<string, SourceSpecification> = {
    // Tiles inline rather than by TileJSON URL: the first tiles go out without waiting for a TileJSON.
    [BASE_SOURCE]: { type: 'vector', tiles: baseTiles(0, baseUrl), minzoom: 8, maxzoom: 16 },
  };
  for (const id of Object.values(VIEW_SOURCE)) sources[id] = emptySource();
  return {
    version: 8,
    glyphs: new URL('assets/glyphs/{fontstack}/{range}.pbf', baseUrl).href.replace('%7Bfontstack%7D', '{fontstack}').replace('%7Brange%7D', '{range}'),
    sprite: new URL('assets/sprite/wangge', baseUrl).href,
    sources,
    layers: layers(),
  };
}

/** The grid tile layers' label: the grid number, and its households when the tiles carry them. */
export function gridTileLabel(householdsUnit: string): ExpressionSpecification {
  const id: ExpressionSpecification = ['to-string', ['get', 'id']];
  return [
    'concat',
    ['slice', id, ['max', 0, ['-', ['length', id], 3]]],
    ['case', ['has', 'households'], ['concat', '\n', ['to-string', ['get', 'households']], householdsUnit], ''],
  ];
}

/**
 * Shows the grids of `plan` (the active plan) from the server's grid tiles at `version`, adding the
 * source and its layers the first time; a new version replaces the tile URLs, so the map fetches the
 * edited grids again. `null` removes them. `switchable`: the layer switcher (and the views' hiding) apply.
 */
export function setGridTiles(map: MlMap, plan: string | null, version: number | string, householdsUnit: string, switchable = true): void {
  const ids = [LAYER.gridTileLabel, LAYER.gridTileLine, LAYER.gridTileFill];
  if (!plan) {
    for (const id of ids) if (map.getLayer(id)) map.removeLayer(id);
    if (map.getSource(GRID_TILES)) map.removeSource(GRID_TILES);
    map.getSource<GeoJSONSource>(VIEW_SOURCE.gridLabels)?.setData({ type: 'FeatureCollection', features: [] });
    return;
  }
  const tiles = gridTiles(plan, version);
  const src = map.getSource<VectorTileSource>(GRID_TILES);
  if (src) {
    if (src.tiles?.[0] !== tiles[0]) src.setTiles(tiles);
    return;
  }
  map.addSource(GRID_TILES, { type: 'vector', tiles, minzoom: 11, maxzoom: 16 });
  const at = { source: GRID_TILES, 'source-layer': 'grids' };
  map.addLayer(
    {
      id: LAYER.gridTileFill,
      type: 'fill',
      ...at,
      paint: {
        'fill-color': ['match', ['get', 'quota_status'], 'under', GRID_STATUS.under, 'over', GRID_STATUS.over, GRID_STATUS.within],
        'fill-opacity': 0.14,
      },
    },
    LAYER.gridFill,
  );
  map.addLayer({ id: LAYER.gridTileLine, type: 'line', ...at, paint: { 'line-color': '#31456a', 'line-width': 1.2, 'line-opacity': 0.8 } }, LAYER.gridFill);
  map.addLayer(
    {
      id: LAYER.gridTileLabel,
      type: 'symbol',
      source: VIEW_SOURCE.gridLabels,
      minzoom: 14,
      layout: {
        'text-field': gridTileLabel(householdsUnit),
        'text-font': FONT,
        'text-size': ['interpolate', ['linear'], ['zoom'], 14, 10, 17, 13],
      },
      paint: { 'text-color': '#31456a', 'text-halo-color': '#ffffff', 'text-halo-width': 1.5 },
    },
    LAYER.gridLabel,
  );
  if (switchable) applyLayerVisibility(map);
  const labels = (): void => void map.getSource<GeoJSONSource>(VIEW_SOURCE.gridLabels)?.setData(gridLabelPoints(map));
  map.on('sourcedata', (e) => {
    if (e.sourceId === GRID_TILES && e.isSourceLoaded && e.tile) labels();
  });
  map.on('moveend', labels);
}

/** Twice the signed area of a ring (lon/lat; only compared between pieces of one grid). */
function ringArea(ring: number[][]): number {
  let a = 0;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) a += (ring[j][0] - ring[i][0]) * (ring[j][1] + ring[i][1]);
  return Math.abs(a);
}

/** One point per grid of the loaded grid tiles: the vertex mean of its largest piece's outer ring. */
export function gridLabelPoints(map: MlMap): GeoJSON.FeatureCollection {
  const best = new Map<string, { area: number; ring: number[][]; props: Record<string, unknown> }>();
  if (!map.getSource(GRID_TILES)) return { type: 'FeatureCollection', features: [] };
  for (const f of map.querySourceFeatures(GRID_TILES, { sourceLayer: 'grids' })) {
    const id = String(f.properties?.id ?? '');
    const g = f.geometry;
    const rings = g.type === 'Polygon' ? [g.coordinates[0]] : g.type === 'MultiPolygon' ? g.coordinates.map((p) => p[0]) : [];
    for (const ring of rings) {
      const area = ringArea(ring);
      const cur = best.get(id);
      if (!cur || area > cur.area) best.set(id, { area, ring, props: f.properties ?? {} });
    }
  }
  const features: GeoJSON.Feature[] = [];
  for (const { ring, props } of best.values()) {
    const pts = ring.length > 1 ? ring.slice(0, -1) : ring;
    const c = pts.reduce((a, p) => [a[0] + p[0] / pts.length, a[1] + p[1] / pts.length], [0, 0]);
    features.push({ type: 'Feature', properties: props, geometry: { type: 'Point', coordinates: c } });
  }
  return { type: 'FeatureCollection', features };
}

/** Layers whose features open a popup on click, topmost first. */
export const CLICKABLE = [LAYER.facility, LAYER.buildingPoint, LAYER.buildingFill] as const;

/** Layer groups the layer switcher turns on and off together. */
export const LAYER_GROUPS: Record<string, string[]> = {
  basemap: [LAYER.landuse, LAYER.park, LAYER.water, LAYER.waterway, LAYER.roadArea, LAYER.roadCasing, LAYER.roadPath, LAYER.road, LAYER.rail],
  buildings: [LAYER.buildingFill, LAYER.buildingOutline, LAYER.buildingOutlineEstimated, LAYER.buildingPoint, LAYER.selected, LAYER.moved],
  facilities: [LAYER.facility, LAYER.facilityLabel],
  boundaries: [LAYER.compound, LAYER.compoundLabel, LAYER.community],
  grids: [LAYER.gridTileFill, LAYER.gridTileLine, LAYER.gridTileLabel, LAYER.gridFill, LAYER.gridLine, LAYER.gridLabel],
  walking: [LAYER.isochrone, LAYER.isochroneLine, LAYER.routeCasing, LAYER.route, LAYER.place],
  coverage: [LAYER.heat, LAYER.heatTiles, LAYER.uncovered, LAYER.site, LAYER.siteLabel],
};

/** The groups the user has switched off. */
export const HIDDEN_GROUPS = new Set<string>();
/** Layers a view hides whatever the switcher says (the planner hides the active plan's grid tiles while it shows another plan). */
export const SUPPRESSED = new Set<string>();

/** Shows or hides every layer of the groups (call again after adding a layer of a group). */
export function applyLayerVisibility(map: MlMap): void {
  for (const [group, ids] of Object.entries(LAYER_GROUPS)) {
    for (const id of ids) {
      const want = HIDDEN_GROUPS.has(group) || SUPPRESSED.has(id) ? 'none' : 'visible';
      if (map.getLayer(id) && (map.getLayoutProperty(id, 'visibility') ?? 'visible') !== want) map.setLayoutProperty(id, 'visibility', want);
    }
  }
}
