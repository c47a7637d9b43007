// The Sluice console: one page, routed by the URL's #fragment. Everything it changes goes
// through the Kafka Connect REST API of the worker serving it; /ui/api/ only adds reads.
// Every request carries the X-Sluice-Console header, which the worker requires of a
// browser's state-changing requests (a page of another site cannot send it).
'use strict';

const REFRESH_MS = 3000;
const CLASS_SHORT = (c) => (c || '').split('.').pop();

// ---------- small helpers ----------

const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

function esc(v) {
  return String(v ?? '').replace(/[&<>"']/g, (c) => ({
    '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;',
  })[c]);
}

function fmtInt(n) {
  return n == null ? '—' : Math.round(n).toLocaleString('en-US');
}

function fmtRate(n) {
  if (n == null) return '—';
  if (n >= 100) return fmtInt(n) + '/s';
  return (Math.round(n * 10) / 10).toLocaleString('en-US') + '/s';
}

function fmtMs(ms) {
  if (ms == null) return '—';
  if (ms < 1000) return Math.round(ms) + ' ms';
  if (ms < 60000) return (ms / 1000).toFixed(1) + ' s';
  if (ms < 3600000) return (ms / 60000).toFixed(1) + ' min';
  return (ms / 3600000).toFixed(1) + ' h';
}

function fmtBytes(b) {
  if (b == null) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = b;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return (i === 0 ? v : v.toFixed(v < 10 ? 2 : 1)) + ' ' + units[i];
}

function fmtTime(ms) {
  if (ms == null) return '';
  const d = new Date(ms);
  return d.toLocaleString('sv-SE', { hour12: false }) + '.' + String(d.getMilliseconds()).padStart(3, '0');
}

function badge(state) {
  return state ? `<span class="badge s-${esc(state)}">${esc(state)}</span>` : '<span class="muted">—</span>';
}

/// The state a connector is filtered and shown by: its task's while it should run.
function effectiveState(c) {
  if (c.state === 'RUNNING' && c.task) return c.task.state;
  return c.state;
}

async function api(method, path, body) {
  const headers = { 'X-Sluice-Console': '1', Accept: 'application/json' };
  const init = { method, headers, credentials: 'same-origin' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const r = await fetch(path, init);
  if (r.status === 401) {
    // The credentials went away: the page itself asks for them again.
    location.reload();
    throw new Error('authentication required');
  }
  const text = await r.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch (_) { json = null; }
  return { ok: r.ok, status: r.status, headers: r.headers, body: json, text };
}

function errorText(r) {
  return (r.body && r.body.message) || r.text || ('HTTP ' + r.status);
}

function toast(text, kind = 'info', ms = 6000) {
  const el = document.createElement('div');
  el.className = 'toast ' + kind;
  el.dataset.kind = kind;
  el.innerHTML = `<span class="text"></span><button type="button" aria-label="Dismiss">✕</button>`;
  $('.text', el).textContent = text;
  $('button', el).addEventListener('click', () => el.remove());
  $('#toasts').appendChild(el);
  if (ms) setTimeout(() => el.remove(), ms);
  return el;
}

/// Asks before something that cannot be undone; resolves to true when confirmed.
function confirmDialog(title, text, okLabel) {
  const dialog = $('#confirm');
  $('#confirm-title').textContent = title;
  $('#confirm-text').textContent = text;
  $('#confirm-ok').textContent = okLabel;
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true });
    dialog.returnValue = '';
    dialog.showModal();
  });
}

// ---------- routing ----------

let cleanup = null;

function route() {
  if (cleanup) { cleanup(); cleanup = null; }
  // A new element per page: listeners of the previous page go with it.
  const main = document.createElement('div');
  main.className = 'page';
  $('#main').replaceChildren(main);
  const parts = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  let nav = 'connectors';
  if (parts[0] === 'connectors' && parts[1] && parts[2] === 'edit') {
    cleanup = formPage(main, parts[1]);
  } else if (parts[0] === 'connectors' && parts[1]) {
    cleanup = connectorPage(main, parts[1]);
  } else if (parts[0] === 'new') {
    nav = 'new';
    cleanup = formPage(main, null);
  } else if (parts[0] === 'topics' && parts[1]) {
    nav = 'topics';
    cleanup = tailPage(main, parts[1]);
  } else if (parts[0] === 'topics') {
    nav = 'topics';
    cleanup = topicsPage(main);
  } else {
    cleanup = connectorsPage(main);
  }
  $$('header.top nav a').forEach((a) => a.classList.toggle('active', a.dataset.nav === nav));
  window.scrollTo(0, 0);
}

function go(hash) {
  if (location.hash === hash) route(); else location.hash = hash;
}

function link(name) {
  return '#/connectors/' + encodeURIComponent(name);
}

/// Runs `fn` now and every `ms`; returns what stops it.
function every(ms, fn) {
  let stopped = false;
  let timer = null;
  const tick = async () => {
    try { await fn(); } catch (e) { if (!stopped) console.warn(e); }
    if (!stopped) timer = setTimeout(tick, ms);
  };
  tick();
  return () => { stopped = true; clearTimeout(timer); };
}

// ---------- connectors list ----------

const listState = { state: 'ALL', text: '' };
const STATES = ['RUNNING', 'PAUSED', 'STOPPED', 'FAILED', 'RESTARTING', 'UNASSIGNED'];

