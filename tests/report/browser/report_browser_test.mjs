// Opens an mnsim report.html from disk in headless Debian Chromium (via playwright-core) and
// checks that it works offline and shows what it should:
//   - no console errors, no page errors, no dialogs (alert() from injected script);
//   - no network requests other than the file itself and data: URLs (and any other is aborted);
//   - no <script> element at all; every <img> decoded and drawn (naturalWidth > 0, on screen,
//     not blank: at least 3 distinct colours), one per PNG in figures/;
//   - the hostile scenario title is shown as literal text containing "<script>";
//   - words for a reader: no figure's description (alt text: its panels' titles and axes) holds a
//     code name such as inflammatory_signal or an axis labelled "1"; one unit style in the text
//     outside the scenario as written (<pre>): no "um", "cm^2", "mm^3";
//   - the cross-section after the course follows the remodelled surface: when the scar table
//     shows a scar whose depth changed, the deepest hollow (the longest vertical run of the
//     no-tissue grey) of the right panel is shallower than the left one's;
//   - print on A4 (page.pdf): the consultation part takes at most 3 pages (printed alone), the
//     technical part starts on a new page, and no page holds only a figure smaller than half a
//     page (the page of each block is measured by printing the page cut after that block);
//   - a full-page screenshot and the A4 PDF are written to OUTDIR (report_screenshot.png,
//     report.pdf).
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

