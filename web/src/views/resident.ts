// Resident view (no login): "what is near me". Locate by click, search or geolocation; the nearest
// facility of each chosen category with walking minutes and its route; 5/10/15-minute walking areas;
// "my grid" with the community and the grid worker card. Every request goes out without the
// session token, so this view never receives household numbers.
import type { GeoJSONSource, MapMouseEvent } from 'maplibre-gl';
import type { FeatureCollection } from 'geojson';
import { ApiError, api, type IsochroneAnswer, type NearestAnswer, type ResponsibleAnswer, type SearchHit } from '../api';
import type { Ctx, View } from '../app';
import { categoryStyle } from '../colors';
import { describeError, isMissingRoute } from '../errors';
import { BASE_SOURCE, VIEW_SOURCE } from '../layers';
import { categoryName } from '../popup';
import { button, centroidOf, el, geometryContains } from '../util';

const MINUTES = [5, 10, 15];
const FILTER_KEY = 'wangge.resident.categories';
const EMPTY: FeatureCollection = { type: 'FeatureCollection', features: [] };

export class ResidentView implements View {
  private ctx!: Ctx;
  /** The chosen place, lon/lat. */
  point: [number, number] | null = null;
  nearest: NearestAnswer | null = null;
  isochrones: IsochroneAnswer | null = null;
  responsible: ResponsibleAnswer | null = null;
  responsibleError: string | null = null;
  selectedCategory: string | null = null;
  chosen = new Set<string>();
  hits: SearchHit[] | null = null;
  busy = false;
  error: string | null = null;
  private query = '';
  private seq = 0;

  mount(ctx: Ctx): void {
    this.ctx = ctx;
    const present = ctx.meta.categories.filter((c) => (ctx.meta.stats?.facilities_by_category?.[c.id] ?? 0) > 0).map((c) => c.id);
    let saved: string[] | null = null;
    try {
      saved = JSON.parse(window.localStorage.getItem(FILTER_KEY) ?? 'null') as string[] | null;
    } catch {
      saved = null;
    }
    this.chosen = new Set((saved ?? present).filter((c) => ctx.categories.has(c)));
    this.render();
  }

  unmount(): void {
    for (const id of [VIEW_SOURCE.place, VIEW_SOURCE.routes, VIEW_SOURCE.isochrones]) {
      this.ctx.map.getSource<GeoJSONSource>(id)?.setData(EMPTY);
    }
  }

  click(e: MapMouseEvent): void {
    void this.locate(e.lngLat.lng, e.lngLat.lat);
  }

  /** Finds everything for a place: nearest services, walking areas, the responsible grid. */
  async locate(lon: number, lat: number): Promise<void> {
    const seq = ++this.seq;
    this.point = [lon, lat];
    this.busy = true;
    this.error = null;
    this.ctx.map.getSource<GeoJSONSource>(VIEW_SOURCE.place)?.setData({
      type: 'FeatureCollection',
      features: [{ type: 'Feature', properties: {}, geometry: { type: 'Point', coordinates: [lon, lat] } }],
    });
    this.render();
    const cats = [...this.chosen];
    // The communities of the viewport are on the map already: outside all of them there is no grid to ask for.
    const inCommunity = this.ctx.map.querySourceFeatures(BASE_SOURCE, { sourceLayer: 'communities' }).some((f) => geometryContains(f.geometry, [lon, lat]));
    const [near, iso, resp] = await Promise.allSettled([
      cats.length ? api.nearest(lon, lat, cats, { auth: false }) : Promise.resolve(null),
      api.isochrones(lon, lat, MINUTES, { auth: false }),
      inCommunity ? api.responsible(lon, lat, { auth: false }) : Promise.reject(new ApiError('api/v1/responsible', 404, 'NotFound', null)),
    ]);
    if (seq !== this.seq) return;
    this.busy = false;
    const t = this.ctx.t();
    const errors: string[] = [];
    this.nearest = near.status === 'fulfilled' ? near.value : null;
    if (near.status === 'rejected') errors.push(describeError(near.reason, t));
    this.isochrones = iso.status === 'fulfilled' ? iso.value : null;
    if (iso.status === 'rejected' && !(near.status === 'rejected' && isMissingRoute(iso.reason))) errors.push(describeError(iso.reason, t));
    this.responsible = resp.status === 'fulfilled' ? resp.value : null;
    this.responsibleError = resp.status === 'rejected' ? describeError(resp.reason, t) : null;
    this.error = errors.length ? [...new Set(errors)].join('；') : null;
    if (this.error) this.ctx.notify(this.error, 'error');
    if (!this.selectedCategory || !this.nearest?.features.some((f) => f.properties.category === this.selectedCategory)) {
      this.selectedCategory = this.nearest?.features[0]?.properties.category ?? null;
    }
    this.draw();
    this.render();
    this.keepInSight(lon, lat);
  }