function connectorsPage(main) {
  main.innerHTML = `
    <div class="page-head">
      <div class="title"><h1>Connectors</h1><span class="muted" id="count"></span></div>
      <div class="actions"><a class="button primary" href="#/new">New connector</a></div>
    </div>
    <div class="toolbar">
      <div class="chips" id="state-filters" role="group" aria-label="Filter by state"></div>
      <input id="name-filter" type="search" placeholder="Filter by name or class" aria-label="Filter by name or class">
    </div>
    <table class="list" id="connectors">
      <thead><tr>
        <th>Name</th><th>Kind</th><th>Class</th><th>Connector</th><th>Task</th>
        <th class="num">Events/s</th><th class="num">Lag</th><th class="num">Retained WAL</th>
      </tr></thead>
      <tbody></tbody>
    </table>
    <p class="empty" id="empty" hidden></p>`;
  const filter = $('#name-filter', main);
  filter.value = listState.text;
  filter.addEventListener('input', () => { listState.text = filter.value; draw(); });
  const open = new Set();
  let data = null;

  function draw() {
    if (!data) return;
    const all = data.connectors;
    const counts = { ALL: all.length };
    for (const c of all) { const s = effectiveState(c); counts[s] = (counts[s] || 0) + 1; }
    $('#state-filters', main).innerHTML = ['ALL', ...STATES]
      .filter((s) => s === 'ALL' || counts[s] || listState.state === s)
      .map((s) => `<button type="button" class="chip" data-state="${s}" aria-pressed="${listState.state === s}">${s === 'ALL' ? 'All' : s.charAt(0) + s.slice(1).toLowerCase()}<span class="n">${counts[s] || 0}</span></button>`)
      .join('');
    const text = listState.text.trim().toLowerCase();
    const shown = all.filter((c) =>
      (listState.state === 'ALL' || effectiveState(c) === listState.state) &&
      (!text || c.name.toLowerCase().includes(text) || c.class.toLowerCase().includes(text)));
    $('#count', main).textContent = shown.length === all.length ? `${all.length}` : `${shown.length} of ${all.length}`;
    const rows = [];
    for (const c of shown) {
      const s = effectiveState(c);
      const warn = c.warnings.length ? ` <span class="warning-mark" title="${esc(c.warnings.join('\n'))}">⚠</span>` : '';
      rows.push(`<tr data-name="${esc(c.name)}" data-state="${esc(s)}">
        <td class="name"><a href="${link(c.name)}">${esc(c.name)}</a>${warn}</td>
        <td><span class="badge kind">${esc(c.type)}</span></td>
        <td class="class" title="${esc(c.class)}">${esc(CLASS_SHORT(c.class))}</td>
        <td>${badge(c.state)}</td>
        <td>${badge(c.task && c.task.state)}${c.task && c.task.last_error ? ` <span class="warning-mark" title="${esc('retrying (' + c.task.retries + '): ' + c.task.last_error)}">↻</span>` : ''}</td>
        <td class="num">${fmtRate(c.events_per_sec)}</td>
        <td class="num">${fmtMs(c.ms_behind_source)}</td>
        <td class="num">${fmtBytes(c.retained_wal_bytes)}</td>
      </tr>`);
      if (c.task && c.task.trace) {
        const first = c.task.trace.split('\n')[0];
        rows.push(`<tr class="trace-row" data-trace-of="${esc(c.name)}"><td colspan="8">
          <details class="trace" data-name="${esc(c.name)}" ${open.has(c.name) ? 'open' : ''}>
            <summary><span class="label">Trace</span> <span class="first">${esc(first)}</span></summary><pre class="trace">${esc(c.task.trace)}</pre>
          </details></td></tr>`);
      }
    }
    $('#connectors tbody', main).innerHTML = rows.join('');
    const empty = $('#empty', main);
    empty.hidden = shown.length > 0;
    empty.innerHTML = all.length ? 'No connector matches the filter.' : 'No connectors yet. <a href="#/new">Create one</a>.';
  }

  main.addEventListener('click', (e) => {
    const chip = e.target.closest('.chip');
    if (chip) { listState.state = chip.dataset.state; draw(); }
  });
  main.addEventListener('toggle', (e) => {
    const d = e.target;
    if (d.matches && d.matches('details.trace')) {
      if (d.open) open.add(d.dataset.name); else open.delete(d.dataset.name);
    }
  }, true);

  return every(REFRESH_MS, async () => {
    const r = await api('GET', '/ui/api/connectors');
    if (!r.ok) throw new Error(errorText(r));
    data = r.body;
    $('#worker').textContent = `${data.store} · v${data.version}`;
    draw();
  });
}

// ---------- one connector ----------