// Pages of a PDF written by Chromium (one /Type /Page object per page).
const pdfPages = (buf) => (buf.toString('latin1').match(/\/Type\s*\/Page[^s]/g) || []).length;
// A4 less the report's @page margins (12 mm at the sides, 14 mm top and bottom), in CSS px.
const mmPx = 96 / 25.4;
const printWidth = Math.floor(186 * mmPx);
const printHeight = Math.floor(269 * mmPx);
// A word of letters joined by underscores: a code name.
const codeName = /[A-Za-z]_[A-Za-z]/;

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

  // Words for a reader and one unit style.
  const words = await page.evaluate(() => {
    const body = document.body.cloneNode(true);
    body.querySelectorAll('pre').forEach((p) => p.remove());
    return {
      text: body.textContent,
      alts: [...document.images].map((i) => i.alt),
      captions: [...document.querySelectorAll('figcaption')].map((c) => c.textContent),
    };
  });
  for (const a of [...words.alts, ...words.captions]) {
    const m = a.match(/\S*[A-Za-z]_[A-Za-z]\S*/);
    if (m) fail(`code name "${m[0]}" in a figure's description: ${a}`);
    if (/[;(] ?1\)/.test(a)) fail(`an axis labelled "1" in: ${a}`);
  }
  for (const a of words.alts)
    if (!a.includes('Panels: ')) fail(`figure description without its panels: ${a}`);
  const asciiUnits = words.text.match(/.{0,12}(?<![A-Za-z])um(?![A-Za-z]).{0,4}|.{0,12}\^[23]/g);
  if (asciiUnits) fail(`units not in the report's style: ${JSON.stringify(asciiUnits)}`);

  // The cross-section: the hollow after is shallower when a scar got shallower.
  const cross = await page.evaluate(async () => {
    const rows = [...document.querySelectorAll('#scar-table tbody tr')];
    const changed = rows.some((r) => r.cells[1].textContent !== r.cells[2].textContent);
    const img = document.querySelector('#fig-cross_section img');
    if (!img) return { changed, present: false };
    await img.decode().catch(() => {});
    const c = document.createElement('canvas');
    c.width = img.naturalWidth;
    c.height = img.naturalHeight;
    const g = c.getContext('2d');
    g.drawImage(img, 0, 0);
    const px = g.getImageData(0, 0, c.width, c.height).data;
    const grey = (x, y) => {
      const k = 4 * (y * c.width + x);
      return Math.abs(px[k] - 219) <= 3 && Math.abs(px[k + 1] - 219) <= 3 &&
             Math.abs(px[k + 2] - 219) <= 3;
    };
    // The longest vertical run of no-tissue grey in the columns of each half.
    const deepest = (x0, x1) => {
      let best = 0;
      for (let x = x0; x < x1; ++x) {
        let run = 0;
        for (let y = 0; y < c.height; ++y) {
          run = grey(x, y) ? run + 1 : 0;
          best = Math.max(best, run);
        }
      }
      return best;
    };
    const half = Math.floor(c.width / 2);
    return { changed, present: true, before: deepest(0, half), after: deepest(half, c.width) };
  });
  if (cross.present && cross.changed && !(cross.after < cross.before - 1))
    fail(`a scar changed but the cross-section's hollow did not: deepest run ${cross.before} ` +
         `px before, ${cross.after} px after`);

  // Print on A4.
  await page.emulateMedia({ media: 'print' });
  await page.setViewportSize({ width: printWidth, height: 1000 });
  const pdfPath = path.join(outDir, 'report.pdf');
  const totalPages = pdfPages(await page.pdf({ path: pdfPath, preferCSSPageSize: true }));
  // Blocks: the header, callouts and notes at the top, each child of a section, the technical
  // part's title, the footer. Each block's page: print the page cut after it.
  const blocks = await page.evaluate((pageHeight) => {
    const els = [...document.querySelectorAll(
      'body > header, body > p, section > *, #technical > h2, body > footer')];
    els.sort((a, b) => (a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1));
    return els.map((el, i) => {
      el.setAttribute('data-block', String(i));
      const r = el.getBoundingClientRect();
      const name = el.id || el.querySelector('figure')?.id || el.tagName.toLowerCase();
      return {
        name: `${el.closest('section')?.id ?? 'top'}/${name}`,
        heading: /^H[1-6]$/.test(el.tagName),
        figure: el.tagName === 'FIGURE' || el.classList.contains('pair'),
        small: r.height < 0.5 * pageHeight,
        height: Math.round(r.height),
        consultation: el.closest('#consultation') !== null || el.closest('header') !== null ||
                      el.parentElement === document.body && el.tagName === 'P',
      };
    });
  }, printHeight);
  const pagesAfter = new Map();
  const pageOf = async (k) => {
    if (k < 0) return 0;
    if (!pagesAfter.has(k)) {
      await page.evaluate((last) => {
        for (const el of document.querySelectorAll('[data-block]')) {
          el.style.display = Number(el.getAttribute('data-block')) > last ? 'none' : '';
        }
        // A part or section with every block cut goes too (an empty part would still break
        // the page before it).
        for (const el of document.querySelectorAll('section, #consultation, #technical')) {
          const inner = [...el.querySelectorAll('[data-block]')];
          el.style.display = inner.length && inner.every((b) => b.style.display === 'none')
            ? 'none' : '';
        }
      }, k);
      pagesAfter.set(k, pdfPages(await page.pdf({ preferCSSPageSize: true })));
    }
    return pagesAfter.get(k);
  };
  const lastConsultation = blocks.map((b) => b.consultation).lastIndexOf(true);
  const consultationPages = await pageOf(lastConsultation);
  if (consultationPages > 3)
    fail(`the consultation part prints on ${consultationPages} A4 pages (at most 3)`);
  if (lastConsultation + 1 < blocks.length &&
      (await pageOf(lastConsultation + 1)) !== consultationPages + 1)
    fail('the technical part does not start on a new page');
  // A figure alone on its page: the content before it ends on an earlier page, and the content
  // after it (a heading goes with what follows it) starts on a later one.
  const prevContent = (k) => { let j = k - 1; while (j >= 0 && blocks[j].heading) --j; return j; };
  const nextContent = (k) => {
    let j = k + 1;
    while (j < blocks.length && blocks[j].heading) ++j;
    return j < blocks.length ? j : -1;
  };
  const pageLog = [];
  for (let k = 0; k < blocks.length; ++k) {
    if (!blocks[k].figure) continue;
    const p = await pageOf(k);
    pageLog.push(`${blocks[k].name} p${p} (${blocks[k].height} px)`);
    if (!blocks[k].small) continue;
    const before = await pageOf(prevContent(k));
    const n = nextContent(k);
    const after = n < 0 ? p + 1 : await pageOf(n);
    if (before < p && after > p)
      fail(`page ${p} holds only the figure ${blocks[k].name} (${blocks[k].height} px high)`);
  }
  await page.evaluate(() => {
    for (const el of document.querySelectorAll('[data-block], section, #consultation, #technical'))
      el.style.display = '';
  });
  console.log(`report_browser_test: print: ${totalPages} A4 pages, the consultation part ` +
              `${consultationPages}; figures: ${pageLog.join(', ')}; ${pagesAfter.size} cut ` +
              `prints; PDF ${pdfPath}`);
  console.log(`report_browser_test: cross-section deepest hollow ${cross.before} px before, ` +
              `${cross.after} px after (scar changed: ${cross.changed})`);

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
