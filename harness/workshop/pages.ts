/**
 * The scoreboard and admin pages: static HTML, CSS and script, served as they are. Every name,
 * message and test name reaches the page as JSON and is put in with textContent, never as HTML, so
 * an attendee named `<script>` shows as text. The Content-Security-Policy (app.ts) allows only
 * these scripts.
 */

const TRUST = 'Self-reported by attendees’ machines, for pacing only: results can be faked. Final grades come from <code>lab grade</code>.';

const css = `
:root { --bg:#111; --fg:#f4f4f4; --dim:#9a9a9a; --pass:#2e9e4f; --fail:#d0463b; --start:#3b6fd0; --stuck:#f0b400; }
* { box-sizing: border-box; }
body { margin: 0; padding: 1.2rem 1.6rem; background: var(--bg); color: var(--fg); font: 22px/1.35 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
h1 { font-size: 2rem; margin: 0 0 .6rem; }
.meta { color: var(--dim); font-size: 1rem; margin-bottom: .8rem; }
.message { background: #233; border-left: .4rem solid var(--stuck); padding: .6rem 1rem; margin: 0 0 1rem; font-size: 1.3rem; }
table { border-collapse: separate; border-spacing: .3rem; width: 100%; }
th { text-align: left; font-size: 1.1rem; color: var(--dim); font-weight: 600; padding: .2rem .5rem; }
th.current { color: var(--fg); }
td { padding: .35rem .6rem; border-radius: .35rem; vertical-align: top; background: #1d1d1d; }
td.name { font-weight: 700; font-size: 1.25rem; background: none; max-width: 14rem; overflow-wrap: anywhere; }
td.points { font-weight: 700; text-align: right; background: none; }
.state { font-weight: 700; font-size: 1.15rem; white-space: nowrap; }
.sub { color: #ddd; font-size: .9rem; white-space: nowrap; }
.not-started { color: var(--dim); }
.started { border-left: .35rem solid var(--start); }
.failing { border-left: .35rem solid var(--fail); background: #2a1716; }
.failing .state { color: #ff8a80; }
.passing { border-left: .35rem solid var(--pass); background: #132a19; }
.passing .state { color: #8be39f; }
.stuck { outline: .2rem dashed var(--stuck); }
.flag { display: block; color: var(--stuck); font-weight: 700; font-size: .95rem; }
tr.totals td { background: none; color: var(--fg); font-weight: 700; border-top: 2px solid #444; font-size: 1rem; white-space: nowrap; }
.empty { color: var(--dim); font-size: 1.2rem; padding: 2rem 0; }
footer { color: var(--dim); font-size: .9rem; margin-top: 1.2rem; }
.admin { font-size: 18px; max-width: 60rem; }
.admin section { border-top: 1px solid #333; padding: .8rem 0; }
.admin button, .admin select, .admin input, .admin textarea { font: inherit; padding: .3rem .6rem; }
.admin textarea { width: 100%; }
.warn { color: var(--stuck); }
.status { color: var(--dim); min-height: 1.4em; }
.refused { color: #ff8a80; font-size: 1.3rem; }
`;

const boardHtml = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Workshop scoreboard</title><link rel="stylesheet" href="/board.css"></head>
<body>
<h1>Workshop scoreboard</h1>
<div class="meta" id="meta">connecting…</div>
<div class="message" id="message" hidden></div>
<table id="board" aria-live="polite"></table>
<footer>✔ passing · ✖ failing (tests failing of all) · ○ started · – not started · ⚠ stuck (same failing test for over 10 minutes, or every hint used). ${TRUST}</footer>
<script src="/board.js"></script>
</body></html>`;

/** Runs in the browser. Plain script, no build step. */
const boardJs = `'use strict';
const state = { labs: [], rows: new Map(), totals: {}, room: { currentLab: null, message: null }, live: false };
const el = (tag, cls, text) => { const e = document.createElement(tag); if (cls) e.className = cls; if (text !== undefined) e.textContent = text; return e; };