function connectorPage(main, name) {
  const path = '/connectors/' + encodeURIComponent(name);
  main.innerHTML = `
    <div class="page-head">
      <div>
        <div class="crumbs"><a href="#/">Connectors</a> /</div>
        <div class="title"><h1>${esc(name)}</h1><span id="badges"></span></div>
      </div>
      <div class="actions" id="actions">
        <button type="button" data-action="edit">Edit config</button>
        <button type="button" data-action="pause">Pause</button>
        <button type="button" data-action="resume">Resume</button>
        <button type="button" data-action="restart">Restart</button>
        <button type="button" data-action="stop" class="warn">Stop</button>
        <button type="button" data-action="reset" class="warn">Reset offsets</button>
        <button type="button" data-action="delete" class="danger">Delete</button>
      </div>
    </div>
    <p id="missing" class="empty" hidden>Connector ${esc(name)} does not exist (any more). <a href="#/">All connectors</a></p>
    <div id="body">
      <div class="grid">
        <section class="card" id="status"><h2>Status</h2><p class="loading">Loading…</p></section>
        <section class="card"><h2>Last 15 minutes</h2><div class="charts" id="charts"></div></section>
      </div>
      <section class="card" id="snapshot" hidden></section>
      <div class="grid">
        <section class="card"><h2>Topics</h2><ul id="topics"><li class="muted">Loading…</li></ul></section>
        <section class="card"><h2>Stored offsets</h2><div id="offsets" class="muted">Loading…</div></section>
      </div>
      <section class="card"><h2>Config</h2><table class="config" id="config"></table></section>
    </div>`;
  let view = null;
  let status = null;

  async function refresh() {
    const [v, s] = await Promise.all([api('GET', '/ui/api' + path), api('GET', path + '/status')]);
    if (v.status === 404) {
      $('#missing', main).hidden = false;
      $('#body', main).hidden = true;
      $('#actions', main).hidden = true;
      return;
    }
    if (!v.ok) throw new Error(errorText(v));
    view = v.body;
    status = s.ok ? s.body : null;
    drawStatus();
    drawCharts();
    drawSnapshot();
  }

  async function refreshSlow() {
    const [cfg, topics, offsets] = await Promise.all([
      api('GET', path + '/config'), api('GET', path + '/topics'), api('GET', path + '/offsets'),
    ]);
    if (cfg.ok) {
      $('#config', main).innerHTML = Object.keys(cfg.body).sort()
        .map((k) => `<tr data-key="${esc(k)}"><td>${esc(k)}</td><td>${esc(cfg.body[k])}</td></tr>`).join('');
    }
    if (topics.ok) {
      const list = (topics.body[name] && topics.body[name].topics) || [];
      $('#topics', main).innerHTML = list.length
        ? list.map((t) => `<li><a href="#/topics/${encodeURIComponent(t)}">${esc(t)}</a></li>`).join('')
        : '<li class="muted">None yet.</li>';
    }
    const off = $('#offsets', main);
    if (offsets.ok) {
      const list = offsets.body.offsets || [];
      off.className = '';
      off.innerHTML = list.length
        ? `<table class="config"><thead><tr><th>Partition</th><th>Offset</th></tr></thead><tbody>${list.map((o) =>
          `<tr><td>${esc(JSON.stringify(o.partition))}</td><td>${esc(JSON.stringify(o.offset))}</td></tr>`).join('')}</tbody></table>`
        : '<span class="muted">None stored.</span>';
    } else {
      off.className = 'muted';
      off.textContent = errorText(offsets);
    }
  }

  function drawStatus() {
    const s = effectiveState(view);
    $('#badges', main).innerHTML = `<span class="badge kind">${esc(view.type)}</span> ${badge(s)}`;
    const buttons = Object.fromEntries($$('#actions button', main).map((b) => [b.dataset.action, b]));
    buttons.pause.disabled = view.state !== 'RUNNING';
    buttons.resume.disabled = view.state === 'RUNNING';
    buttons.restart.disabled = view.state === 'STOPPED';
    buttons.stop.disabled = view.state === 'STOPPED';
    buttons.reset.disabled = view.state !== 'STOPPED';
    buttons.reset.title = view.state === 'STOPPED' ? '' : 'Offsets can be reset only while the connector is stopped';
    const t = view.task;
    let html = `<dl class="kv">
      <dt>Connector</dt><dd id="connector-state">${badge(view.state)}</dd>
      <dt>Task 0</dt><dd id="task-state">${t ? badge(t.state) : '<span class="muted">none (stopped)</span>'}${status && status.tasks[0] ? ` <span class="muted mono">${esc(status.tasks[0].worker_id)}</span>` : ''}</dd>
      <dt>Class</dt><dd class="mono">${esc(view.class)}</dd>
      <dt>Events/s</dt><dd>${fmtRate(view.events_per_sec)} <span class="muted">(${fmtInt(view.events_seen)} seen, ${fmtInt(view.records_written)} written)</span></dd>
      <dt>Lag</dt><dd>${fmtMs(view.ms_behind_source)}</dd>`;
    const slot = status && status.slot;
    if (slot) {
      html += `<dt>Slot</dt><dd>${slot.exists ? (slot.active ? 'active' : 'inactive') : 'does not exist'}${slot.wal_status ? ` · wal_status ${esc(slot.wal_status)}` : ''}</dd>
        <dt>Retained WAL</dt><dd id="retained-wal">${slot.exists ? fmtBytes(slot.retained_wal_bytes) : '—'} <span class="muted">(${slot.exists ? fmtBytes(slot.confirmed_flush_lag_bytes) : '—'} not yet confirmed)</span></dd>`;
      if (slot.error) html += `<dt>Slot check</dt><dd class="muted">${esc(slot.error)}</dd>`;
    }
    html += '</dl>';
    if (t && t.last_error) {
      html += `<p class="note">Retrying after a transient error (${fmtInt(t.retries)} so far):</p><pre class="trace">${esc(t.last_error)}</pre>`;
    }
    if (t && t.trace) html += `<p class="note">The task failed:</p><pre class="trace" id="trace">${esc(t.trace)}</pre>`;
    if (view.warnings.length) html += `<ul class="warnings">${view.warnings.map((w) => `<li>${esc(w)}</li>`).join('')}</ul>`;
    $('#status', main).innerHTML = '<h2>Status</h2>' + html;
  }

  function drawCharts() {
    const h = view.history || [];
    $('#charts', main).innerHTML =
      chart('events', 'Events/s', h, (p) => p.events_per_sec, fmtRate) +
      chart('lag', 'Lag behind source', h, (p) => p.ms_behind_source, fmtMs) +
      chart('wal', 'Retained WAL', h, (p) => p.retained_wal_bytes, fmtBytes);
  }

  function drawSnapshot() {
    const snap = view.snapshot;
    const el = $('#snapshot', main);
    el.hidden = !snap || !snap.tables.length;
    if (el.hidden) return;
    const complete = snap.tables.every((t) => t.done);
    const state = snap.running ? '<span class="badge s-RUNNING">running</span>'
      : complete ? '<span class="badge">completed</span>' : '<span class="badge s-FAILED">interrupted</span>';
    el.innerHTML = `<h2>Snapshot ${state}</h2>` +
      snap.tables.map((t) => {
        const max = Math.max(t.rows_estimated || 0, t.rows_scanned, 1);
        const value = t.done ? max : t.rows_scanned;
        return `<div class="progress-row" data-table="${esc(t.table)}"><span class="mono">${esc(t.table)}</span>
          <progress max="${max}" value="${value}"></progress>
          <span class="rows">${fmtInt(t.rows_scanned)}${t.rows_estimated != null ? ' / ~' + fmtInt(t.rows_estimated) : ''} rows${t.done ? ' ✓' : ''}</span></div>`;
      }).join('');
  }

  async function act(action) {
    const enc = encodeURIComponent(name);
    let r;
    if (action === 'edit') { go(`#/connectors/${enc}/edit`); return; }
    if (action === 'pause') r = await api('PUT', path + '/pause');
    if (action === 'resume') r = await api('PUT', path + '/resume');
    if (action === 'restart') r = await api('POST', path + '/restart?includeTasks=true');
    if (action === 'stop') {
      if (!await confirmDialog(`Stop ${name}?`, 'Its task stops and gives back its resources. A Postgres source\'s replication slot stays and keeps WAL on the server until the connector is resumed or deleted.', 'Stop')) return;
      r = await api('PUT', path + '/stop');
    }
    if (action === 'reset') {
      if (!await confirmDialog(`Reset the offsets of ${name}?`, 'Its stored positions are forgotten: a source takes a new snapshot when resumed, a sink reads its topics again from the beginning.', 'Reset offsets')) return;
      r = await api('DELETE', path + '/offsets');
    }
    if (action === 'delete') {
      if (!await confirmDialog(`Delete ${name}?`, 'Its config and status are removed. For a Postgres source, Sluice also drops its replication slot and the publication it created (unless slot.drop.on.delete=false).', 'Delete')) return;
      r = await api('DELETE', path);
      if (r.ok) {
        const cleanup = r.headers.get('Sluice-Cleanup');
        toast(`Deleted ${name}.` + (cleanup ? `\nSluice-Cleanup: ${cleanup}` : ''), 'success', 30000);
        go('#/');
        return;
      }
    }
    if (!r.ok) { toast(`${action} failed: ${errorText(r)}`, 'error', 12000); return; }
    const done = { pause: 'Paused', resume: 'Resumed', restart: 'Restarted', stop: 'Stopped', reset: 'Offsets reset' }[action];
    toast(`${done}: ${name}`, 'success');
    await refresh();
    await refreshSlow();
  }

  $('#actions', main).addEventListener('click', async (e) => {
    const b = e.target.closest('button[data-action]');
    if (!b) return;
    b.disabled = true;
    try { await act(b.dataset.action); } finally { if (view) drawStatus(); }
  });

  const stopFast = every(REFRESH_MS, refresh);
  const stopSlow = every(15000, refreshSlow);
  return () => { stopFast(); stopSlow(); };
}

