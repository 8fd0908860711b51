// Leader view (leader login): coverage heatmaps per category and for the completeness score (the
// server's heat tiles, or the uncovered buildings as GeoJSON when there are none), the coverage
// dashboard per street/community/grid as a table and a bar chart (Chart.js), the buildings not
// covered, and the siting suggestions on the map with the households each would add; CSV export.
import { BarController, BarElement, CategoryScale, Chart, LinearScale, Tooltip } from 'chart.js';
import type { GeoJSONSource, HeatmapLayerSpecification } from 'maplibre-gl';
import { api, call, type CoverageAnswer, type CoverageRow, type SitesAnswer, type UncoveredAnswer } from '../api';
import type { Ctx, View } from '../app';
import { CHART } from '../colors';
import { describeError, isMissingRoute } from '../errors';
import { applyLayerVisibility, LAYER, VIEW_SOURCE } from '../layers';
import { categoryName } from '../popup';
import { button, csv, download, el, labelled, select } from '../util';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Tooltip);

type Level = 'street' | 'community' | 'grid';
const HEAT_SOURCE = 'heat-tiles';
const COMPLETENESS = 'completeness';

export class LeaderView implements View {
  private ctx!: Ctx;
  metric = COMPLETENESS;
  category = '';
  level: Level = 'community';
  coverage: CoverageAnswer | null = null;
  uncovered: UncoveredAnswer | null = null;
  sites: SitesAnswer | null = null;
  heatFrom: 'tiles' | 'geojson' | null = null;
  names = new Map<string, string>();
  errors: string[] = [];
  private chart: Chart | null = null;
  /** The language the map's labels were made in. */
  private labelLang = '';
  /** Metrics the heat tiles offer (null: not asked yet; empty: no heat tiles). */
  private heatMetrics: string[] | null = null;

  async mount(ctx: Ctx): Promise<void> {
    this.ctx = ctx;
    const present = ctx.meta.categories.filter((c) => (ctx.meta.stats?.facilities_by_category?.[c.id] ?? 0) > 0);
    this.category = present.find((c) => c.id === 'health_centre')?.id ?? present[0]?.id ?? ctx.meta.categories[0]?.id ?? '';
    this.render();
    await Promise.all([this.loadNames(), this.loadHeat(), this.loadTables()]);
    this.render();
  }

  unmount(): void {
    this.chart?.destroy();
    this.chart = null;
    const map = this.ctx.map;
    if (map.getLayer(LAYER.heatTiles)) map.removeLayer(LAYER.heatTiles);
    if (map.getSource(HEAT_SOURCE)) map.removeSource(HEAT_SOURCE);
    for (const s of [VIEW_SOURCE.heat, VIEW_SOURCE.sites]) map.getSource<GeoJSONSource>(s)?.setData({ type: 'FeatureCollection', features: [] });
  }

  private async loadNames(): Promise<void> {
    const bbox = this.ctx.meta.bbox.map((v, i) => v + (i < 2 ? -0.05 : 0.05)) as [number, number, number, number];
    for (const layer of ['communities', 'streets'] as const) {
      try {
        const fc = await call<GeoJSON.FeatureCollection>(`api/v1/${layer}?bbox=${bbox.map((v) => v.toFixed(6)).join(',')}`);
        for (const f of fc.features) {
          const name = f.properties?.name as string | undefined;
          if (f.id !== undefined && name) this.names.set(String(f.id), name);
        }
      } catch {
        // names are a nicety: ids are shown instead
      }
    }
  }

  /** The heat tiles of the current metric, or GeoJSON points of the uncovered buildings. */
  async loadHeat(): Promise<void> {
    const map = this.ctx.map;
    if (this.heatMetrics === null) {
      try {
        this.heatMetrics = (await call<{ metrics?: string[] }>('tiles/heat.json')).metrics ?? [COMPLETENESS];
      } catch {
        this.heatMetrics = [];
      }
    }
    if (map.getLayer(LAYER.heatTiles)) map.removeLayer(LAYER.heatTiles);
    if (map.getSource(HEAT_SOURCE)) map.removeSource(HEAT_SOURCE);
    map.getSource<GeoJSONSource>(VIEW_SOURCE.heat)?.setData({ type: 'FeatureCollection', features: [] });
    if (this.heatMetrics.includes(this.metric)) {
      const tiles = new URL(`tiles/heat/{z}/{x}/{y}.mvt?metric=${encodeURIComponent(this.metric)}`, window.location.href).href
        .replace('%7Bz%7D', '{z}')
        .replace('%7Bx%7D', '{x}')
        .replace('%7By%7D', '{y}');
      map.addSource(HEAT_SOURCE, { type: 'vector', tiles: [tiles], minzoom: 0, maxzoom: 16 });
      const layer: HeatmapLayerSpecification = {
        id: LAYER.heatTiles,
        type: 'heatmap',
        source: HEAT_SOURCE,
        'source-layer': 'heat',
        paint: {
          // households not covered where the tile says so, else the share not covered
          'heatmap-weight': ['interpolate', ['linear'], ['coalesce', ['get', 'gap'], ['*', ['-', 1, ['coalesce', ['get', 'value'], 1]], 200]], 0, 0, 400, 1],
          'heatmap-intensity': ['interpolate', ['linear'], ['zoom'], 12, 1, 17, 3],
          'heatmap-radius': ['interpolate', ['linear'], ['zoom'], 12, 14, 17, 45],
          'heatmap-opacity': 0.75,
        },
      };
      map.addLayer(layer, LAYER.routeCasing);
      applyLayerVisibility(map);
      this.heatFrom = 'tiles';
      return;
    }
    this.heatFrom = 'geojson';
    const cat = this.metric === COMPLETENESS ? this.category : this.metric;
    try {
      const ans = await api.uncovered(cat, 1000);
      map.getSource<GeoJSONSource>(VIEW_SOURCE.heat)?.setData({
        type: 'FeatureCollection',
        features: ans.rows.map((r) => ({ type: 'Feature', properties: { weight: r.households }, geometry: { type: 'Point', coordinates: [r.lon, r.lat] } })),
      });
    } catch (err) {
      this.errors.push(describeError(err, this.ctx.t()));
    }
  }

