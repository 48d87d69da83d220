// Opens the page of `mnsim plan --html` from disk in headless Debian Chromium (via
// playwright-core) and checks that it works offline, shows what it should and prints on A4:
//   - no console errors, no page errors, no dialogs, no <script> element, no network request
//     other than the file itself (any other is aborted);
//   - the hostile plan title is shown as literal text;
//   - the sections patient, search, ranked and calendar are there, the ranked table has rows,
//     every column heading has its entry in the legend, and the calendar shows the start date;
//   - in print (media print, the width of an A4 page less its margins) nothing is wider than the
//     page; the page prints to an A4 PDF;
//   - a full-page screenshot and the PDF are written to OUTDIR.
// Usage: node plan_browser_test.mjs PLAN_HTML OUTDIR TITLE_SUBSTRING START_DATE
// Environment: MNSIM_CHROMIUM overrides the browser (default /usr/bin/chromium).
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [pageArg, outArg, expectTitle, startDate] = process.argv.slice(2);
if (!pageArg || !outArg || !expectTitle || !startDate) {
  console.error('usage: node plan_browser_test.mjs PLAN_HTML OUTDIR TITLE_SUBSTRING START_DATE');
  process.exit(2);
}
const file = path.resolve(pageArg);
const outDir = path.resolve(outArg);
const browserPath = process.env.MNSIM_CHROMIUM || '/usr/bin/chromium';
const url = pathToFileURL(file).href;
// A4 is 210 mm wide; the page's @page margins are 12 mm each side: 186 mm at 96 px per inch.
const printWidth = Math.floor((186 / 25.4) * 96);

const failures = [];
const fail = (msg) => failures.push(msg);
const started = Date.now();

fs.mkdirSync(outDir, { recursive: true });
const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mnsim-chromium-'));
let context;
try {
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: browserPath,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1200, height: 900 },
    offline: true,
  });
  const requests = [];
  await context.route('**/*', (route) => {
    const u = route.request().url();
    if (u === url || u.startsWith('data:')) return route.continue();
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
  const resp = await page.goto(url, { waitUntil: 'load', timeout: 30000 });
  if (!resp) fail('no response for the page');

  const info = await page.evaluate(() => ({
    title: document.title,
    h1: document.querySelector('h1')?.textContent ?? null,
    scripts: document.scripts.length,
    sections: [...document.querySelectorAll('section')].map((s) => s.id),
    heads: [...document.querySelectorAll('table.plan thead th')].map((t) => t.textContent),
    rows: document.querySelectorAll('table.plan tbody tr').length,
    legend: [...document.querySelectorAll('dl.legend dt')].map((t) => t.textContent),
    calendar: document.querySelector('#calendar')?.textContent ?? '',
  }));
  if (info.scripts !== 0) fail(`${info.scripts} <script> element(s) in the page`);
  if (info.h1 === null || !info.h1.includes(expectTitle))
    fail(`<h1> does not show the title as text: ${JSON.stringify(info.h1)}`);
  if (!info.title.includes(expectTitle))
    fail(`document title does not contain the title text: ${JSON.stringify(info.title)}`);
  for (const id of ['patient', 'search', 'ranked', 'calendar']) {
    if (!info.sections.includes(id)) fail(`no section #${id}`);
  }
  if (info.rows === 0) fail('the ranked table has no rows');
  // Each heading's words are in a legend term ("Sessions" in "Sessions; weeks between ...").
  const words = (s) => s.toLowerCase().replace(/[^a-z ]/g, ' ').split(/\s+/).filter(Boolean);
  for (const h of info.heads) {
    const key = words(h).slice(0, 2).join(' ');
    if (!info.legend.some((t) => words(t).join(' ').includes(key)))
      fail(`column "${h}" has no entry in the legend [${info.legend.join(' | ')}]`);
  }
  if (!info.calendar.includes(startDate)) fail(`the calendar does not show ${startDate}`);

  const shot = path.join(outDir, 'plan_screenshot.png');
  await page.screenshot({ path: shot, fullPage: true });

  // Print: the width of an A4 page less its margins; nothing may stick out.
  await page.emulateMedia({ media: 'print' });
  await page.setViewportSize({ width: printWidth, height: 1000 });
  const print = await page.evaluate(() => {
    const wide = [];
    const limit = document.documentElement.clientWidth;
    for (const el of document.querySelectorAll('table, pre, h1, p, dl')) {
      const r = el.getBoundingClientRect();
      if (r.right > limit + 1) wide.push(`${el.tagName.toLowerCase()} ${Math.round(r.right)}`);
    }
    return { limit, scroll: document.documentElement.scrollWidth, wide };
  });
  if (print.scroll > print.limit + 1 || print.wide.length)
    fail(`in print, wider than the ${print.limit} px of an A4 page: ` +
         `${print.scroll} px [${print.wide.join(', ')}]`);
  const pdf = path.join(outDir, 'plan.pdf');
  await page.pdf({ path: pdf, preferCSSPageSize: true });
  const head = fs.readFileSync(pdf).subarray(0, 5).toString();
  if (head !== '%PDF-') fail('no PDF written');

  const foreign = requests.filter((u) => u !== url && !u.startsWith('data:'));
  for (const u of foreign) fail(`network request: ${u}`);
  console.log(
    `plan_browser_test: sections [${info.sections.join(', ')}], ${info.rows} ranked rows, ` +
      `${info.heads.length} columns, print width ${print.scroll}/${print.limit} px, ` +
      `${requests.length} request(s), screenshot ${shot}, PDF ${pdf}`,
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
  console.error(`plan_browser_test: ${failures.length} failure(s) in ${secs} s`);
  process.exit(1);
}
console.log(`plan_browser_test: OK in ${secs} s`);