/// A small time chart as SVG: the samples of the last 15 minutes, gaps where none.
function chart(kind, title, points, value, fmt) {
  const W = 300;
  const H = 90;
  const values = points.map(value);
  const known = points.filter((p, i) => values[i] != null);
  const last = known.length ? value(known[known.length - 1]) : null;
  const now = points.length ? points[points.length - 1].at_ms : Date.now();
  const first = points.length ? points[0].at_ms : now;
  const span = Math.max(now - first, 15000);
  const start = now - span;
  const max = Math.max(1, ...known.map(value)) * 1.1;
  const x = (t) => ((t - start) / span) * W;
  const y = (v) => H - (v / max) * (H - 4);
  let segments = [];
  let current = [];
  points.forEach((p, i) => {
    if (values[i] == null) { if (current.length) segments.push(current); current = []; return; }
    current.push([x(p.at_ms), y(values[i])]);
  });
  if (current.length) segments.push(current);
  // A single sample still shows as a short flat line.
  segments = segments.map((s) => (s.length === 1 ? [s[0], [Math.min(W, s[0][0] + 2), s[0][1]]] : s));
  const pts = (s) => s.map(([a, b]) => `${a.toFixed(1)},${b.toFixed(1)}`).join(' ');
  const lines = segments.map((s) => `<polyline class="line" points="${pts(s)}"/>`).join('');
  const areas = segments.map((s) => `<polygon class="area" points="${s[0][0].toFixed(1)},${H} ${pts(s)} ${s[s.length - 1][0].toFixed(1)},${H}"/>`).join('');
  const grid = [0.25, 0.5, 0.75].map((f) => `<line class="grid-line" x1="0" x2="${W}" y1="${H * f}" y2="${H * f}"/>`).join('');
  const ago = span < 120000 ? `${Math.round(span / 1000)} s` : `${Math.round(span / 60000)} min`;
  return `<figure class="chart ${kind}" id="chart-${kind}" data-points="${known.length}" data-last="${last ?? ''}" data-max="${known.length ? Math.max(...known.map(value)) : ''}">
    <figcaption>${esc(title)} <span class="now">${fmt(last)}</span></figcaption>
    <svg viewBox="0 0 ${W} ${H}" preserveAspectRatio="none" role="img" aria-label="${esc(title)}">${grid}${areas}${lines}</svg>
    <div class="axis"><span>${ago} ago</span><span>max ${fmt(known.length ? Math.max(...known.map(value)) : null)}</span><span>now</span></div>
  </figure>`;
}

