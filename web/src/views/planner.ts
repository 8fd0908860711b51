// Planner view (planner login): pick a community and a plan, run a partition as a job with progress,
// see the metrics, edit grids (move selected buildings, lasso, merge, split along a line, reassign an
// area) with violations shown at once, undo/redo, compare with another plan, publish, and export
// GeoJSON and a printable PNG with grid numbers and grid workers. Household counts of every grid are
// on the map and in the panel.
import { Map as MlMap, type FilterSpecification, type GeoJSONSource, type MapMouseEvent } from 'maplibre-gl';
import {
  ApiError,
  api,
  call,
  followJob,
  getToken,
  type DiffAnswer,
  type EditAnswer,
  type GridEdit,
  type GridProps,
  type GridsAnswer,
  type PlanMetrics,
  type PlanSummary,
  type RegionProps,
  type Violation,
  type Worker,
} from '../api';
import { clicks, type Ctx, type View } from '../app';
import { GRID_STATUS } from '../colors';
import { Drawing } from '../draw';
import { describeError, isMissingRoute } from '../errors';
import { installIcons } from '../icons';
import { applyLayerVisibility, buildStyle, LAYER, setGridTiles, SUPPRESSED, VIEW_SOURCE } from '../layers';
import { boundsOf, button, centroidOf, download, el, geometryContains, labelled, pointInRings, select, type Ring } from '../util';

type Tool = 'select' | 'lasso' | 'merge' | 'split' | 'reassign';
const DEFAULT_QUOTA = { min: 300, max: 500 };

export interface GridInfo {
  id: string;
  community: string | null;
  households: number;
  buildings: number | null;
  status: 'under' | 'within' | 'over' | 'violation';
  geometry: GeoJSON.Geometry;
}

function gridId(f: GeoJSON.Feature<GeoJSON.Geometry, GridProps>): string {
  const p = f.properties ?? {};
  return String(p.id ?? p.grid_id ?? p.grid ?? p.code ?? f.id ?? '');
}

function median(xs: number[]): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : Math.round((s[m - 1] + s[m]) / 2);
}

export class PlannerView implements View {
  private ctx!: Ctx;
  communities: GeoJSON.Feature<GeoJSON.Geometry, RegionProps>[] = [];
  community: string | null = null;
  plans: PlanSummary[] = [];
  plan: PlanSummary | null = null;
  grids: GridInfo[] = [];
  gridsFc: GridsAnswer | null = null;
  violations: Violation[] = [];
  newViolations: Violation[] = [];
  selected = new Set<string>();
  tool: Tool = 'select';
  mergeFirst: string | null = null;
  pendingArea: [number, number][] | null = null;
  target = '';
  compareWith = '';
  diff: DiffAnswer | null = null;
  job: { id: string; pct: number | null; message: string; state: 'running' | 'done' | 'failed' } | null = null;
  /** Edits, undos and redos done through this view, counted once the panel shows them (tests read it). */
  edits = 0;
  /** The plan last published here. */
  published: string | null = null;
  missing: string | null = null;
  private drawing: Drawing | null = null;
  /** The language the grid labels were made in. */
  private labelLang = '';
  private readonly keys = (e: KeyboardEvent): void => this.onKey(e);
  /** The swipe comparison: a second map of the compared plan's grid tiles over the left part of the map. */
  swipe: MlMap | null = null;
  swipePos = 50;
  private swipeBox: HTMLElement | null = null;
  private readonly syncSwipe = (): void => {
    const m = this.ctx.map;
    this.swipe?.jumpTo({ center: m.getCenter(), zoom: m.getZoom(), bearing: m.getBearing(), pitch: m.getPitch() });
  };

  async mount(ctx: Ctx): Promise<void> {
    this.ctx = ctx;
    window.addEventListener('keydown', this.keys);
    this.render();
    try {
      const fc = await api.layer('communities', ctx.meta.bbox.map((v, i) => v + (i < 2 ? -0.05 : 0.05)) as never, {});
      this.communities = fc.features.filter((f) => (f.properties?.level ?? 'community') !== 'street');
      for (const f of this.communities) if (f.properties && !f.properties.id) f.properties.id = String(f.id ?? '');
      this.community = this.communities[0]?.properties?.id ?? null;
    } catch (err) {
      ctx.fail(err);
    }
    await this.loadPlans();
    this.fitCommunity();
    this.render();
  }

  private fitCommunity(): void {
    const b = boundsOf(this.communityGrids().map((g) => g.geometry));
    const wide = this.ctx.map.getCanvas().clientWidth > 900;
    if (b) this.ctx.map.fitBounds(b, { padding: wide ? { top: 40, bottom: 40, left: 40, right: 420 } : 20, maxZoom: 17, animate: false });
  }

