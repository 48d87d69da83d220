// The consultation page of `mnsim serve` (docs/serve.md): builds the form from /api/options,
// sends it to /api/consult as JSON, follows the job's progress and shows the result. Every text
// from the server is set as text (textContent), never as HTML.
'use strict';

const $ = (id) => document.getElementById(id);
const SVG = 'http://www.w3.org/2000/svg';
let options = null;
let scarCount = 0;

const words = (key) => key.replace(/_/g, ' ');
const fmt = (x, d = 0) => Number(x).toFixed(d);

function el(tag, attrs = {}, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

function svgEl(tag, attrs = {}, text) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

function option(select, value, label, selected = false) {
  const o = el('option', { value }, label);
  if (selected) o.selected = true;
  select.append(o);
}

// ---------------------------------------------------------------- the form

const defaultInventory = { boxcar_shallow: 2, rolling: 2, icepick: 1 };

function buildForm() {
  for (const s of options.sites) option($('site'), s.key, s.name, s.key === 'medial_cheek');
  for (const s of options.sexes) option($('sex'), s, s, s === 'female');
  const inv = $('inventory-rows');
  for (const c of options.inventory_classes) {
    const row = el('div', { class: 'row' });
    const id = `inv-${c}`;
    row.append(el('label', { for: id }, `${words(c)} scars`));
    const input = el('input', { id, type: 'number', min: '0', max: '1000', step: '1',
                                'data-class': c });
    input.value = String(defaultInventory[c] ?? 0);
    row.append(input);
    inv.append(row);
  }
  for (const d of options.devices) option($('device'), d.model, `${words(d.model)} (${d.kind})`);
  $('device').addEventListener('change', fillSettings);
  fillSettings();
  for (const r of document.querySelectorAll('input[name=mode]')) r.addEventListener('change', showMode);
  $('add-scar').addEventListener('click', () => addScar());
  $('consult').addEventListener('submit', (ev) => { ev.preventDefault(); submit(); });
  $('print').addEventListener('click', () => window.print());
  showMode();
}

function fillSettings() {
  const d = options.devices.find((x) => x.model === $('device').value);
  const sel = $('setting');
  sel.replaceChildren();
  $('setting-label').textContent = d && d.setting === 'depth' ? 'Depth setting (mm)' : 'Needle length (mm)';
  if (!d || !d.setting) {
    option(sel, '', 'as catalogued', true);
    sel.disabled = true;
    return;
  }
  sel.disabled = false;
  d.settings_mm.forEach((mm, i) => option(sel, String(mm), `${fmt(mm, 2)} mm`,
                                           i === Math.floor(d.settings_mm.length / 2)));
}

function showMode() {
  const plan = $('mode-plan').checked;
  $('plan-fields').hidden = !plan;
  $('protocol-fields').hidden = plan;
}

function addScar() {
  const n = ++scarCount;
  const row = el('div', { class: 'scar', id: `scar-${n}` });
  const kind = el('select', { id: `scar-${n}-kind` });
  for (const k of options.scar_kinds) option(kind, k, words(k));
  const depth = el('input', { id: `scar-${n}-depth`, type: 'number', min: '0.01', max: '5',
                              step: '0.01', value: '0.3' });
  const width = el('input', { id: `scar-${n}-width`, type: 'number', min: '0.1', max: '20',
                              step: '0.1', value: '2' });
  const tether = el('input', { id: `scar-${n}-tether`, type: 'checkbox' });
  const remove = el('button', { type: 'button', id: `scar-${n}-remove`,
                                 'aria-label': `Remove measured scar ${n}` }, 'Remove');
  remove.addEventListener('click', () => row.remove());
  row.append(el('label', { for: kind.id }, `Scar ${n} type`), kind,
             el('label', { for: depth.id }, 'depth (mm)'), depth,
             el('label', { for: width.id }, 'width (mm)'), width,
             tether, el('label', { for: tether.id }, 'tethered (rolling)'), remove);
  $('scar-rows').append(row);
  kind.focus();
}

// The chosen height map file, or null.
function heightMap() {
  const f = $('heightmap').files;
  return f && f.length ? f[0] : null;
}

function number(id) {
  const v = $(id).value.trim();
  return v === '' ? null : Number(v);
}

// The request: the keys of a planner patient file (docs/cohort.md) and of a cohort's [protocol].
function request() {
  const mode = $('mode-protocol').checked ? 'protocol' : 'plan';
  const body = {
    mode,
    patient: { site: $('site').value, age: `${$('age').value} years`, sex: $('sex').value,
               fitzpatrick: Number($('fitzpatrick').value) },
    search: { follow_up: `${$('follow-up').value} weeks` },
  };
  const inventory = {};
  for (const i of document.querySelectorAll('#inventory-rows input')) {
    const n = i.value.trim() === '' ? 0 : Number(i.value);
    if (n !== 0) inventory[i.dataset.class] = Number.isInteger(n) ? n : i.value;
  }
  body.inventory = inventory;
  const scars = [];
  for (const row of document.querySelectorAll('#scar-rows .scar')) {
    const n = row.id.slice('scar-'.length);
    const s = { kind: $(`scar-${n}-kind`).value, depth: `${$(`scar-${n}-depth`).value} mm`,
                width: `${$(`scar-${n}-width`).value} mm` };
    if (s.kind === 'rolling') s.tether = $(`scar-${n}-tether`).checked;
    scars.push(s);
  }
  if (scars.length) body.scars = scars;
  if (heightMap()) {
    body.surface = { pixel_size: `${$('hm-pixel').value} um`, height_scale: `${$('hm-scale').value} um` };
  }
  const start = $('start-date').value;
  if (start) body.start_date = start;
  if (mode === 'plan') {
    body.search.sessions_max = number('sessions-max');
    // Quick: a bounded search that answers in about 10 s on two cores (docs/serve.md, "Speed");
    // full: the planner's defaults (`mnsim plan`).
    if ($('search-size').value === 'quick') Object.assign(body.search, { expand: 2, top: 3, replicates: 10, posterior_draws: 10 });
    body.constraints = { erythema_cap: `${$('erythema-cap').value} days` };
    const pih = number('pih-cap');
    if (pih !== null) body.constraints.pih_cap = pih / 100;
  } else {
    const d = options.devices.find((x) => x.model === $('device').value);
    const device = { kind: d.kind, model: d.model };
    if (d.setting) device[d.setting] = `${$('setting').value} mm`;
    body.protocol = { device, technique: { passes: number('passes') },
                      sessions: number('sessions'), interval: `${$('interval').value} weeks` };
  }
  return body;
}

// A message's key ("patient.age", "scars[0].depth") to the input that holds it.
function fieldOf(key) {
  const direct = { 'patient.site': 'site', 'patient.age': 'age', 'patient.sex': 'sex',
                   'patient.fitzpatrick': 'fitzpatrick', 'search.follow_up': 'follow-up',
                   'search.sessions_max': 'sessions-max', 'constraints.erythema_cap': 'erythema-cap',
                   'constraints.pih_cap': 'pih-cap', 'protocol.technique.passes': 'passes',
                   'protocol.sessions': 'sessions', 'protocol.interval': 'interval',
                   start_date: 'start-date', heightmap: 'heightmap', surface: 'heightmap',
                   'surface.pixel_size': 'hm-pixel', 'surface.height_scale': 'hm-scale' };
  if (direct[key]) return $(direct[key]);
  let m = key.match(/^inventory\.(\w+)$/);
  if (m) return $(`inv-${m[1]}`);
  m = key.match(/^scars\[(\d+)\]\.(\w+)$/);
  if (m) {
    const row = document.querySelectorAll('#scar-rows .scar')[Number(m[1])];
    if (row) return $(`${row.id}-${m[2] === 'tether' ? 'tether' : m[2]}`);
  }
  if (key.startsWith('protocol.device')) return $('setting');
  return null;
}

function showError(message, key) {
  const box = $('error');
  box.textContent = message;
  box.hidden = false;
  const f = key ? fieldOf(key) : null;
  if (f) {
    f.setAttribute('aria-invalid', 'true');
    f.setAttribute('aria-describedby', 'error');
    f.focus();
  }
}

// ---------------------------------------------------------------- running a job

let submittedAt = 0;

async function submit() {
  $('error').hidden = true;
  for (const f of document.querySelectorAll('[aria-invalid]')) {
    f.removeAttribute('aria-invalid');
    f.removeAttribute('aria-describedby');
  }
  $('result').hidden = true;
  $('run').disabled = true;
  submittedAt = performance.now();
  try {
    // With a height map: a multipart form of the request and the file; else the JSON alone.
    const map = heightMap();
    let init;
    if (map) {
      const form = new FormData();
      form.append('request', JSON.stringify(request()));
      form.append('heightmap', map, map.name);
      init = { method: 'POST', body: form };
    } else {
      init = { method: 'POST', headers: { 'Content-Type': 'application/json' },
               body: JSON.stringify(request()) };
    }
    const res = await fetch('/api/consult', init);
    const j = await res.json();
    if (res.status !== 202) {
      showError(j.error || `error ${res.status}`, j.key);
      $('run').disabled = false;
      return;
    }
    $('progress-box').hidden = false;
    $('progress').value = 0;
    $('progress-label').textContent = 'Queued…';
    poll(j.progress);
  } catch (e) {
    showError(`The server did not answer: ${e.message}`);
    $('run').disabled = false;
  }
}

async function poll(url) {
  let j;
  try {
    const res = await fetch(url, { cache: 'no-store' });
    j = await res.json();
    if (!res.ok) throw new Error(j.error || `error ${res.status}`);
  } catch (e) {
    showError(`Lost the consultation: ${e.message}`);
    $('progress-box').hidden = true;
    $('run').disabled = false;
    return;
  }
  $('progress').value = j.fraction;
  $('progress-label').textContent = j.state === 'queued' ? 'Queued…'
    : `Working: ${j.stage || 'starting'} (${fmt(100 * j.fraction)}%)`;
  if (j.state === 'done' || j.state === 'failed') {
    $('progress-box').hidden = true;
    $('run').disabled = false;
    if (j.state === 'failed') { showError(j.error); return; }
    const seconds = (performance.now() - submittedAt) / 1000;
    document.body.dataset.answerSeconds = seconds.toFixed(2);
    show(j, seconds);
    return;
  }
  setTimeout(() => poll(url), 250);
}

// ---------------------------------------------------------------- the result

function show(job, seconds) {
  const r = job.result;
  $('summary').textContent = r.summary;
  $('disclaimer').textContent = `Disclaimer: ${r.disclaimer}`;
  $('export-html').href = job.consultation_html;
  const toml = $('export-toml');
  toml.hidden = !job.scenario_toml;
  if (job.scenario_toml) toml.href = job.scenario_toml;
  $('export-note').textContent = job.scenario_toml ? ''
    : 'No scenario to export: no protocol is advised.';
  const map = $('export-map');
  map.hidden = !job.heightmap_file;
  if (job.heightmap_file) map.href = job.heightmap_file;
  const safety = $('safety');
  safety.replaceChildren();
  for (const f of r.safety ?? []) safety.append(el('li', { class: f.level }, f.text));
  if (r.shown) {
    safety.append(el('li', { class: 'ok' },
      `Skin barrier recovers in about ${fmt(r.shown.barrier_hours)} hours after each session.`));
  }
  drawCourse(r);
  drawScars(r);
  const cal = $('calendar').tBodies[0];
  cal.replaceChildren();
  for (const v of r.calendar ?? []) {
    const tr = el('tr');
    tr.append(el('td', {}, v.visit), el('td', {}, v.date ?? '(no start date)'),
              el('td', {}, String(v.day)), el('td', {}, v.week));
    cal.append(tr);
  }
  const s = r.search;
  $('search').textContent = r.mode === 'plan'
    ? `${s.searched} protocols searched (${s.device_settings} device settings at 3 sessions 4 weeks ` +
      `apart, then the ${s.expand} best over every course). Left out: ${s.excluded_past_dermis} ` +
      `reaching past the dermis, ${s.excluded_no_puncture} not puncturing, ${s.excluded_pih} over ` +
      `the dark-mark risk limit (${fmt(s.pih_cap_pct, 1)}%), ${s.excluded_erythema} over the ` +
      `redness limit (${s.erythema_cap}).`
    : 'Your protocol only (choose "Plan for me" to compare protocols).';
  const tb = $('ranked').tBodies[0];
  tb.replaceChildren();
  r.ranked.forEach((e, i) => {
    const tr = el('tr');
    tr.append(el('td', {}, String(i + 1)), el('td', {}, e.device), el('td', {}, String(e.passes)),
              el('td', {}, e.course), el('td', {}, `${fmt(e.depth_reached_mm, 2)} mm`),
              el('td', {}, `${fmt(e.scar_depth_reduction_pct, 1)}% (${fmt(e.band_p10, 1)}–${fmt(e.band_p90, 1)}%)`),
              el('td', {}, e.erythema), el('td', {}, `${fmt(e.pih_risk_pct, 1)}%`));
    tb.append(tr);
  });
  $('ranked-box').hidden = r.ranked.length === 0 && r.mode === 'protocol';
  $('bands').textContent = `${r.bands.available}`;
  $('result').hidden = false;
  $('result').focus();
  document.body.dataset.state = 'done';
  console.log(`mnsim: answer in ${seconds.toFixed(2)} s`);
}

function drawCourse(r) {
  const svg = $('course-chart');
  svg.replaceChildren();
  const pts = r.course ?? [];
  if (!pts.length) {
    $('course-caption').textContent = 'No protocol to show.';
    return;
  }
  const W = 640, H = 260, L = 56, R = 16, T = 16, B = 44;
  const xmax = Math.max(...pts.map((p) => p.weeks_after_first_session)) * 1.05;
  const highs = pts.flatMap((p) => [p.parameter_band?.p90 ?? 0, p.variability_band?.p90 ?? 0]);
  const ymax = Math.max(10, r.shown.band_p90 ?? 0, ...highs,
                        ...pts.map((p) => p.scar_depth_reduction_pct)) * 1.15;
  const x = (w) => L + (W - L - R) * (w / xmax);
  const y = (v) => H - B - (H - T - B) * (v / ymax);
  svg.append(svgEl('line', { x1: L, y1: H - B, x2: W - R, y2: H - B, stroke: '#555' }),
             svgEl('line', { x1: L, y1: T, x2: L, y2: H - B, stroke: '#555' }));
  const step = ymax > 60 ? 20 : ymax > 25 ? 10 : 5;
  for (let v = 0; v <= ymax; v += step) {
    svg.append(svgEl('line', { x1: L - 4, y1: y(v), x2: W - R, y2: y(v), stroke: '#e3e7eb' }),
               svgEl('text', { x: L - 8, y: y(v) + 4, 'text-anchor': 'end' }, `${v}%`));
  }
  const xstep = xmax > 60 ? 12 : xmax > 24 ? 4 : 2;
  for (let w = 0; w <= xmax; w += xstep) {
    svg.append(svgEl('text', { x: x(w), y: H - B + 16, 'text-anchor': 'middle' }, String(w)));
  }
  svg.append(svgEl('text', { x: (L + W - R) / 2, y: H - 8, 'text-anchor': 'middle' },
                   'weeks after the first session'),
             svgEl('text', { x: 14, y: (T + H - B) / 2, 'text-anchor': 'middle',
                             transform: `rotate(-90 14 ${(T + H - B) / 2})` }, 'scar depth reduction'));
  // Sessions as marks on the time axis.
  for (const v of r.calendar ?? []) {
    if (!v.visit.startsWith('Session')) continue;
    svg.append(svgEl('path', { d: `M${x(v.day / 7)} ${H - B} l-5 9 h10 z`, fill: '#0b5cad' }));
  }
  // From the first session to the first outcome time the model gives no values: a dashed line.
  const first = pts[0];
  svg.append(svgEl('line', { x1: x(0), y1: y(0), x2: x(first.weeks_after_first_session),
                             y2: y(first.scar_depth_reduction_pct), stroke: '#0b5cad',
                             'stroke-width': 1.5, 'stroke-dasharray': '4 4' }));
  // The two predictive bands over the course, kept apart: parameter uncertainty (blue, hatched
  // by its outline) and patient variability (orange).
  const area = (key, fill, stroke) => {
    const b = pts.filter((p) => p[key]);
    if (b.length < 2) return;
    const up = b.map((p) => `${x(p.weeks_after_first_session)},${y(p[key].p90)}`);
    const down = b.map((p) => `${x(p.weeks_after_first_session)},${y(p[key].p10)}`).reverse();
    svg.append(svgEl('polygon', { points: [...up, ...down].join(' '), fill, stroke,
                                  'fill-opacity': 0.22, 'stroke-dasharray': '3 3' }));
  };
  area('parameter_band', '#0b5cad', '#0b5cad');
  area('variability_band', '#f08c00', '#b86600');
  const line = pts.map((p) => [p.weeks_after_first_session, p.scar_depth_reduction_pct]);
  svg.append(svgEl('polyline', { points: line.map(([a, b]) => `${x(a)},${y(b)}`).join(' '),
                                 fill: 'none', stroke: '#0b5cad', 'stroke-width': 2.5 }));
  for (const p of pts) {
    svg.append(svgEl('circle', { cx: x(p.weeks_after_first_session), cy: y(p.scar_depth_reduction_pct),
                                 r: p.headline ? 5 : 3, fill: p.headline ? '#0b5cad' : '#fff',
                                 stroke: '#0b5cad', 'stroke-width': 2 }));
  }
  const h = pts.find((p) => p.headline);
  if (h && r.shown.band_p10 != null) {
    const cx = x(h.weeks_after_first_session);
    svg.append(svgEl('line', { x1: cx, y1: y(r.shown.band_p10), x2: cx, y2: y(r.shown.band_p90),
                               stroke: '#f08c00', 'stroke-width': 4, 'stroke-linecap': 'round',
                               opacity: 0.8 }),
               svgEl('text', { x: Math.min(cx + 8, W - 150), y: y(r.shown.band_p90) - 6 },
                     `patients ${fmt(r.shown.band_p10)}–${fmt(r.shown.band_p90)}%`));
  }
  $('course-caption').textContent =
    `Predicted mean scar depth reduction (%) against weeks after the first session, from 2 to ` +
    `52 weeks after the last session (dots; dashed: during the course, not computed); ` +
    `triangles: sessions; filled dot: the outcome assessment, ${fmt(r.follow_up_weeks)} weeks ` +
    `after the last session. Two ranges, 8 in 10 of the repeats inside each: orange, patients ` +
    `like this one who heal faster or slower; blue, the model's fitted values drawn from what ` +
    `the published studies leave open (the model's own uncertainty).`;
}

function drawScars(r) {
  const svg = $('illustration');
  svg.replaceChildren();
  const scars = (r.scars ?? []).slice(0, 6);
  if (!scars.length) {
    $('illustration-caption').textContent = 'No scars to show.';
    return;
  }
  const W = 640, top = 70, n = scars.length, cell = W / n;
  const deepest = Math.max(...scars.map((s) => s.depth_before_um), 1);
  const scale = 90 / deepest;  // px per µm: the deepest scar 90 px deep
  const shape = (s, depth, cx) => {
    const half = Math.min(cell * 0.42, 18 + 8 * s.width_mm);
    const d = depth * scale;
    if (s.profile_before_um) {
      // An uploaded height map: its measured row, scaled to the depth drawn.
      const p = s.profile_before_um, k = s.depth_before_um > 0 ? depth / s.depth_before_um : 0;
      const x = (i) => cx - half + (2 * half * (i + 0.5)) / p.length;
      return `M${cx - cell / 2} ${top} H${x(0)} ` +
             p.map((v, i) => `L${x(i)} ${top + v * k * scale}`).join(' ') + ` L${x(p.length - 1)} ${top} H${cx + cell / 2}`;
    }
    if (s.kind === 'icepick') {
      return `M${cx - cell / 2} ${top} H${cx - half * 0.35} L${cx} ${top + d} L${cx + half * 0.35} ${top} H${cx + cell / 2}`;
    }
    if (s.kind.startsWith('boxcar')) {
      return `M${cx - cell / 2} ${top} H${cx - half} V${top + d} H${cx + half} V${top} H${cx + cell / 2}`;
    }
    return `M${cx - cell / 2} ${top} H${cx - half} C${cx - half / 2} ${top}, ${cx - half / 2} ${top + d}, ${cx} ${top + d} ` +
           `C${cx + half / 2} ${top + d}, ${cx + half / 2} ${top}, ${cx + half} ${top} H${cx + cell / 2}`;
  };
  scars.forEach((s, i) => {
    const cx = cell * (i + 0.5);
    svg.append(svgEl('path', { d: shape(s, s.depth_before_um, cx), fill: 'none', stroke: '#8c959f',
                               'stroke-width': 2, 'stroke-dasharray': '5 4' }),
               svgEl('path', { d: shape(s, s.depth_after_um, cx), fill: 'none', stroke: '#0b5cad',
                               'stroke-width': 2.5 }),
               svgEl('text', { x: cx, y: 20, 'text-anchor': 'middle' },
                     s.kind === 'measured' ? 'height map' : s.kind),
               svgEl('text', { x: cx, y: 36, 'text-anchor': 'middle' }, `${fmt(s.width_mm, 1)} mm wide`),
               svgEl('text', { x: cx, y: 180, 'text-anchor': 'middle' },
                     `${fmt(s.depth_before_um)} → ${fmt(s.depth_after_um)} µm`));
  });
  $('illustration-caption').textContent =
    'Cross-sections of the scars (up to six): dashed grey before treatment, solid blue at the ' +
    'outcome assessment, with their depth before → after. Depths are drawn to one scale (the ' +
    'deepest scar 90 px), widths are not to scale.' +
    (scars.some((s) => s.profile_before_um)
      ? ' The height map is drawn as its row through its deepest point; after treatment, that ' +
        'row scaled to the predicted depth (the model predicts the depth, not the shape).'
      : '');
}

// ---------------------------------------------------------------- start

async function start() {
  try {
    const res = await fetch('/api/options', { cache: 'no-store' });
    options = await res.json();
    buildForm();
    // Time to interactive (ms since navigation start): read by the browser test.
    document.body.dataset.readyMs = String(Math.round(performance.now()));
    document.body.dataset.ready = 'true';
  } catch (e) {
    showError(`The form could not be built: ${e.message}`);
  }
}

start();
