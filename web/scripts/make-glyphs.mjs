// Makes the map's offline font assets once: signed-distance-field glyph PBFs for the font stack
// `wangge-sans` under public/assets/glyphs/wangge-sans/{start}-{end}.pbf, drawn from Noto Sans CJK SC
// (SIL OFL 1.1; Debian package fonts-noto-cjk) by @mapbox/tiny-sdf in the machine's headless Chromium
// and encoded with pbf in the glyphs.proto layout MapLibre reads. The files are committed; run this
// again only when the font or the character set changes:
//
//   node scripts/make-glyphs.mjs            (needs /usr/bin/chromium or CHROMIUM_BIN, and the font)
//
// Ranges: Latin, Latin-1, Latin Extended-A/B, general punctuation in full; CJK and full-width forms only
// for the characters the UI messages and the sample data use (the map also draws CJK locally through
// MapLibre's `localIdeographFontFamily`, so a missing one still shows).
import { mkdirSync, readFileSync, readdirSync, writeFileSync, existsSync, copyFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { PbfWriter as Pbf } from 'pbf';

const WEB = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const ROOT = resolve(WEB, '..');
const OUT = join(WEB, 'public/assets/glyphs/wangge-sans');
const FONT_FAMILY = 'Noto Sans CJK SC';
const FONT_LICENCE = '/usr/share/doc/fonts-noto-cjk/copyright';
const SIZE = 24;
const BUFFER = 3;
const RADIUS = 8;
const CUTOFF = 0.25;

/** Every code point in the full ranges plus the CJK (and other non-Latin) characters of `texts`. */
function wantedCodePoints() {
  const set = new Set();
  for (const [a, b] of [[32, 126], [160, 591], [0x2000, 0x206f], [0x20ac, 0x20ac], [0x2190, 0x2193], [0x2212, 0x2212]]) {
    for (let c = a; c <= b; c++) set.add(c);
  }
  const texts = [];
  for (const dir of [join(WEB, 'src/i18n')]) for (const f of readdirSync(dir)) texts.push(readFileSync(join(dir, f), 'utf8'));
  const osm = join(ROOT, 'geodata/beijing/haidian-liudaokou.osm');
  if (existsSync(osm)) texts.push(readFileSync(osm, 'utf8'));
  texts.push(readFileSync(join(WEB, 'tests/fixtures/regions.geojson'), 'utf8'));
  // the built-in catalogue's Chinese names, and digits/labels used for grid numbers
  texts.push('幼儿园小学中学社区卫生服务站中心药店老年人日间照料养老院党群菜市场生鲜超市便利店商业网点运动场地公园游文化活动站公交派出所邮政网格员号楼栋户');
  for (const t of texts) for (const ch of t) {
    const c = ch.codePointAt(0);
    if (c >= 0x2e80 && c <= 0xffff) set.add(c);
  }
  return [...set].sort((a, b) => a - b);
}

function writeGlyphs(stack, range, glyphs) {
  const pbf = new Pbf();
  pbf.writeMessage(1, (_, p) => {
    p.writeStringField(1, stack);
    p.writeStringField(2, range);
    for (const g of glyphs) {
      p.writeMessage(3, (gl, q) => {
        q.writeVarintField(1, gl.id);
        if (gl.bitmap.length > 0) q.writeBytesField(2, gl.bitmap);
        q.writeVarintField(3, gl.width);
        q.writeVarintField(4, gl.height);
        q.writeSVarintField(5, gl.left);
        q.writeSVarintField(6, gl.top);
        q.writeVarintField(7, gl.advance);
      }, g);
    }
  });
  return pbf.finish();
}

const tinySdfSource = readFileSync(join(WEB, 'node_modules/@mapbox/tiny-sdf/index.js'), 'utf8').replace(
  'export default class TinySDF',
  'window.TinySDF = class TinySDF',
);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_BIN || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu'],
});
try {
  const page = await browser.newPage();
  await page.setContent('<!doctype html><meta charset="utf-8"><body></body>');
  await page.addScriptTag({ content: tinySdfSource });
  const codes = wantedCodePoints();
  const drawn = await page.evaluate(
    async ({ codes, family, size, buffer, radius, cutoff }) => {
      await document.fonts.load(`${size}px "${family}"`, '字A');
      const sdf = new window.TinySDF({ fontSize: size, buffer, radius, cutoff, fontFamily: `"${family}"` });
      // which code points the font has: compare with a fallback-only rendering width
      const ctx = document.createElement('canvas').getContext('2d');
      const out = [];
      for (const id of codes) {
        const ch = String.fromCodePoint(id);
        ctx.font = `${size}px "${family}", monospace`;
        const a = ctx.measureText(ch).width;
        ctx.font = `${size}px monospace`;
        const b = ctx.measureText(ch).width;
        ctx.font = `${size}px "${family}", serif`;
        const c = ctx.measureText(ch).width;
        if (a !== c && a === b && id > 32) continue; // not in the font: the fallback decides the width
        const g = sdf.draw(ch);
        out.push({
          id,
          bitmap: Array.from(g.glyphWidth > 0 && g.glyphHeight > 0 ? g.data : []),
          width: g.glyphWidth,
          height: g.glyphHeight,
          left: Math.round(g.glyphLeft + 0.5),
          top: Math.round(g.glyphTop - 27.5),
          advance: Math.round(g.glyphAdvance),
        });
      }
      return out;
    },
    { codes, family: FONT_FAMILY, size: SIZE, buffer: BUFFER, radius: RADIUS, cutoff: CUTOFF },
  );
  const byRange = new Map();
  for (const g of drawn) {
    const start = Math.floor(g.id / 256) * 256;
    if (!byRange.has(start)) byRange.set(start, []);
    g.bitmap = Uint8Array.from(g.bitmap);
    byRange.get(start).push(g);
  }
  mkdirSync(OUT, { recursive: true });
  let bytes = 0;
  for (const [start, glyphs] of [...byRange].sort((a, b) => a[0] - b[0])) {
    const range = `${start}-${start + 255}`;
    const buf = writeGlyphs('wangge-sans', range, glyphs);
    writeFileSync(join(OUT, `${range}.pbf`), buf);
    bytes += buf.length;
  }
  if (existsSync(FONT_LICENCE)) copyFileSync(FONT_LICENCE, join(OUT, 'LICENSE-NotoSansCJK.txt'));
  console.log(`${drawn.length} glyphs in ${byRange.size} ranges (${(bytes / 1024).toFixed(0)} KiB) -> ${OUT}`);
} finally {
  await browser.close();
}
