// Drawing a line or an area on the map by clicks: click adds a vertex, double-click or Enter
// finishes, Escape or Backspace cancels/undoes a vertex. Used by the planner (split line, reassign
// area, lasso selection). The shape is shown in the `draw` source.
import type { GeoJSONSource, Map as MlMap, MapMouseEvent } from 'maplibre-gl';
import { VIEW_SOURCE } from './layers';

export type DrawKind = 'line' | 'area';

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
    if (e.key === 'Enter') {
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
  private active = false;

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
    window.addEventListener('keydown', this.onKey);
    this.map.getCanvas().style.cursor = 'crosshair';
  }

  /** Adds a vertex (tests and keyboard users can draw without a mouse). */
  add(lon: number, lat: number): void {
    this.pts.push([lon, lat]);
    this.show();
  }

  private show(): void {
    const features: GeoJSON.Feature[] = this.pts.map((p) => ({ type: 'Feature', properties: {}, geometry: { type: 'Point', coordinates: p } }));
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
    window.removeEventListener('keydown', this.onKey);
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
