/**
 * Takes the README's scoreboard screenshot (harness/workshop/scoreboard.png): a real server on a real
 * Postgres, a room of attendees posting through the real client, Chromium through playwright-core.
 *
 *   npx tsx harness/dev/workshop-screenshot.ts
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { ROOT } from '../paths.js';
import { pgUrl, startServices, stopAll } from '../servers/containers.js';
import { enqueue, flushQueue, joinWorkshop } from '../workshop/client.js';
import type { Report } from '../workshop/protocol.js';
import { startWorkshopServer } from '../workshop/server.js';

const ROOM: Array<[string, Array<[string, number, number, number, number?]>]> = [
  // name, [lab, passed, total, hints, minutes on the same failing test]
  [
    'Ada Lovelace',
    [
      ['deadlocks', 7, 7, 0],
      ['idempotency', 6, 6, 1],
      ['caching', 3, 8, 0],
    ],
  ],
  [
    'Alan Turing',
    [
      ['deadlocks', 7, 7, 1],
      ['idempotency', 4, 6, 2],
    ],
  ],
  [
    'Barbara Liskov',
    [
      ['deadlocks', 7, 7, 0],
      ['idempotency', 6, 6, 0],
      ['caching', 8, 8, 1],
    ],
  ],
  ['Edsger Dijkstra', [['deadlocks', 3, 7, 1, 14]]],
  [
    'Frances Allen',
    [
      ['deadlocks', 7, 7, 2],
      ['idempotency', 2, 6, 3],
    ],
  ],
  ['Grace Hopper', [['deadlocks', 5, 7, 1]]],
  [
    'Ken Thompson',
    [
      ['deadlocks', 7, 7, 0],
      ['idempotency', 5, 6, 1],
    ],
  ],
  [
    'Leslie Lamport',
    [
      ['deadlocks', 7, 7, 0],
      ['idempotency', 6, 6, 0],
      ['caching', 5, 8, 1],
    ],
  ],
  ['Margaret Hamilton', [['deadlocks', 6, 7, 3]]],
  ['<img src=x onerror=alert(1)>', [['deadlocks', 4, 7, 0]]],
];

const services = await startServices(['postgres']);
try {
  const server = await startWorkshopServer({ databaseUrl: pgUrl(services.endpoints.postgres!), host: '127.0.0.1', port: 0 });
  const tmp = mkdtempSync(join(tmpdir(), 'workshop-shot-'));
  for (const [name, labs] of ROOM) {
    const dir = mkdtempSync(join(tmp, 'a-'));
    await joinWorkshop(server.url, name, dir);
    for (const [lab, passed, total, hints, stuckFor] of labs) {
      const report = (at: number): Report => ({
        kind: 'test',
        id: randomUUID(),
        at: new Date(at).toISOString(),
        lab,
        passed,
        total,
        points: passed * 2,
        maxPoints: total * 2,
        hintsUsed: hints,
        hintsTotal: 3,
        failing: passed < total ? 'when 60 opposing transfers run at once on two instances then all succeed' : null,
        tests: [],
      });
      if (stuckFor) enqueue(report(Date.now() - stuckFor * 60_000), dir);
      enqueue(report(Date.now()), dir);
    }
    await flushQueue(dir);
  }
  const auth = { Authorization: `Bearer ${server.adminToken}`, 'Content-Type': 'application/json' };
  await fetch(`${server.url}/api/admin/current-lab`, { method: 'POST', headers: auth, body: JSON.stringify({ lab: 'idempotency' }) });
  await fetch(`${server.url}/api/admin/message`, {
    method: 'POST',
    headers: auth,
    body: JSON.stringify({ text: 'Lab 02 until 11:30, then a break' }),
  });
  const browser = await chromium.launch({
    executablePath: process.env.LAB_CHROMIUM ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  const page = await browser.newPage({ viewport: { width: 1500, height: 900 } });
  await page.goto(server.url + '/');
  await page
    .locator('tr[data-attendee]')
    .nth(ROOM.length - 1)
    .waitFor();
  const file = join(ROOT, 'harness', 'workshop', 'scoreboard.png');
  await page.screenshot({ path: file, fullPage: true });
  console.log(`wrote ${file}`);
  await browser.close();
  await server.close();
} finally {
  await services.stop();
  await stopAll();
}
