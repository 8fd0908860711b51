// The map style: a background and GeoJSON sources filled from the API. No outside tiles, fonts or sprites.
import type {
  ExpressionSpecification,
  LayerSpecification,
  SourceSpecification,
  StyleSpecification,
} from 'maplibre-gl';
import type { LayerName } from './api';
import { BASEMAP, BUILDING_OUTLINE, householdColorExpression } from './colors';
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
} as const;

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
  ];
}

/** The complete style. `glyphs` and `sprite` are left out on purpose: nothing is fetched from outside. */
export function buildStyle(): StyleSpecification {
  const sources: Record<string, SourceSpecification> = {};
  for (const id of Object.values(SOURCE)) sources[id] = emptySource();
  return { version: 8, sources, layers: layers() };
}

/** Layers whose features open a popup on click, topmost first. */
export const CLICKABLE = [LAYER.facility, LAYER.buildingPoint, LAYER.buildingFill] as const;
