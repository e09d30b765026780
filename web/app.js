// lote's dashboard (docs/dashboard.md). One script for every page: it reads
// location.pathname and draws from the REST API, authenticated by the
// session cookie that `lote dashboard`'s login link set.
//
// Everything shown from the API (names, file names, errors, log lines) goes
// into the page as text (textContent, text nodes, attribute values built
// here), never as HTML: names are hostile.
'use strict';

const POLL_MS = 1500;
const TERMINAL = new Set(['Completed', 'Failed', 'Canceled']);
const STATUSES = ['NotStarted', 'Preparing', 'Running', 'Finalizing', 'CancelRequested', 'Completed', 'Failed',
  'Canceled'];
const SVG_NS = 'http://www.w3.org/2000/svg';
const MAX_BARS = 300;
const MAX_LOG_CHUNKS = 200;
// Failed items kept on the page; the rest are counted ("N more") and listed by
// GET /api/v1/jobs/{job}/failed-items.
const MAX_FAILED_SHOWN = 500;

let session = null;  // {csrf_token, read_only, expires_at}

// el('div', {class: 'x'}, 'text', child…): strings become text nodes.
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

function svg(tag, attrs) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
  return node;
}

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// fetch + JSON, with the session's CSRF token on anything that changes state.
async function api(path, options = {}) {
  const method = options.method || 'GET';
  const headers = {Accept: 'application/json'};
  if (method !== 'GET' && session) headers['X-CSRF-Token'] = session.csrf_token;
  const res = await fetch(path, {method, headers, credentials: 'same-origin', cache: 'no-store'});
  const text = await res.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch (e) { body = null; }
  if (!res.ok) {
    const msg = body && body.error && body.error.message ? body.error.message : `HTTP ${res.status}`;
    throw new ApiError(res.status, msg);
  }
  return body;
}

function jobPath(name) { return '/api/v1/jobs/' + encodeURIComponent(name); }
function jobPageHref(name) { return '/jobs/' + encodeURIComponent(name); }
function filePath(job, rel) { return jobPath(job) + '/files/' + rel.split('/').map(encodeURIComponent).join('/'); }

function statusBadge(status) {
  return el('span', {class: 'badge status-' + String(status).toLowerCase(), 'data-status': status}, status);
}

function fmtDuration(s) {
  if (s === undefined || s === null || !isFinite(s)) return '–';
  s = Math.round(s);
  if (s < 60) return s + ' s';
  if (s < 3600) return Math.floor(s / 60) + ' min ' + (s % 60) + ' s';
  return Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min';
}

function fmtBytes(n) {
  if (typeof n !== 'number') return '';
  if (n < 1024) return n + ' B';
  if (n < 1 << 20) return (n / 1024).toFixed(1) + ' KiB';
  if (n < 1 << 30) return (n / (1 << 20)).toFixed(1) + ' MiB';
  return (n / (1 << 30)).toFixed(2) + ' GiB';
}

function num(v) { return typeof v === 'number' && isFinite(v) ? v : 0; }

// Mini-batches that have ended (succeeded, failed, canceled, not run) out of all.
function progressOf(job) {
  const mb = (job.progress && job.progress.mini_batches) || {};
  const total = num(mb.total);
  const ended = num(mb.succeeded) + num(mb.failed) + num(mb.canceled) + num(mb.not_run);
  return {total, ended: Math.min(ended, total), mb, items: (job.progress && job.progress.items) || {}};
}

function progressBar(job, id) {
  const p = progressOf(job);
  const bar = el('progress', {id, max: Math.max(p.total, 1), value: p.ended});
  bar.title = `${p.ended} of ${p.total} mini-batches`;
  return bar;
}

function setMain(...children) {
  const main = document.getElementById('main');
  main.replaceChildren(...children);
}

function showError(where, err) {
  where.replaceChildren(el('p', {class: 'error', role: 'alert'}, String(err.message || err)));
}

// ---------------------------------------------------------------- login