  unmount(): void {
    this.closeSwipe();
    window.removeEventListener('keydown', this.keys);
    this.drawing?.cancel();
    clicks.taken = false;
    const map = this.ctx.map;
    map.getSource<GeoJSONSource>(VIEW_SOURCE.grids)?.setData({ type: 'FeatureCollection', features: [] });
    SUPPRESSED.clear();
    applyLayerVisibility(map);
    map.setFilter(LAYER.selected, ['in', ['get', 'id'], ['literal', []]]);
    map.setFilter(LAYER.moved, ['in', ['get', 'id'], ['literal', []]]);
  }

  // ---- data -------------------------------------------------------------------------------------

  async loadPlans(select?: string): Promise<void> {
    try {
      const ans = await api.plans();
      this.plans = Array.isArray(ans) ? ans : (ans.plans ?? []);
      this.missing = null;
    } catch (err) {
      if (isMissingRoute(err)) this.missing = this.ctx.t().errors.notYet;
      else this.ctx.fail(err);
      this.plans = [];
    }
    const name = select ?? this.plan?.name ?? this.plans.find((p) => p.status === 'draft')?.name ?? this.plans[0]?.name;
    if (name) await this.loadPlan(name);
  }

  quota(): { min: number; max: number } {
    const p = this.plan;
    return {
      min: p?.quota?.min ?? p?.quota_min ?? DEFAULT_QUOTA.min,
      max: p?.quota?.max ?? p?.quota_max ?? DEFAULT_QUOTA.max,
    };
  }

  async loadPlan(name: string): Promise<void> {
    try {
      const [plan, grids] = await Promise.all([api.plan(name), api.planGrids(name)]);
      this.plan = plan;
      const v = (plan as PlanSummary & { violations?: Violation[] }).violations;
      // A freshly loaded plan: its violations are those an edit reports; until then, the quota ones.
      this.violations = Array.isArray(v)
        ? v
        : grids.features
            .filter((f) => f.properties?.quota_status && f.properties.quota_status !== 'within')
            .map((f) => ({ kind: 'quota', grid: gridId(f), households: f.properties?.households ?? 0, reason: null }));
      this.newViolations = [];
      this.setGrids(grids);
    } catch (err) {
      this.ctx.fail(err);
    }
    this.render();
  }

  private setGrids(fc: GridsAnswer): void {
    this.gridsFc = fc;
    const q = this.quota();
    // Red: grids out of quota or in pieces, and any grid an edit just put in the wrong.
    const bad = new Set<string>();
    const mark = (v: Violation): void => {
      if (v.grid) bad.add(v.grid);
      for (const g of v.grids ?? []) bad.add(g);
    };
    for (const v of this.violations) if (v.kind === 'quota' || v.kind === 'contiguity') mark(v);
    for (const v of this.newViolations) mark(v);
    this.grids = fc.features.map((f) => {
      const id = gridId(f);
      const households = Number(f.properties?.households ?? 0);
      const qs = (f.properties as { quota_status?: string })?.quota_status;
      const quotaStatus = qs === 'under' || qs === 'over' || qs === 'within' ? qs : households < q.min ? 'under' : households > q.max ? 'over' : 'within';
      const status: GridInfo['status'] = bad.has(id) || quotaStatus !== 'within' ? 'violation' : quotaStatus;
      return {
        id,
        community: f.properties?.community ?? null,
        households,
        buildings: f.properties?.buildings ?? null,
        status,
        geometry: f.geometry,
      };
    });
    this.drawGrids();
  }

  private communityGrids(): GridInfo[] {
    return this.grids.filter((g) => !this.community || !g.community || g.community === this.community);
  }

  /** Whether the plan shown is the active one, whose grids the map draws from the grid tiles. */
  private showsActive(): boolean {
    return this.plan?.status === 'active';
  }

  /**
   * The active plan's grids come from the server's grid tiles (fetched again at each new version);
   * another plan's (a draft being edited) from GeoJSON, with the grid tiles hidden meanwhile. Grids
   * an edit put in the wrong are drawn red from GeoJSON either way.
   */
  private drawGrids(): void {
    const map = this.ctx.map;
    const t = this.ctx.t();
    this.labelLang = this.ctx.lang();
    const active = this.showsActive();
    if (active && this.plan) {
      const cur = this.ctx.activePlan();
      if (cur?.name !== this.plan.name || cur.version !== this.plan.version) this.ctx.setActivePlan({ name: this.plan.name, version: this.plan.version });
    }
    // Tiles cut grids at tile edges, and a label per piece would repeat: the labels come from GeoJSON here.
    SUPPRESSED.clear();
    SUPPRESSED.add(LAYER.gridTileLabel);
    if (!active) for (const id of [LAYER.gridTileFill, LAYER.gridTileLine]) SUPPRESSED.add(id);
    applyLayerVisibility(map);
    const features = this.communityGrids().map((g) => ({
      type: 'Feature' as const,
      geometry: g.geometry,
      properties: {
        id: g.id,
        households: g.households,
        status: g.status,
        // over the grid tiles of the active plan only red grids are filled, every grid is labelled
        labelOnly: active && g.status !== 'violation',
        label: `${g.id.slice(-3)}\n${t.householdsCount(g.households)}`,
      },
    }));
    map.getSource<GeoJSONSource>(VIEW_SOURCE.grids)?.setData({ type: 'FeatureCollection', features });
  }