  async loadTables(): Promise<void> {
    const t = this.ctx.t();
    this.errors = [];
    const [cov, unc, sites] = await Promise.allSettled([api.coverage(this.level, this.category), api.uncovered(this.category, 200), api.sites(this.category)]);
    this.coverage = cov.status === 'fulfilled' ? cov.value : null;
    this.uncovered = unc.status === 'fulfilled' ? unc.value : null;
    this.sites = sites.status === 'fulfilled' ? sites.value : null;
    const errs = [cov, unc, sites].filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason);
    if (errs.length) {
      this.errors = [...new Set(errs.map((e) => (isMissingRoute(e) ? t.errors.notYet : describeError(e, t))))];
      this.ctx.notify(this.errors.join('；'), 'error');
    }
    this.drawPoints();
  }

  private drawPoints(): void {
    const t = this.ctx.t();
    this.labelLang = this.ctx.lang();
    const features: GeoJSON.Feature[] = [];
    for (const r of this.uncovered?.rows ?? []) {
      features.push({ type: 'Feature', properties: { kind: 'uncovered', households: r.households, id: r.building }, geometry: { type: 'Point', coordinates: [r.lon, r.lat] } });
    }
    for (const f of this.sites?.features ?? []) {
      features.push({
        type: 'Feature',
        properties: { kind: 'site', rank: f.properties.rank, households_gained: f.properties.households_gained, label: `#${f.properties.rank} +${t.householdsCount(f.properties.households_gained)}` },
        geometry: f.geometry,
      });
    }
    this.ctx.map.getSource<GeoJSONSource>(VIEW_SOURCE.sites)?.setData({ type: 'FeatureCollection', features });
  }

  private rows(): CoverageRow[] {
    return (this.coverage?.rows ?? [])
      .filter((r) => r.level === this.level && (!this.category || r.category === this.category))
      .sort((a, b) => (a.share ?? 0) - (b.share ?? 0));
  }

  private regionName(r: CoverageRow): string {
    return r.region_name ?? this.names.get(r.region) ?? r.region;
  }

  exportCoverageCsv(): Blob {
    const rows = this.rows();
    const blob = csv(
      ['level', 'region', 'region_name', 'category', 'households_covered', 'households_total', 'share'],
      rows.map((r) => [r.level, r.region, this.regionName(r), r.category, r.households_covered, r.households_total, r.share === null ? '' : r.share.toFixed(4)]),
    );
    download(`coverage-${this.level}-${this.category}.csv`, blob);
    return blob;
  }

  exportUncoveredCsv(): Blob {
    const rows = this.uncovered?.rows ?? [];
    const blob = csv(
      ['building', 'name', 'households', 'lon', 'lat', 'distance_m', 'facility'],
      rows.map((r) => [r.building, r.name ?? '', r.households, r.lon, r.lat, r.distance_m ?? '', r.facility ?? '']),
    );
    download(`uncovered-${this.category}.csv`, blob);
    return blob;
  }

  private drawChart(canvas: HTMLCanvasElement, rows: CoverageRow[]): void {
    this.chart?.destroy();
    const t = this.ctx.t();
    const values = rows.map((r) => (r.share === null ? 0 : Math.round(r.share * 1000) / 10));
    this.chart = new Chart(canvas, {
      type: 'bar',
      data: {
        labels: rows.map((r) => this.regionName(r)),
        datasets: [{ label: t.chartShare, data: values, backgroundColor: values.map((v) => (v < 50 ? CHART.barLow : CHART.bar)) }],
      },
      options: {
        indexAxis: 'y',
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        scales: { x: { min: 0, max: 100, title: { display: true, text: t.chartShare } }, y: { ticks: { autoSkip: false } } },
        plugins: { tooltip: { enabled: true } },
      },
    });
  }

  render(): void {
    if (!this.ctx) return;
    const t = this.ctx.t();
    const lang = this.ctx.lang();
    const cats = this.ctx.categories;
    const panel = this.ctx.panel;
    if (this.labelLang && this.labelLang !== lang) this.drawPoints();
    panel.replaceChildren();
    panel.append(el('h2', undefined, t.leaderTitle));

    // heatmap
    const heatOpts = [{ value: COMPLETENESS, label: t.completeness }, ...this.ctx.meta.categories.map((c) => ({ value: c.id, label: categoryName(c.id, cats, lang) }))];
    const heat = select(heatOpts, this.metric, t.heatmapOf, 'heat-metric');
    heat.addEventListener('change', () => {
      this.metric = heat.value;
      void this.loadHeat().then(() => this.render());
    });
    panel.append(labelled(t.heatmapOf, heat));
    if (this.heatFrom === 'geojson') panel.append(el('p', 'note', t.heatUnavailable));

    // dashboard controls
    const present = this.ctx.meta.categories.filter((c) => (this.ctx.meta.stats?.facilities_by_category?.[c.id] ?? 0) > 0 || c.id === this.category);
    const catSel = select(present.map((c) => ({ value: c.id, label: categoryName(c.id, cats, lang) })), this.category, t.category, 'dash-category');
    catSel.addEventListener('change', () => {
      this.category = catSel.value;
      void Promise.all([this.loadTables(), this.metric === COMPLETENESS && this.heatFrom === 'geojson' ? this.loadHeat() : Promise.resolve()]).then(() => this.render());
    });
    const levelSel = select((['street', 'community', 'grid'] as Level[]).map((l) => ({ value: l, label: t.levels_[l] })), this.level, t.level, 'dash-level');
    levelSel.addEventListener('change', () => {
      this.level = levelSel.value as Level;
      void this.loadTables().then(() => this.render());
    });
    const ctl = el('div', 'row');
    ctl.append(labelled(t.category, catSel), labelled(t.level, levelSel));
    panel.append(ctl);

    const dash = el('section', 'dashboard', undefined, { id: 'dashboard' });
    dash.append(el('h3', undefined, t.dashboard));
    if (this.coverage && !this.coverage.computed_at) dash.append(el('p', 'note', t.notComputed));
    if (this.coverage?.computed_at) dash.append(el('p', 'note', t.computedAt(this.coverage.computed_at)));
    const rows = this.rows();
    const chartBox = el('div', 'chart', undefined, { id: 'coverage-chart' });
    chartBox.style.height = `${Math.min(420, 70 + rows.length * 24)}px`;
    const canvas = el('canvas', undefined, undefined, { role: 'img', 'aria-label': t.chartShare });
    chartBox.append(canvas);
    dash.append(chartBox);
    const table = el('table', 'coverage', undefined, { id: 'coverage-table' });
    const head = el('tr');
    for (const h of [t.region, t.covered, t.total, t.share]) head.append(el('th', undefined, h));
    table.append(head);
    for (const r of rows) {
      const tr = el('tr');
      tr.append(
        el('td', undefined, this.regionName(r)),
        el('td', 'num', String(r.households_covered)),
        el('td', 'num', String(r.households_total)),
        el('td', 'num', r.share === null ? '—' : `${(r.share * 100).toFixed(1)}%`),
      );
      table.append(tr);
    }
    dash.append(table);
    dash.append(button(t.exportCsv, () => this.exportCoverageCsv(), { id: 'export-coverage-csv' }));
    panel.append(dash);
    if (rows.length) requestAnimationFrame(() => this.drawChart(canvas, rows));

    // uncovered
    const unc = el('section', 'uncovered', undefined, { id: 'uncovered' });
    unc.append(el('h3', undefined, `${t.uncoveredTitle} · ${categoryName(this.category, cats, lang)}`));
    if (this.uncovered) {
      unc.append(el('p', 'note', t.uncoveredSummary(this.uncovered.buildings, this.uncovered.households)));
      const ol = el('ol', 'uncovered-list');
      for (const r of this.uncovered.rows.slice(0, 30)) {
        const li = el('li');
        li.append(
          button(`${r.name || r.building} · ${t.householdsCount(r.households)} · ${r.distance_m === null ? t.none : `${t.distanceToNearest} ${t.metres(r.distance_m)}`}`, () =>
            this.ctx.map.flyTo({ center: [r.lon, r.lat], zoom: 17 }),
          { class: 'link' }),
        );
        ol.append(li);
      }
      unc.append(ol, button(t.exportCsv, () => this.exportUncoveredCsv(), { id: 'export-uncovered-csv' }));
    }
    panel.append(unc);

    // sites
    const st = el('section', 'sites', undefined, { id: 'sites' });
    st.append(el('h3', undefined, t.sitesTitle));
    const feats = this.sites?.features ?? [];
    if (this.sites && feats.length === 0) st.append(el('p', 'note', t.noSites));
    const ol = el('ol');
    for (const f of feats) {
      const [lon, lat] = f.geometry.coordinates;
      const li = el('li');
      li.append(button(t.siteLine(f.properties.rank, f.properties.households_gained), () => this.ctx.map.flyTo({ center: [lon, lat], zoom: 17 }), { class: 'link' }));
      ol.append(li);
    }
    st.append(ol);
    panel.append(st);
    for (const e of this.errors) panel.append(el('p', 'error', e));
  }
}