  /** Pans the map when the place is hidden under the panel (the bottom sheet on a phone). */
  private keepInSight(lon: number, lat: number): void {
    const map = this.ctx.map;
    const canvas = map.getCanvas().getBoundingClientRect();
    const panel = this.ctx.panel.getBoundingClientRect();
    const p = map.project([lon, lat]);
    const x = canvas.left + p.x;
    const y = canvas.top + p.y;
    const hidden = x >= panel.left && x <= panel.right && y >= panel.top && y <= panel.bottom;
    if (!hidden && p.x >= 0 && p.y >= 0 && p.x <= canvas.width && p.y <= canvas.height) return;
    const phone = panel.width >= canvas.width - 20;
    const padding = phone ? { top: 60, bottom: canvas.bottom - panel.top + 20, left: 20, right: 20 } : { top: 60, bottom: 20, left: 20, right: canvas.right - panel.left + 20 };
    map.easeTo({ center: [lon, lat], zoom: Math.max(map.getZoom(), 15.5), padding, duration: 300 });
  }

  private draw(): void {
    const map = this.ctx.map;
    const routes = (this.nearest?.features ?? []).map((f) => ({
      ...f,
      properties: { ...f.properties, selected: f.properties.category === this.selectedCategory },
    }));
    // the chosen route last, so it is drawn on top
    routes.sort((a, b) => Number(a.properties.selected) - Number(b.properties.selected));
    map.getSource<GeoJSONSource>(VIEW_SOURCE.routes)?.setData({ type: 'FeatureCollection', features: routes });
    const isos = [...(this.isochrones?.features ?? [])].sort((a, b) => b.properties.minutes - a.properties.minutes);
    map.getSource<GeoJSONSource>(VIEW_SOURCE.isochrones)?.setData({ type: 'FeatureCollection', features: isos });
  }

