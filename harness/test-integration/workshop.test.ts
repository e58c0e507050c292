/**
 * The workshop server end to end: a real Postgres (Testcontainers), the real server, attendees'
 * real client code (queue and sender), and a real browser (playwright-core driving Debian's
 * Chromium) on the scoreboard and admin pages. Also: a server killed and restarted while
 * attendees post, a board kept in its own Postgres volume across a restart, and every kind of bad
 * payload.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { chromium, type Browser, type Page } from 'playwright-core';
import { getContainerRuntimeClient } from 'testcontainers';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ROOT } from '../paths.js';
import { pgUrl, startServices, type StartedServices } from '../servers/containers.js';
import { enqueue, flushQueue, joinWorkshop, notices, queued, roomNow, type WorkshopConfig } from '../workshop/client.js';
import type { Report } from '../workshop/protocol.js';
import { DEFAULT_LIMITS } from '../workshop/rate-limit.js';
import { startWorkshopServer, type WorkshopServer } from '../workshop/server.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const json = async (r: Response | Promise<Response>): Promise<any> => (await r).json();
const BIN = join(ROOT, 'harness', 'cli', 'bin.js');
const CHROMIUM = process.env.LAB_CHROMIUM ?? '/usr/bin/chromium';
const ROOMY = { ...DEFAULT_LIMITS, joins: { capacity: 1000, perSecond: 100 }, reports: { capacity: 1000, perSecond: 100 } };

let services: StartedServices;
let admin: pg.Pool;
let browser: Browser;
const tmp = mkdtempSync(join(tmpdir(), 'workshop-'));

/** A fresh database per server, on the one Postgres this file started. */
async function database(): Promise<string> {
  const name = `ws_${randomUUID().slice(0, 8)}`;
  await admin.query(`CREATE DATABASE ${name}`);
  return pgUrl(services.endpoints.postgres!, name);
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `the workshop's browser tests drive Chromium at ${CHROMIUM}: \`apt-get install chromium\`, or set LAB_CHROMIUM to another Chromium`,
    );
  [services, browser] = await Promise.all([
    startServices(['postgres']),
    chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-dev-shm-usage'],
    }),
  ]);
  admin = new pg.Pool({ connectionString: pgUrl(services.endpoints.postgres!), max: 2 });
});

afterAll(async () => {
  await browser?.close();
  await admin?.end();
  await services?.stop();
});

function testRun(lab: string, passed: number, total: number, o: Partial<{ at: string; failing: string; hintsUsed: number }> = {}): Report {
  const tests = Array.from({ length: total }, (_, i) => ({
    id: `t${i + 1}`,
    status: (i < passed ? 'passed' : 'failed') as 'passed' | 'failed',
    points: 2,
    tier: 'core' as const,
  }));
  return {
    kind: 'test',
    id: randomUUID(),
    at: o.at ?? new Date().toISOString(),
    lab,
    passed,
    total,
    points: passed * 2,
    maxPoints: total * 2,
    hintsUsed: o.hintsUsed ?? 0,
    hintsTotal: 3,
    failing: passed < total ? (o.failing ?? `when test ${passed + 1} runs then it passes`) : null,
    tests,
  };
}

async function attendee(url: string, name: string): Promise<{ dir: string; config: WorkshopConfig }> {
  const dir = mkdtempSync(join(tmp, 'a-'));
  return { dir, config: await joinWorkshop(url, name, dir) };
}

/** Rows as the page shows them: name → the row's visible text. */
async function rowsOnPage(page: Page): Promise<Map<string, string>> {
  const rows = (await page.evaluate(
    `[...document.querySelectorAll('tr[data-attendee]')].map((r) => [r.querySelector('td.name').textContent, r.innerText])`,
  )) as Array<[string, string]>;
  return new Map(rows);
}