function cell(c) {
  const td = el('td');
  td.className = c.state.replace(' ', '-') + (c.stuck ? ' stuck' : '');
  let label;
  if (c.state === 'passing') label = '✔ passing';
  else if (c.state === 'failing') label = '✖ failing ' + c.failed + ' of ' + c.total;
  else if (c.state === 'started') label = '○ started';
  else label = '– not started';
  td.append(el('span', 'state', label));
  if (c.state !== 'not started') {
    td.append(el('div', 'sub', c.points + '/' + c.maxPoints + ' pts · hints ' + c.hintsUsed + '/' + c.hintsTotal));
  }
  if (c.failing) td.title = 'failing: ' + c.failing;
  if (c.stuck) td.append(el('span', 'flag', '⚠ stuck: ' + c.stuck));
  return td;
}

function render() {
  const table = document.getElementById('board');
  table.replaceChildren();
  const head = el('tr');
  head.append(el('th', '', 'attendee'));
  for (const l of state.labs) {
    const current = state.room.currentLab === l.slug;
    head.append(el('th', current ? 'current' : '', (current ? '▶ ' : '') + String(l.order).padStart(2, '0') + ' ' + l.slug));
  }
  head.append(el('th', '', 'points'));
  table.append(head);
  const rows = [...state.rows.values()].sort((a, b) => a.name.localeCompare(b.name) || a.id - b.id);
  for (const r of rows) {
    const tr = el('tr');
    tr.dataset.attendee = String(r.id);
    tr.append(el('td', 'name', r.name));
    for (const l of state.labs) tr.append(cell(r.cells[l.slug]));
    tr.append(el('td', 'points', String(r.points)));
    table.append(tr);
  }
  const tot = el('tr', 'totals');
  tot.append(el('td', '', rows.length + ' attendee' + (rows.length === 1 ? '' : 's')));
  for (const l of state.labs) {
    const t = state.totals[l.slug] || { passing: 0, failing: 0, started: 0, notStarted: 0, stuck: 0 };
    tot.append(el('td', '', '✔ ' + t.passing + '  ✖ ' + t.failing + '  – ' + (t.notStarted + t.started) + (t.stuck ? '  ⚠ ' + t.stuck : '')));
  }
  tot.append(el('td'));
  table.append(tot);
  if (!rows.length) {
    const tr = el('tr');
    const td = el('td', 'empty', 'Nobody has joined yet: attendees run lab workshop join URL --name NAME');
    td.colSpan = state.labs.length + 2;
    tr.append(td);
    table.insertBefore(tr, tot);
  }
  const m = document.getElementById('message');
  m.hidden = !state.room.message;
  m.textContent = state.room.message ? '✉ ' + state.room.message.text : '';
  document.getElementById('meta').textContent =
    (state.live ? 'live' : 'reconnecting…') + (state.room.currentLab ? ' · current lab: ' + state.room.currentLab : '');
}

const es = new EventSource('/api/events');
es.addEventListener('open', () => { state.live = true; render(); });
es.addEventListener('error', () => { state.live = false; render(); });
es.addEventListener('board', (e) => {
  const b = JSON.parse(e.data);
  state.labs = b.labs; state.rows = new Map(b.attendees.map((r) => [r.id, r])); state.totals = b.totals; state.room = b.room;
  render();
});
es.addEventListener('rows', (e) => {
  const d = JSON.parse(e.data);
  for (const r of d.attendees) state.rows.set(r.id, r);
  for (const id of d.removed) state.rows.delete(id);
  state.totals = d.totals;
  render();
});
es.addEventListener('room', (e) => { state.room = JSON.parse(e.data); render(); });
`;

const adminHtml = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Workshop admin</title><link rel="stylesheet" href="/board.css"></head>
<body class="admin">
<h1>Workshop admin</h1>
<p class="warn">${TRUST} Use the board to pace the room and to see who needs help.</p>
<p><a href="/" target="_blank">Open the scoreboard</a> (put it on the projector).</p>
<section><h2>Current lab</h2><p>Attendees’ <code>lab list</code> highlights it.</p>
<select id="lab"><option value="">(none)</option></select> <button id="set-lab">Set current lab</button></section>
<section><h2>Broadcast</h2><p>Shown in every attendee’s next <code>lab test</code>, and on the board. Empty clears it.</p>
<textarea id="text" rows="2" maxlength="500"></textarea><br><button id="send">Broadcast</button></section>
<section><h2>Attendees</h2><table id="attendees"></table></section>
<section><h2>Export and reset</h2>
<p><a id="export" href="#">Download class CSV</a> (the columns of <code>lab grade</code>’s class.csv, from self-reported runs).</p>
<p><button id="reset">Reset the board</button> for the next group: the board is archived, then everyone joins again.</p>
<ul id="archives"></ul></section>
<p class="status" id="status" role="status"></p>
<script src="/admin.js"></script>
</body></html>`;