// ---------- create and edit ----------

function formPage(main, editing) {
  const title = editing ? `Edit ${esc(editing)}` : 'New connector';
  main.innerHTML = `
    <div class="page-head"><div>
      <div class="crumbs"><a href="#/">Connectors</a> /${editing ? ` <a href="${link(editing)}">${esc(editing)}</a> /` : ''}</div>
      <div class="title"><h1>${title}</h1></div>
    </div></div>
    <form class="connector" id="connector-form" novalidate autocomplete="off">
      <div class="top">
        <div class="field"><label for="class">connector.class</label><select id="class" name="connector.class"></select></div>
        <div class="field" data-key="name"><label for="name">name<span class="req">*</span></label>
          <input id="name" name="name" required ${editing ? 'readonly' : ''} placeholder="e.g. inventory">
          <div class="doc">Unique name of the connector on this worker.</div><ul class="errors"></ul></div>
      </div>
      <div id="form-summary" class="summary neutral" hidden></div>
      <div id="groups"><p class="loading">Loading the keys of the class…</p></div>
      <fieldset id="other-keys"><legend>Other keys</legend>
        <textarea id="other" placeholder="key=value, one per line (transforms, predicates, keys not listed above)"></textarea>
        <ul class="errors" id="other-errors"></ul><ul class="field-warnings" id="other-warnings"></ul>
      </fieldset>
      <div class="form-actions">
        <button type="submit" class="primary" id="submit">${editing ? 'Save config' : 'Create connector'}</button>
        <a href="${editing ? link(editing) : '#/'}">Cancel</a>
        <span class="muted" id="validity"></span>
      </div>
    </form>`;
  const form = $('#connector-form', main);
  const touched = new Set();
  let submitted = false;
  let seq = 0;
  let timer = null;
  let initial = {};
  let alive = true;

  function config() {
    const out = {};
    for (const line of $('#other', form).value.split('\n')) {
      const i = line.indexOf('=');
      if (i > 0) out[line.slice(0, i).trim()] = line.slice(i + 1).trim();
    }
    for (const input of $$('#groups [name]', form)) {
      if (input.value.trim() !== '') out[input.name] = input.value.trim();
    }
    out['connector.class'] = $('#class', form).value;
    const n = $('#name', form).value.trim();
    if (n) out.name = n;
    return out;
  }

  async function validate() {
    const mine = ++seq;
    const cfg = config();
    const r = await api('PUT', `/connector-plugins/${encodeURIComponent(cfg['connector.class'])}/config/validate`, cfg);
    if (mine !== seq || !alive) return null;
    if (!r.ok) { showSummary('bad', errorText(r)); return null; }
    return r.body;
  }

  function showSummary(kind, text, detail) {
    const el = $('#form-summary', form);
    el.hidden = false;
    el.className = 'summary ' + kind;
    el.innerHTML = esc(text) + (detail ? `<pre>${esc(detail)}</pre>` : '');
  }

  /// Errors and warnings next to their fields; those of keys without a field under "Other keys".
  function showProblems(result) {
    const fields = new Map($$('.field[data-key]', form).map((f) => [f.dataset.key, f]));
    const otherErrors = [];
    const otherWarnings = [];
    let hidden = 0;
    const wrong = [];
    for (const f of fields.values()) {
      f.classList.remove('has-error');
      $('ul.errors', f).innerHTML = '';
      const w = $('ul.field-warnings', f);
      if (w) w.innerHTML = '';
    }
    for (const c of result.configs) {
      const key = c.value.name;
      const errors = c.value.errors || [];
      const warnings = c.value.warnings || [];
      const f = fields.get(key);
      const show = submitted || touched.has(key) || (c.value.value != null && c.value.value !== '');
      if (!f) {
        errors.forEach((e) => otherErrors.push(e));
        warnings.forEach((w) => otherWarnings.push(w));
        continue;
      }
      if (!show) { hidden += errors.length; continue; }
      if (errors.length) {
        wrong.push(key);
        f.classList.add('has-error');
        $('ul.errors', f).innerHTML = errors.map((e) => `<li>${esc(e)}</li>`).join('');
        const more = f.closest('details.more');
        if (more) more.open = true;
      }
      const w = $('ul.field-warnings', f);
      if (w) w.innerHTML = warnings.map((x) => `<li>${esc(x)}</li>`).join('');
    }
    $('#other-errors', form).innerHTML = otherErrors.map((e) => `<li>${esc(e)}</li>`).join('');
    $('#other-warnings', form).innerHTML = otherWarnings.map((e) => `<li>${esc(e)}</li>`).join('');
    if (otherErrors.length) wrong.push('other keys');
    const n = result.error_count;
    const validity = $('#validity', form);
    validity.innerHTML = n === 0
      ? 'The config is valid.'
      : `${n} problem${n === 1 ? '' : 's'}${wrong.length ? ': ' + wrong.map((k) => `<button type="button" class="linkish" data-goto="${esc(k)}">${esc(k)}</button>`).join(', ') : ''}${hidden ? ` (${hidden} in required fields not filled in yet)` : ''}.`;
    validity.dataset.errors = String(n);
  }

  function scheduleValidation() {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const result = await validate();
      if (result) showProblems(result);
    }, 350);
  }

  /// The fields of one class, grouped as it declares them: required and important keys, and
  /// those already set, in view; the others one click away.
  function buildFields(result, values) {
    const groups = new Map();
    for (const c of result.configs) {
      const d = c.definition;
      if (d.name === 'name' || d.name === 'connector.class' || d.group === 'Other' || d.order < 0) continue;
      if (!groups.has(d.group)) groups.set(d.group, []);
      groups.get(d.group).push(c);
    }
    const important = (c) => c.definition.required || c.definition.importance === 'HIGH' || values[c.definition.name] != null;
    const order = [...groups.entries()].sort((a, b) => Number(b[1].some((c) => c.definition.required)) - Number(a[1].some((c) => c.definition.required)));
    const html = [];
    for (const [group, configs] of order) {
      const shown = configs.filter(important);
      const rest = configs.filter((c) => !important(c));
      html.push(`<fieldset data-group="${esc(group)}"><legend>${esc(group)}</legend>
        <div class="fields">${shown.map(field).join('')}</div>
        ${rest.length ? `<details class="more"${rest.some((c) => values[c.definition.name] != null) ? ' open' : ''}><summary>${rest.length} more setting${rest.length === 1 ? '' : 's'}</summary><div class="fields">${rest.map(field).join('')}</div></details>` : ''}
      </fieldset>`);
    }
    $('#groups', form).innerHTML = html.join('');
    for (const input of $$('#groups [name]', form)) {
      if (values[input.name] != null) input.value = values[input.name];
    }
    const declared = new Set($$('#groups [name]', form).map((i) => i.name));
    $('#other', form).value = Object.entries(values)
      .filter(([k]) => !declared.has(k) && k !== 'name' && k !== 'connector.class')
      .map(([k, v]) => `${k}=${v}`).join('\n');
  }

  function field(c) {
    const d = c.definition;
    const id = 'f-' + d.name;
    const recommended = c.value.recommended_values || [];
    const type = d.type === 'PASSWORD' ? 'password' : 'text';
    const listId = recommended.length || d.type === 'BOOLEAN' ? 'dl-' + d.name : '';
    const options = d.type === 'BOOLEAN' && !recommended.length ? ['true', 'false'] : recommended;
    const placeholder = d.default_value != null && d.default_value !== '' ? `default: ${d.default_value}` : (d.required ? 'required' : '');
    return `<div class="field" data-key="${esc(d.name)}">
      <label for="${esc(id)}" title="${esc(d.type)} · ${esc(d.importance)}">${esc(d.name)}${d.required ? '<span class="req">*</span>' : ''}</label>
      <input id="${esc(id)}" name="${esc(d.name)}" type="${type}" placeholder="${esc(placeholder)}"${listId ? ` list="${esc(listId)}"` : ''} autocomplete="off" spellcheck="false">
      ${listId ? `<datalist id="${esc(listId)}">${options.map((o) => `<option value="${esc(o)}">`).join('')}</datalist>` : ''}
      <div class="doc" title="${esc(d.documentation)}">${esc(d.documentation)}</div>
      <ul class="errors"></ul><ul class="field-warnings"></ul>
    </div>`;
  }

  async function loadClass(values) {
    $('#groups', form).innerHTML = '<p class="loading">Loading the keys of the class…</p>';
    touched.clear();
    submitted = false;
    const cls = $('#class', form).value;
    const r = await api('PUT', `/connector-plugins/${encodeURIComponent(cls)}/config/validate`, { 'connector.class': cls });
    if (!alive) return;
    if (!r.ok) { showSummary('bad', errorText(r)); return; }
    buildFields(r.body, values);
    const result = await validate();
    if (result) showProblems(result);
  }

  form.addEventListener('input', (e) => {
    if (e.target.name) touched.add(e.target.name);
    if (e.target.id === 'other') for (const k of Object.keys(config())) touched.add(k);
    scheduleValidation();
  });
  form.addEventListener('click', (e) => {
    const b = e.target.closest('button[data-goto]');
    if (!b) return;
    const f = b.dataset.goto === 'other keys' ? $('#other-keys', form) : $(`.field[data-key="${CSS.escape(b.dataset.goto)}"]`, form);
    if (f) { f.scrollIntoView({ block: 'center' }); const input = $('input, textarea', f); if (input) input.focus(); }
  });
  form.addEventListener('change', (e) => {
    if (e.target.id === 'class') loadClass({});
  });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    submitted = true;
    const cfg = config();
    const button = $('#submit', form);
    button.disabled = true;
    try {
      const r = editing
        ? await api('PUT', `/connectors/${encodeURIComponent(editing)}/config`, cfg)
        : await api('POST', '/connectors', { name: cfg.name || '', config: cfg });
      if (r.ok) {
        toast(editing ? `Saved the config of ${editing}; its task restarts with it.` : `Created ${cfg.name}.`, 'success');
        go(link(editing || cfg.name));
        return;
      }
      showSummary('bad', r.status === 409 ? `A connector named ${cfg.name} already exists.` : 'The worker refused the config:', r.status === 409 ? '' : errorText(r));
      const result = await validate();
      if (result) showProblems(result);
    } finally {
      button.disabled = false;
    }
  });

  (async () => {
    const plugins = await api('GET', '/connector-plugins');
    if (!plugins.ok) { showSummary('bad', errorText(plugins)); return; }
    let values = {};
    let cls = plugins.body[0] && plugins.body[0].class;
    if (editing) {
      const r = await api('GET', `/connectors/${encodeURIComponent(editing)}/config`);
      if (!r.ok) { showSummary('bad', errorText(r)); return; }
      values = r.body;
      cls = values['connector.class'];
    }
    initial = values;
    const select = $('#class', form);
    select.innerHTML = plugins.body.map((p) => `<option value="${esc(p.class)}">${esc(CLASS_SHORT(p.class))} (${esc(p.type)})</option>`).join('');
    if (editing) {
      if (![...select.options].some((o) => o.value === cls)) select.insertAdjacentHTML('beforeend', `<option value="${esc(cls)}">${esc(cls)}</option>`);
      select.value = cls;
      select.disabled = true;
      $('#name', form).value = editing;
    }
    await loadClass(initial);
  })();

  return () => { alive = false; clearTimeout(timer); };
}

