// The legend panel: household classes of buildings and the facility icons.
import type { Meta } from './api';
import { BUILDING_OUTLINE, BASEMAP, GRID_STATUS, HOUSEHOLD_CLASSES } from './colors';
import type { Lang, Messages } from './i18n';
import { drawIcon } from './icons';
import { categoryName } from './popup';

function item(swatch: HTMLElement, label: string): HTMLLIElement {
  const li = document.createElement('li');
  const span = document.createElement('span');
  span.textContent = label;
  li.append(swatch, span);
  return li;
}

function swatch(color: string, cls = 'swatch'): HTMLSpanElement {
  const s = document.createElement('span');
  s.className = cls;
  s.style.background = color;
  return s;
}

function heading(text: string): HTMLHeadingElement {
  const h = document.createElement('h4');
  h.textContent = text;
  return h;
}

const iconCache = new Map<string, string>();
function iconDataUrl(category: string): string {
  let url = iconCache.get(category);
  if (!url) {
    url = drawIcon(category, 2).toDataURL();
    iconCache.set(category, url);
  }
  return url;
}

export function renderLegend(box: HTMLElement, t: Messages, lang: Lang, meta: Meta, households = true, grids = false): void {
  box.replaceChildren();
  if (households) box.append(heading(t.legendHouseholds));
  const classes = document.createElement('ul');
  for (const c of HOUSEHOLD_CLASSES) {
    const label =
      c.max === 0 ? t.householdsNone : c.max === null ? t.householdsAbove(c.min) : t.householdsRange(c.min, c.max);
    const s = swatch(c.color);
    s.style.borderColor = BUILDING_OUTLINE;
    classes.append(item(s, label));
  }
  const est = swatch(HOUSEHOLD_CLASSES[2].color, 'swatch dashed');
  est.style.borderColor = BUILDING_OUTLINE;
  classes.append(item(est, t.legendEstimated));
  if (!households) classes.replaceChildren();
  const gridList = document.createElement('ul');
  for (const k of ['within', 'under', 'over', 'violation'] as const) gridList.append(item(swatch(GRID_STATUS[k]), t.gridStatus[k]));
  const comp = swatch('transparent', 'swatch dashed');
  comp.style.borderColor = BASEMAP.compound;
  classes.append(item(comp, t.legendCompound));
  box.append(classes);
  if (grids) box.append(heading(t.legendGrids), gridList);

  // Only categories that occur in the data, in catalogue order.
  const counts = meta.stats?.facilities_by_category ?? {};
  const present = meta.categories.filter((c) => (counts[c.id] ?? 0) > 0);
  if (present.length > 0) {
    box.append(heading(t.legendFacilities));
    const ul = document.createElement('ul');
    ul.className = 'facilities';
    const byId = new Map(meta.categories.map((c) => [c.id, c]));
    for (const c of present) {
      const img = document.createElement('img');
      img.className = 'icon';
      img.alt = '';
      img.src = iconDataUrl(c.id);
      ul.append(item(img, `${categoryName(c.id, byId, lang)} (${counts[c.id]})`));
    }
    box.append(ul);
  }
}
