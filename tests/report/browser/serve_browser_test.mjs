// The consultation app of `mnsim serve` in headless Debian Chromium (via playwright-core), as a
// clinician uses it:
//   - the page loads with no console errors and no request leaving the server (others aborted);
//     time-to-interactive (the form built from /api/options) is measured and printed;
//   - every input and select has a label; Tab reaches every field of the form and the run button;
//   - a field the server refuses (age 300) shows the schema's one-line message and marks the field;
//   - the form is filled (site, age typed, skin type, scar counts, a measured scar, start date),
//     "Plan for me" runs from the keyboard, the progress bar shows, the answer time is printed;
//   - the result: summary, disclaimer, safety flags, the course chart with its band, the
//     before/after illustration, the dated calendar, the ranked protocols, the bands' statement;
//   - screenshots: the key elements are visible (on screen, not empty) and the two figures are
//     drawn (at least 3 colours in their screenshots);
//   - print: the consultation prints on at most 3 A4 pages (the form is left out in print); the
//     printable page (the export) prints too and its page count is printed; the scenario export
//     is a scenario with a [device] table;
//   - "My protocol" with a chosen pen and an uploaded height map: a CSV that is not numbers shows
//     the reader's one-line message and marks the file field; a good map is one more scar, drawn
//     in the illustration, and exported beside the scenario (whose [surface] names it).
// Usage: node serve_browser_test.mjs URL OUTDIR
// Environment: MNSIM_CHROMIUM overrides the browser (default /usr/bin/chromium).
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const [urlArg, outArg] = process.argv.slice(2);
if (!urlArg || !outArg) {
  console.error('usage: node serve_browser_test.mjs URL OUTDIR');
  process.exit(2);
}
const base = new URL(urlArg);
const outDir = path.resolve(outArg);
const browserPath = process.env.MNSIM_CHROMIUM || '/usr/bin/chromium';
const failures = [];
const fail = (msg) => failures.push(msg);
const started = Date.now();
const pdfPages = (buf) => (buf.toString('latin1').match(/\/Type\s*\/Page[^s]/g) || []).length;