// ---------- topics ----------

function topicsPage(main) {
  main.innerHTML = `
    <div class="page-head"><div class="title"><h1>Topics</h1><span class="muted mono" id="store"></span></div></div>
    <div class="toolbar"><input id="topic-filter" type="search" placeholder="Filter topics" aria-label="Filter topics"></div>
    <table class="list" id="topics"><thead><tr><th>Topic</th><th class="num">Records</th><th></th></tr></thead><tbody></tbody></table>
    <p class="empty" id="empty" hidden>No topics yet: connectors create them as they write.</p>`;
  let data = null;
  const filter = $('#topic-filter', main);
  function draw() {
    if (!data) return;
    const text = filter.value.trim().toLowerCase();
    const shown = data.topics.filter((t) => !text || t.name.toLowerCase().includes(text));
    $('#store', main).textContent = data.store;
    $('#topics tbody', main).innerHTML = shown.map((t) => `<tr data-topic="${esc(t.name)}">
      <td class="name"><a href="#/topics/${encodeURIComponent(t.name)}">${esc(t.name)}</a></td>
      <td class="num">${fmtInt(t.records)}</td>
      <td class="num"><a href="#/topics/${encodeURIComponent(t.name)}">Live tail →</a></td></tr>`).join('');
    $('#empty', main).hidden = data.topics.length > 0;
  }
  filter.addEventListener('input', draw);
  return every(5000, async () => {
    const r = await api('GET', '/ui/api/topics');
    if (!r.ok) { $('#topics tbody', main).innerHTML = `<tr><td colspan="3" class="muted">${esc(errorText(r))}</td></tr>`; return; }
    data = r.body;
    draw();
  });
}

