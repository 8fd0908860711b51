// Makes the map's sprite once: public/assets/sprite/wangge{,@2x}.{json,png}, one icon per facility
// category, drawn by the app's own src/icons.ts (the same drawing the map uses) in headless Chromium.
//
//   node scripts/make-sprite.mjs            (needs /usr/bin/chromium or CHROMIUM_BIN)
//
// Run it again when the categories or their colours/glyphs in src/colors.ts change.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import ts from 'typescript';

const WEB = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(WEB, 'public/assets/sprite');

/** src/colors.ts and src/icons.ts as one classic script (imports dropped, exports made global). */
function iconScript() {
  const js = ['colors.ts', 'icons.ts']
    .map((f) => ts.transpileModule(readFileSync(join(WEB, 'src', f), 'utf8'), { compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext } }).outputText)
    .join('\n')
    .replace(/^import .*$/gm, '')
    .replace(/^export /gm, '');
  return `${js}\nwindow.__icons = { drawIcon, ICON_PREFIX, CATEGORY_STYLES };`;
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_BIN || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu'],
});
try {
  const page = await browser.newPage();
  await page.setContent('<!doctype html><meta charset="utf-8"><body></body>');
  await page.addScriptTag({ content: iconScript() });
  mkdirSync(OUT, { recursive: true });
  for (const ratio of [1, 2]) {
    const { json, png } = await page.evaluate((ratio) => {
      const { drawIcon, ICON_PREFIX, CATEGORY_STYLES } = window.__icons;
      const ids = Object.keys(CATEGORY_STYLES).concat(['unknown']);
      const icons = ids.map((c) => ({ name: ICON_PREFIX + c, canvas: drawIcon(c, ratio) }));
      const perRow = 8;
      const w = icons[0].canvas.width;
      const h = icons[0].canvas.height;
      const sheet = document.createElement('canvas');
      sheet.width = perRow * w;
      sheet.height = Math.ceil(icons.length / perRow) * h;
      const ctx = sheet.getContext('2d');
      const json = {};
      icons.forEach((icon, i) => {
        const x = (i % perRow) * w;
        const y = Math.floor(i / perRow) * h;
        ctx.drawImage(icon.canvas, x, y);
        json[icon.name] = { x, y, width: w, height: h, pixelRatio: ratio };
      });
      return { json, png: sheet.toDataURL('image/png').split(',')[1] };
    }, ratio);
    const base = join(OUT, ratio === 1 ? 'wangge' : 'wangge@2x');
    writeFileSync(`${base}.json`, `${JSON.stringify(json, null, 1)}\n`);
    writeFileSync(`${base}.png`, Buffer.from(png, 'base64'));
  }
  console.log(`sprite -> ${OUT}`);
} finally {
  await browser.close();
}
