/**
 * The dashboard's one page: plain HTML and a script that polls `/api/snapshot`, keeps the
 * last minutes of samples in the browser and draws them with uPlot (served from
 * node_modules, no bundler). Everything from the databases is put in as text, never HTML.
 */

const style = `
body { font: 14px system-ui, sans-serif; margin: 1.2em; color: #222; background: #fafafa; }
h1 { font-size: 1.3em; margin: 0 0 .2em; } h2 { font-size: 1.05em; margin: 1.2em 0 .4em; }
#status { color: #666; margin-bottom: .8em; } #status.down { color: #b00; }
.charts { display: flex; flex-wrap: wrap; gap: 1.2em; }
.chart { background: #fff; border: 1px solid #ddd; padding: .4em; }
table { border-collapse: collapse; background: #fff; }
th, td { border: 1px solid #ddd; padding: .25em .6em; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.bad { color: #b00; font-weight: 600; } .empty { color: #888; font-style: italic; }
ul.tree { margin: .2em 0; } ul.tree li { margin: .15em 0; }
.type { display: inline-block; min-width: 3.5em; color: #555; }
`;

const script = `
'use strict';
const params = new URLSearchParams(location.search);
const interval = Math.max(0.2, Number(params.get('interval')) || 2) * 1000;
const keepSeconds = 600;
const history = { rate: new Map(), lag: new Map(), times: [] };
let previous = null;
const charts = {};

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}
function fmt(v, digits = 1) {
  return v === null || v === undefined ? '' : Number(v).toFixed(digits).replace(/\\.0+$/, '');
}
function table(id, headers, rows) {
  const box = document.getElementById(id);
  box.replaceChildren();
  if (rows.length === 0) { box.append(el('p', 'none', 'empty')); return; }
  const t = el('table');
  const head = el('tr');
  for (const h of headers) head.append(el('th', h));
  t.append(head);
  for (const row of rows) {
    const tr = el('tr');
    for (const cell of row) {
      const td = typeof cell === 'object' && cell !== null
        ? el('td', cell.text, cell.cls) : el('td', cell);
      tr.append(td);
    }
    t.append(tr);
  }
  box.append(t);
}
const num = (v, digits) => ({ text: fmt(v, digits), cls: 'num' });

function record(snapshot) {
  const now = Math.max(...snapshot.databases.map((d) => d.at), Date.now() / 1000);
  // The database is part of a series' name only when there are several.
  const prefix = (db) => (snapshot.databases.length > 1 ? db.database + ' / ' : '');
  history.times.push(now);
  const seen = { rate: new Set(), lag: new Set() };
  for (const db of snapshot.databases) {
    for (const q of db.queues) {
      const key = prefix(db) + q.queue;
      let rate = q.eventsPerSecond;
      const before = previous && previous.get(key);
      if (before && q.eventsTotal !== null && db.at > before.at) {
        rate = Math.max(0, (q.eventsTotal - before.total) / (db.at - before.at));
      }
      push(history.rate, key, rate);
      seen.rate.add(key);
    }
    for (const c of db.consumers) {
      if (c.lagSeconds === null) continue;
      const key = prefix(db) + c.queue + ' / ' + c.consumer;
      push(history.lag, key, c.lagSeconds);
      seen.lag.add(key);
    }
  }
  for (const kind of ['rate', 'lag']) {
    for (const [key, values] of history[kind]) if (!seen[kind].has(key)) values.push(null);
  }
  previous = new Map();
  for (const db of snapshot.databases) {
    for (const q of db.queues) {
      previous.set(prefix(db) + q.queue, { total: q.eventsTotal, at: db.at });
    }
  }
  while (history.times.length > 0 && history.times[0] < now - keepSeconds) {
    history.times.shift();
    for (const kind of ['rate', 'lag']) for (const values of history[kind].values()) values.shift();
  }
}
function push(map, key, value) {
  let values = map.get(key);
  if (!values) {
    values = history.times.slice(0, -1).map(() => null);
    map.set(key, values);
  }
  values.push(value === undefined ? null : value);
}

const palette = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];
function draw(kind, id, unit) {
  const box = document.getElementById(id);
  const keys = [...history[kind].keys()];
  const data = [history.times.slice(), ...keys.map((k) => history[kind].get(k).slice())];
  const signature = keys.join('\\n');
  let chart = charts[kind];
  if (!chart || chart.signature !== signature) {
    if (chart) chart.plot.destroy();
    const opts = {
      width: Math.min(640, Math.max(320, window.innerWidth / 2 - 40)), height: 260,
      scales: { x: { time: true } },
      axes: [{}, { label: unit, size: 60 }],
      series: [{}, ...keys.map((k, i) => ({
        label: k, stroke: palette[i % palette.length], width: 2, spanGaps: false,
      }))],
    };
    box.replaceChildren();
    chart = charts[kind] = { plot: new uPlot(opts, data, box), signature };
  } else {
    chart.plot.setData(data);
  }
  // For a reader of the page (and the browser test): how many points, and the last values.
  box.dataset.points = String(history.times.length);
  box.dataset.last = JSON.stringify(keys.map((k) => history[kind].get(k).at(-1)));
}

function tree(snapshot) {
  const box = document.getElementById('cascade');
  box.replaceChildren();
  const queues = new Map();
  for (const db of snapshot.databases) {
    for (const n of db.nodes) {
      if (!queues.has(n.queue)) queues.set(n.queue, new Map());
      queues.get(n.queue).set(n.node, { ...n, database: db.database });
    }
  }
  const errors = new Map();
  for (const db of snapshot.databases) {
    for (const c of db.cascadeConsumers) {
      if (c.error !== null) errors.set(c.queue + '\\u0000' + c.consumer, c.error);
    }
  }
  if (queues.size === 0) { box.append(el('p', 'no cascaded queues', 'empty')); return; }
  for (const [queue, nodes] of queues) {
    box.append(el('h3', 'queue ' + queue));
    const children = new Map();
    const tops = [];
    for (const n of nodes.values()) {
      if (n.provider && n.provider !== n.node && nodes.has(n.provider)) {
        if (!children.has(n.provider)) children.set(n.provider, []);
        children.get(n.provider).push(n.node);
      } else tops.push(n.node);
    }
    const item = (name) => {
      const n = nodes.get(name);
      const li = el('li');
      li.append(el('span', n.type, 'type'), ' ', el('b', name), ' ');
      const notes = [n.database];
      if (n.lagSeconds !== null) notes.push('lag ' + fmt(n.lagSeconds) + ' s');
      if (n.paused) notes.push('paused');
      if (!n.uptodate) notes.push('not up to date');
      li.append(el('span', '(' + notes.join(', ') + ')'));
      const err = n.worker && errors.get(queue + '\\u0000' + n.worker);
      if (err) li.append(' ', el('span', 'error: ' + err, 'bad'));
      const kids = [...(children.get(name) || [])];
      for (const s of n.subscribers) {
        if (!nodes.has(s) && !kids.includes(s)) kids.push(s);
      }
      if (kids.length > 0) {
        const ul = el('ul', null, 'tree');
        for (const k of kids) {
          if (nodes.has(k)) ul.append(item(k));
          else ul.append(el('li', k + ' (subscriber, database not monitored)', 'empty'));
        }
        li.append(ul);
      }
      return li;
    };
    const ul = el('ul', null, 'tree');
    for (const t of tops) ul.append(item(t));
    box.append(ul);
  }
}

function show(snapshot) {
  const down = snapshot.databases.filter((d) => !d.up);
  const status = document.getElementById('status');
  status.className = down.length > 0 ? 'down' : '';
  status.textContent = 'updated ' + new Date().toLocaleTimeString() + ', read in ' +
    fmt(snapshot.durationSeconds * 1000, 0) + ' ms' +
    down.map((d) => '; ' + d.database + ' is down: ' + d.error).join('');
  const many = snapshot.databases.length > 1;
  const dbCell = (db) => (many ? [db.database] : []);
  const dbHead = many ? ['database'] : [];
  table('queues', [...dbHead, 'queue', 'events/s', 'pending', 'tick age s', 'last rotation', 'rotation blocked by'],
    snapshot.databases.flatMap((db) => db.queues.map((q) => [
      ...dbCell(db), q.queue, num(q.eventsPerSecond, 1), num(q.pendingEvents, 0), num(q.tickAgeSeconds, 1),
      q.lastRotation === null ? '' : new Date(q.lastRotation * 1000).toLocaleString(),
      { text: q.rotationBlockedBy.join(', '), cls: q.rotationBlockedBy.length ? 'bad' : '' },
    ])));
  table('consumers', [...dbHead, 'queue', 'consumer', 'lag s', 'last seen s', 'pending', 'retry'],
    snapshot.databases.flatMap((db) => db.consumers.map((c) => [
      ...dbCell(db), c.queue, c.consumer, num(c.lagSeconds, 1), num(c.lastSeenSeconds, 1),
      num(c.pendingEvents, 0), num(c.retryEvents, 0),
    ])));
  table('tables', [...dbHead, 'queue', 'table', 'state', 'local', 'copied rows'],
    snapshot.databases.flatMap((db) => db.tables.map((t) => [
      ...dbCell(db), t.queue, t.table, t.state, t.local ? 'yes' : 'no', num(t.copyRows, 0),
    ])));
  tree(snapshot);
  record(snapshot);
  draw('rate', 'rate-chart', 'events/s');
  draw('lag', 'lag-chart', 'seconds');
}

async function poll() {
  try {
    const response = await fetch('api/snapshot', { cache: 'no-store' });
    if (!response.ok) throw new Error(await response.text());
    show(await response.json());
  } catch (error) {
    const status = document.getElementById('status');
    status.className = 'down';
    status.textContent = 'cannot read the snapshot: ' + error.message;
  }
  setTimeout(poll, interval);
}
poll();
`;

export function dashboardPage(title: string): string {
  const safeTitle = title.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${safeTitle}</title>
<link rel="stylesheet" href="assets/uPlot.min.css">
<style>${style}</style>
</head>
<body>
<h1>${safeTitle}</h1>
<div id="status">loading...</div>
<div class="charts">
  <div><h2>Events per second</h2><div id="rate-chart" class="chart"></div></div>
  <div><h2>Consumer lag</h2><div id="lag-chart" class="chart"></div></div>
</div>
<h2>Queues</h2><div id="queues"></div>
<h2>Consumers</h2><div id="consumers"></div>
<h2>Cascade</h2><div id="cascade"></div>
<h2>Londiste tables</h2><div id="tables"></div>
<script src="assets/uPlot.iife.min.js"></script>
<script>${script}</script>
</body>
</html>
`;
}