const MAX_EVENTS = 300;

function tailPage(main, topic) {
  main.innerHTML = `
    <div class="page-head"><div>
      <div class="crumbs"><a href="#/topics">Topics</a> /</div>
      <div class="title"><h1>${esc(topic)}</h1></div>
    </div></div>
    <form class="toolbar" id="tail-form">
      <label>From <select id="from"><option value="end">the last 20 records</option><option value="beginning">the beginning</option></select></label>
      <label>Key <input id="key" type="search" placeholder="42 or customer_id=42" aria-label="Search by key"></label>
      <label>Show at most <select id="rate"><option>10</option><option selected>50</option><option>200</option></select> a second</label>
      <button type="submit" class="primary">Apply</button>
      <button type="button" id="pause">Pause</button>
      <button type="button" id="clear">Clear</button>
    </form>
    <div class="tail-status">
      <span class="dot" id="live"></span><span id="conn">connecting…</span>
      <span id="shown">0 shown</span>
      <span id="dropped" class="dropped" hidden></span>
      <span id="held" hidden></span>
    </div>
    <div id="events"></div>`;
  const events = $('#events', main);
  let source = null;
  let paused = false;
  let held = 0;
  let shown = 0;
  let pending = [];
  let frame = 0;
  // The last `after` seen per key: the "before" of an update whose table does not log it.
  const lastAfter = new Map();

  function open() {
    if (source) source.close();
    const params = new URLSearchParams({ from: $('#from', main).value, rate: $('#rate', main).value });
    const key = $('#key', main).value.trim();
    if (key) params.set('key', key);
    source = new EventSource(`/ui/api/topics/${encodeURIComponent(topic)}/tail?${params}`);
    setConn('connecting…', '');
    source.addEventListener('open', () => setConn('live', 'live'));
    source.addEventListener('record', (e) => {
      if (paused) { held++; $('#held', main).hidden = false; $('#held', main).textContent = `${held} not shown while paused`; return; }
      pending.push(e.data);
      if (!frame) frame = requestAnimationFrame(flush);
    });
    source.addEventListener('stats', (e) => {
      const s = JSON.parse(e.data);
      const d = $('#dropped', main);
      d.hidden = s.dropped === 0;
      d.textContent = `dropped ${fmtInt(s.dropped)}`;
      d.title = `The tail shows at most ${s.rate} records a second; ${fmtInt(s.dropped)} of the ${fmtInt(s.matched)} matching were not shown (${fmtInt(s.scanned)} read).`;
    });
    source.addEventListener('failure', (e) => { setConn('stopped: ' + e.data, 'off'); source.close(); });
    source.addEventListener('error', () => {
      // No automatic reconnect: it would start over and show records twice.
      if (source.readyState !== EventSource.OPEN) { source.close(); setConn('disconnected (Apply reconnects)', 'off'); }
    });
  }

  function setConn(text, cls) {
    $('#conn', main).textContent = text;
    $('#live', main).className = 'dot ' + cls;
  }

  function flush() {
    frame = 0;
    const batch = pending;
    pending = [];
    const fragment = document.createDocumentFragment();
    for (const line of batch) {
      let rec;
      try { rec = JSON.parse(line); } catch (_) { continue; }
      fragment.prepend(renderEvent(rec, lastAfter));
      shown++;
    }
    events.prepend(fragment);
    while (events.childElementCount > MAX_EVENTS) events.lastElementChild.remove();
    $('#shown', main).textContent = `${fmtInt(shown)} shown`;
  }

  $('#tail-form', main).addEventListener('submit', (e) => {
    e.preventDefault();
    events.innerHTML = '';
    shown = 0;
    lastAfter.clear();
    open();
  });
  $('#pause', main).addEventListener('click', (e) => {
    paused = !paused;
    e.target.textContent = paused ? 'Resume' : 'Pause';
    if (!paused) { held = 0; $('#held', main).hidden = true; }
  });
  $('#clear', main).addEventListener('click', () => { events.innerHTML = ''; shown = 0; $('#shown', main).textContent = '0 shown'; });
  open();
  return () => { if (source) source.close(); cancelAnimationFrame(frame); };
}

