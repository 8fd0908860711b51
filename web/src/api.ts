// Typed fetch helpers for the wangge HTTP API (`/api/v1/...`, same origin, relative URLs).
import type { FeatureCollection, Geometry } from 'geojson';

export type BBox = [west: number, south: number, east: number, north: number];

export type Level = '5-min' | '10-min' | '15-min';

export interface Category {
  id: string;
  name_zh: string;
  name_en: string;
  level: Level;
  distance_m: number;
}

export interface Stats {
  buildings: number;
  households: number;
  households_estimated: number;
  facilities_by_category: Record<string, number>;
  network_edges: number;
  [key: string]: unknown;
}

export interface Meta {
  name: string;
  bbox: BBox;
  center: [number, number];
  attribution: string;
  stats: Stats;
  categories: Category[];
}

export interface Unit {
  label: string;
  households: number;
}

export interface BuildingProps {
  kind: string;
  name?: string;
  levels?: number;
  residential: boolean;
  /** Absent in views that hide household numbers. */
  households?: number;
  households_estimated?: boolean;
  households_source?: string;
  units?: Unit[];
  compound?: string;
  community?: string;
}

export interface FacilityProps {
  category: string;
  name?: string;
}

export type BasemapKind = 'road' | 'rail' | 'water' | 'waterway' | 'park' | 'landuse';

export interface BasemapProps {
  kind: BasemapKind;
  class?: string;
  name?: string;
}

export interface CompoundProps {
  name?: string;
  community?: string;
}

export interface RegionProps {
  name?: string;
  level?: string;
}

/** A FeatureCollection as the API sends it: string ids and the foreign members. */
export type ApiCollection<P> = FeatureCollection<Geometry, P> & {
  attribution?: string;
  truncated?: boolean;
};

/** The layers the map asks for by bounding box, with their property types. */
export interface LayerProps {
  basemap: BasemapProps;
  buildings: BuildingProps;
  facilities: FacilityProps;
  compounds: CompoundProps;
  communities: RegionProps;
}
export type LayerName = keyof LayerProps;
export const LAYER_NAMES: LayerName[] = ['basemap', 'compounds', 'communities', 'buildings', 'facilities'];

export class ApiError extends Error {
  constructor(
    readonly url: string,
    readonly status: number,
  ) {
    super(`${url}: HTTP ${status}`);
  }
}

async function getJson<T>(url: string, signal?: AbortSignal): Promise<T> {
  const res = await fetch(url, { signal, headers: { Accept: 'application/json' } });
  if (!res.ok) throw new ApiError(url, res.status);
  return (await res.json()) as T;
}

/** Six decimals (~0.1 m) keeps URLs short and stable. */
export function bboxParam(b: BBox): string {
  return b.map((v) => v.toFixed(6)).join(',');
}

export function fetchMeta(signal?: AbortSignal): Promise<Meta> {
  return getJson<Meta>('api/v1/meta', signal);
}

export function fetchLayer<K extends LayerName>(
  layer: K,
  bbox: BBox,
  signal?: AbortSignal,
): Promise<ApiCollection<LayerProps[K]>> {
  return getJson(`api/v1/${layer}?bbox=${bboxParam(bbox)}`, signal);
}
