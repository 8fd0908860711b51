// Small DOM, file and geometry helpers shared by the views.

/** Creates an element with an optional class and text (text goes through textContent: data is never HTML). */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  cls?: string,
  text?: string,
  attrs: Record<string, string> = {},
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

export function button(text: string, onClick: () => void, attrs: Record<string, string> = {}): HTMLButtonElement {
  const b = el('button', attrs.class ?? 'btn', text, { type: 'button', ...attrs });
  b.addEventListener('click', onClick);
  return b;
}

export function select(options: { value: string; label: string }[], value: string, label: string, id: string): HTMLSelectElement {
  const s = el('select', undefined, undefined, { id, 'aria-label': label });
  for (const o of options) {
    const opt = el('option', undefined, o.label, { value: o.value });
    s.append(opt);
  }
  s.value = value;
  return s;
}

export function labelled(label: string, control: HTMLElement): HTMLLabelElement {
  const l = el('label', 'field');
  l.append(el('span', undefined, label), control);
  return l;
}

/** Offers `data` as a file download. */
export function download(name: string, data: Blob): void {
  const url = URL.createObjectURL(data);
  const a = el('a', undefined, undefined, { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function csvCell(v: unknown): string {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** CSV text (with a UTF-8 byte order mark so spreadsheet programs read Chinese correctly). */
export function csv(header: string[], rows: unknown[][]): Blob {
  const text = [header, ...rows].map((r) => r.map(csvCell).join(',')).join('\r\n');
  return new Blob(['\ufeff', text, '\r\n'], { type: 'text/csv;charset=utf-8' });
}

export type Ring = [number, number][];

/** Point in polygon (even-odd over all rings). */
export function pointInRings(p: [number, number], rings: Ring[]): boolean {
  let inside = false;
  for (const ring of rings) {
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      const [xi, yi] = ring[i];
      const [xj, yj] = ring[j];
      if (yi > p[1] !== yj > p[1] && p[0] < ((xj - xi) * (p[1] - yi)) / (yj - yi) + xi) inside = !inside;
    }
  }
  return inside;
}

/** A representative point of a GeoJSON geometry: the point itself or the mean of the outer ring. */
export function centroidOf(g: GeoJSON.Geometry): [number, number] | null {
  const mean = (ring: number[][]): [number, number] => {
    const pts = ring.length > 1 ? ring.slice(0, -1) : ring;
    const s = pts.reduce((a, c) => [a[0] + c[0], a[1] + c[1]], [0, 0]);
    return [s[0] / pts.length, s[1] / pts.length];
  };
  switch (g.type) {
    case 'Point':
      return [g.coordinates[0], g.coordinates[1]];
    case 'Polygon':
      return mean(g.coordinates[0]);
    case 'MultiPolygon':
      return g.coordinates.length ? mean(g.coordinates[0][0]) : null;
    default:
      return null;
  }
}

/** Whether a polygon or multipolygon geometry contains the point. */
export function geometryContains(g: GeoJSON.Geometry, p: [number, number]): boolean {
  if (g.type === 'Polygon') return pointInRings(p, g.coordinates as Ring[]);
  if (g.type === 'MultiPolygon') return g.coordinates.some((poly) => pointInRings(p, poly as Ring[]));
  return false;
}

/** Bounds [w, s, e, n] of any geometry's coordinates. */
export function boundsOf(geoms: GeoJSON.Geometry[]): [number, number, number, number] | null {
  let b: [number, number, number, number] | null = null;
  const visit = (c: unknown): void => {
    if (Array.isArray(c) && typeof c[0] === 'number') {
      const [x, y] = c as number[];
      b = b ? [Math.min(b[0], x), Math.min(b[1], y), Math.max(b[2], x), Math.max(b[3], y)] : [x, y, x, y];
    } else if (Array.isArray(c)) c.forEach(visit);
  };
  for (const g of geoms) if ('coordinates' in g) visit(g.coordinates);
  return b;
}
