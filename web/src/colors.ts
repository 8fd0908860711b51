// Colour ramps and palettes. Everything that colours the map or the legend comes from here.
import type { ExpressionSpecification } from 'maplibre-gl';

/** A class of buildings by household count: `min..=max` (max `null` = no upper bound). */
export interface HouseholdClass {
  min: number;
  max: number | null;
  color: string;
}

/** Discrete household classes (sequential orange–red; 0 is neutral grey: not residential or empty). */
export const HOUSEHOLD_CLASSES: HouseholdClass[] = [
  { min: 0, max: 0, color: '#d6d1c9' },
  { min: 1, max: 20, color: '#fde0b4' },
  { min: 21, max: 50, color: '#fdb873' },
  { min: 51, max: 100, color: '#f68743' },
  { min: 101, max: 200, color: '#db5224' },
  { min: 201, max: null, color: '#a52a14' },
];

/** Outline colour of buildings. */
export const BUILDING_OUTLINE = '#5e4a3c';

/** A `step` expression giving the class colour of a feature's `households` (missing = 0). */
export function householdColorExpression(): ExpressionSpecification {
  const [first, ...rest] = HOUSEHOLD_CLASSES;
  const stops = rest.flatMap((c) => [c.min, c.color]);
  return ['step', ['coalesce', ['get', 'households'], 0], first.color, ...stops] as ExpressionSpecification;
}

export function householdClassOf(n: number): HouseholdClass {
  let found = HOUSEHOLD_CLASSES[0];
  for (const c of HOUSEHOLD_CLASSES) if (n >= c.min) found = c;
  return found;
}

/** Basemap colours. */
export const BASEMAP = {
  background: '#f3f1ec',
  landuseDefault: '#e9e6df',
  landuse: {
    residential: '#ece6df',
    commercial: '#f1e1de',
    retail: '#f1e1de',
    industrial: '#e6e0ea',
    school: '#f4ecd2',
    university: '#f4ecd2',
    college: '#f4ecd2',
    kindergarten: '#f4ecd2',
    hospital: '#f3e0e4',
    construction: '#e4dfd2',
    brownfield: '#e4dfd2',
    forest: '#d3e6c6',
    wood: '#d3e6c6',
    scrub: '#d9e8c8',
    grassland: '#dcebd0',
    grass: '#dcebd0',
    meadow: '#dcebd0',
    greenfield: '#dcebd0',
    recreation_ground: '#dcebd0',
    village_green: '#dcebd0',
    cemetery: '#d8e3d2',
  } as Record<string, string>,
  park: '#cfe6c0',
  parkOutline: '#a9cf98',
  water: '#a9cde8',
  waterway: '#8dbde0',
  rail: '#8a8680',
  compound: '#7a6a9a',
  community: '#4b6fa8',
  road: {
    motorway: '#e59a6a',
    trunk: '#f0b27a',
    primary: '#f6c98d',
    secondary: '#f8dc9e',
    tertiary: '#ffffff',
    minor: '#ffffff',
    path: '#b7aa9b',
    casing: '#c9bfb2',
    area: '#f7f5f1',
    areaOutline: '#d8d0c4',
  },
};

/** One colour and a short glyph (drawn into the icon) per facility category. */
export interface CategoryStyle {
  color: string;
  glyph: string;
}

const EDUCATION = '#3b6fc4';
const HEALTH = '#d0394b';
const ELDERLY = '#8a55b5';
const SERVICE = '#5d6b7a';
const COMMERCE = '#e08a1e';
const GREEN = '#3d9a4b';
const TRANSPORT = '#128a8a';

export const CATEGORY_STYLES: Record<string, CategoryStyle> = {
  kindergarten: { color: EDUCATION, glyph: 'K' },
  primary_school: { color: EDUCATION, glyph: 'P' },
  middle_school: { color: EDUCATION, glyph: 'M' },
  health_station: { color: HEALTH, glyph: '+' },
  health_centre: { color: HEALTH, glyph: 'H' },
  pharmacy: { color: HEALTH, glyph: 'Rx' },
  elderly_day_care: { color: ELDERLY, glyph: 'D' },
  nursing_home: { color: ELDERLY, glyph: 'N' },
  community_service_station: { color: SERVICE, glyph: 'S' },
  police: { color: SERVICE, glyph: '!' },
  post_office: { color: SERVICE, glyph: '@' },
  cultural_centre: { color: SERVICE, glyph: 'C' },
  fresh_market: { color: COMMERCE, glyph: 'F' },
  convenience: { color: COMMERCE, glyph: '$' },
  sports_ground: { color: GREEN, glyph: 'G' },
  park: { color: GREEN, glyph: 'T' },
  bus_stop: { color: TRANSPORT, glyph: 'B' },
};

/** For a category the catalogue has but this palette does not. */
export const FALLBACK_CATEGORY_STYLE: CategoryStyle = { color: '#6d6d6d', glyph: '?' };

export function categoryStyle(id: string): CategoryStyle {
  return CATEGORY_STYLES[id] ?? FALLBACK_CATEGORY_STYLE;
}

/** Grid fill by quota status; red marks a grid with a violation. */
export const GRID_STATUS = {
  under: '#f2c14e',
  within: '#5fb36b',
  over: '#e0823d',
  violation: '#d7263d',
};

/** Walking areas: 5, 10, 15 minutes (darkest nearest). */
export const ISOCHRONE_COLORS = ['#2c7fb8', '#7fcdbb', '#edf8b1'];

/** Routes: the chosen one and the others. */
export const ROUTE = { selected: '#1565c0', other: '#5c8fd6' };

/** Selection outline and drawing colour. */
export const SELECTED = '#ff3d7f';

/** Bar colours of the dashboard chart. */
export const CHART = { bar: '#3b6fc4', barLow: '#d7263d' };
