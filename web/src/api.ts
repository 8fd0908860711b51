// Typed client for the wangge HTTP API (`/api/v1/...`, same origin, relative URLs).
//
// Paths and query parameters of the routes the server documents are checked against
// `api-types.ts`, generated from `GET /api/v1/openapi.json` (scripts/api-types.mjs; a test fails
// when the committed file and the served document drift). Routes of docs/api.md that the document
// does not list yet are named in `PendingPath`: when they land, regenerate the types and move them.
// Response bodies are typed here, from the routes' documented shapes.
import type { Feature, FeatureCollection, Geometry, LineString, MultiPolygon, Point, Polygon } from 'geojson';
import type { paths } from './api-types';

export type BBox = [west: number, south: number, east: number, north: number];
export type Level = '5-min' | '10-min' | '15-min';
export type Role = 'resident' | 'leader' | 'planner';

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
  id?: string;
  kind: string;
  name?: string;
  levels?: number;
  residential: boolean;
  /** Absent for residents (the server leaves household numbers out). */
  households?: number;
  households_estimated?: boolean;
  households_source?: string;
  units?: Unit[];
  compound?: string;
  community?: string;
}

export interface FacilityProps {
  id?: string;
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
  id?: string;
  name?: string;
  community?: string;
}
export interface RegionProps {
  id?: string;
  name?: string;
  level?: string;
  code?: string | number;
}

/** A FeatureCollection as the API sends it, with its foreign members. */
export type ApiCollection<P, G extends Geometry = Geometry> = FeatureCollection<G, P> & {
  attribution?: string;
  truncated?: boolean;
  next?: string;
};

export interface LayerProps {
  basemap: BasemapProps;
  buildings: BuildingProps;
  facilities: FacilityProps;
  compounds: CompoundProps;
  communities: RegionProps;
}
export type LayerName = keyof LayerProps;
export const LAYER_NAMES: LayerName[] = ['basemap', 'compounds', 'communities', 'buildings', 'facilities'];

// ---- session -----------------------------------------------------------------------------------

export interface LoginAnswer {
  token: string;
  token_type?: string;
  name?: string;
  role: Role;
  expires_at?: string;
}
export interface Me {
  name: string | null;
  role: Role;
  households_visible: boolean;
}

// ---- circles ------------------------------------------------------------------------------------

export interface NearestProps {
  category: string;
  category_name_zh?: string;
  category_name_en?: string;
  threshold_m?: number;
  within_threshold?: boolean;
  facility_id: string;
  facility_name?: string | null;
  facility_lon: number;
  facility_lat: number;
  distance_m: number;
  minutes: number;
}
export type NearestAnswer = ApiCollection<NearestProps, LineString> & { missing?: string[]; point?: [number, number] };

export interface IsochroneProps {
  minutes: number;
  distance_m?: number;
}
export type IsochroneAnswer = ApiCollection<IsochroneProps, MultiPolygon | Polygon>;

export interface CoverageRow {
  category: string;
  level: 'grid' | 'community' | 'street' | 'city';
  region: string;
  region_name?: string | null;
  households_covered: number;
  households_total: number;
  share: number | null;
  buildings_covered?: number;
  buildings_total?: number;
}
export interface CoverageAnswer {
  computed_at: string | null;
  rows: CoverageRow[];
}

export interface UncoveredRow {
  building: string;
  name?: string | null;
  households: number;
  lon: number;
  lat: number;
  distance_m: number | null;
  facility?: string | null;
}
export interface UncoveredAnswer {
  category: string;
  threshold_m: number;
  households: number;
  buildings: number;
  truncated?: boolean;
  rows: UncoveredRow[];
}

export interface SiteProps {
  category: string;
  rank: number;
  households_gained: number;
  detail?: unknown;
}
export type SitesAnswer = ApiCollection<SiteProps, Point>;

// ---- grids, workers, search ----------------------------------------------------------------------

export interface Worker {
  name: string;
  phone?: string | null;
  role?: string | null;
}
export interface Named {
  id: string;
  name?: string | null;
  code?: string | number | null;
}
export interface ResponsibleAnswer {
  point?: { lon: number; lat: number; coords?: string };
  community?: Named | null;
  street?: Named | null;
  plan?: string | null;
  grid?: (Named & { households?: number }) | null;
  workers?: Worker[];
}