describe('the scoreboard in a browser', () => {
  let server: WorkshopServer;
  let page: Page;

  beforeAll(async () => {
    server = await startWorkshopServer({ databaseUrl: await database(), host: '127.0.0.1', port: 0, limits: ROOMY });
    page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    await page.goto(server.url + '/');
    await page.getByText('live').first().waitFor();
  });
  afterAll(async () => {
    await page?.close();
    await server?.close();
  });

  test('when 20 attendees join and post results then the page shows each one within 2 s, without reloading', async () => {
    const people = await Promise.all(
      Array.from({ length: 20 }, (_, i) => attendee(server.url, `Attendee ${String(i + 1).padStart(2, '0')}`)),
    );
    const posted = new Map<string, number>();
    const seen = new Map<string, number>();
    await Promise.all(
      people.map(async (p, i) => {
        enqueue(testRun('deadlocks', i % 4, 3), p.dir);
        const r = await flushQueue(p.dir);
        expect(r, `${p.config.name}'s report was not taken`).toMatchObject({ sent: 1, left: 0 });
        posted.set(p.config.name, Date.now());
      }),
    );
    const expected = (i: number) => (i % 4 === 3 ? '✔ passing' : `✖ failing ${3 - (i % 4)} of 3`);
    const deadline = Date.now() + 10_000;
    while (seen.size < people.length && Date.now() < deadline) {
      const rows = await rowsOnPage(page);
      people.forEach((p, i) => {
        if (!seen.has(p.config.name) && rows.get(p.config.name)?.includes(expected(i))) seen.set(p.config.name, Date.now());
      });
      await new Promise((r) => setTimeout(r, 50));
    }
    const late = people
      .map((p) => ({ name: p.config.name, ms: (seen.get(p.config.name) ?? Infinity) - posted.get(p.config.name)! }))
      .filter((x) => !(x.ms <= 2_000));
    expect(late, `attendees not on the page within 2 s of their report (ms after the report was stored)`).toEqual([]);
    const totals = await page.locator('tr.totals').innerText();
    expect(totals).toContain('✔ 5'); // 5 of 20 pass deadlocks
    expect(totals).toContain('✖ 15');
  });

  test('when an attendee fails the same test for over 10 minutes, or uses every hint, then the board flags them stuck', async () => {
    const slow = await attendee(server.url, 'Stuck On Storm');
    enqueue(
      testRun('caching', 1, 4, { at: new Date(Date.now() - 11 * 60_000).toISOString(), failing: 'when the cache is cold then …' }),
      slow.dir,
    );
    enqueue(testRun('caching', 1, 4, { failing: 'when the cache is cold then …' }), slow.dir);
    const hinted = await attendee(server.url, 'All Hints Used');
    enqueue(testRun('idempotency', 2, 5, { hintsUsed: 3 }), hinted.dir);
    const moving = await attendee(server.url, 'Moving Along');
    enqueue(testRun('caching', 1, 4, { at: new Date(Date.now() - 11 * 60_000).toISOString(), failing: 'first failing test' }), moving.dir);
    enqueue(testRun('caching', 2, 4, { failing: 'the next failing test' }), moving.dir);
    for (const a of [slow, hinted, moving]) expect(await flushQueue(a.dir)).toMatchObject({ left: 0 });
    await expect
      .poll(async () => (await rowsOnPage(page)).get('Stuck On Storm'), { timeout: 5_000 })
      .toMatch(/⚠ stuck: same failing test for 11 min/);
    await expect.poll(async () => (await rowsOnPage(page)).get('All Hints Used'), { timeout: 5_000 }).toMatch(/⚠ stuck: all 3 hints used/);
    expect((await rowsOnPage(page)).get('Moving Along')).not.toMatch(/stuck/);
  });

  test('when an attendee is named like an HTML element then the page shows the name as text and runs nothing', async () => {
    const dialogs: string[] = [];
    page.on('dialog', (d) => void (dialogs.push(d.message()), d.dismiss()));
    const name = '<img src=x onerror=alert(1)>';
    const a = await attendee(server.url, name);
    enqueue(testRun('deadlocks', 1, 3), a.dir);
    await flushQueue(a.dir);
    await expect.poll(async () => (await rowsOnPage(page)).has(name), { timeout: 5_000 }).toBe(true);
    expect(await page.locator('td.name', { hasText: name }).count()).toBe(1);
    expect(await page.locator('img').count(), 'an <img> element made from the name').toBe(0);
    const fresh = await browser.newPage();
    fresh.on('dialog', (d) => void (dialogs.push(d.message()), d.dismiss()));
    await fresh.goto(server.url + '/');
    await fresh.locator('td.name', { hasText: name }).waitFor();
    expect(await fresh.locator('img').count()).toBe(0);
    await fresh.close();
    expect(dialogs, 'a script ran from the name').toEqual([]);
  });

  test('when the admin page or an admin action has no token or a wrong one then it is refused', async () => {
    const none = await page.request.get(server.url + '/admin');
    expect(none.status()).toBe(401);
    expect(await none.text()).toMatch(/admin only/);
    const wrong = await browser.newPage();
    const res = await wrong.goto(server.url + '/admin?token=not-the-token');
    expect(res!.status()).toBe(403);
    expect(await wrong.locator('body').innerText()).toMatch(/not this server’s admin token/);
    expect(await wrong.locator('button').count()).toBe(0);
    await wrong.close();
    for (const [method, path, body] of [
      ['POST', 'current-lab', { lab: 'deadlocks' }],
      ['POST', 'message', { text: 'hi' }],
      ['POST', 'reset', {}],
      ['DELETE', 'attendees/1', undefined],
      ['GET', 'export.csv', undefined],
    ] as const) {
      for (const [auth, status] of [
        [undefined, 401],
        ['Bearer wrong', 403],
        // An attendee's token is not the admin's.
        [`Bearer ${(await attendee(server.url, `Curious ${randomUUID().slice(0, 6)}`)).config.token}`, 403],
      ] as const) {
        const r = await fetch(`${server.url}/api/admin/${path}`, {
          method,
          headers: { ...(auth ? { Authorization: auth } : {}), ...(body ? { 'Content-Type': 'application/json' } : {}) },
          body: body ? JSON.stringify(body) : undefined,
        });
        expect(r.status, `${method} ${path} with ${auth ?? 'no token'}`).toBe(status);
      }
    }
    const board = await json(fetch(server.url + '/api/board'));
    expect(board.room.currentLab).toBeNull(); // nothing above took effect
  });

  test('when the instructor sets the current lab and broadcasts on the admin page then attendees see both, and the CSV has the board', async () => {
    const a = await attendee(server.url, 'Listener');
    const adminPage = await browser.newPage();
    await adminPage.goto(server.adminUrl);
    await adminPage.locator('#lab option[value="caching"]').waitFor({ state: 'attached' });
    await adminPage.selectOption('#lab', 'caching');
    await adminPage.click('#set-lab');
    await adminPage.getByText('Current lab: caching').waitFor();
    await adminPage.fill('#text', 'Break until 11:00 <b>sharp</b>');
    await adminPage.click('#send');
    await adminPage.getByText('Broadcast: Break until 11:00').waitFor();
    expect(await adminPage.locator('body').innerText()).toMatch(/self-reported/i);
    await adminPage.close();
    expect(await roomNow(a.dir)).toMatchObject({ currentLab: 'caching', message: { text: 'Break until 11:00 <b>sharp</b>' } });
    expect(notices(a.dir)).toEqual(['✉ From the instructor: Break until 11:00 <b>sharp</b>']);
    expect(notices(a.dir), 'a broadcast is shown once').toEqual([]);
    await page.locator('#message', { hasText: 'Break until 11:00 <b>sharp</b>' }).waitFor();
    await page.locator('th.current', { hasText: 'caching' }).waitFor();
    const csv = await (
      await fetch(`${server.url}/api/admin/export.csv`, { headers: { Authorization: `Bearer ${server.adminToken}` } })
    ).text();
    const [header, ...rows] = csv.trim().split('\n');
    expect(header).toMatch(
      /^learner,deadlocks mark,deadlocks core,deadlocks core max,deadlocks bonus,deadlocks bonus max,deadlocks points,deadlocks max,deadlocks hints,deadlocks graded at,deadlocks: t1,deadlocks: t2,deadlocks: t3,idempotency mark/,
    );
    expect(header).toMatch(/,total,max,flags$/);
    expect(rows.find((r) => r.startsWith('Attendee 04,'))).toMatch(/^Attendee 04,full core,6,6,0,0,6,6,0,[^,]+,pass,pass,pass,/);
  });

  test('when an attendee is removed on the admin API then they leave the board and their token is refused', async () => {
    const a = await attendee(server.url, 'Leaving Soon');
    enqueue(testRun('deadlocks', 0, 3), a.dir);
    await flushQueue(a.dir);
    await expect.poll(async () => (await rowsOnPage(page)).has('Leaving Soon'), { timeout: 5_000 }).toBe(true);
    const r = await fetch(`${server.url}/api/admin/attendees/${a.config.attendeeId}`, {
      method: 'DELETE',
      headers: { Authorization: `Bearer ${server.adminToken}` },
    });
    expect(r.status).toBe(200);
    await expect.poll(async () => (await rowsOnPage(page)).has('Leaving Soon'), { timeout: 5_000 }).toBe(false);
    enqueue(testRun('deadlocks', 1, 3), a.dir);
    expect(await flushQueue(a.dir)).toMatchObject({ sent: 0, left: 1, stopped: expect.stringMatching(/removed you/) });
    expect(notices(a.dir).join('\n')).toMatch(/does not take your reports: the instructor removed you/);
  });
  // Last in this block: it empties the board.
  test('when the instructor resets the board then it is archived with its CSV, the page empties, and the old tokens must join again', async () => {
    const a = await attendee(server.url, 'Before Reset');
    enqueue(testRun('deadlocks', 3, 3), a.dir);
    await flushQueue(a.dir);
    const before = await json(fetch(server.url + '/api/board'));
    expect(before.attendees.length).toBeGreaterThan(20);
    const adminPage = await browser.newPage();
    adminPage.on('dialog', (d) => void d.accept());
    await adminPage.goto(server.adminUrl);
    await adminPage.click('#reset');
    await expect.poll(() => adminPage.locator('#status').innerText(), { timeout: 5_000 }).toBe('Board archived and reset');
    await adminPage.getByText(/board 1, archived .* \(\d+ attendees\): CSV/).waitFor();
    await adminPage.close();
    await expect.poll(async () => (await rowsOnPage(page)).size, { timeout: 5_000 }).toBe(0);
    const archives = await json(fetch(`${server.url}/api/admin/archives`, { headers: { Authorization: `Bearer ${server.adminToken}` } }));
    expect(archives).toHaveLength(1);
    expect(archives[0].attendees).toBe(before.attendees.length);
    const csv = await (await fetch(`${server.url}/api/admin/archives/${archives[0].id}.csv?token=${server.adminToken}`)).text();
    expect(csv).toMatch(/^Before Reset,full core,6,6,/m);
    enqueue(testRun('deadlocks', 3, 3), a.dir);
    expect(await flushQueue(a.dir)).toMatchObject({
      sent: 0,
      stopped: expect.stringMatching(/reset the board for a new group: join again/),
    });
    const again = await attendee(server.url, 'Before Reset'); // the name is free on the new board
    expect(again.config.attendeeId).not.toBe(a.config.attendeeId);
  });
});