const OPS = { c: 'CREATE', u: 'UPDATE', d: 'DELETE', r: 'READ', t: 'TRUNCATE', m: 'MESSAGE' };

/// A value with a schema (`schemas.enable=true`) shows its payload.
function payloadOf(v) {
  if (v && typeof v === 'object' && !Array.isArray(v) && 'schema' in v && 'payload' in v) return v.payload;
  return v;
}

function keyText(k) {
  if (k == null) return 'null';
  if (typeof k === 'object' && !Array.isArray(k)) return Object.entries(k).map(([f, v]) => `${f}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(', ');
  return typeof k === 'string' ? k : JSON.stringify(k);
}

function cell(v, present) {
  if (!present) return '<span class="null">—</span>';
  if (v === null) return '<span class="null">null</span>';
  return esc(typeof v === 'string' ? v : JSON.stringify(v));
}

/// One record: a Debezium envelope as operation, key and the fields before and after, the
/// ones that changed highlighted; anything else as its JSON. Raw JSON is one click away.
function renderEvent(rec, lastAfter) {
  const el = document.createElement('article');
  const value = payloadOf(rec.value);
  const key = payloadOf(rec.key);
  const kt = keyText(key);
  const envelope = value && typeof value === 'object' && typeof value.op === 'string' && ('after' in value || 'before' in value);
  let op = envelope ? value.op : (rec.value === null ? 'tombstone' : 'record');
  const label = envelope ? (OPS[op] || op) : (op === 'tombstone' ? 'TOMBSTONE' : 'RECORD');
  el.className = 'event op-' + op;
  el.dataset.op = op;
  el.dataset.offset = rec.offset;
  el.dataset.key = kt;
  const src = envelope && value.source ? value.source : null;
  const table = src && src.table ? `${src.schema ? src.schema + '.' : ''}${src.table}` : '';
  let body = '';
  if (envelope) {
    let before = value.before;
    const after = value.after;
    let note = '';
    if (op === 'u' && before == null) {
      const previous = lastAfter.get(rec.topic + '\u0000' + kt);
      if (previous) {
        before = previous;
        note = 'The event has no "before" (the table\'s REPLICA IDENTITY is not FULL): compared with the previous event for this key in this tail.';
      } else {
        note = 'The event has no "before" (the table\'s REPLICA IDENTITY is not FULL) and no earlier event for this key is in this tail.';
      }
    }
    if (after && typeof after === 'object') {
      lastAfter.set(rec.topic + '\u0000' + kt, after);
      if (lastAfter.size > 5000) lastAfter.delete(lastAfter.keys().next().value);
    }
    const fields = [...new Set([...Object.keys(before || {}), ...Object.keys(after || {})])];
    const both = before != null && after != null;
    const rows = fields.map((f) => {
      const b = before != null && f in before;
      const a = after != null && f in after;
      const changed = both && JSON.stringify(before[f]) !== JSON.stringify(after[f]);
      return `<tr data-field="${esc(f)}"${changed ? ' class="changed"' : ''}><td class="field">${esc(f)}</td>` +
        (before != null ? `<td class="before">${cell(b ? before[f] : undefined, b)}</td>` : '') +
        (after != null ? `<td class="after">${cell(a ? after[f] : undefined, a)}</td>` : '') + '</tr>';
    }).join('');
    const head = `<tr><th>field</th>${before != null ? '<th>before</th>' : ''}${after != null ? '<th>after</th>' : ''}</tr>`;
    body = fields.length ? `<table class="diff"><thead>${head}</thead><tbody>${rows}</tbody></table>` : '';
    if (note) body += `<p class="note">${esc(note)}</p>`;
  } else if (rec.value !== null) {
    body = `<pre class="raw">${esc(JSON.stringify(value, null, 2))}</pre>`;
  }
  const changedCount = (body.match(/class="changed"/g) || []).length;
  el.innerHTML = `<header>
      <span class="op op-${esc(op)}">${esc(label)}</span>
      ${table ? `<span class="mono">${esc(table)}</span>` : ''}
      <code class="key" title="key">${esc(kt)}</code>
      ${changedCount ? `<span class="muted">${changedCount} field${changedCount === 1 ? '' : 's'} changed</span>` : ''}
      <span class="meta">partition ${esc(rec.partition)} · offset ${esc(rec.offset)} · ${esc(fmtTime(rec.timestamp))}</span>
    </header>${body}
    <details class="raw-json"><summary>Raw JSON</summary><pre class="raw"></pre></details>`;
  const raw = $('details.raw-json', el);
  raw.addEventListener('toggle', () => {
    if (raw.open && !raw.dataset.filled) { $('pre', raw).textContent = JSON.stringify(rec, null, 2); raw.dataset.filled = '1'; }
  });
  return el;
}

// ---------- start ----------

window.addEventListener('hashchange', route);
document.addEventListener('DOMContentLoaded', () => {
  route();
  api('GET', '/').then((r) => { if (r.ok) $('#worker').textContent = `${r.body.store} · v${r.body.version}`; }).catch(() => {});
});
