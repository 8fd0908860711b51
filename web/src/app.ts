// What every view gets from the shell (main.ts): the map, the catalogue, strings, the panel and helpers.
import type { FeatureCollection } from 'geojson';
import type { Map as MlMap, MapMouseEvent } from 'maplibre-gl';
import type { BuildingProps, Category, Meta, Role } from './api';
import type { Lang, Messages } from './i18n';

export type ViewName = 'resident' | 'planner' | 'leader';

export interface Ctx {
  map: MlMap;
  meta: Meta;
  categories: Map<string, Category>;
  t: () => Messages;
  lang: () => Lang;
  role: () => Role;
  /** The view's panel (emptied between views). */
  panel: HTMLElement;
  /** Shows a message in the status line (errors stay until the next message). */
  notify: (text: string, kind?: 'info' | 'error') => void;
  /** Shows an error in plain words. */
  fail: (err: unknown) => void;
  /** The buildings of the base tiles loaded for the viewport (GeoJSON, one feature per building). */
  buildings: () => FeatureCollection<GeoJSON.Geometry, BuildingProps>;
  /** Fetches the base tiles again (e.g. after households changed). */
  reloadBase: () => void;
  /** The active plan whose grids the map draws from the grid tiles, with the version in their URLs. */
  activePlan: () => { name: string; version: number } | null;
  /** Draws `plan`'s grids from tiles as the active plan; a new version makes the map fetch them again. */
  setActivePlan: (plan: { name: string; version: number } | null) => void;
}

export interface View {
  /** Builds the panel and the view's map content. */
  mount(ctx: Ctx): void | Promise<void>;
  /** Removes what the view added to the map and its listeners. */
  unmount(): void;
  /** Redraws the panel in the current language. */
  render(): void;
  /** A click on the map that no tool took. */
  click?(e: MapMouseEvent): void;
}

/** The lowest role that may open each view. */
export const VIEW_ROLE: Record<ViewName, Role> = { resident: 'resident', planner: 'planner', leader: 'leader' };

const RANK: Record<Role, number> = { resident: 0, leader: 1, planner: 2 };
export function roleAllows(role: Role, needed: Role): boolean {
  return RANK[role] >= RANK[needed];
}

/** Set by a view tool (drawing, picking) that takes map clicks for itself. */
export const clicks = { taken: false };