function renderLoginHelp(reason) {
  document.getElementById('who').textContent = '';
  setMain(el('section', {class: 'login-help', id: 'login-help'},
    el('h1', {}, 'Log in to the lote dashboard'),
    el('p', {}, reason),
    el('p', {}, 'On the machine where lote runs, run:'),
    el('pre', {}, 'lote dashboard'),
    el('p', {}, 'and open the URL it prints (it works once, within a minute). ',
      'A read-only login: ', el('code', {}, 'LOTE_TOKEN=$(lote token create --scope read) lote dashboard'), '.'),
    el('p', {class: 'muted'}, 'To land on this page: ',
      el('code', {}, 'lote dashboard --job <job>'), ' or ', el('code', {}, 'lote job show --name <job> --web'), '.')));
}

// ---------------------------------------------------------------- jobs

async function renderJobs(withEndpoints) {
  const params = new URLSearchParams(location.search);
  const filter = el('select', {id: 'status-filter', 'aria-label': 'Status'},
    el('option', {value: ''}, 'All statuses'),
    STATUSES.map((s) => el('option', {value: s}, s)));
  filter.value = params.get('status') || '';
  const table = el('div', {id: 'jobs'});
  const section = el('section', {},
    el('div', {class: 'row'}, el('h1', {}, 'Jobs'), el('label', {}, 'Status ', filter)), table);
  const endpoints = el('div', {id: 'endpoints'});
  setMain(...(withEndpoints ? [section, el('section', {}, el('h1', {}, 'Endpoints'), endpoints)] : [section]));
  filter.addEventListener('change', () => {
    const q = filter.value ? '?status=' + encodeURIComponent(filter.value) : '';
    history.replaceState(null, '', location.pathname + q);
    draw();
  });
  let jobs = [];
  const draw = () => {
    const shown = jobs.filter((j) => !filter.value || j.status === filter.value);
    if (!shown.length) {
      table.replaceChildren(el('p', {class: 'muted'}, filter.value ? `No ${filter.value} jobs.` : 'No jobs yet.'));
      return;
    }
    table.replaceChildren(el('table', {class: 'list'},
      el('thead', {}, el('tr', {}, ['Job', 'Status', 'Progress', 'Endpoint', 'Deployment', 'Created']
        .map((h) => el('th', {}, h)))),
      el('tbody', {}, shown.map((j) => {
        const p = progressOf(j);
        return el('tr', {'data-job': j.name},
          el('td', {}, el('a', {href: jobPageHref(j.name), class: 'job-link'}, j.name)),
          el('td', {}, statusBadge(j.status)),
          el('td', {}, progressBar(j), ' ', el('span', {class: 'muted'}, `${p.ended}/${p.total}`)),
          el('td', {}, j.endpoint || ''),
          el('td', {}, j.deployment || ''),
          el('td', {class: 'muted'}, j.created_at || ''));
      }))));
  };
  const refresh = async () => {
    try {
      const endpoint = params.get('endpoint');
      const list = await api('/api/v1/jobs' + (endpoint ? '?endpoint=' + encodeURIComponent(endpoint) : ''));
      jobs = Array.isArray(list) ? list : (list && list.value) || [];
      draw();
    } catch (e) {
      if (e.status === 401) return renderLoginHelp('Your session has ended.');
      showError(table, e);
    }
    setTimeout(refresh, POLL_MS * 2);
  };
  if (withEndpoints) renderEndpointsInto(endpoints);
  await refresh();
}

// ---------------------------------------------------------------- endpoints

function computeText(c) {
  if (typeof c === 'string') return c;
  if (!c || typeof c !== 'object') return '';
  const target = typeof c.target === 'string' ? c.target.replace(/^azureml:/, '') : '';
  return c.instance_count ? `${target} × ${c.instance_count}` : target;
}