export interface SearchHit {
  kind: 'building' | 'compound' | 'facility' | 'community' | 'street' | 'grid';
  id: string;
  name?: string | null;
  lon: number;
  lat: number;
  bbox?: BBox | null;
}
export interface SearchAnswer {
  hits: SearchHit[];
}

// ---- plans and jobs ------------------------------------------------------------------------------

export interface Quota {
  min: number;
  max: number;
  target?: number;
}
export interface PlanMetrics {
  grids?: number;
  households?: number;
  households_min?: number;
  households_median?: number;
  households_max?: number;
  within_quota?: number;
  contiguous?: number;
  compactness_mean?: number;
  polsby_popper_mean?: number;
  barrier_crossings?: number;
  split_compounds?: number;
  [key: string]: unknown;
}
export interface PlanSummary {
  name: string;
  status: 'draft' | 'active' | 'retired' | string;
  version: number;
  quota?: Quota;
  quota_min?: number;
  quota_max?: number;
  metrics?: PlanMetrics;
  created_at?: string;
  community?: string | null;
}
export interface Violation {
  kind: 'quota' | 'contiguity' | 'split_compound' | 'barrier_crossed' | string;
  grid?: string;
  households?: number;
  reason?: string | null;
  pieces?: number;
  compound?: string;
  name?: string | null;
  grids?: string[];
  barrier?: string;
}
export interface GridProps {
  id?: string;
  grid?: string;
  grid_id?: string;
  code?: string;
  quota_status?: 'under' | 'within' | 'over' | string;
  community?: string;
  households?: number;
  buildings?: number;
  status?: 'under' | 'within' | 'over' | string;
  workers?: Worker[];
}
export type GridsAnswer = ApiCollection<GridProps, Polygon | MultiPolygon>;
export interface AssignmentRow {
  building: string;
  unit?: string | null;
  grid: string;
}
export interface EditAnswer {
  version: number;
  violations?: Violation[];
  new_violations?: Violation[];
  households?: Record<string, number>;
  metrics?: PlanMetrics;
}
export interface DiffAnswer {
  plan?: string;
  against?: string;
  moved?: { building: string; unit?: string | null; from?: string | null; to?: string | null; households?: number }[];
  buildings_moved?: number;
  households_moved?: number;
  [key: string]: unknown;
}
export type AtomId = { building: string; unit: string | null };
export type GridEdit =
  | { op: 'move_atoms'; atoms: AtomId[]; to: string }
  | { op: 'merge'; a: string; b: string }
  | { op: 'split'; grid: string; line: [number, number][] | null }
  | { op: 'reassign'; area: [number, number][][]; to: string };

export interface Job {
  id: string | number;
  kind: string;
  state?: 'queued' | 'running' | 'done' | 'failed' | 'cancelled' | string;
  status?: string;
  progress?: number;
  message?: string | null;
  result?: unknown;
  error?: string | null;
}
export interface JobEvent {
  event: string;
  data: { progress?: number; fraction?: number; message?: string; stage?: string; error?: string; [k: string]: unknown };
}

// ---- the client ----------------------------------------------------------------------------------

/** Documented paths (from the OpenAPI document) and the contract's paths not documented yet. */
export type DocumentedPath = keyof paths;
/** None left: every route the client calls is in the document (add one here while it is only in docs/api.md). */
export type PendingPath = never;
export type ApiPath = DocumentedPath | PendingPath;

type GetQuery<P> = P extends DocumentedPath
  ? paths[P] extends { get: { parameters: { query?: infer Q } } }
    ? Q extends undefined | never
      ? Record<string, never>
      : NonNullable<Q>
    : Record<string, string | number | undefined>
  : Record<string, string | number | boolean | undefined>;

/** An error answer of the API, with its status, stable code and the server's message. */
export class ApiError extends Error {
  constructor(
    readonly url: string,
    readonly status: number,
    readonly code: string | null,
    readonly serverMessage: string | null,
    readonly current: unknown = undefined,
  ) {
    super(`${url}: HTTP ${status}${code ? ` ${code}` : ''}${serverMessage ? `: ${serverMessage}` : ''}`);
  }
}

/** A network failure (no answer at all). */
export class NetworkError extends Error {}

let token: string | null = null;
/** Called when the server says the token is wrong or expired. */
let onUnauthorized: (() => void) | null = null;

export function setToken(t: string | null): void {
  token = t;
}
export function getToken(): string | null {
  return token;
}
export function setOnUnauthorized(fn: () => void): void {
  onUnauthorized = fn;
}