  private gridAt(p: [number, number]): GridInfo | undefined {
    return this.communityGrids().find((g) => geometryContains(g.geometry, p));
  }

  // ---- edits ----------------------------------------------------------------------------------------

  private async applyAnswer(ans: EditAnswer): Promise<void> {
    this.violations = ans.violations ?? [];
    this.newViolations = ans.new_violations ?? [];
    if (this.plan) this.plan = { ...this.plan, version: ans.version ?? this.plan.version };
    const name = this.plan?.name;
    if (!name) return;
    try {
      const [plan, grids] = await Promise.all([api.plan(name), api.planGrids(name)]);
      this.plan = plan;
      this.setGrids(grids);
    } catch (err) {
      this.ctx.fail(err);
    }
  }

  async edit(edit: GridEdit): Promise<boolean> {
    if (!this.plan) return false;
    try {
      const ans = await api.edit(this.plan.name, this.plan.version, edit);
      this.selected.clear();
      this.updateSelection();
      await this.applyAnswer(ans);
      this.edits += 1;
      this.ctx.notify('');
      this.render();
      return true;
    } catch (err) {
      await this.onEditError(err);
      return false;
    }
  }

  private async onEditError(err: unknown): Promise<void> {
    this.ctx.fail(err);
    if (err instanceof ApiError && err.status === 409 && this.plan) await this.loadPlan(this.plan.name);
    this.render();
  }

  async undo(): Promise<void> {
    if (!this.plan) return;
    try {
      await this.applyAnswer(await api.undo(this.plan.name, this.plan.version));
      this.edits += 1;
    } catch (err) {
      await this.onEditError(err);
    }
    this.render();
  }

  async redo(): Promise<void> {
    if (!this.plan) return;
    try {
      await this.applyAnswer(await api.redo(this.plan.name, this.plan.version));
      this.edits += 1;
    } catch (err) {
      await this.onEditError(err);
    }
    this.render();
  }

  async publish(): Promise<void> {
    if (!this.plan) return;
    try {
      const ans = await api.publish(this.plan.name, this.plan.version);
      this.ctx.notify(this.ctx.t().published);
      this.published = ans?.plan ?? this.plan.name;
      await this.loadPlans(this.published);
    } catch (err) {
      await this.onEditError(err);
    }
    this.render();
  }

  async moveSelected(to: string): Promise<boolean> {
    if (this.selected.size === 0 || !to) return false;
    return this.edit({ op: 'move_atoms', atoms: [...this.selected].map((building) => ({ building, unit: null })), to });
  }

  selectBuildings(ids: string[], add = false): void {
    if (!add) this.selected.clear();
    for (const id of ids) this.selected.add(id);
    this.updateSelection();
    this.render();
  }

  private updateSelection(): void {
    const f: FilterSpecification = ['in', ['get', 'id'], ['literal', [...this.selected]]];
    this.ctx.map.setFilter(LAYER.selected, f);
  }

  private selectedHouseholds(): number {
    let h = 0;
    for (const f of this.ctx.buildings().features) if (this.selected.has(String(f.properties?.id))) h += f.properties?.households ?? 0;
    return h;
  }

  async runPartition(min: number, max: number, planName: string): Promise<void> {
    const t = this.ctx.t();
    try {
      const job = await api.startJob({ kind: 'partition', community: this.community, plan: planName, min, max });
      this.job = { id: String(job.id), pct: 0, message: t.jobQueued, state: 'running' };
      this.render();
      const last = await followJob(String(job.id), (e) => {
        const d = e.data;
        const raw = d.progress ?? d.fraction;
        const pct = typeof raw === 'number' ? Math.round(raw <= 1 ? raw * 100 : raw) : this.job?.pct ?? null;
        if (this.job) this.job = { ...this.job, pct, message: String(d.message ?? d.stage ?? '') };
        this.renderJob();
      }).catch(async () => this.pollJob(String(job.id)));
      if (last.event === 'failed' || last.event === 'cancelled') {
        this.job = { id: String(job.id), pct: null, message: t.jobFailed(String(last.data.error ?? last.data.message ?? last.event)), state: 'failed' };
      } else {
        this.job = { id: String(job.id), pct: 100, message: t.jobDone, state: 'done' };
        const result = ((last.data as { result?: { plan?: string } }).result ?? last.data) as { plan?: string };
        await this.loadPlans(result.plan ?? planName);
      }
    } catch (err) {
      this.job = null;
      this.ctx.fail(err);
    }
    this.render();
  }