async function renderEndpointsInto(where) {
  try {
    const list = await api('/api/v1/endpoints');
    const eps = Array.isArray(list) ? list : (list && list.value) || [];
    if (!eps.length) return where.replaceChildren(el('p', {class: 'muted'}, 'No endpoints yet.'));
    const cards = eps.map((ep) => {
      const deps = Array.isArray(ep.deployments) ? ep.deployments : [];
      const traffic = ep.traffic || {};
      const deflt = (ep.defaults && ep.defaults.deployment_name) || '';
      return el('div', {class: 'card', 'data-endpoint': ep.name},
        el('h2', {}, ep.name),
        ep.description ? el('p', {class: 'muted'}, ep.description) : null,
        ep.scoring_uri ? el('p', {class: 'muted'}, 'Invoke: ', el('code', {}, ep.scoring_uri)) : null,
        el('table', {class: 'list'},
          el('thead', {}, el('tr', {}, ['Deployment', 'Traffic', 'Default', 'Model', 'Compute']
            .map((h) => el('th', {}, h)))),
          el('tbody', {}, deps.map((d) => el('tr', {},
            el('td', {}, d.name),
            el('td', {}, traffic[d.name] !== undefined ? traffic[d.name] + ' %' : '–'),
            el('td', {}, d.name === deflt ? 'default' : ''),
            el('td', {}, typeof d.model === 'string' ? d.model : (d.model && (d.model.name || d.model.path)) || ''),
            el('td', {}, computeText(d.compute)))))),
        el('p', {}, el('a', {href: '/jobs?endpoint=' + encodeURIComponent(ep.name)}, 'Jobs')));
    });
    where.replaceChildren(...cards);
  } catch (e) {
    if (e.status === 401) return renderLoginHelp('Your session has ended.');
    showError(where, e);
  }
}

async function renderEndpoints() {
  const where = el('div', {id: 'endpoints'});
  setMain(el('section', {}, el('h1', {}, 'Endpoints'), where));
  await renderEndpointsInto(where);
}

// ---------------------------------------------------------------- charts

// A bar chart of values (one bar each) in an inline SVG; labels are text.
function barChart(values, opts) {
  const w = 560, h = 160, pad = 28;
  const s = svg('svg', {viewBox: `0 0 ${w} ${h}`, class: 'chart', role: 'img'});
  const title = svg('title', {});
  title.textContent = opts.title;
  s.append(title);
  const max = Math.max(1e-9, ...values);
  s.append(svg('line', {x1: pad, y1: h - pad, x2: w - 4, y2: h - pad, class: 'axis'}));
  const bw = values.length ? (w - pad - 8) / values.length : 0;
  values.forEach((v, i) => {
    const bh = (v / max) * (h - pad - 14);
    const r = svg('rect', {x: pad + i * bw + 0.5, y: h - pad - bh, width: Math.max(1, bw - 1), height: bh,
      class: opts.classOf ? opts.classOf(i) : 'bar'});
    const t = svg('title', {});
    t.textContent = opts.label(i, v);
    r.append(t);
    s.append(r);
  });
  const top = svg('text', {x: 2, y: 12, class: 'tick'});
  top.textContent = opts.format(max);
  const x0 = svg('text', {x: pad, y: h - 8, class: 'tick'});
  x0.textContent = opts.first || '';
  const x1 = svg('text', {x: w - 4, y: h - 8, class: 'tick', 'text-anchor': 'end'});
  x1.textContent = opts.last || '';
  s.append(top, x0, x1);
  if (!values.length) {
    const none = svg('text', {x: w / 2, y: h / 2, class: 'tick', 'text-anchor': 'middle'});
    none.textContent = 'no mini-batch has finished yet';
    s.append(none);
  }
  return s;
}

