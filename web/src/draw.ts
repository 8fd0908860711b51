// Drawing a line or an area on the map by clicks: click adds a vertex, double-click or Enter
// finishes, Escape or Backspace cancels/undoes a vertex. Without a mouse: the arrow keys move a
// crosshair (Shift: farther; the map follows it), Space adds a vertex there, Enter finishes. Used by the planner (split line, reassign
// area, lasso selection). The shape is shown in the `draw` source.
import type { GeoJSONSource, Map as MlMap, MapMouseEvent } from 'maplibre-gl';
import { VIEW_SOURCE } from './layers';

export type DrawKind = 'line' | 'area';

/** Crosshair moves (screen x, y) by arrow key. */
const ARROWS: Record<string, [number, number]> = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };

export class Drawing {
  private pts: [number, number][] = [];
  private readonly onClick = (e: MapMouseEvent): void => {
    this.pts.push([e.lngLat.lng, e.lngLat.lat]);
    this.show();
  };
  private readonly onDbl = (e: MapMouseEvent): void => {
    e.preventDefault();
    this.finish();
  };
  private readonly onKey = (e: KeyboardEvent): void => {
    if (e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement || e.target instanceof HTMLTextAreaElement) return;
    const step = e.shiftKey ? 60 : 12;
    const move = ARROWS[e.key];
    if (move) {
      // ahead of MapLibre's own keyboard panning (capture phase on window)
      e.preventDefault();
      e.stopPropagation();
      this.moveCursor(move[0] * step, move[1] * step);
    } else if (e.key === ' ' || e.code === 'Space') {
      e.preventDefault();
      e.stopPropagation();
      if (!this.cursor) this.moveCursor(0, 0);
      if (this.cursor) this.add(this.cursor[0], this.cursor[1]);
    } else if (e.key === 'Enter') {
      e.preventDefault();
      this.finish();
    } else if (e.key === 'Escape') {
      e.preventDefault();
      this.cancel();
    } else if (e.key === 'Backspace' && this.pts.length > 0 && !(e.target instanceof HTMLInputElement)) {
      e.preventDefault();
      this.pts.pop();
      this.show();
    }
  };
  /** Space on a focused button (the tool's own) would press it on key-up: not while drawing. */
  private readonly onKeyUp = (e: KeyboardEvent): void => {
    if ((e.key === ' ' || e.code === 'Space') && e.target instanceof HTMLButtonElement) e.preventDefault();
  };
  private active = false;
  /** The keyboard crosshair (lon/lat), shown once an arrow key or Space is pressed. */
  cursor: [number, number] | null = null;

  constructor(
    private readonly map: MlMap,
    private readonly kind: DrawKind,
    private readonly done: (coords: [number, number][] | null) => void,
  ) {}

  start(): void {
    this.active = true;
    this.map.doubleClickZoom.disable();
    this.map.on('click', this.onClick);
    this.map.on('dblclick', this.onDbl);
    window.addEventListener('keydown', this.onKey, true);
    window.addEventListener('keyup', this.onKeyUp, true);
    this.map.getCanvas().style.cursor = 'crosshair';
  }

  /** The vertices so far. */
  get vertices(): [number, number][] {
    return [...this.pts];
  }

  /** Adds a vertex (tests and keyboard users can draw without a mouse). */
  add(lon: number, lat: number): void {
    this.pts.push([lon, lat]);
    this.show();
  }

  /** Moves the keyboard crosshair by screen pixels (first shown at the map's centre); the map pans to keep it in view. */
  private moveCursor(dx: number, dy: number): void {
    const map = this.map;
    const c = map.getCanvas();
    const w = c.clientWidth;
    const h = c.clientHeight;
    const at = this.cursor ? map.project(this.cursor) : { x: w / 2, y: h / 2 };
    const x = at.x + dx;
    const y = at.y + dy;
    const ll = map.unproject([x, y]);
    this.cursor = [ll.lng, ll.lat];
    const margin = 40;
    if (x < margin || y < margin || x > w - margin || y > h - margin) map.panBy([dx, dy], { duration: 0 });
    this.show();
  }

  private show(): void {
    const features: GeoJSON.Feature[] = this.pts.map((p) => ({ type: 'Feature', properties: {}, geometry: { type: 'Point', coordinates: p } }));
    if (this.cursor) features.push({ type: 'Feature', properties: { cursor: true }, geometry: { type: 'Point', coordinates: this.cursor } });
    if (this.pts.length >= 2) {
      const coords = this.kind === 'area' && this.pts.length >= 3 ? [...this.pts, this.pts[0]] : this.pts;
      features.push({
        type: 'Feature',
        properties: {},
        geometry: this.kind === 'area' && this.pts.length >= 3 ? { type: 'Polygon', coordinates: [coords] } : { type: 'LineString', coordinates: coords },
      });
    }
    this.map.getSource<GeoJSONSource>(VIEW_SOURCE.draw)?.setData({ type: 'FeatureCollection', features });
  }

  private stop(): void {
    if (!this.active) return;
    this.active = false;
    this.map.off('click', this.onClick);
    this.map.off('dblclick', this.onDbl);
    window.removeEventListener('keydown', this.onKey, true);
    window.removeEventListener('keyup', this.onKeyUp, true);
    this.cursor = null;
    this.map.getCanvas().style.cursor = '';
    setTimeout(() => this.map.doubleClickZoom.enable(), 0);
    this.map.getSource<GeoJSONSource>(VIEW_SOURCE.draw)?.setData({ type: 'FeatureCollection', features: [] });
  }

  finish(): void {
    // a double-click also fires two clicks: drop a repeated last vertex
    const pts = this.pts.filter((p, i, a) => i === 0 || p[0] !== a[i - 1][0] || p[1] !== a[i - 1][1]);
    const enough = this.kind === 'line' ? pts.length >= 2 : pts.length >= 3;
    this.stop();
    this.done(enough ? pts : null);
  }

  cancel(): void {
    this.stop();
    this.done(null);
  }
}
