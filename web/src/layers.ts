// The map style: a background and GeoJSON sources filled from the API. No outside tiles, fonts or sprites.
import type {
  Map as MlMap,
  ExpressionSpecification,
  LayerSpecification,
  SourceSpecification,
  StyleSpecification,
} from 'maplibre-gl';
import type { LayerName } from './api';
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
} as const;

/** The font stack served under assets/glyphs/ (scripts/make-glyphs.mjs). */
export const FONT = ['wangge-sans'];

/** Source id for each API layer (the same names). */
export const SOURCE: Record<LayerName, LayerName> = {
  basemap: 'basemap',
  buildings: 'buildings',
  facilities: 'facilities',
  compounds: 'compounds',
  communities: 'communities',
};

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
      source: SOURCE.basemap,
      filter: ['all', kind('landuse'), isPolygon],
      paint: { 'fill-color': landuseColor() },
    },
    {
      id: LAYER.park,
      type: 'fill',
      source: SOURCE.basemap,
      filter: ['all', kind('park'), isPolygon],
      paint: { 'fill-color': BASEMAP.park, 'fill-outline-color': BASEMAP.parkOutline },
    },
    {
      id: LAYER.water,
      type: 'fill',
      source: SOURCE.basemap,
      filter: ['all', kind('water'), isPolygon],
      paint: { 'fill-color': BASEMAP.water },
    },
    {
      id: LAYER.waterway,
      type: 'line',
      source: SOURCE.basemap,
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
      source: SOURCE.compounds,
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
      source: SOURCE.basemap,
      filter: ['all', kind('road'), isPolygon],
      paint: { 'fill-color': BASEMAP.road.area, 'fill-outline-color': BASEMAP.road.areaOutline },
    },
    {
      id: LAYER.roadPath,
      type: 'line',
      source: SOURCE.basemap,
      filter: ['all', kind('road'), isLine, ['match', ['get', 'class'], PATHS, true, false]],
      minzoom: 14,
      paint: { 'line-color': BASEMAP.road.path, 'line-width': roadWidth(1), 'line-dasharray': [2, 1.5] },
    },
    {
      id: LAYER.roadCasing,
      type: 'line',
      source: SOURCE.basemap,
      filter: ['all', kind('road'), isLine, ['match', ['get', 'class'], [...MAJOR, ...MINOR], true, false]],
      layout: { 'line-cap': 'round', 'line-join': 'round' },
      paint: { 'line-color': BASEMAP.road.casing, 'line-width': roadWidth(1, 1.5) },
    },
    {
      id: LAYER.road,
      type: 'line',
      source: SOURCE.basemap,
      filter: ['all', kind('road'), isLine, ['match', ['get', 'class'], PATHS, false, true]],
      layout: { 'line-cap': 'round', 'line-join': 'round' },
      paint: { 'line-color': roadColor, 'line-width': roadWidth(1) },
    },
    {
      id: LAYER.rail,
      type: 'line',
      source: SOURCE.basemap,
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
      source: SOURCE.buildings,
      filter: isPolygon,
      paint: { 'fill-color': householdColorExpression() },
    },
    {
      id: LAYER.buildingOutline,
      type: 'line',
      source: SOURCE.buildings,
      filter: ['all', isPolygon, notEstimated],
      paint: { 'line-color': BUILDING_OUTLINE, 'line-width': ['interpolate', ['linear'], ['zoom'], 14, 0.3, 18, 1.2] },
    },
    {
      id: LAYER.buildingOutlineEstimated,
      type: 'line',
      source: SOURCE.buildings,
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
      source: SOURCE.buildings,
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
      source: SOURCE.buildings,
      filter: ['in', ['get', 'id'], ['literal', []]],
      paint: { 'line-color': SELECTED, 'line-width': 3 },
    },
    {
      id: LAYER.moved,
      type: 'fill',
      source: SOURCE.buildings,
      filter: ['in', ['get', 'id'], ['literal', []]],
      paint: { 'fill-color': '#7b3fbf', 'fill-opacity': 0.75 },
    },
    {
      id: LAYER.gridFill,
      type: 'fill',
      source: VIEW_SOURCE.grids,
      paint: {
        'fill-color': ['match', ['get', 'status'], 'violation', GRID_STATUS.violation, 'under', GRID_STATUS.under, 'over', GRID_STATUS.over, GRID_STATUS.within],
        'fill-opacity': ['match', ['get', 'status'], 'violation', 0.45, 0.22],
      },
    },
    {
      id: LAYER.gridLine,
      type: 'line',
      source: VIEW_SOURCE.grids,
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
      source: SOURCE.communities,
      filter: isPolygon,
      paint: { 'line-color': BASEMAP.community, 'line-width': 2.5, 'line-opacity': 0.7, 'line-dasharray': [6, 3] },
    },
    {
      id: LAYER.facility,
      type: 'symbol',
      source: SOURCE.facilities,
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
      source: SOURCE.compounds,
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
      source: SOURCE.facilities,
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
      paint: { 'circle-color': '#ffffff', 'circle-radius': 4, 'circle-stroke-color': SELECTED, 'circle-stroke-width': 2 },
    },
  ];
}

