// Facility icons: one drawing per category, used for the sprite sheet and for the legend.
import type { Map as MlMap } from 'maplibre-gl';
import { categoryStyle } from './colors';

const SIZE = 22; // CSS pixels
export const ICON_PREFIX = 'facility-';

export function iconId(category: string): string {
  return ICON_PREFIX + category;
}

/** Draws one category icon: a filled circle with a white ring and the category's glyph. */
export function drawIcon(category: string, pixelRatio: number): HTMLCanvasElement {
  const { color, glyph } = categoryStyle(category);
  const px = Math.round(SIZE * pixelRatio);
  const canvas = document.createElement('canvas');
  canvas.width = px;
  canvas.height = px;
  const ctx = canvas.getContext('2d');
  if (!ctx) return canvas;
  ctx.scale(pixelRatio, pixelRatio);
  const r = SIZE / 2;
  ctx.beginPath();
  ctx.arc(r, r, r - 1.5, 0, Math.PI * 2);
  ctx.fillStyle = color;
  ctx.fill();
  ctx.lineWidth = 2;
  ctx.strokeStyle = '#ffffff';
  ctx.stroke();
  ctx.fillStyle = '#ffffff';
  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  const fontPx = glyph.length > 1 ? 9 : 12;
  ctx.font = `bold ${fontPx}px system-ui, "Helvetica Neue", Arial, sans-serif`;
  ctx.fillText(glyph, r, r + 0.5);
  return canvas;
}

function addIcon(map: MlMap, category: string, pixelRatio: number): void {
  const id = iconId(category);
  if (map.hasImage(id)) return;
  const canvas = drawIcon(category, pixelRatio);
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const data = ctx.getImageData(0, 0, canvas.width, canvas.height);
  map.addImage(id, { width: canvas.width, height: canvas.height, data: new Uint8Array(data.data.buffer) }, { pixelRatio });
}

/**
 * The sprite (public/assets/sprite, made from these drawings by scripts/make-sprite.mjs) has an icon
 * for every category in the palette; a category it lacks is drawn here when the map asks for it.
 */
export function installIcons(map: MlMap): void {
  const pixelRatio = Math.max(1, Math.ceil(window.devicePixelRatio || 1));
  map.on('styleimagemissing', (e) => {
    if (e.id.startsWith(ICON_PREFIX)) addIcon(map, e.id.slice(ICON_PREFIX.length), pixelRatio);
  });
}