function fill(path: string, params: Record<string, string>): string {
  return path.replace(/\{(\w+)\}/g, (_, k: string) => encodeURIComponent(params[k] ?? ''));
}

/** The relative URL of `path` (leading slash dropped) with `query` (undefined values left out). */
export function apiUrl<P extends ApiPath>(path: P, query?: GetQuery<P>, pathParams: Record<string, string> = {}): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries((query ?? {}) as Record<string, unknown>)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return fill(path, pathParams).slice(1) + (s ? `?${s}` : '');
}

export interface CallOptions {
  /** Send the session token (default true). The resident view calls anonymously. */
  auth?: boolean;
  signal?: AbortSignal;
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  body?: unknown;
}

async function errorOf(url: string, res: Response): Promise<ApiError> {
  let code: string | null = null;
  let message: string | null = null;
  let current: unknown;
  try {
    const body = (await res.json()) as { error?: unknown; message?: string; current?: unknown };
    // Both shapes: {"error": "Kind", "message": …} (docs/api.md) and {"error": {"code", "message"}}.
    if (body.error && typeof body.error === 'object') {
      const e = body.error as { code?: string; message?: string; current?: unknown };
      code = e.code ?? null;
      message = e.message ?? null;
      current = e.current ?? body.current;
    } else {
      code = typeof body.error === 'string' ? body.error : null;
      message = body.message ?? null;
      current = body.current;
    }
  } catch {
    // not JSON: the status says enough
  }
  return new ApiError(url, res.status, code, message, current);
}