// Mini-batches finished per time bucket, from their start and duration.
function throughputSeries(batches, startMs, endMs) {
  const done = batches.filter((b) => (b.status === 'done' || b.status === 'failed') && b.started_ms > 0);
  if (!done.length) return {values: [], bucketS: 1};
  const first = startMs > 0 ? startMs : Math.min(...done.map((b) => b.started_ms));
  const last = Math.max(endMs, ...done.map((b) => b.started_ms + b.elapsed_ms));
  const spanS = Math.max(1, (last - first) / 1000);
  const bucketS = Math.max(1, Math.ceil(spanS / 60));
  const values = new Array(Math.max(1, Math.ceil(spanS / bucketS))).fill(0);
  for (const b of done) {
    const i = Math.min(values.length - 1, Math.max(0, Math.floor((b.started_ms + b.elapsed_ms - first) / 1000 / bucketS)));
    values[i] += 1 / bucketS;
  }
  return {values, bucketS};
}

// ---------------------------------------------------------------- one job

async function renderJob(name) {
  const head = el('div', {class: 'row'}, el('h1', {id: 'job-name'}, name));
  const statusEl = el('span', {id: 'job-status'});
  const cancel = el('button', {id: 'cancel', type: 'button', class: 'danger', hidden: true}, 'Cancel job');
  head.append(statusEl, cancel);
  const meta = el('p', {class: 'muted', id: 'job-meta'});
  const bar = el('progress', {id: 'job-progress', max: 1, value: 0});
  const barText = el('span', {id: 'job-progress-text', class: 'progress-text'});
  const counters = el('div', {id: 'counters', class: 'counters'});
  const error = el('p', {id: 'job-error', class: 'error', hidden: true});
  const tput = el('div', {class: 'chart-box', id: 'throughput-chart'});
  const durations = el('div', {class: 'chart-box', id: 'duration-chart'});
  const failed = el('div', {id: 'failed-items'});
  const files = el('div', {id: 'files'});
  const log = el('pre', {id: 'log', class: 'log'});
  setMain(
    el('p', {}, el('a', {href: '/jobs'}, '← Jobs')),
    head, meta, error,
    el('div', {class: 'progress-row'}, bar, barText),
    counters,
    el('div', {class: 'charts'},
      el('figure', {}, el('figcaption', {}, 'Throughput (mini-batches/s)'), tput),
      el('figure', {}, el('figcaption', {}, 'Mini-batch durations (s)'), durations)),
    el('h2', {}, 'Failed items'), failed,
    el('h2', {}, 'Files'), files,
    el('h2', {}, 'Log'), log);

  let job = null;
  let logOffset = 0;
  let batches = [];
  let batchAfter = 0;
  let lastFiles = '';
  let failures = [];
  let failuresAfter = 0;
  let failuresUnshown = 0;

  cancel.addEventListener('click', async () => {
    if (!confirm(`Cancel job ${name}? Mini-batches already done are kept.`)) return;
    cancel.disabled = true;
    try {
      await api(jobPath(name) + '/cancel', {method: 'POST'});
    } catch (e) {
      showError(error, e);
      error.hidden = false;
    }
  });

  const drawJob = () => {
    statusEl.replaceChildren(statusBadge(job.status));
    const p = progressOf(job);
    bar.max = Math.max(p.total, 1);
    bar.value = p.ended;
    const prog = job.progress || {};
    const pct = p.total ? Math.floor((100 * p.ended) / p.total) : 0;
    let text = `${p.ended} / ${p.total} mini-batches (${pct} %)`;
    if (prog.items_per_s !== undefined) text += ` · ${prog.items_per_s} items/s`;
    if (prog.eta_s !== undefined && !TERMINAL.has(job.status)) text += ` · ETA ${fmtDuration(prog.eta_s)}`;
    if (prog.elapsed_s !== undefined) text += ` · elapsed ${fmtDuration(prog.elapsed_s)}`;
    barText.textContent = text;
    const rows = [
      ['Mini-batches succeeded', p.mb.succeeded], ['failed', p.mb.failed], ['retried', p.mb.retried],
      ['running', p.mb.running], ['pending', p.mb.pending], ['canceled', p.mb.canceled], ['not run', p.mb.not_run],
      ['Items succeeded', p.items.succeeded], ['Items failed', p.items.failed]];
    counters.replaceChildren(...rows.filter(([, v]) => v !== undefined).map(([k, v]) =>
      el('div', {class: 'counter', 'data-counter': k}, el('span', {class: 'value'}, String(v)), el('span', {}, k))));
    meta.textContent = [job.endpoint && `endpoint ${job.endpoint}`, job.deployment && `deployment ${job.deployment}`,
      job.created_at && `created ${job.created_at}`,
      job.output && job.output.rows !== undefined ? `${job.output.rows} output rows` : null]
      .filter(Boolean).join(' · ');
    cancel.hidden = !!(session && session.read_only) || TERMINAL.has(job.status) || job.status === 'CancelRequested';
    if (job.error) {
      error.textContent = job.error;
      error.hidden = false;
    }
  };

  const drawBatches = () => {
    const startMs = job && job.started_at ? Date.parse(job.started_at) : 0;
    const endMs = job && job.ended_at ? Date.parse(job.ended_at) : Date.now();
    const t = throughputSeries(batches, startMs, endMs);
    tput.replaceChildren(barChart(t.values, {
      title: 'Mini-batches finished per second over time',
      label: (i, v) => `${i * t.bucketS}–${(i + 1) * t.bucketS} s: ${v.toFixed(2)}/s`,
      format: (v) => v.toFixed(2) + '/s', first: '0 s', last: `${t.values.length * t.bucketS} s`}));
    // The latest ones: a bar per mini-batch stays readable (and cheap) up to a few hundred.
    const ended = batches.filter((b) => b.status === 'done' || b.status === 'failed').slice(-MAX_BARS);
    durations.replaceChildren(barChart(ended.map((b) => b.elapsed_ms / 1000), {
      title: 'Duration of each mini-batch',
      label: (i, v) => `mini-batch ${ended[i].id}: ${v.toFixed(2)} s, attempt ${ended[i].attempts}` +
        (ended[i].status === 'failed' ? ' (failed)' : ''),
      classOf: (i) => (ended[i].status === 'failed' ? 'bar failed' : 'bar'),
      format: (v) => v.toFixed(2) + ' s', first: ended.length ? '#' + ended[0].id : '',
      last: ended.length ? '#' + ended[ended.length - 1].id : ''}));
  };

  // Bad rows of committed mini-batches, and mini-batches that failed as a
  // whole (row empty), from GET …/failed-items. Every name is text.
  const drawFailures = () => {
    if (!failures.length) return failed.replaceChildren(el('p', {class: 'muted'}, 'None.'));
    failed.replaceChildren(...[el('table', {class: 'list'},
      el('thead', {}, el('tr', {}, ['Mini-batch', 'File', 'Row', 'Column', 'Attempt', 'Error']
        .map((h) => el('th', {}, h)))),
      el('tbody', {}, failures.map((f) => el('tr', {class: 'failed-item'},
        el('td', {}, '#' + f.mini_batch),
        el('td', {class: 'file'}, f.file || ''),
        el('td', {class: 'row-number'}, f.row === null || f.row === undefined ? 'all' : String(f.row)),
        el('td', {class: 'column'}, f.column || ''),
        el('td', {}, String(f.attempt)),
        el('td', {class: 'error-text'}, f.error || f.outcome || ''))))),
      failuresUnshown ? el('p', {class: 'muted', id: 'failed-items-more'},
        `${failuresUnshown} more not shown: GET ${jobPath(name)}/failed-items lists them all.`) : null]
      .filter(Boolean));
  };

  // New pages only: failed and committed mini-batches do not change.
  const fetchFailures = async () => {
    for (let i = 0; i < 10; i++) {
      const page = await api(`${jobPath(name)}/failed-items?after=${failuresAfter}&limit=100`);
      for (const f of page.failed_items || []) {
        if (failures.length < MAX_FAILED_SHOWN) failures.push(f);
        else failuresUnshown++;
      }
      failuresAfter = page.next_after;
      if (!page.more) break;
    }
    drawFailures();
  };

  const drawFiles = (list) => {
    const key = JSON.stringify(list);
    if (key === lastFiles) return;
    lastFiles = key;
    const outs = Array.isArray(list.output_files) ? list.output_files
      : (list.output || []).map((p) => ({name: p.split('/').pop(), path: p}));
    const link = (rel, label, extra) => el('li', {},
      el('a', {href: filePath(name, rel), download: label.split('/').pop(), class: 'file-link', 'data-file': rel}, label),
      extra ? el('span', {class: 'muted'}, ' ' + extra) : null);
    files.replaceChildren(
      el('h3', {}, 'Output'),
      outs.length ? el('ul', {id: 'output-files'}, outs.map((f) => link(f.path, f.name, fmtBytes(f.size))))
        : el('p', {class: 'muted'}, 'No output yet: it is written when the job finishes.'),
      el('h3', {}, 'Logs'),
      el('ul', {id: 'log-files'}, (list.logs || []).map((p) => link(p, p))));
  };

  const poll = async () => {
    try {
      job = await api(jobPath(name));
      drawJob();
      const page = await api(`${jobPath(name)}/mini-batches?after=${batchAfter}&limit=1000`);
      // Ended mini-batches are kept; pending and running ones are read again.
      const fresh = page.mini_batches || [];
      const byId = new Map(batches.map((b) => [b.id, b]));
      for (const b of fresh) byId.set(b.id, b);
      batches = [...byId.values()].sort((a, b) => a.id - b.id);
      const open = batches.find((b) => b.status === 'pending' || b.status === 'leased');
      batchAfter = open ? open.id - 1 : (batches.length ? batches[batches.length - 1].id : 0);
      drawBatches();
      await fetchFailures();
      for (let i = 0; i < 20; i++) {
        const chunk = await api(`${jobPath(name)}/log?offset=${logOffset}`);
        if (chunk.text) {
          const atEnd = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
          log.append(document.createTextNode(chunk.text));
          // The page keeps the log's end; the whole log is among the files.
          while (log.childNodes.length > MAX_LOG_CHUNKS) log.firstChild.remove();
          if (atEnd) log.scrollTop = log.scrollHeight;
        }
        if (chunk.next_offset === logOffset || !chunk.text) break;
        logOffset = chunk.next_offset;
      }
      drawFiles(await api(jobPath(name) + '/files'));
      error.hidden = !job.error;
    } catch (e) {
      if (e.status === 401) return renderLoginHelp('Your session has ended.');
      showError(error, e);
      error.hidden = false;
      if (e.status === 404) return;
    }
    if (!job || !TERMINAL.has(job.status)) setTimeout(poll, POLL_MS);
  };
  await poll();
}

// ---------------------------------------------------------------- start

async function main() {
  try {
    session = await api('/api/v1/dashboard/session');
  } catch (e) {
    if (e.status === 401 || e.status === 404) {
      return renderLoginHelp('This browser is not logged in to this lote server (or its session has ended).');
    }
    return showError(document.getElementById('main'), e);
  }
  const who = document.getElementById('who');
  who.replaceChildren(session.read_only ? el('span', {class: 'badge'}, 'read-only') : '',
    el('button', {type: 'button', id: 'logout', class: 'link'}, 'Log out'));
  document.getElementById('logout').addEventListener('click', async () => {
    try { await api('/api/v1/dashboard/logout', {method: 'POST'}); } catch (e) { /* shown below anyway */ }
    renderLoginHelp('You are logged out.');
  });
  const path = location.pathname;
  if (path.startsWith('/jobs/')) {
    let name;
    try {
      name = decodeURIComponent(path.slice('/jobs/'.length));
    } catch (e) {
      return showError(document.getElementById('main'), new Error('This page address is not a job name.'));
    }
    return renderJob(name);
  }
  if (path === '/endpoints') return renderEndpoints();
  return renderJobs(path === '/');
}

document.addEventListener('DOMContentLoaded', main);