describe('bad input: one clear 4xx each, nothing stored', () => {
  let server: WorkshopServer;
  let token: string;
  beforeAll(async () => {
    server = await startWorkshopServer({ databaseUrl: await database(), host: '127.0.0.1', port: 0, limits: ROOMY });
    token = (await attendee(server.url, 'Valid Attendee')).config.token;
  });
  afterAll(() => server?.close());

  const post = (path: string, body: string, headers: Record<string, string> = {}) =>
    fetch(server.url + path, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body });
  const auth = () => ({ Authorization: `Bearer ${token}` });
  const good = () => testRun('deadlocks', 1, 3);

  test.each([
    ['a body that is not JSON', 400, () => post('/api/reports', '{"reports": [', auth()), /not valid JSON/],
    [
      'a body that is not sent as JSON',
      415,
      () => post('/api/reports', 'x', { ...auth(), 'Content-Type': 'text/plain' }),
      /Content-Type: application\/json/,
    ],
    [
      'a body over 64 KB',
      413,
      () => post('/api/reports', JSON.stringify({ reports: [good()], pad: 'x'.repeat(70_000) }), auth()),
      /too large: the limit is 64 KB/,
    ],
    ['no reports', 400, () => post('/api/reports', '{"reports": []}', auth()), /reports: no reports/],
    [
      'a negative count',
      400,
      () => post('/api/reports', JSON.stringify({ reports: [{ ...good(), points: -1 }] }), auth()),
      /reports\.0\.points/,
    ],
    [
      'a field the protocol does not have',
      400,
      () => post('/api/reports', JSON.stringify({ reports: [{ ...good(), admin: true }] }), auth()),
      /malformed payload/,
    ],
    [
      'a bad report id',
      400,
      () => post('/api/reports', JSON.stringify({ reports: [{ ...good(), id: '../x' }] }), auth()),
      /reports\.0\.id: a report id/,
    ],
    [
      'a lab this workshop does not have',
      400,
      () => post('/api/reports', JSON.stringify({ reports: [{ ...good(), lab: 'nope' }] }), auth()),
      /no lab "nope"/,
    ],
    [
      'too many reports at once',
      400,
      () => post('/api/reports', JSON.stringify({ reports: Array.from({ length: 26 }, good) }), auth()),
      /more than 25 reports/,
    ],
    ['no token', 401, () => post('/api/reports', JSON.stringify({ reports: [good()] })), /no attendee token/],
    [
      'a token this server never issued',
      401,
      () => post('/api/reports', JSON.stringify({ reports: [good()] }), { Authorization: 'Bearer forged' }),
      /not issued by this workshop server/,
    ],
    ['a join without a name', 400, () => post('/api/join', '{}'), /name/],
    [
      'a join with a 41-character name',
      400,
      () => post('/api/join', JSON.stringify({ name: 'x'.repeat(41) })),
      /longer than 40 characters/,
    ],
    ['a join with control characters', 400, () => post('/api/join', JSON.stringify({ name: 'Ada\u001b[2J' })), /control characters/],
    [
      'a join with a name already on the board',
      409,
      () => post('/api/join', JSON.stringify({ name: 'valid attendee' })),
      /already on the board/,
    ],
  ] as const)('when a request has %s then it is refused with %i and says why', async (_what, status, send, message) => {
    const before = await json(fetch(server.url + '/api/board'));
    const r = await send();
    expect(r.status).toBe(status);
    expect((await json(r)).error).toMatch(message);
    const after = await json(fetch(server.url + '/api/board'));
    expect(after.attendees).toEqual(before.attendees);
  });

  test('when one client joins too often, or one attendee reports too often, then it gets 429 with Retry-After', async () => {
    const strict = await startWorkshopServer({
      databaseUrl: server.databaseUrl,
      host: '127.0.0.1',
      port: 0,
      limits: { ...DEFAULT_LIMITS, joins: { capacity: 2, perSecond: 0.01 }, reports: { capacity: 3, perSecond: 0.01 } },
    });
    try {
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await post2(strict.url, '/api/join', { name: `Burst ${i}` })).status);
      expect(statuses).toEqual([201, 201, 429]);
      const limited = await post2(strict.url, '/api/join', { name: 'Burst 9' });
      expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
      expect((await json(limited)).error).toMatch(/too many joins/);
      const reports = [];
      for (let i = 0; i < 4; i++) reports.push((await post2(strict.url, '/api/reports', { reports: [good()] }, auth())).status);
      expect(reports).toEqual([200, 200, 200, 429]);
    } finally {
      await strict.close();
    }
  });

  test('when the same report arrives twice then it is stored once', async () => {
    const r = good();
    const first = await json(post('/api/reports', JSON.stringify({ reports: [r] }), auth()));
    const again = await json(post('/api/reports', JSON.stringify({ reports: [r, good()] }), auth()));
    expect(first).toMatchObject({ accepted: 1, duplicates: 0 });
    expect(again).toMatchObject({ accepted: 1, duplicates: 1 });
  });
});