  /** When the event stream cannot be read: ask for the job's state twice a second. */
  private async pollJob(id: string): Promise<{ event: string; data: Record<string, unknown> }> {
    for (;;) {
      const j = await api.job(id);
      const state = j.state ?? j.status ?? '';
      if (this.job) this.job = { ...this.job, pct: typeof j.progress === 'number' ? Math.round(j.progress <= 1 ? j.progress * 100 : j.progress) : this.job.pct };
      this.renderJob();
      if (state === 'done' || state === 'failed' || state === 'cancelled') {
        return { event: state, data: { result: j.result, error: j.error ?? j.message } };
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  async compare(other: string): Promise<void> {
    this.compareWith = other;
    if (this.swipe) {
      this.closeSwipe();
      if (other) this.openSwipe();
    }
    if (!this.plan || !other) {
      this.diff = null;
      this.ctx.map.setFilter(LAYER.moved, ['in', ['get', 'id'], ['literal', []]]);
      this.render();
      return;
    }
    try {
      this.diff = await api.diff(this.plan.name, other);
      const ids = (this.diff.moved ?? []).map((m) => m.building);
      this.ctx.map.setFilter(LAYER.moved, ['in', ['get', 'id'], ['literal', ids]]);
    } catch (err) {
      this.ctx.fail(err);
    }
    this.render();
  }

  /**
   * Swipe comparison: a second map, the same size and camera as the main one, shows the compared
   * plan's grids (the server's grid tiles with `?plan=`) and is clipped to the left of the divider.
   */
  openSwipe(): void {
    this.closeSwipe();
    const other = this.plans.find((p) => p.name === this.compareWith);
    const main = this.ctx.map;
    const host = main.getContainer();
    if (!other || !host.parentElement) return;
    const box = el('div', 'swipe-map', undefined, { id: 'compare-map', 'aria-hidden': 'true' });
    host.after(box);
    this.swipeBox = box;
    const map = new MlMap({
      container: box,
      style: buildStyle(window.location.href),
      center: main.getCenter(),
      zoom: main.getZoom(),
      bearing: main.getBearing(),
      pitch: main.getPitch(),
      interactive: false,
      attributionControl: false,
      fadeDuration: 0,
      localIdeographFontFamily: "'Noto Sans CJK SC', 'WenQuanYi Zen Hei', 'PingFang SC', 'Microsoft YaHei', sans-serif",
      transformRequest: (url) => {
        const token = getToken();
        return token && url.startsWith(window.location.origin) && url.includes('/tiles/') ? { url, headers: { Authorization: `Bearer ${token}` } } : { url };
      },
    });
    this.swipe = map;
    map.on('load', () => {
      installIcons(map);
      setGridTiles(map, other.name, other.version, this.ctx.t().householdsUnit, false);
    });
    main.on('move', this.syncSwipe);
    this.placeSwipe();
    this.render();
  }

  closeSwipe(): void {
    if (!this.swipe) return;
    this.ctx.map.off('move', this.syncSwipe);
    this.swipe.remove();
    this.swipe = null;
    this.swipeBox?.remove();
    this.swipeBox = null;
    if (this.ctx) this.render();
  }

  private placeSwipe(): void {
    if (this.swipeBox) this.swipeBox.style.clipPath = `inset(0 ${100 - this.swipePos}% 0 0)`;
    this.swipeBox?.style.setProperty('--swipe', `${this.swipePos}%`);
  }

  // ---- tools ---------------------------------------------------------------------------------------

  setTool(tool: Tool): void {
    this.drawing?.cancel();
    this.drawing = null;
    this.tool = tool;
    this.mergeFirst = null;
    this.pendingArea = null;
    if (tool === 'lasso' || tool === 'split' || tool === 'reassign') {
      clicks.taken = true;
      this.drawing = new Drawing(this.ctx.map, tool === 'split' ? 'line' : 'area', (coords) => void this.drawn(tool, coords));
      this.drawing.start();
    } else {
      clicks.taken = false;
    }
    this.render();
  }

  /** The drawing in progress (tests add vertices through it). */
  get activeDrawing(): Drawing | null {
    return this.drawing;
  }

  private async drawn(tool: Tool, coords: [number, number][] | null): Promise<void> {
    this.drawing = null;
    clicks.taken = false;
    this.tool = 'select';
    if (!coords) {
      this.render();
      return;
    }
    if (tool === 'lasso') {
      const ring: Ring = [...coords, coords[0]];
      const ids: string[] = [];
      for (const f of this.ctx.buildings().features) {
        const c = centroidOf(f.geometry);
        if (c && pointInRings(c, [ring]) && f.properties?.id && (f.properties.households ?? 0) > 0) ids.push(String(f.properties.id));
      }
      this.selectBuildings(ids, true);
    } else if (tool === 'split') {
      const mid = coords[Math.floor(coords.length / 2)];
      const inside = coords.map((c) => this.gridAt(c)).find((g) => g) ?? this.gridAt(mid);
      if (!inside) {
        this.ctx.notify(this.ctx.t().errors.badRequest, 'error');
        this.render();
        return;
      }
      await this.edit({ op: 'split', grid: inside.id, line: coords });
    } else if (tool === 'reassign') {
      this.pendingArea = coords;
      this.render();
    }
  }

  click(e: MapMouseEvent): void {
    const p: [number, number] = [e.lngLat.lng, e.lngLat.lat];
    if (this.tool === 'merge') {
      const g = this.gridAt(p);
      if (!g) return;
      if (!this.mergeFirst) {
        this.mergeFirst = g.id;
        this.render();
      } else if (g.id !== this.mergeFirst) {
        const a = this.mergeFirst;
        this.mergeFirst = null;
        this.tool = 'select';
        void this.edit({ op: 'merge', a, b: g.id });
      }
      return;
    }
    const hits = this.ctx.map.queryRenderedFeatures(e.point, { layers: [LAYER.buildingFill, LAYER.buildingPoint].filter((l) => this.ctx.map.getLayer(l)) });
    const id = hits[0]?.properties?.id as string | undefined;
    if (!id) return;
    if (this.selected.has(id)) this.selected.delete(id);
    else this.selected.add(id);
    this.updateSelection();
    this.render();
  }

  private onKey(e: KeyboardEvent): void {
    if (e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement) return;
    const mod = e.ctrlKey || e.metaKey;
    if (mod && e.key.toLowerCase() === 'z' && !e.shiftKey) {
      e.preventDefault();
      void this.undo();
    } else if (mod && (e.key.toLowerCase() === 'y' || (e.key.toLowerCase() === 'z' && e.shiftKey))) {
      e.preventDefault();
      void this.redo();
    } else if (e.key === 'Escape' && !this.drawing) {
      this.selectBuildings([]);
      this.setTool('select');
    }
  }

  // ---- exports -------------------------------------------------------------------------------------

  exportGeoJson(): void {
    if (!this.plan) return;
    const ids = new Set(this.communityGrids().map((g) => g.id));
    const fc = {
      type: 'FeatureCollection',
      plan: this.plan.name,
      version: this.plan.version,
      community: this.community,
      attribution: this.ctx.meta.attribution,
      features: (this.gridsFc?.features ?? []).filter((f) => ids.has(gridId(f))),
    };
    download(`${this.plan.name}-${this.community ?? 'all'}.geojson`, new Blob([JSON.stringify(fc)], { type: 'application/geo+json' }));
  }

  private async workersOf(ids: string[]): Promise<Map<string, Worker[]>> {
    const out = new Map<string, Worker[]>();
    await Promise.all(
      ids.map(async (id) => {
        try {
          const ans = await call<{ workers?: Worker[] }>(`api/v1/grids/${encodeURIComponent(id)}/workers`);
          out.set(id, ans.workers ?? []);
        } catch {
          out.set(id, []);
        }
      }),
    );
    return out;
  }

  /** A printable PNG: the community's grids with their numbers, households and grid workers. */
  async exportPng(): Promise<Blob | null> {
    const t = this.ctx.t();
    const map = this.ctx.map;
    const grids = this.communityGrids();
    if (!this.plan || grids.length === 0) return null;
    const b = boundsOf(grids.map((g) => g.geometry));
    if (b) {
      map.fitBounds(b, { padding: 30, animate: false });
      await new Promise<void>((r) => map.once('idle', () => r()));
    }
    const workers = await this.workersOf(grids.map((g) => g.id));
    const mapCanvas = map.getCanvas();
    // The WebGL buffer is only readable while the frame is being drawn: copy it in the render event.
    const snapshot = await new Promise<HTMLCanvasElement>((resolve) => {
      map.once('render', () => {
        const copy = el('canvas');
        copy.width = mapCanvas.width;
        copy.height = mapCanvas.height;
        copy.getContext('2d')?.drawImage(mapCanvas, 0, 0);
        resolve(copy);
      });
      map.triggerRepaint();
    });
    const dpr = mapCanvas.width / mapCanvas.clientWidth;
    const lineH = 20;
    const tableH = 60 + grids.length * lineH;
    const W = Math.max(mapCanvas.clientWidth, 900);
    const out = el('canvas');
    out.width = W * dpr;
    out.height = (70 + mapCanvas.clientHeight + tableH) * dpr;
    const g = out.getContext('2d');
    if (!g) return null;
    g.scale(dpr, dpr);
    g.fillStyle = '#ffffff';
    g.fillRect(0, 0, W, out.height / dpr);
    g.fillStyle = '#1d2b45';
    g.font = 'bold 22px "Noto Sans CJK SC", "WenQuanYi Zen Hei", sans-serif';
    const communityName = this.communities.find((c) => c.properties?.id === this.community)?.properties?.name ?? this.community ?? '';
    g.fillText(t.printTitle(communityName, `${this.plan.name} · ${t.version(this.plan.version)}`), 16, 34);
    g.font = '12px "Noto Sans CJK SC", "WenQuanYi Zen Hei", sans-serif';
    g.fillStyle = '#555555';
    g.fillText(`${new Date().toISOString().slice(0, 10)} · © OpenStreetMap contributors (ODbL)`, 16, 56);
    g.drawImage(snapshot, 0, 70, mapCanvas.clientWidth, mapCanvas.clientHeight);
    let y = 70 + mapCanvas.clientHeight + 30;
    g.font = 'bold 14px "Noto Sans CJK SC", "WenQuanYi Zen Hei", sans-serif';
    g.fillStyle = '#1d2b45';
    g.fillText(`${t.gridLabel} · ${t.households} · ${t.printWorkers}`, 16, y);
    g.font = '13px "Noto Sans CJK SC", "WenQuanYi Zen Hei", sans-serif';
    for (const grid of grids) {
      y += lineH;
      g.fillStyle = GRID_STATUS[grid.status];
      g.fillRect(16, y - 11, 12, 12);
      g.fillStyle = '#222222';
      const ws = (workers.get(grid.id) ?? []).map((w) => `${w.name}${w.phone ? ` ${w.phone}` : ''}`).join('，');
      g.fillText(`${grid.id}   ${t.householdsCount(grid.households)}   ${ws || '—'}`, 36, y);
    }
    const blob = await new Promise<Blob | null>((r) => out.toBlob(r, 'image/png'));
    if (blob) download(`${this.plan.name}-${this.community ?? 'all'}.png`, blob);
    return blob;
  }

  // ---- panel ---------------------------------------------------------------------------------------

  private renderJob(): void {
    const box = document.getElementById('job-progress');
    if (!box || !this.job) return;
    const t = this.ctx.t();
    box.replaceChildren();
    const bar = el('progress', undefined, undefined, { max: '100', 'aria-label': t.runPartition });
    if (this.job.pct !== null) bar.value = this.job.pct;
    const text = this.job.state === 'running' ? (this.job.pct !== null ? t.jobProgress(this.job.pct, this.job.message) : this.job.message) : this.job.message;
    box.append(bar, el('span', this.job.state === 'failed' ? 'error' : undefined, text));
    box.dataset.state = this.job.state;
  }

  private violationText(v: Violation): string {
    const t = this.ctx.t();
    const q = this.quota();
    switch (v.kind) {
      case 'quota':
        return t.violation.quota(v.grid ?? '', v.households ?? 0, q.min, q.max) + (v.reason ? t.errorDetail(v.reason) : '');
      case 'contiguity':
        return t.violation.contiguity(v.grid ?? '', v.pieces ?? 2);
      case 'split_compound':
        return t.violation.split_compound(v.name ?? v.compound ?? '', (v.grids ?? []).join('、'));
      case 'barrier_crossed':
        return t.violation.barrier_crossed(v.grid ?? '', v.name ?? v.barrier ?? '');
      default:
        return `${v.kind}${v.grid ? ` ${v.grid}` : ''}`;
    }
  }

  render(): void {
    if (!this.ctx) return;
    const t = this.ctx.t();
    const panel = this.ctx.panel;
    if (this.labelLang && this.labelLang !== this.ctx.lang()) this.drawGrids();
    panel.replaceChildren();
    panel.append(el('h2', undefined, t.plannerTitle));
    if (this.missing) panel.append(el('p', 'error', this.missing));

    // community and plan
    const comm = select(
      this.communities.map((c) => ({ value: String(c.properties?.id ?? ''), label: c.properties?.name ?? String(c.properties?.id ?? '') })),
      this.community ?? '',
      t.pickCommunity,
      'pick-community',
    );
    comm.addEventListener('change', () => {
      this.community = comm.value;
      this.drawGrids();
      this.fitCommunity();
      this.render();
    });
    const plan = select(
      this.plans.map((p) => ({ value: p.name, label: `${p.name} · ${t.planStatus[p.status] ?? p.status} · ${t.version(p.version)}` })),
      this.plan?.name ?? '',
      t.pickPlan,
      'pick-plan',
    );
    plan.addEventListener('change', () => void this.loadPlan(plan.value));
    panel.append(el('div', 'row'));
    panel.lastElementChild?.append(labelled(t.pickCommunity, comm), labelled(t.pickPlan, plan));

    // partition job
    const q = this.quota();
    const form = el('form', 'partition', undefined, { id: 'partition-form' });
    const min = el('input', undefined, undefined, { type: 'number', id: 'quota-min', min: '1', value: String(q.min) });
    const max = el('input', undefined, undefined, { type: 'number', id: 'quota-max', min: '1', value: String(q.max) });
    const name = el('input', undefined, undefined, { id: 'new-plan-name', value: `draft-${(this.community ?? 'all').slice(-6)}` });
    form.append(labelled(t.quotaMin, min), labelled(t.quotaMax, max), labelled(t.newPlanName, name));
    const run = el('button', 'btn primary', t.runPartition, { type: 'submit', id: 'run-partition' });
    if (this.job?.state === 'running') run.disabled = true;
    form.append(run, el('div', 'job', undefined, { id: 'job-progress', 'aria-live': 'polite' }));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      void this.runPartition(Number(min.value), Number(max.value), name.value.trim() || 'draft');
    });
    panel.append(form);
    this.renderJob();

    if (!this.plan) {
      panel.append(el('p', 'note', t.noPlan));
      return;
    }

    // metrics
    const grids = this.communityGrids();
    const hh = grids.map((g) => g.households);
    const within = grids.filter((g) => g.households >= q.min && g.households <= q.max).length;
    // metrics are kept per community (the plan may cover several)
    const all = (this.plan.metrics ?? {}) as Record<string, unknown>;
    const m = ((this.community && typeof all[this.community] === 'object' ? all[this.community] : all) ?? {}) as PlanMetrics;
    const met = el('section', 'metrics', undefined, { id: 'metrics' });
    met.append(el('h3', undefined, `${t.metrics} · ${this.plan.name} (${t.planStatus[this.plan.status] ?? this.plan.status}, ${t.version(this.plan.version)})`));
    const dl = el('dl');
    const row = (k: string, v: string): void => void dl.append(el('dt', undefined, k), el('dd', undefined, v));
    row(t.metricGrids, String(grids.length));
    row(t.metricMinMedMax, hh.length ? `${Math.min(...hh)} / ${median(hh)} / ${Math.max(...hh)}` : '—');
    row(t.metricWithin, grids.length ? `${Math.round((within / grids.length) * 100)}% (${within}/${grids.length})` : '—');
    const compact = m.polsby_popper_mean ?? m.compactness_mean ?? (m as Record<string, unknown>).compactness;
    if (typeof compact === 'number') row(t.metricCompact, compact.toFixed(3));
    if (typeof m.barrier_crossings === 'number') row(t.metricBarriers, String(m.barrier_crossings));
    met.append(dl);
    panel.append(met);

    // violations
    const vs = el('section', this.violations.length ? 'violations bad' : 'violations', undefined, { id: 'violations', role: 'alert' });
    vs.append(el('h3', undefined, `${t.violations} (${this.violations.length})`));
    if (this.violations.length === 0) vs.append(el('p', 'note', t.noViolations));
    const ul = el('ul');
    for (const v of this.violations) ul.append(el('li', this.newViolations.some((n) => JSON.stringify(n) === JSON.stringify(v)) ? 'new' : undefined, this.violationText(v)));
    vs.append(ul);
    panel.append(vs);

    // tools
    const tools = el('section', 'tools', undefined, { id: 'tools' });
    tools.append(el('h3', undefined, t.tools));
    const toolRow = el('div', 'row wrap');
    const toolBtn = (id: Tool, label: string): HTMLButtonElement =>
      button(label, () => this.setTool(this.tool === id ? 'select' : id), { id: `tool-${id}`, 'aria-pressed': String(this.tool === id) });
    toolRow.append(toolBtn('lasso', t.toolLasso), toolBtn('merge', t.toolMerge), toolBtn('split', t.toolSplit), toolBtn('reassign', t.toolReassign));
    tools.append(toolRow);
    if (this.tool === 'split' || this.tool === 'lasso' || this.tool === 'reassign') tools.append(el('p', 'note', this.tool === 'split' ? t.drawHintLine : t.drawHintArea));
    if (this.tool === 'merge') tools.append(el('p', 'note', t.pickTwoGrids + (this.mergeFirst ? ` · ${this.mergeFirst}` : '')));

    const options = grids.map((g) => ({ value: g.id, label: `${g.id} · ${t.householdsCount(g.households)}` }));
    if (!options.some((o) => o.value === this.target)) this.target = options[0]?.value ?? '';
    const targetSel = select(options, this.target, t.targetGrid, 'target-grid');
    targetSel.addEventListener('change', () => (this.target = targetSel.value));
    tools.append(el('p', 'note', t.selected(this.selected.size, this.selectedHouseholds())));
    const moveRow = el('div', 'row');
    const move = button(t.toolMove, () => void this.moveSelected(targetSel.value), { id: 'move-selected' });
    move.disabled = this.selected.size === 0;
    moveRow.append(labelled(t.targetGrid, targetSel), move);
    tools.append(moveRow);
    if (this.pendingArea) {
      const areaTarget = select([{ value: 'new', label: t.newGrid }, ...options], 'new', t.targetGrid, 'reassign-target');
      const area = this.pendingArea;
      tools.append(
        el('div', 'row'),
      );
      tools.lastElementChild?.append(
        labelled(t.targetGrid, areaTarget),
        button(t.toolReassign, () => {
          this.pendingArea = null;
          void this.edit({ op: 'reassign', area: [[...area, area[0]]], to: areaTarget.value });
        }, { id: 'apply-reassign', class: 'btn primary' }),
      );
    }
    const hist = el('div', 'row');
    hist.append(
      button(`↶ ${t.undo}`, () => void this.undo(), { id: 'undo', 'aria-keyshortcuts': 'Control+Z', title: 'Ctrl+Z' }),
      button(`↷ ${t.redo}`, () => void this.redo(), { id: 'redo', 'aria-keyshortcuts': 'Control+Y', title: 'Ctrl+Y' }),
      button(t.publish, () => {
        if (window.confirm(t.confirmPublish(this.plan?.name ?? ''))) void this.publish();
      }, { id: 'publish', class: 'btn primary' }),
    );
    tools.append(hist);
    panel.append(tools);

    // compare
    const cmp = el('section', 'compare', undefined, { id: 'compare' });
    cmp.append(el('h3', undefined, t.compare));
    const others = select(
      [{ value: '', label: '—' }, ...this.plans.filter((p) => p.name !== this.plan?.name).map((p) => ({ value: p.name, label: `${p.name} · ${t.planStatus[p.status] ?? p.status}` }))],
      this.compareWith,
      t.compareWith,
      'compare-with',
    );
    others.addEventListener('change', () => void this.compare(others.value));
    cmp.append(labelled(t.compareWith, others));
    if (this.compareWith) {
      const row = el('div', 'row');
      row.append(
        button(this.swipe ? t.swipeClose : t.swipeCompare, () => (this.swipe ? this.closeSwipe() : this.openSwipe()), {
          id: 'compare-swipe',
          'aria-pressed': String(this.swipe !== null),
        }),
      );
      if (this.swipe) {
        const range = el('input', undefined, undefined, { type: 'range', id: 'swipe-pos', min: '5', max: '95', value: String(this.swipePos), 'aria-label': t.swipePosition });
        range.addEventListener('input', () => {
          this.swipePos = Number(range.value);
          this.placeSwipe();
        });
        row.append(labelled(`${t.swipePosition}: ◀ ${this.compareWith} | ${this.plan.name} ▶`, range));
      }
      cmp.append(row);
    }
    if (this.diff) {
      const moved = this.diff.moved ?? [];
      const b = this.diff.buildings_moved ?? moved.length;
      const h = this.diff.households_moved ?? moved.reduce((a, x) => a + (x.households ?? 0), 0);
      cmp.append(el('p', 'note', b ? t.diffSummary(b, h) : t.noDiff));
    }
    panel.append(cmp);

    // exports
    const ex = el('div', 'row');
    ex.append(button(t.exportGeoJson, () => this.exportGeoJson(), { id: 'export-geojson' }), button(t.exportPng, () => void this.exportPng().catch((e) => this.ctx.notify(describeError(e, t), 'error')), { id: 'export-png' }));
    panel.append(ex);

    // households per grid (always visible while editing)
    const table = el('table', 'grid-table', undefined, { id: 'grid-households' });
    table.append(el('caption', undefined, t.gridHouseholds));
    const head = el('tr');
    head.append(el('th', undefined, t.gridLabel), el('th', undefined, t.households), el('th', undefined, ''));
    table.append(head);
    for (const g of grids) {
      const tr = el('tr', `st-${g.status}`, undefined, { 'data-grid': g.id });
      tr.append(el('td', undefined, g.id), el('td', 'num', String(g.households)), el('td', undefined, t.gridStatus[g.status]));
      table.append(tr);
    }
    panel.append(table);
  }
}

