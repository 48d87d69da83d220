// Opens an mnsim report.html from disk in headless Debian Chromium (via playwright-core) and
// checks that it works offline and shows what it should:
//   - no console errors, no page errors, no dialogs (alert() from injected script);
//   - no network requests other than the file itself and data: URLs (and any other is aborted);
//   - no <script> element at all; every <img> decoded and drawn (naturalWidth > 0, on screen,
//     not blank: at least 3 distinct colours), one per PNG in figures/;
//   - the hostile scenario title is shown as literal text containing "<script>";
//   - a full-page screenshot is written to OUTDIR/report_screenshot.png.
// Usage: node report_browser_test.mjs REPORT_HTML OUTDIR [EXPECTED_TITLE_SUBSTRING]
// Environment: MNSIM_CHROMIUM overrides the browser (default /usr/bin/chromium).
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [reportArg, outArg, titleArg] = process.argv.slice(2);
if (!reportArg || !outArg) {
  console.error('usage: node report_browser_test.mjs REPORT_HTML OUTDIR [TITLE_SUBSTRING]');
  process.exit(2);
}
const report = path.resolve(reportArg);
const outDir = path.resolve(outArg);
const expectTitle = titleArg ?? '<script>alert(1)</script>';
const browserPath = process.env.MNSIM_CHROMIUM || '/usr/bin/chromium';
const reportUrl = pathToFileURL(report).href;
const figureDir = path.join(path.dirname(report), 'figures');
const pngCount = fs.existsSync(figureDir)
  ? fs.readdirSync(figureDir).filter((f) => f.endsWith('.png')).length
  : 0;

const failures = [];
const fail = (msg) => failures.push(msg);
const started = Date.now();

fs.mkdirSync(outDir, { recursive: true });
const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mnsim-chromium-'));
let context;
try {
  // A persistent context is how playwright takes a fresh --user-data-dir.
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: browserPath,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1100, height: 900 },
    offline: true,
  });

  const requests = [];
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url === reportUrl || url.startsWith('data:')) return route.continue();
    return route.abort();
  });
  context.on('request', (req) => requests.push(req.url()));

  const page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (msg) => {
    if (msg.type() === 'error') fail(`console error: ${msg.text()}`);
  });
  page.on('pageerror', (err) => fail(`page error: ${err.message}`));
  page.on('dialog', async (d) => {
    fail(`dialog opened (${d.type()}: ${d.message()}): injected script ran`);
    await d.dismiss();
  });

  const resp = await page.goto(reportUrl, { waitUntil: 'load', timeout: 30000 });
  if (!resp) fail('no response for the report file');

  const info = await page.evaluate(async () => {
    const imgs = [...document.images];
    await Promise.all(imgs.map((i) => i.decode().catch(() => {})));
    return {
      title: document.title,
      h1: document.querySelector('h1')?.textContent ?? null,
      scripts: document.scripts.length,
      imgs: imgs.map((i) => ({
        alt: i.alt,
        complete: i.complete,
        naturalWidth: i.naturalWidth,
        naturalHeight: i.naturalHeight,
        shownWidth: i.getBoundingClientRect().width,
        shownHeight: i.getBoundingClientRect().height,
        dataUrl: i.src.startsWith('data:image/png;base64,'),
        colours: (() => {
          // Distinct colours on a coarse grid of the decoded image: a blank figure has one.
          try {
            const c = document.createElement('canvas');
            c.width = i.naturalWidth;
            c.height = i.naturalHeight;
            const g = c.getContext('2d');
            g.drawImage(i, 0, 0);
            const seen = new Set();
            const step = Math.max(1, Math.floor(Math.min(c.width, c.height) / 64));
            const px = g.getImageData(0, 0, c.width, c.height).data;
            for (let y = 0; y < c.height; y += step)
              for (let x = 0; x < c.width; x += step) {
                const k = 4 * (y * c.width + x);
                seen.add((px[k] << 16) | (px[k + 1] << 8) | px[k + 2]);
              }
            return seen.size;
          } catch (e) {
            return -1;
          }
        })(),
      })),
      sections: [...document.querySelectorAll('section')].map((s) => s.id),
    };
  });

  if (info.scripts !== 0) fail(`${info.scripts} <script> element(s) in the page`);
  if (info.h1 === null || !info.h1.includes(expectTitle))
    fail(`<h1> does not show the title as text: ${JSON.stringify(info.h1)}`);
  if (!info.title.includes(expectTitle))
    fail(`document title does not contain the title text: ${JSON.stringify(info.title)}`);
  if (info.imgs.length === 0) fail('no figures in the page');
  if (info.imgs.length !== pngCount)
    fail(`${info.imgs.length} <img> in the page but ${pngCount} PNG files in figures/`);
  for (const i of info.imgs) {
    if (!i.dataUrl) fail(`figure "${i.alt}" is not an inline PNG`);
    if (!i.complete || i.naturalWidth <= 0 || i.naturalHeight <= 0)
      fail(`figure "${i.alt}" was not drawn (naturalWidth ${i.naturalWidth})`);
    if (i.colours < 3) fail(`figure "${i.alt}" looks blank (${i.colours} colours sampled)`);
    if (i.shownWidth < 100 || i.shownHeight < 50)
      fail(`figure "${i.alt}" is shown at ${i.shownWidth} x ${i.shownHeight} px`);
  }
  const shot = path.join(outDir, 'report_screenshot.png');
  await page.screenshot({ path: shot, fullPage: true });
  if (!fs.existsSync(shot) || fs.statSync(shot).size === 0) fail('no screenshot written');

  const foreign = requests.filter((u) => u !== reportUrl && !u.startsWith('data:'));
  for (const u of foreign) fail(`network request: ${u}`);

  console.log(
    `report_browser_test: ${info.imgs.length} figures drawn (colours sampled: ` +
      `${info.imgs.map((i) => i.colours).join(', ')}), sections ` +
      `[${info.sections.join(', ')}], ${requests.length} request(s) ` +
      `(${requests.filter((u) => u === reportUrl).length} to the file), screenshot ${shot}`,
  );
} catch (e) {
  fail(`browser test crashed: ${e.stack ?? e}`);
} finally {
  if (context) await context.close().catch(() => {});
  fs.rmSync(userDataDir, { recursive: true, force: true });
}

const secs = ((Date.now() - started) / 1000).toFixed(1);
if (failures.length) {
  for (const f of failures) console.error(`FAIL: ${f}`);
  console.error(`report_browser_test: ${failures.length} failure(s) in ${secs} s`);
  process.exit(1);
}
console.log(`report_browser_test: OK in ${secs} s`);