const adminJs = `'use strict';
const token = new URLSearchParams(location.search).get('token') || '';
const el = (tag, text) => { const e = document.createElement(tag); if (text !== undefined) e.textContent = text; return e; };
const status = (s) => { document.getElementById('status').textContent = s; };
async function call(method, path, body) {
  const res = await fetch('/api/admin/' + path, {
    method, headers: Object.assign({ Authorization: 'Bearer ' + token }, body ? { 'Content-Type': 'application/json' } : {}),
    body: body ? JSON.stringify(body) : undefined,
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(data.error || res.statusText);
  return data;
}
async function load() {
  const b = await (await fetch('/api/board')).json();
  const sel = document.getElementById('lab');
  sel.replaceChildren(el('option', '(none)'));
  sel.firstChild.value = '';
  for (const l of b.labs) { const o = el('option', String(l.order).padStart(2, '0') + ' ' + l.slug); o.value = l.slug; sel.append(o); }
  sel.value = b.room.currentLab || '';
  const t = document.getElementById('attendees');
  t.replaceChildren();
  for (const r of b.attendees) {
    const tr = el('tr');
    tr.append(el('td', r.name), el('td', r.points + ' pts'));
    const td = el('td');
    const btn = el('button', 'Remove');
    btn.addEventListener('click', async () => {
      if (!confirm('Remove ' + r.name + ' from the board?')) return;
      try { await call('DELETE', 'attendees/' + r.id); status('Removed ' + r.name); load(); } catch (e) { status(e.message); }
    });
    td.append(btn); tr.append(td); t.append(tr);
  }
  const arch = await call('GET', 'archives');
  const ul = document.getElementById('archives');
  ul.replaceChildren();
  for (const a of arch) {
    const li = el('li');
    const link = el('a', 'board ' + a.board + ', archived ' + a.archivedAt + ' (' + a.attendees + ' attendees): CSV');
    link.href = '/api/admin/archives/' + a.id + '.csv?token=' + encodeURIComponent(token);
    li.append(link); ul.append(li);
  }
}
document.getElementById('export').href = '/api/admin/export.csv?token=' + encodeURIComponent(token);
document.getElementById('set-lab').addEventListener('click', async () => {
  try { const r = await call('POST', 'current-lab', { lab: document.getElementById('lab').value || null }); status('Current lab: ' + (r.currentLab || 'none')); } catch (e) { status(e.message); }
});
document.getElementById('send').addEventListener('click', async () => {
  try { const r = await call('POST', 'message', { text: document.getElementById('text').value }); status(r.message ? 'Broadcast: ' + r.message.text : 'Message cleared'); } catch (e) { status(e.message); }
});
document.getElementById('reset').addEventListener('click', async () => {
  if (!confirm('Archive this board and start an empty one? Everyone will have to join again.')) return;
  try { await call('POST', 'reset'); status('Board archived and reset'); load(); } catch (e) { status(e.message); }
});
load().catch((e) => status(e.message));
`;

export const boardPage = { html: boardHtml, css, js: boardJs };
export const adminPage = { html: adminHtml, js: adminJs };