  private selectRoute(category: string): void {
    this.selectedCategory = category;
    this.draw();
    this.render();
    const f = this.nearest?.features.find((x) => x.properties.category === category);
    if (f && this.point) {
      const coords = f.geometry.coordinates;
      const xs = coords.map((c) => c[0]).concat(this.point[0]);
      const ys = coords.map((c) => c[1]).concat(this.point[1]);
      this.ctx.map.fitBounds([Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)], { padding: 80, maxZoom: 17 });
    }
  }

  private async search(q: string): Promise<void> {
    this.query = q;
    if (!q.trim()) return;
    try {
      this.hits = (await api.search(q.trim(), { auth: false })).hits;
    } catch (err) {
      if (!isMissingRoute(err)) {
        this.ctx.fail(err);
        return;
      }
      // the server has no search yet: look through what is loaded for the viewport
      this.hits = this.localSearch(q.trim());
    }
    this.render();
  }

  private localSearch(q: string): SearchHit[] {
    const hits: SearchHit[] = [];
    const seen = new Set<string>();
    const add = (kind: SearchHit['kind'], f: GeoJSON.Feature): void => {
      const name = (f.properties?.name as string | undefined) ?? '';
      const id = String(f.properties?.id ?? f.id ?? name);
      if (!name.includes(q) || seen.has(id)) return;
      const c = centroidOf(f.geometry);
      if (!c) return;
      seen.add(id);
      hits.push({ kind, id, name, lon: c[0], lat: c[1] });
    };
    for (const f of this.ctx.map.querySourceFeatures(BASE_SOURCE, { sourceLayer: 'facilities' })) add('facility', f);
    for (const f of this.ctx.map.querySourceFeatures(BASE_SOURCE, { sourceLayer: 'compounds' })) add('compound', f);
    for (const f of this.ctx.buildings().features) add('building', f);
    return hits.slice(0, 8);
  }

  private geolocate(): void {
    const t = this.ctx.t();
    if (!navigator.geolocation) {
      this.ctx.notify(t.geolocationFailed, 'error');
      return;
    }
    navigator.geolocation.getCurrentPosition(
      (pos) => {
        this.ctx.map.flyTo({ center: [pos.coords.longitude, pos.coords.latitude], zoom: Math.max(this.ctx.map.getZoom(), 16) });
        void this.locate(pos.coords.longitude, pos.coords.latitude);
      },
      () => this.ctx.notify(t.geolocationFailed, 'error'),
      { timeout: 10_000 },
    );
  }

  private toggleCategory(id: string | null, all?: boolean): void {
    if (id) {
      if (this.chosen.has(id)) this.chosen.delete(id);
      else this.chosen.add(id);
    } else if (all !== undefined) {
      this.chosen = new Set(all ? this.ctx.meta.categories.filter((c) => (this.ctx.meta.stats?.facilities_by_category?.[c.id] ?? 0) > 0).map((c) => c.id) : []);
    }
    try {
      window.localStorage.setItem(FILTER_KEY, JSON.stringify([...this.chosen]));
    } catch {
      // ignore
    }
    if (this.point) void this.locate(this.point[0], this.point[1]);
    else this.render();
  }

  render(): void {
    const { panel } = this.ctx;
    const t = this.ctx.t();
    const lang = this.ctx.lang();
    const cats = this.ctx.categories;
    panel.replaceChildren();
    panel.append(el('h2', undefined, t.residentTitle), el('p', 'note', t.residentHint));

    // search and locate
    const form = el('form', 'search', undefined, { role: 'search', id: 'resident-search' });
    const input = el('input', undefined, undefined, { type: 'search', id: 'search-input', placeholder: t.searchPlaceholder, 'aria-label': t.search });
    input.value = this.query;
    form.append(input, el('button', 'btn', t.search, { type: 'submit' }));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      void this.search(input.value);
    });
    panel.append(form);
    if (this.hits) {
      const ul = el('ul', 'hits', undefined, { id: 'search-hits' });
      if (this.hits.length === 0) ul.append(el('li', 'note', t.noHits));
      for (const h of this.hits) {
        const li = el('li');
        li.append(
          button(`${h.name ?? h.id}`, () => {
            this.hits = null;
            this.ctx.map.flyTo({ center: [h.lon, h.lat], zoom: Math.max(this.ctx.map.getZoom(), 16) });
            void this.locate(h.lon, h.lat);
          }, { class: 'link' }),
        );
        ul.append(li);
      }
      panel.append(ul);
    }
    panel.append(button(`◎ ${t.locateMe}`, () => this.geolocate(), { id: 'locate-me' }));

    // category filter
    const filter = el('fieldset', 'chips', undefined, { id: 'category-filter' });
    filter.append(el('legend', undefined, t.categoriesFilter));
    filter.append(button(t.allCategories, () => this.toggleCategory(null, true), { class: 'chip ghost' }));
    filter.append(button(t.noneCategories, () => this.toggleCategory(null, false), { class: 'chip ghost' }));
    for (const c of this.ctx.meta.categories) {
      if ((this.ctx.meta.stats?.facilities_by_category?.[c.id] ?? 0) === 0) continue;
      const b = button(categoryName(c.id, cats, lang), () => this.toggleCategory(c.id), {
        class: 'chip',
        'aria-pressed': String(this.chosen.has(c.id)),
        'data-category': c.id,
      });
      b.style.setProperty('--chip', categoryStyle(c.id).color);
      filter.append(b);
    }
    panel.append(filter);

    if (this.busy) panel.append(el('p', 'note', t.locating));
    if (!this.point) return;

    // nearest services
    const near = el('section', 'nearest', undefined, { id: 'nearest' });
    near.append(el('h3', undefined, t.nearestTitle));
    const list = el('ol', 'services');
    for (const f of this.nearest?.features ?? []) {
      const p = f.properties;
      const li = el('li', p.category === this.selectedCategory ? 'chosen' : undefined, undefined, { 'data-category': p.category });
      const b = el('button', 'service', undefined, { type: 'button', 'aria-pressed': String(p.category === this.selectedCategory) });
      const dot = el('span', 'swatch round');
      dot.style.background = categoryStyle(p.category).color;
      b.append(
        dot,
        el('span', 'cat', categoryName(p.category, cats, lang)),
        el('span', 'name', p.facility_name || t.unnamedFacility),
        el('span', 'mins', t.minutes(p.minutes)),
        el('span', 'dist', t.metres(p.distance_m)),
      );
      if (p.within_threshold !== undefined) {
        b.append(el('span', p.within_threshold ? 'ok' : 'warn', p.within_threshold ? `✓ ${t.withinThreshold}` : `! ${t.beyondThreshold}`));
      }
      b.addEventListener('click', () => this.selectRoute(p.category));
      li.append(b);
      list.append(li);
    }
    near.append(list);
    const missing = this.nearest?.missing ?? [];
    if (missing.length) near.append(el('p', 'note', t.missingCategories(missing.map((c) => categoryName(c, cats, lang)).join('、'))));
    if (this.isochrones?.features.length) {
      const legend = el('p', 'bands');
      for (const m of MINUTES) legend.append(el('span', `band band-${m}`, t.isochroneBand(m)));
      near.append(legend);
    }
    panel.append(near);

    // my grid
    const card = el('section', 'card', undefined, { id: 'my-grid' });
    card.append(el('h3', undefined, t.myGrid));
    const r = this.responsible;
    if (!r) {
      card.append(el('p', 'note', this.responsibleError ?? t.noGrid));
    } else {
      const dl = el('dl');
      const row = (k: string, v: string | null | undefined): void => {
        if (v) dl.append(el('dt', undefined, k), el('dd', undefined, v));
      };
      row(t.gridLabel, r.grid ? `${r.grid.name ?? r.grid.code ?? r.grid.id}` : t.noGrid);
      row(t.community, r.community?.name ?? r.community?.id);
      row(t.street, r.street?.name ?? r.street?.id);
      card.append(dl);
      card.append(el('h4', undefined, t.gridWorkers));
      const workers = r.workers ?? [];
      if (workers.length === 0) card.append(el('p', 'note', t.noWorkers));
      const ul = el('ul', 'workers');
      for (const w of workers) {
        const li = el('li');
        li.append(el('strong', undefined, w.name));
        if (w.role) li.append(el('span', 'role', ` · ${w.role}`));
        if (w.phone) {
          li.append(document.createTextNode(' '));
          li.append(el('a', 'phone', w.phone, { href: `tel:${w.phone}`, 'aria-label': `${t.call} ${w.name} ${w.phone}` }));
        }
        ul.append(li);
      }
      card.append(ul);
    }
    panel.append(card);
  }
}
