// The dashboard's page script: renders the snapshot the server pushes over
// server-sent events (or polls for, where the stream fails), sorts the
// miners table, and draws the history charts as plain SVG. No libraries, so
// the page works offline and the binary carries everything it needs.
'use strict';

const SVG = 'http://www.w3.org/2000/svg';
const POLL_MS = 5000;
const state = { snapshot: null, sortKey: 'score', sortDir: -1, selected: null, polling: null };

const $ = (id) => document.getElementById(id);

function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (k === 'class') node.className = v;
    else if (k === 'title') node.title = v;
    else node.setAttribute(k, v);
  }
  for (const child of children) {
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function svg(tag, attrs, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

const dash = '–';
const isNum = (v) => typeof v === 'number' && Number.isFinite(v);

function fmtMs(ms) {
  if (!isNum(ms)) return dash;
  return ms >= 10000 ? (ms / 1000).toFixed(1) + ' s' : Math.round(ms) + ' ms';
}

function fmtBytes(b) {
  if (!isNum(b)) return dash;
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (b >= 1024 && i < units.length - 1) { b /= 1024; i++; }
  return (i === 0 ? b : b.toFixed(b < 10 ? 2 : 1)) + ' ' + units[i];
}

const fmtPct = (x) => (isNum(x) ? (100 * x).toFixed(1) + ' %' : dash);
const fmtScore = (x) => (isNum(x) ? x.toFixed(4) : dash);

function fmtAgo(ms) {
  if (!isNum(ms)) return dash;
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  if (s < 90) return s + ' s ago';
  if (s < 5400) return Math.round(s / 60) + ' min ago';
  if (s < 172800) return Math.round(s / 3600) + ' h ago';
  return Math.round(s / 86400) + ' d ago';
}

const fmtClock = (ms) => new Date(ms).toLocaleTimeString([], { hour12: false });
const fmtDate = (ms) => new Date(ms).toLocaleString([], { hour12: false });
const shortKey = (k) => (k && k.length > 14 ? k.slice(0, 6) + '…' + k.slice(-6) : k || dash);

async function getJSON(path) {
  const response = await fetch(path, { credentials: 'same-origin', cache: 'no-store' });
  if (!response.ok) throw new Error(path + ': HTTP ' + response.status);
  return response.json();
}

function showError(message) {
  const node = $('error');
  node.hidden = !message;
  node.textContent = message || '';
}

function setLive(text, on) {
  const node = $('live');
  node.textContent = text;
  node.className = 'live ' + (on ? 'on' : 'off');
}

function renderChain(c) {
  $('chain-endpoint').textContent = c.endpoint + (c.connected ? '' : ' (unreachable)');
  $('chain-netuid').textContent = c.netuid;
  $('chain-best').textContent = isNum(c.best_block) ? '#' + c.best_block : dash;
  $('chain-tempo').textContent = isNum(c.tempo) ? c.tempo + ' blocks' : dash;
  let next = dash;
  if (isNum(c.next_weights_block)) {
    next = '#' + c.next_weights_block;
    if (isNum(c.best_block)) {
      const left = c.next_weights_block - c.best_block;
      next += left > 0 ? ' (in ' + left + ')' : ' (now)';
    }
  }
  $('chain-next').textContent = next;
  const v = $('chain-validator');
  v.textContent = (isNum(c.validator_uid) ? 'uid ' + c.validator_uid + ' · ' : '') + shortKey(c.validator_hotkey);
  v.title = c.validator_hotkey || '';
}

function compare(a, b, key, numeric) {
  const x = a[key], y = b[key];
  // Missing values sort last whichever the direction.
  const xm = x === null || x === undefined, ym = y === null || y === undefined;
  if (xm || ym) return xm === ym ? 0 : xm ? 1 : -1;
  const c = numeric ? x - y : String(x).localeCompare(String(y));
  return c * state.sortDir;
}

function renderMiners(miners) {
  const header = document.querySelectorAll('#miners th');
  let numeric = true;
  for (const th of header) {
    th.classList.remove('asc', 'desc');
    if (th.dataset.key === state.sortKey) {
      th.classList.add(state.sortDir > 0 ? 'asc' : 'desc');
      th.setAttribute('aria-sort', state.sortDir > 0 ? 'ascending' : 'descending');
      numeric = th.dataset.num === '1';
    } else {
      th.removeAttribute('aria-sort');
    }
  }
  const rows = miners.slice().sort((a, b) => compare(a, b, state.sortKey, numeric) || a.uid - b.uid);
  const body = document.querySelector('#miners tbody');
  body.replaceChildren();
  if (!rows.length) {
    body.append(el('tr', { class: 'empty' }, el('td', { colspan: 11 }, 'no miners scored yet')));
    return;
  }
  for (const m of rows) {
    const tr = el('tr', { 'data-uid': m.uid },
      el('td', { class: 'n' }, m.uid),
      el('td', { class: 'key', title: m.hotkey }, shortKey(m.hotkey)),
      el('td', { class: 'n' }, fmtScore(m.score)),
      el('td', { class: 'n' }, fmtPct(m.validity_rate)),
      el('td', { class: 'n' }, m.challenges),
      el('td', { class: 'n' }, fmtMs(m.median_latency_ms)),
      el('td', { class: 'n' }, fmtMs(m.p95_latency_ms)),
      el('td', { class: 'n' }, fmtBytes(m.peak_memory_bytes)),
      el('td', { class: 'n' }, fmtBytes(m.proof_size_bytes)),
      el('td', { class: 'n', title: isNum(m.last_seen_ms) ? fmtDate(m.last_seen_ms) : '' }, fmtAgo(m.last_seen_ms)),
      el('td', { class: 'n' }, fmtPct(m.weight)));
    if (m.uid === state.selected) tr.classList.add('selected');
    tr.addEventListener('click', () => select(m.uid));
    body.append(tr);
  }
}

function renderChallenges(rows) {
  const body = document.querySelector('#challenges tbody');
  body.replaceChildren();
  for (const c of rows) {
    body.append(el('tr', {},
      el('td', { title: fmtDate(c.time_ms) }, fmtClock(c.time_ms)),
      el('td', {}, c.model),
      el('td', { title: c.hotkey }, 'uid ' + c.uid),
      el('td', { class: c.success ? 'ok' : 'bad' }, c.outcome),
      el('td', { class: 'n' }, fmtMs(c.latency_ms)),
      el('td', { class: 'reason' }, c.failure_reason || '')));
  }
}

function renderWeights(rows) {
  const body = document.querySelector('#weights tbody');
  body.replaceChildren();
  for (const w of rows) {
    const total = w.weights.reduce((s, x) => s + x, 0);
    const parts = w.uids.map((uid, i) => uid + ': ' + (total ? (100 * w.weights[i] / total).toFixed(1) + '%' : '0'));
    body.append(el('tr', {},
      el('td', { class: 'n' }, '#' + w.block),
      el('td', { title: fmtDate(w.time_ms) }, fmtClock(w.time_ms)),
      el('td', {}, w.method),
      el('td', {}, parts.length ? parts.join('  ') : '(hash only)'),
      el('td', { class: 'key', title: w.tx || '' }, shortKey(w.tx))));
  }
}

// A line chart of (time, value) points. Failed challenges appear as red
// ticks along the bottom so a falling score can be read against its cause.
function drawChart(node, points, fmt, failures) {
  const W = 480, H = 190, L = 58, R = 10, T = 10, B = 24;
  node.replaceChildren();
  const pts = points.filter((p) => isNum(p.t) && isNum(p.v));
  if (!pts.length) {
    node.append(svg('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle', class: 'nodata' }, 'no data'));
    return;
  }
  let t0 = Math.min(...pts.map((p) => p.t)), t1 = Math.max(...pts.map((p) => p.t));
  for (const t of failures) { t0 = Math.min(t0, t); t1 = Math.max(t1, t); }
  let v0 = Math.min(...pts.map((p) => p.v)), v1 = Math.max(...pts.map((p) => p.v));
  if (v0 > 0 && v0 < v1 * 0.5) v0 = 0;
  if (v1 === v0) { v1 += Math.abs(v1) * 0.1 || 1; v0 -= Math.abs(v0) * 0.1 || 0; }
  if (t1 === t0) t1 = t0 + 1;
  const x = (t) => L + ((t - t0) / (t1 - t0)) * (W - L - R);
  const y = (v) => T + (1 - (v - v0) / (v1 - v0)) * (H - T - B);
  for (let i = 0; i <= 3; i++) {
    const v = v0 + ((v1 - v0) * i) / 3;
    node.append(svg('line', { x1: L, x2: W - R, y1: y(v), y2: y(v), class: 'grid' }));
    node.append(svg('text', { x: L - 4, y: y(v) + 3, 'text-anchor': 'end', class: 'axis' }, fmt(v)));
  }
  node.append(svg('text', { x: L, y: H - 6, class: 'axis' }, fmtClock(t0)));
  node.append(svg('text', { x: W - R, y: H - 6, 'text-anchor': 'end', class: 'axis' }, fmtClock(t1)));
  const d = pts.map((p, i) => (i ? 'L' : 'M') + x(p.t).toFixed(1) + ',' + y(p.v).toFixed(1)).join(' ');
  node.append(svg('path', { d, class: 'line', 'data-points': pts.length }));
  for (const t of failures) {
    node.append(svg('rect', { x: x(t) - 1, y: H - B - 6, width: 2, height: 6, class: 'fail' }));
  }
}

async function loadHistory(uid) {
  if (uid === null) return;
  try {
    const h = await getJSON('/api/miners/' + uid + '/history?limit=500');
    if (uid !== state.selected) return;
    $('history-miner').textContent = '· uid ' + h.uid + ' ' + shortKey(h.hotkey);
    const fails = h.points.filter((p) => !p.success).map((p) => p.time_ms);
    drawChart($('chart-score'), h.points.map((p) => ({ t: p.time_ms, v: p.score })), (v) => v.toFixed(3), fails);
    drawChart($('chart-latency'), h.points.map((p) => ({ t: p.time_ms, v: p.latency_ms })), fmtMs, fails);
    drawChart($('chart-memory'), h.points.map((p) => ({ t: p.time_ms, v: p.peak_memory_bytes })), fmtBytes, []);
  } catch (e) {
    showError('history: ' + e.message);
  }
}

function select(uid) {
  state.selected = uid;
  if (state.snapshot) renderMiners(state.snapshot.miners);
  loadHistory(uid);
}

function render(snapshot) {
  state.snapshot = snapshot;
  showError('');
  renderChain(snapshot.chain);
  const known = snapshot.miners.some((m) => m.uid === state.selected);
  if (!known) {
    // Chart the best-scored miner until the operator picks one.
    const best = snapshot.miners.slice().sort((a, b) => b.score - a.score)[0];
    state.selected = best ? best.uid : null;
  }
  renderMiners(snapshot.miners);
  renderChallenges(snapshot.challenges);
  renderWeights(snapshot.weights);
  loadHistory(state.selected);
}

function startPolling() {
  if (state.polling) return;
  const poll = async () => {
    try {
      render(await getJSON('/api/snapshot'));
      setLive('polling', true);
    } catch (e) {
      setLive('disconnected', false);
      showError(e.message);
    }
  };
  poll();
  state.polling = setInterval(poll, POLL_MS);
}

function startStream() {
  if (!window.EventSource) { startPolling(); return; }
  const stream = new EventSource('/api/events');
  stream.addEventListener('open', () => setLive('live', true));
  stream.addEventListener('snapshot', (e) => render(JSON.parse(e.data)));
  stream.addEventListener('source_error', (e) => showError('validator: ' + e.data));
  stream.addEventListener('error', () => {
    // EventSource retries by itself unless the server refused outright.
    if (stream.readyState === EventSource.CLOSED) { stream.close(); startPolling(); }
    else setLive('reconnecting…', false);
  });
}

document.addEventListener('DOMContentLoaded', () => {
  for (const th of document.querySelectorAll('#miners th')) {
    th.addEventListener('click', () => {
      const key = th.dataset.key;
      state.sortDir = key === state.sortKey ? -state.sortDir : th.dataset.num === '1' ? -1 : 1;
      state.sortKey = key;
      if (state.snapshot) renderMiners(state.snapshot.miners);
    });
  }
  startStream();
});
