// Popup contents for clicked features. Built with DOM nodes and textContent (names come from data).
import type { MapGeoJSONFeature } from 'maplibre-gl';
import type { BuildingProps, Category, FacilityProps, Unit } from './api';
import type { Lang, Messages } from './i18n';
import { categoryStyle } from './colors';

function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function row(dl: HTMLElement, label: string, value: string): void {
  dl.append(el('dt', undefined, label), el('dd', undefined, value));
}

/** MapLibre hands nested values (arrays, objects) of GeoJSON properties back as JSON strings. */
function parseUnits(v: unknown): Unit[] {
  let units = v;
  if (typeof v === 'string') {
    try {
      units = JSON.parse(v);
    } catch {
      return [];
    }
  }
  return Array.isArray(units) ? (units as Unit[]) : [];
}

export function buildingPopup(f: MapGeoJSONFeature, t: Messages): HTMLElement {
  const p = f.properties as BuildingProps;
  const box = el('div', 'popup popup-building');
  box.append(el('h3', undefined, p.name || t.unnamedBuilding));
  const dl = el('dl');
  if (typeof p.households === 'number') {
    const estimated = p.households_estimated === true;
    row(dl, t.households, `${t.householdsCount(p.households)}${estimated ? ` (${t.estimated})` : ''}`);
    const source = p.households_source ?? 'none';
    row(dl, t.source, `${t.sources[source] ?? source}${estimated || source === 'none' ? '' : ` · ${t.notEstimated}`}`);
  }
  row(dl, t.kind, `${p.kind}${p.residential ? ` · ${t.residential}` : ` · ${t.nonResidential}`}`);
  if (typeof p.levels === 'number') row(dl, t.levels, String(p.levels));
  box.append(dl);
  const units = parseUnits(p.units);
  if (units.length > 0) {
    box.append(el('h4', undefined, t.units));
    const ul = el('ul', 'units');
    for (const u of units) ul.append(el('li', undefined, t.unitLine(u.label, u.households)));
    box.append(ul);
  }
  if (p.households_estimated === true) box.classList.add('estimated');
  return box;
}

export function categoryName(id: string, categories: Map<string, Category>, lang: Lang): string {
  const c = categories.get(id);
  if (!c) return id;
  return lang === 'zh' ? c.name_zh : c.name_en;
}

export function facilityPopup(f: MapGeoJSONFeature, t: Messages, lang: Lang, categories: Map<string, Category>): HTMLElement {
  const p = f.properties as FacilityProps;
  const box = el('div', 'popup popup-facility');
  box.append(el('h3', undefined, p.name || t.unnamedFacility));
  const dl = el('dl');
  const dd = el('dd');
  const dot = el('span', 'swatch round');
  dot.style.background = categoryStyle(p.category).color;
  dd.append(dot, document.createTextNode(categoryName(p.category, categories, lang)));
  dl.append(el('dt', undefined, t.category), dd);
  box.append(dl);
  return box;
}