const post2 = (url: string, path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url + path, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body) });

/** `lab workshop serve` as its own process, until it prints where it listens. */
async function serveProcess(databaseUrl: string, port: number): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    [BIN, 'workshop', 'serve', '--database-url', databaseUrl, '--host', '127.0.0.1', '--port', String(port)],
    {
      env: { ...process.env, CI: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not serving within 60 s:\n${output}`)), 60_000);
    child.once('exit', (code) => (clearTimeout(timer), reject(new Error(`exited ${code}:\n${output}`))));
    const look = () => {
      const m = /Scoreboard\s+(http:\/\/127\.0\.0\.1:\d+)\//.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      } else setTimeout(look, 50);
    };
    look();
  });
  return { child, url };
}

test('when the server is killed and restarted while attendees post then every report is on the board exactly once', async () => {
  const databaseUrl = await database();
  let server = await serveProcess(databaseUrl, 0);
  const url = server.url;
  const port = Number(new URL(url).port);
  const people = await Promise.all(Array.from({ length: 6 }, (_, i) => attendee(url, `Restart ${i}`)));
  const sent = new Map<string, string[]>(people.map((p) => [p.dir, []]));
  let posting = true;
  let duringOutage = 0;
  let down = false;
  // Each attendee: a report every 100 ms, then an attempt to send the queue (as `lab test` does).
  const loops = people.map(async (p, i) => {
    let n = 0;
    while (posting) {
      const r = testRun(['deadlocks', 'caching'][n % 2]!, n % 4, 3);
      n++;
      enqueue(r, p.dir);
      sent.get(p.dir)!.push(r.id);
      if (down) duringOutage++;
      await flushQueue(p.dir, { timeoutMs: 1_000 });
      await new Promise((res) => setTimeout(res, 80 + i * 7));
    }
  });
  await new Promise((r) => setTimeout(r, 1_500));
  server.child.kill('SIGKILL'); // no goodbye: requests in flight are cut
  down = true;
  await new Promise((r) => setTimeout(r, 1_500));
  const queuedInOutage = readdirSync(join(people[0]!.dir, 'queue')).length;
  server = await serveProcess(databaseUrl, port);
  down = false;
  await new Promise((r) => setTimeout(r, 1_500));
  posting = false;
  await Promise.all(loops);
  const replay = testRun('deadlocks', 3, 3);
  enqueue(replay, people[1]!.dir);
  await flushQueue(people[1]!.dir);
  enqueue(replay, people[1]!.dir);
  sent.get(people[1]!.dir)!.push(replay.id);
  for (const p of people) expect(await flushQueue(p.dir, { retryForMs: 10_000 })).toMatchObject({ left: 0 });
  expect(duringOutage, 'reports made while the server was down').toBeGreaterThan(6);
  expect(queuedInOutage, 'reports queued in the outage').toBeGreaterThan(0);

  const db = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  try {
    const board = await json(fetch(url + '/api/board'));
    for (const p of people) {
      const ids = sent.get(p.dir)!;
      const unique = [...new Set(ids)];
      const { rows } = await db.query('SELECT id FROM reports WHERE attendee_id = $1', [p.config.attendeeId]);
      expect(rows.map((r) => r.id).sort(), `${p.config.name}: stored reports`).toEqual(unique.sort());
      const row = board.attendees.find((a: { id: number }) => a.id === p.config.attendeeId);
      const onBoard = row.cells.deadlocks.reports + row.cells.caching.reports;
      expect(onBoard, `${p.config.name}: reports counted on the board`).toBe(unique.length);
      expect(queued(p.dir)).toEqual([]);
    }
  } finally {
    await db.end();
    server.child.kill('SIGTERM');
    await new Promise((r) => server.child.once('exit', r));
  }
});

test('when the server runs on its own Postgres and is stopped and started again then the board and the admin token are kept', async () => {
  const volume = `backend-labs-workshop-test-${randomUUID().slice(0, 8)}`;
  try {
    const first = await startWorkshopServer({ volume, host: '127.0.0.1', port: 0 });
    const a = await attendee(first.url, 'Kept Attendee');
    enqueue(testRun('deadlocks', 2, 3), a.dir);
    expect(await flushQueue(a.dir)).toMatchObject({ sent: 1, left: 0 });
    await first.close();
    const second = await startWorkshopServer({ volume, host: '127.0.0.1', port: 0 });
    try {
      expect(second.adminToken).toBe(first.adminToken);
      const board = await json(fetch(second.url + '/api/board'));
      expect(board.attendees.map((x: { name: string }) => x.name)).toEqual(['Kept Attendee']);
      expect(board.attendees[0].cells.deadlocks).toMatchObject({ state: 'failing', passed: 2, total: 3, reports: 1 });
      // The attendee's token still works against the restarted server.
      const r = await fetch(second.url + '/api/me', { headers: { Authorization: `Bearer ${a.config.token}` } });
      expect(r.status).toBe(200);
    } finally {
      await second.close();
    }
  } finally {
    const client = await getContainerRuntimeClient();
    await client.container.dockerode
      .getVolume(volume)
      .remove()
      .catch(() => undefined);
  }
});