fs.mkdirSync(outDir, { recursive: true });
const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mnsim-chromium-'));
let context;
try {
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: browserPath,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1100, height: 900 },
  });
  const foreign = [];
  await context.route('**/*', (route) => {
    const u = new URL(route.request().url());
    if (u.origin === base.origin || u.protocol === 'data:') return route.continue();
    foreign.push(u.href);
    return route.abort();
  });
  const page = context.pages()[0] ?? (await context.newPage());
  // The one request the test makes the server refuse (age 300) is logged by Chromium as a failed
  // resource load; any other console error fails the test.
  const refused = [];
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    if (/status of 400/.test(msg.text())) refused.push(msg.text());
    else fail(`console error: ${msg.text()}`);
  });
  page.on('pageerror', (err) => fail(`page error: ${err.message}`));

  // Time to interactive: navigation start to the form built from /api/options.
  const t0 = Date.now();
  await page.goto(base.href, { waitUntil: 'load', timeout: 30000 });
  await page.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: 30000 });
  const ttiWall = Date.now() - t0;
  const ttiPage = await page.evaluate(() => document.body.dataset.readyMs);

  // Labels: every input and select has one (or an aria-label); buttons have a name.
  const unlabelled = await page.evaluate(() => {
    const out = [];
    for (const e of document.querySelectorAll('input, select, textarea')) {
      if (e.type === 'hidden') continue;
      const ok = (e.labels && [...e.labels].some((l) => l.textContent.trim())) ||
                 e.getAttribute('aria-label') || e.getAttribute('aria-labelledby');
      if (!ok) out.push(e.id || e.outerHTML.slice(0, 60));
    }
    for (const b of document.querySelectorAll('button')) {
      if (!b.textContent.trim() && !b.getAttribute('aria-label')) out.push(`button ${b.id}`);
    }
    return out;
  });
  for (const u of unlabelled) fail(`no label: ${u}`);

  // Add a measured scar (so its row's fields are in the tab order too).
  await page.click('#add-scar');
  await page.selectOption('#scar-1-kind', 'boxcar');
  await page.fill('#scar-1-depth', '0.3');
  await page.fill('#scar-1-width', '2.5');

  // Keyboard: Tab from the top reaches every field of the form and the run button.
  // The starting point of sequential navigation: the page's heading (focused by the test with
  // tabindex -1, which keeps it out of the tab order).
  await page.evaluate(() => {
    const h = document.querySelector('h1');
    h.setAttribute('tabindex', '-1');
    h.focus();
  });
  const reached = new Set();
  for (let i = 0; i < 80; ++i) {
    await page.keyboard.press('Tab');
    const id = await page.evaluate(() => document.activeElement?.id ?? '');
    if (id) reached.add(id);
    if (id === 'run') break;
  }
  const fields = await page.evaluate(() =>
    [...document.querySelectorAll('#consult input, #consult select, #consult button')]
      .filter((e) => e.offsetParent !== null && !e.disabled && e.type !== 'radio')
      .map((e) => e.id));
  const missed = fields.filter((id) => !reached.has(id));
  if (missed.length) fail(`not reached with Tab: ${missed.join(', ')}`);
  if (!reached.has('mode-plan') && !reached.has('mode-protocol')) fail('Tab never reaches the mode');

  // A value the server refuses: its message, the field marked.
  await page.fill('#age', '300');
  await page.click('#run');
  await page.waitForSelector('#error:not([hidden])', { timeout: 30000 });
  const err = await page.evaluate(() => ({
    text: document.querySelector('#error').textContent,
    invalid: document.querySelector('#age').getAttribute('aria-invalid'),
    focused: document.activeElement?.id,
  }));
  if (!err.text.includes('patient.age')) fail(`the error does not name patient.age: ${err.text}`);
  if (err.invalid !== 'true' || err.focused !== 'age') fail(`the age field is not marked: ${JSON.stringify(err)}`);

  // Fill the form: the age typed, skin type, scars, start date; run from the keyboard.
  await page.focus('#age');
  await page.keyboard.press('Control+A');
  await page.keyboard.type('35');
  await page.selectOption('#site', 'medial_cheek');
  await page.selectOption('#fitzpatrick', '4');
  await page.fill('#inv-rolling', '2');
  await page.fill('#start-date', '2027-01-04');
  await page.check('#mode-plan');
  await page.focus('#run');
  const tRun = Date.now();
  await page.keyboard.press('Enter');
  let sawProgress = false;
  try {
    await page.waitForSelector('#progress-box:not([hidden])', { timeout: 5000 });
    sawProgress = true;
  } catch {
    // A quick answer may come before the bar is seen.
  }
  await page.waitForFunction(
    () => document.body.dataset.state === 'done' || !document.querySelector('#error').hidden, null,
    { timeout: 900000 });
  const failed = await page.evaluate(() => document.querySelector('#error').hidden ? '' :
    document.querySelector('#error').textContent);
  if (failed) throw new Error(`the plan failed: ${failed}`);
  const answerWall = (Date.now() - tRun) / 1000;
  const answerPage = await page.evaluate(() => document.body.dataset.answerSeconds);

  const res = await page.evaluate(() => ({
    summary: document.querySelector('#summary').textContent,
    disclaimer: document.querySelector('#disclaimer').textContent,
    safety: [...document.querySelectorAll('#safety li')].map((l) => `${l.className}: ${l.textContent}`),
    calendar: document.querySelector('#calendar').textContent,
    ranked: document.querySelectorAll('#ranked tbody tr').length,
    polyline: document.querySelectorAll('#course-chart polyline').length,
    band: document.querySelectorAll('#course-chart polygon').length,
    scars: document.querySelectorAll('#illustration path').length,
    bands: document.querySelector('#bands').textContent,
    html: document.querySelector('#export-html').href,
    toml: document.querySelector('#export-toml').href,
    focused: document.activeElement?.id,
  }));
  if (!/\d+% shallower/.test(res.summary)) fail(`summary: ${res.summary}`);
  if (!res.disclaimer.includes('not a diagnosis')) fail(`disclaimer: ${res.disclaimer}`);
  if (!res.safety.length || !res.safety.some((s) => s.includes('dermis')))
    fail(`safety flags: ${JSON.stringify(res.safety)}`);
  if (!res.calendar.includes('2027-01-04')) fail('the calendar does not show 2027-01-04');
  if (res.ranked === 0) fail('no ranked protocols');
  if (res.polyline !== 1 || res.band !== 2) fail(`the course chart: ${res.polyline} line(s), ${res.band} band(s) (want 1 and 2)`);
  if (res.scars < 4) fail(`the illustration draws ${res.scars} paths`);
  if (!res.bands.includes('parameter-uncertainty band') || !res.bands.includes('patient-variability band'))
    fail(`the bands' statement: ${res.bands}`);
  if (res.focused !== 'result') fail(`focus after the answer: ${res.focused}`);

  // Screenshots: key elements visible and not empty; figures drawn.
  await page.screenshot({ path: path.join(outDir, 'serve_screenshot.png'), fullPage: true });
  for (const sel of ['#summary', '#disclaimer', '#safety', '#course-chart', '#illustration',
                     '#calendar', '#ranked', '#export-html', '#export-toml']) {
    const loc = page.locator(sel);
    const box = await loc.boundingBox();
    if (!(await loc.isVisible()) || !box || box.width < 10 || box.height < 10)
      fail(`${sel} is not visible (${JSON.stringify(box)})`);
  }
  const colours = {};
  for (const sel of ['#course-chart', '#illustration']) {
    const png = await page.locator(sel).screenshot({
      path: path.join(outDir, `serve_${sel.slice(1)}.png`),
    });
    colours[sel] = await page.evaluate(async (b64) => {
      const img = new Image();
      img.src = `data:image/png;base64,${b64}`;
      await img.decode();
      const c = document.createElement('canvas');
      c.width = img.naturalWidth;
      c.height = img.naturalHeight;
      const g = c.getContext('2d');
      g.drawImage(img, 0, 0);
      const px = g.getImageData(0, 0, c.width, c.height).data;
      const seen = new Set();
      for (let k = 0; k < px.length; k += 4 * 7) seen.add((px[k] << 16) | (px[k + 1] << 8) | px[k + 2]);
      return seen.size;
    }, png.toString('base64'));
    if (colours[sel] < 3) fail(`${sel} looks blank (${colours[sel]} colours)`);
  }

  // Print the consultation: at most 3 A4 pages.
  await page.emulateMedia({ media: 'print' });
  const pdf = await page.pdf({ path: path.join(outDir, 'serve_consultation.pdf'), preferCSSPageSize: true });
  const pages = pdfPages(pdf);
  if (pages < 1 || pages > 3) fail(`the consultation prints on ${pages} A4 pages (at most 3)`);
  await page.emulateMedia({ media: 'screen' });

  // The exports: the printable page prints; the scenario names a device.
  const printable = await context.newPage();
  printable.on('console', (msg) => {
    if (msg.type() === 'error') fail(`printable page console error: ${msg.text()}`);
  });
  await printable.goto(res.html, { waitUntil: 'load' });
  const exportPdf = await printable.pdf({ path: path.join(outDir, 'serve_printable.pdf'),
                                          preferCSSPageSize: true });
  const exportPages = pdfPages(exportPdf);
  if (exportPages < 1) fail('the printable page prints no page');
  await printable.close();
  const toml = await page.evaluate(async (u) => (await fetch(u)).text(), res.toml);
  if (!toml.includes('[device]') || !toml.includes('start_date = 2027-01-04'))
    fail(`the scenario export: ${toml.slice(0, 200)}`);

  // My protocol: a pen chosen from the list.
  await page.check('#mode-protocol');
  const pen = await page.evaluate(() =>
    [...document.querySelectorAll('#device option')].find((o) => o.textContent.includes('(pen)'))?.value);
  if (pen) await page.selectOption('#device', pen);
  await page.fill('#passes', '2');
  const tMine = Date.now();
  await page.evaluate(() => { document.body.dataset.state = ''; });
  await page.click('#run');
  await page.waitForFunction(
    () => document.body.dataset.state === 'done' || !document.querySelector('#error').hidden, null,
    { timeout: 900000 });
  const mineWall = (Date.now() - tMine) / 1000;
  const mine = await page.evaluate(() => document.querySelector('#summary').textContent);
  if (!mine.startsWith('Your protocol:')) fail(`my protocol's summary: ${mine}`);

  // My protocol with a roller (advised for this patient, so exported) and an uploaded height map.
  await page.selectOption('#device', 'roller_192_mf8');
  await page.selectOption('#setting', '1');
  await page.fill('#passes', '4');
  await page.fill('#sessions', '2');
  // A height map that is not numbers: the reader's message, the file field marked.
  await page.setInputFiles('#heightmap', { name: 'scan.csv', mimeType: 'text/csv',
                                           buffer: Buffer.from('1, 2, 3\n4, five, 6\n') });
  await page.fill('#hm-pixel', '250');
  await page.fill('#hm-scale', '0.1');
  await page.click('#run');
  await page.waitForSelector('#error:not([hidden])', { timeout: 30000 });
  const badMap = await page.evaluate(() => ({
    text: document.querySelector('#error').textContent,
    invalid: document.querySelector('#heightmap').getAttribute('aria-invalid'),
  }));
  if (!badMap.text.includes('uploaded height map:2:4: heightmap:') || badMap.invalid !== 'true')
    fail(`a bad height map: ${JSON.stringify(badMap)}`);
  // A good one: a 12 x 12 CSV map, a 1 mm pit 0.3 mm deep (levels of 0.1 um).
  const rows = [];
  for (let r = 0; r < 12; ++r) {
    rows.push(Array.from({ length: 12 }, (_, c) => (Math.floor(r / 4) === 1 && Math.floor(c / 4) === 1 ? 2000 : 5000)).join(','));
  }
  const mapCsv = `${rows.join('\n')}\n`;
  await page.setInputFiles('#heightmap', { name: 'scan.csv', mimeType: 'text/csv', buffer: Buffer.from(mapCsv) });
  await page.evaluate(() => { document.body.dataset.state = ''; });
  await page.click('#run');
  await page.waitForFunction(
    () => document.body.dataset.state === 'done' || !document.querySelector('#error').hidden, null,
    { timeout: 900000 });
  const withMap = await page.evaluate(async () => {
    const a = document.querySelector('#export-map');
    const toml = await (await fetch(document.querySelector('#export-toml').href)).text();
    return { drawn: document.querySelector('#illustration').textContent.includes('height map'),
             visible: !a.hidden, map: a.hidden ? '' : await (await fetch(a.href)).text(), toml };
  });
  if (!withMap.drawn) fail('the illustration does not draw the height map');
  if (!withMap.visible || withMap.map !== mapCsv) fail('the height map is not exported as uploaded');
  if (!withMap.toml.includes('[surface]\nfile = "consultation_heightmap.csv"'))
    fail(`the scenario with a height map: ${withMap.toml.slice(0, 300)}`);
  await page.locator('#illustration').screenshot({ path: path.join(outDir, 'serve_heightmap.png') });

  for (const u of foreign) fail(`request outside the server: ${u}`);
  // Two refused on purpose: age 300, the height map that is not numbers.
  if (refused.length > 2) fail(`${refused.length} refused requests: ${refused.join(' | ')}`);
  console.log(`serve_browser_test: time to interactive ${ttiPage} ms (page clock), ${ttiWall} ms ` +
              `(test clock); plan answer ${answerPage} s (page), ${answerWall.toFixed(2)} s (test ` +
              `clock), progress bar seen: ${sawProgress}; my protocol answered in ` +
              `${mineWall.toFixed(2)} s`);
  console.log(`serve_browser_test: ${reached.size} elements reached with Tab, ${res.ranked} ` +
              `ranked protocols, ${res.safety.length} safety flags, figure colours ` +
              `${JSON.stringify(colours)}; print: consultation ${pages} A4 page(s), printable ` +
              `export ${exportPages} page(s); screenshots and PDFs in ${outDir}`);
} catch (e) {
  fail(`browser test crashed: ${e.stack ?? e}`);
} finally {
  if (context) await context.close().catch(() => {});
  fs.rmSync(userDataDir, { recursive: true, force: true });
}

const secs = ((Date.now() - started) / 1000).toFixed(1);
if (failures.length) {
  for (const f of failures) console.error(`FAIL: ${f}`);
  console.error(`serve_browser_test: ${failures.length} failure(s) in ${secs} s`);
  process.exit(1);
}
console.log(`serve_browser_test: OK in ${secs} s`);