/**
 * The complete style. Glyphs and the sprite are this app's own files (public/assets/, made by
 * scripts/make-glyphs.mjs and scripts/make-sprite.mjs), given as absolute same-origin URLs.
 */
export function buildStyle(base: string): StyleSpecification {
  const sources: Record<string, SourceSpecification> = {};
  for (const id of [...Object.values(SOURCE), ...Object.values(VIEW_SOURCE)]) sources[id] = emptySource();
  return {
    version: 8,
    glyphs: new URL('assets/glyphs/{fontstack}/{range}.pbf', base).href.replace('%7Bfontstack%7D', '{fontstack}').replace('%7Brange%7D', '{range}'),
    sprite: new URL('assets/sprite/wangge', base).href,
    sources,
    layers: layers(),
  };
}

/** Layers whose features open a popup on click, topmost first. */
export const CLICKABLE = [LAYER.facility, LAYER.buildingPoint, LAYER.buildingFill] as const;

/** Layer groups the layer switcher turns on and off together. */
export const LAYER_GROUPS: Record<string, string[]> = {
  basemap: [LAYER.landuse, LAYER.park, LAYER.water, LAYER.waterway, LAYER.roadArea, LAYER.roadCasing, LAYER.roadPath, LAYER.road, LAYER.rail],
  buildings: [LAYER.buildingFill, LAYER.buildingOutline, LAYER.buildingOutlineEstimated, LAYER.buildingPoint, LAYER.selected, LAYER.moved],
  facilities: [LAYER.facility, LAYER.facilityLabel],
  boundaries: [LAYER.compound, LAYER.compoundLabel, LAYER.community],
  grids: [LAYER.gridFill, LAYER.gridLine, LAYER.gridLabel],
  walking: [LAYER.isochrone, LAYER.isochroneLine, LAYER.routeCasing, LAYER.route, LAYER.place],
  coverage: [LAYER.heat, LAYER.heatTiles, LAYER.uncovered, LAYER.site, LAYER.siteLabel],
};

/** The groups the user has switched off. */
export const HIDDEN_GROUPS = new Set<string>();

/** Shows or hides every layer of the groups (call again after adding a layer of a group). */
export function applyLayerVisibility(map: MlMap): void {
  for (const [group, ids] of Object.entries(LAYER_GROUPS)) {
    const want = HIDDEN_GROUPS.has(group) ? 'none' : 'visible';
    for (const id of ids) {
      if (map.getLayer(id) && (map.getLayoutProperty(id, 'visibility') ?? 'visible') !== want) map.setLayoutProperty(id, 'visibility', want);
    }
  }
}