export async function call<T>(url: string, opts: CallOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (opts.auth !== false && token) headers.Authorization = `Bearer ${token}`;
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(url, {
      method: opts.method ?? 'GET',
      headers,
      signal: opts.signal,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new NetworkError(String(err));
  }
  if (!res.ok) {
    const e = await errorOf(url, res);
    if (res.status === 401 && opts.auth !== false && token) onUnauthorized?.();
    throw e;
  }
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

export function get<T, P extends ApiPath>(path: P, query?: GetQuery<P>, opts: CallOptions & { params?: Record<string, string> } = {}): Promise<T> {
  return call<T>(apiUrl(path, query, opts.params), opts);
}

export function post<T, P extends ApiPath>(path: P, body: unknown, opts: CallOptions & { params?: Record<string, string> } = {}): Promise<T> {
  return call<T>(apiUrl(path, undefined, opts.params), { ...opts, method: 'POST', body });
}

/** Six decimals (~0.1 m) keeps URLs short and stable. */
export function bboxParam(b: BBox): string {
  return b.map((v) => v.toFixed(6)).join(',');
}
const c6 = (v: number): number => Number(v.toFixed(6));

export const api = {
  meta: (signal?: AbortSignal) => get<Meta, '/api/v1/meta'>('/api/v1/meta', undefined, { signal, auth: false }),
  layer: <K extends LayerName>(layer: K, bbox: BBox, opts: CallOptions = {}) =>
    // every layer route takes the same bbox/coords/limit query (checked on one of them)
    call<ApiCollection<LayerProps[K]>>(apiUrl(`/api/v1/${layer}` as '/api/v1/buildings', { bbox: bboxParam(bbox) }), opts),
  login: (name: string, password: string) =>
    post<LoginAnswer, '/api/v1/login'>('/api/v1/login', { name, password }, { auth: false }),
  logout: () => post<unknown, '/api/v1/logout'>('/api/v1/logout', {}),
  me: () => get<Me, '/api/v1/me'>('/api/v1/me'),
  responsible: (lon: number, lat: number, opts: CallOptions = {}) =>
    get<ResponsibleAnswer, '/api/v1/responsible'>('/api/v1/responsible', { lon: c6(lon), lat: c6(lat) }, opts),
  search: (q: string, opts: CallOptions = {}) => get<SearchAnswer, '/api/v1/search'>('/api/v1/search', { q, limit: 8 }, opts),
  nearest: (lon: number, lat: number, categories: string[], opts: CallOptions = {}) =>
    get<NearestAnswer, '/api/v1/nearest'>('/api/v1/nearest', { lon: c6(lon), lat: c6(lat), categories: categories.join(','), k: 1 }, opts),
  isochrones: (lon: number, lat: number, minutes: number[], opts: CallOptions = {}) =>
    get<IsochroneAnswer, '/api/v1/isochrones'>('/api/v1/isochrones', { lon: c6(lon), lat: c6(lat), minutes: minutes.join(',') }, opts),
  coverage: (level?: string, category?: string) =>
    get<CoverageAnswer, '/api/v1/coverage'>('/api/v1/coverage', { level, category }),
  uncovered: (category: string, limit = 200) =>
    get<UncoveredAnswer, '/api/v1/uncovered'>('/api/v1/uncovered', { category, limit }),
  sites: (category?: string) => get<SitesAnswer, '/api/v1/sites'>('/api/v1/sites', { category }),
  plans: (opts: CallOptions = {}) => get<PlanSummary[] | { plans: PlanSummary[] }, '/api/v1/plans'>('/api/v1/plans', undefined, opts),
  plan: (name: string) => get<PlanSummary, '/api/v1/plans/{name}'>('/api/v1/plans/{name}', undefined, { params: { name } }),
  planGrids: (name: string) => get<GridsAnswer, '/api/v1/plans/{name}/grids'>('/api/v1/plans/{name}/grids', undefined, { params: { name } }),
  assignment: (name: string) =>
    get<AssignmentRow[] | { rows?: AssignmentRow[]; assignments?: AssignmentRow[] }, '/api/v1/plans/{name}/assignment'>(
      '/api/v1/plans/{name}/assignment',
      undefined,
      { params: { name } },
    ),
  diff: (name: string, against: string) =>
    get<DiffAnswer, '/api/v1/plans/{name}/diff'>('/api/v1/plans/{name}/diff', { against }, { params: { name } }),
  edit: (name: string, version: number, edit: GridEdit) =>
    post<EditAnswer, '/api/v1/plans/{name}/edits'>('/api/v1/plans/{name}/edits', { version, edit }, { params: { name } }),
  undo: (name: string, version: number) =>
    post<EditAnswer, '/api/v1/plans/{name}/undo'>('/api/v1/plans/{name}/undo', { version }, { params: { name } }),
  redo: (name: string, version: number) =>
    post<EditAnswer, '/api/v1/plans/{name}/redo'>('/api/v1/plans/{name}/redo', { version }, { params: { name } }),
  publish: (name: string, version: number) =>
    post<{ plan: string; status: string; version: number; previous?: string | null }, '/api/v1/plans/{name}/publish'>('/api/v1/plans/{name}/publish', { version }, { params: { name } }),
  startJob: (body: Record<string, unknown>) => post<Job, '/api/v1/jobs'>('/api/v1/jobs', body),
  job: (id: string) => get<Job, '/api/v1/jobs/{id}'>('/api/v1/jobs/{id}', undefined, { params: { id } }),
};

/**
 * Follows a job's Server-Sent Events (`progress`, then `done`/`failed`) over fetch, so the bearer
 * token can be sent (EventSource cannot send headers). Resolves with the last event.
 */
export async function followJob(id: string, onEvent: (e: JobEvent) => void, signal?: AbortSignal): Promise<JobEvent> {
  const url = apiUrl('/api/v1/jobs/{id}/events', undefined, { id });
  const headers: Record<string, string> = { Accept: 'text/event-stream' };
  if (token) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(url, { headers, signal });
  if (!res.ok || !res.body) throw await errorOf(url, res);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  let last: JobEvent = { event: 'progress', data: {} };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return last;
    buf += value;
    let cut: number;
    while ((cut = buf.search(/\r?\n\r?\n/)) >= 0) {
      const block = buf.slice(0, cut);
      buf = buf.slice(cut).replace(/^\r?\n\r?\n/, '');
      let event = 'message';
      const data: string[] = [];
      for (const line of block.split(/\r?\n/)) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
      }
      if (data.length === 0) continue;
      let parsed: JobEvent['data'];
      try {
        parsed = JSON.parse(data.join('\n')) as JobEvent['data'];
      } catch {
        parsed = { message: data.join('\n') };
      }
      last = { event, data: parsed };
      onEvent(last);
      if (event === 'done' || event === 'failed' || event === 'cancelled') {
        await reader.cancel().catch(() => {});
        return last;
      }
    }
  }
}

/** Every feature gets its string id copied into `properties.id` (MapLibre keeps only numeric ids). */
export function withIds<P, G extends Geometry>(fc: FeatureCollection<G, P>): FeatureCollection<G, P> {
  for (const f of fc.features as Feature<G, P & { id?: string }>[]) {
    if (f.id !== undefined && f.properties && (f.properties as { id?: string }).id === undefined) {
      (f.properties as { id?: string }).id = String(f.id);
    }
  }
  return fc;
}
