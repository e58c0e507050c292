/**
 * The rollout, under steady traffic, as the deploy pipeline runs it:
 *
 *   two v1 instances serve behind the router (what the load balancer does)
 *   → the "expand" job runs; a report holds a transaction open on users for its first LONG_TXN_MS
 *   → a v2 instance starts and takes traffic, one v1 instance leaves
 *   → the "migrate" job runs, v1 and v2 both serving
 *   → a second v2 instance starts, the last v1 instance leaves
 *   → the "contract" job runs; v2 serves alone.
 *
 * Traffic throughout: the router's (reads and sign-ups, both versions answer), v1's own clients
 * (sign-ups, renames, reads of what v2 wrote) while v1 lives, and v2's own clients (sign-ups,
 * renames, reads of what v1 wrote, lookups by email) once v2 serves. One drill serves every test of
 * this file.
 */
import { describe, expect, test } from 'vitest';
import {
  evidence,
  points,
  sleep,
  steadyTraffic,
  useLab,
  type HttpClient,
  type Instance,
  type LockReport,
  type LockWait,
  type Service,
  type TrafficOutcome,
} from '../../../harness/testing/index.js';
import {
  assertV1Database,
  auditIndexBuilds,
  blockingIndexBuilds,
  describeRuns,
  describeWait,
  emailIndexes,
  MAX_ROWS_PER_TXN,
  MAX_WAIT_MS,
  rowsPerTransaction,
  runPhase,
  seededName,
  splitName,
  usersShape,
  v1SessionsGone,
  type PhaseRun,
} from './drill.js';

const lab = useLab({ instances: 0 });

/** How long the report's transaction stays open once the expand job has started. */
const LONG_TXN_MS = 3_000;
const ROUTER_RATE = 16;
const CLIENT_RATE = 6;
const ROUTER = { probeEveryMs: 100, probeTimeoutMs: 2_000, failureThreshold: 2 };

interface Expectation {
  /** What a good answer holds: v1 answers `name`; v2 answers firstName/lastName too. */
  name?: string;
  firstName?: string;
  lastName?: string;
  what: string;
}

interface Check {
  o: TrafficOutcome;
  problem?: string;
}

interface Drill {
  runs: PhaseRun[];
  router: Check[];
  v1: Check[];
  v2: Check[];
  /** Lock waits of service sessions while the report's transaction was open, and after. */
  duringLongTxn: LockWait[];
  /** Every wait in that window, the migration's own too: what the service queries queued behind. */
  allDuringLongTxn: LockWait[];
  afterLongTxn: LockWait[];
  watches: LockReport[];
  /** Users v1 created or renamed, by id, with the name v1 last gave them. */
  v1Wrote: Map<number, { name: string; how: string; duringMigration: boolean }>;
  routerWrote: Map<number, string>;
  v2Wrote: Map<number, { firstName: string; lastName: string }>;
  seededSample: Map<number, string>;
  mostRowsInOneTxn: number;
}

let drill: Promise<Drill> | undefined;

/** Checks one answer against what was expected of it; undefined when it is right. */
function judge(o: TrafficOutcome, want: Expectation | undefined): string | undefined {
  if (o.status < 200 || o.status >= 300) {
    const body = o.response?.body as { error?: string; code?: string } | undefined;
    return o.status
      ? `HTTP ${o.status}${body?.error ? ` (${String(body.error).slice(0, 100)}${body.code ? `, SQLSTATE ${body.code}` : ''})` : ''}`
      : (o.error ?? 'no answer');
  }
  if (!want) return undefined;
  const body = (o.response?.body ?? {}) as Record<string, unknown>;
  const user = (Array.isArray(body.users) ? body.users[0] : body) as Record<string, unknown> | undefined;
  for (const key of ['name', 'firstName', 'lastName'] as const) {
    if (want[key] === undefined) continue;
    if (user?.[key] !== want[key])
      return `${want.what}: ${key} ${JSON.stringify(user?.[key])} where ${JSON.stringify(want[key])} was written (${String(body.version ?? '?')} answered)`;
  }
  return undefined;
}

const v1Name = (i: number) => (i % 3 === 0 ? `Mary${i} Ann Smith` : i % 3 === 1 ? `Plato${i}` : `Linus${i} Torvalds`);

function rolloutDrill(): Promise<Drill> {
  drill ??= (async () => {
    await assertV1Database(lab);
    await auditIndexBuilds(lab);
    const xminsBefore = new Set((await rowsPerTransaction(lab)).keys());
    const services: Service[] = [];
    const runs: PhaseRun[] = [];
    const router = await lab.router(ROUTER);
    const aliveV1: Instance[] = [];
    const aliveV2: Instance[] = [];
    const serviceApps = new Set<string>();
    const start = async (version: 'v1' | 'v2') => {
      const s = await lab.startService(version === 'v1' ? { tree: 'v1' } : {});
      services.push(s);
      serviceApps.add(s.appName);
      const inst = s.instances[0]!;
      router.add(inst);
      if (!(await router.waitReady(inst, 15_000)))
        throw new Error(`a ${version} instance never answered GET /ready with 200 within 15 s: ${inst.logs().slice(-600)}`);
      (version === 'v1' ? aliveV1 : aliveV2).push(inst);
      return s;
    };
    const retire = async (s: Service) => {
      const inst = s.instances[0]!;
      router.remove(inst);
      aliveV1.splice(aliveV1.indexOf(inst), 1);
      await sleep(1_000); // what it is still answering
      await s.close();
    };

    const v1a = await start('v1');
    const v1b = await start('v1');
    const expected = new Map<string, Map<number, Expectation>>([
      ['router', new Map()],
      ['v1', new Map()],
      ['v2', new Map()],
    ]);
    const expect_ = (who: string, i: number, e: Expectation) => expected.get(who)!.set(i, e);

    // The router's traffic: reads of users nobody renames, and sign-ups in v1's shape (both versions take it).
    const routerTraffic = steadyTraffic(router.http, {
      rate: ROUTER_RATE,
      durationMs: 110_000,
      timeoutMs: 15_000,
      request: (i) => {
        if (i % 4 === 3) return { method: 'POST', path: '/users', body: { name: `Router${i} Tester`, email: `router-${i}@example.test` } };
        const id = 150_001 + ((i * 7_919) % 50_000);
        expect_('router', i, { name: seededName(id), what: `GET /users/${id} through the router` });
        return { path: `/users/${id}` };
      },
    });

    // v1's own clients. Renames touch 100001…; reads fetch what v2's clients last wrote.
    let v2Traffic: ReturnType<typeof steadyTraffic> | undefined;
    const methodOf = new Map<string, Map<number, string>>([
      ['v1', new Map()],
      ['v2', new Map()],
    ]);
    const v1Traffic = steadyTraffic((i) => aliveV1[i % Math.max(1, aliveV1.length)]!.http as HttpClient, {
      rate: CLIENT_RATE,
      durationMs: 110_000,
      timeoutMs: 15_000,
      request: (i) => {
        if (i % 4 === 0) {
          methodOf.get('v1')!.set(i, 'POST');
          return { method: 'POST', path: '/users', body: { name: v1Name(i), email: `v1-${i}@example.test` } };
        }
        if (i % 4 === 1) {
          methodOf.get('v1')!.set(i, 'PUT');
          return { method: 'PUT', path: `/users/${100_001 + i}`, body: { name: v1Name(i) } };
        }
        const v2Wrote = i % 4 === 2 ? latest('v2') : undefined;
        if (v2Wrote) {
          expect_('v1', i, { name: v2Wrote.name, what: `v1 reading user ${v2Wrote.id}, which v2 ${v2Wrote.how}` });
          return { path: `/users/${v2Wrote.id}` };
        }
        const id = 150_001 + ((i * 104_729) % 50_000);
        expect_('v1', i, { name: seededName(id), what: `v1 reading user ${id}` });
        return { path: `/users/${id}` };
      },
    });
    // The newest successful write of a client, as the other version must read it.
    function latest(who: 'v1' | 'v2'): { id: number; name: string; firstName: string; lastName: string; how: string } | undefined {
      const t = who === 'v1' ? v1Traffic : v2Traffic;
      const done = t?.outcomes() ?? [];
      for (let k = done.length - 1; k >= 0; k--) {
        const o = done[k]!;
        const method = methodOf.get(who)!.get(o.i);
        if (!method || o.status < 200 || o.status >= 300) continue;
        const id = Number((o.response?.body as { id?: unknown })?.id);
        if (!id) continue;
        if (who === 'v1') {
          const name = v1Name(o.i);
          return { id, name, ...splitName(name), how: method === 'POST' ? 'created' : 'renamed' };
        }
        const { firstName, lastName } = v2Names(o.i);
        return { id, name: `${firstName} ${lastName}`, firstName, lastName, how: method === 'POST' ? 'created' : 'renamed' };
      }
      return undefined;
    }
    const v2Names = (i: number) =>
      i % 2 === 0 ? { firstName: `Greta${i}`, lastName: 'van der Berg' } : { firstName: `Ken${i}`, lastName: 'Thompson' };

    const trafficStart = performance.now();
    await sleep(500);

    // The expand job, while a report holds a transaction open on users.
    const watch1 = lab.stats.watchLocks();
    const report = await lab.db.connect();
    await report.query('BEGIN');
    await report.query('SELECT count(*) FROM users WHERE id <= 1000');
    const expandStartMs = performance.now() - trafficStart;
    const expand = runPhase(lab, 'expand');
    await sleep(LONG_TXN_MS);
    await report.query('COMMIT');
    report.release();
    await sleep(300);
    const during = await watch1.stop();
    const watch2 = lab.stats.watchLocks();
    runs.push(await expand);

    // v2 takes traffic beside v1; one v1 leaves.
    const v2a = await start('v2');
    v2Traffic = steadyTraffic((i) => aliveV2[i % aliveV2.length]!.http as HttpClient, {
      rate: CLIENT_RATE,
      durationMs: 100_000,
      timeoutMs: 15_000,
      request: (i) => {
        const names = v2Names(i);
        if (i % 4 === 0) {
          methodOf.get('v2')!.set(i, 'POST');
          return { method: 'POST', path: '/users', body: { ...names, email: `v2-${i}@example.test` } };
        }
        if (i % 4 === 1) {
          methodOf.get('v2')!.set(i, 'PUT');
          return { method: 'PUT', path: `/users/${50_001 + i}`, body: names };
        }
        if (i % 4 === 2) {
          const w = latest('v1');
          if (w) {
            expect_('v2', i, {
              firstName: w.firstName,
              lastName: w.lastName,
              what: `v2 reading user ${w.id}, which v1 ${w.how} as "${w.name}"`,
            });
            return { path: `/users/${w.id}` };
          }
        }
        const id = 1 + ((i * 7_919) % 50_000);
        const name = seededName(id);
        expect_('v2', i, { ...splitName(name), name, what: `v2 looking up user${id}@example.com` });
        return { path: `/users?email=${encodeURIComponent(`user${id}@example.com`)}` };
      },
    });
    await retire(v1a);
    runs.push(await runPhase(lab, 'migrate'));
    await sleep(1_000);

    // The second v2; the last v1 leaves, then the contract job runs.
    await start('v2');
    void v2a;
    v1Traffic.stop();
    const v1Report = await v1Traffic.done;
    await retire(v1b);
    await v1SessionsGone(lab);
    runs.push(await runPhase(lab, 'contract'));
    await sleep(1_000);
    routerTraffic.stop();
    v2Traffic.stop();
    const [routerReport, v2Report] = await Promise.all([routerTraffic.done, v2Traffic.done]);
    const after = await watch2.stop();

    const isService = (w: LockWait) => w.applicationName.startsWith('users-api/') || serviceApps.has(w.applicationName);
    const checks = (who: string, outcomes: TrafficOutcome[]): Check[] =>
      outcomes.map((o) => ({ o, problem: judge(o, expected.get(who)!.get(o.i)) }));

    // What each client wrote, for the final look at v2's columns.
    const v1Wrote = new Map<number, { name: string; how: string; duringMigration: boolean }>();
    for (const o of v1Report.outcomes) {
      const method = methodOf.get('v1')!.get(o.i);
      const id = Number((o.response?.body as { id?: unknown })?.id);
      if (method && o.status >= 200 && o.status < 300 && id)
        v1Wrote.set(id, { name: v1Name(o.i), how: method === 'POST' ? 'created' : 'renamed', duringMigration: o.sentMs > expandStartMs });
    }
    const routerWrote = new Map<number, string>();
    for (const o of routerReport.outcomes) {
      const id = Number((o.response?.body as { id?: unknown })?.id);
      if (o.i % 4 === 3 && o.status === 201 && id) routerWrote.set(id, `Router${o.i} Tester`);
    }
    const v2Wrote = new Map<number, { firstName: string; lastName: string }>();
    for (const o of v2Report.outcomes) {
      const id = Number((o.response?.body as { id?: unknown })?.id);
      if (methodOf.get('v2')!.has(o.i) && o.status >= 200 && o.status < 300 && id) v2Wrote.set(id, v2Names(o.i));
    }
    const seededSample = new Map<number, string>();
    for (let k = 0; k < 400; k++) {
      const id = 1 + ((k * 499) % 50_000) + (k % 2) * 150_000;
      seededSample.set(id, seededName(id));
    }
    let most = 0;
    if ((await usersShape(lab)).columns.length)
      for (const [x, n] of await rowsPerTransaction(lab)) if (!xminsBefore.has(x)) most = Math.max(most, n);
    for (const s of services) await s.close().catch(() => undefined);
    return {
      runs,
      router: checks('router', routerReport.outcomes),
      v1: checks('v1', v1Report.outcomes),
      v2: checks('v2', v2Report.outcomes),
      duringLongTxn: during.waits.filter(isService),
      allDuringLongTxn: during.waits,
      afterLongTxn: after.waits.filter(isService),
      watches: [during, after],
      v1Wrote,
      routerWrote,
      v2Wrote,
      seededSample,
      mostRowsInOneTxn: most,
    };
  })();
  return drill;
}

function failuresText(checks: Check[]): string {
  const bad = checks.filter((c) => c.problem);
  const kinds = new Map<string, number>();
  for (const c of bad) {
    const k = c.problem!.replace(/\d+/g, 'N').slice(0, 160);
    kinds.set(k, (kinds.get(k) ?? 0) + 1);
  }
  const first = bad[0];
  return (
    `${bad.length} of ${checks.length} requests failed or answered wrong` +
    (kinds.size ? ` (${[...kinds].map(([k, n]) => `${n} × ${k}`).join('; ')})` : '') +
    (first ? `; the first, ${(first.o.sentMs / 1000).toFixed(1)} s in: ${first.problem}` : '')
  );
}

/** What a wait queued behind: the sessions blocking it, and what those were waiting for themselves. */
function blockers(w: LockWait, all: LockWait[]): string {
  const of = w.blockedBy.map((pid) => {
    const b = all.find((x) => x.pid === pid);
    return b
      ? `session ${pid} (${b.query.replace(/\s+/g, ' ').slice(0, 80)}), itself waiting ${b.waitedMs} ms for ${b.mode} behind ${b.blockedBy.join(', ') || '?'}`
      : `session ${pid}`;
  });
  return `queued behind ${of.join('; ') || 'nobody seen'} (the report's transaction is the harness's own)`;
}

const phasesNote = (d: Drill) => `Migration jobs: ${describeRuns(d.runs)}.`;

describe('a schema change rolled out under traffic', () => {
  test(
    'when v2 replaces v1 and the migration runs under steady traffic then no request through the load balancer fails or reads a wrong name',
    points(3, { id: 'zero-failures', timeout: 150_000 }),
    async () => {
      const d = await rolloutDrill();
      const bad = d.router.filter((c) => c.problem).length;
      evidence('failed requests during the rollout', bad, { of: d.router.length });
      expect(
        bad,
        `through the load balancer: ${failuresText(d.router)}. ${phasesNote(d)} While the rollout runs, both versions serve ` +
          'against one schema: every step must leave a schema that the version still running can use (expand first, ' +
          'contract only once the old version is gone).',
      ).toBe(0);
    },
  );

  test(
    'when the migration runs then v1 keeps reading and writing, and reads the users v2 wrote with their names',
    points(3, { id: 'v1-keeps-working', timeout: 150_000 }),
    async () => {
      const d = await rolloutDrill();
      const bad = d.v1.filter((c) => c.problem).length;
      evidence('v1 requests that failed or read a wrong name', bad, { of: d.v1.length });
      expect(
        bad,
        `v1's own clients: ${failuresText(d.v1)}. ${phasesNote(d)} v1 reads and writes users.name until the last v1 ` +
          'instance has gone: the column must stay, and every user v2 creates or renames must show up in it too.',
      ).toBe(0);
      expect(d.v1.length, 'v1 served its clients during the expand and migrate phases').toBeGreaterThan(30);
    },
  );

  test(
    `when a report holds a transaction open on users then the migration gives up its lock request instead of queueing every query behind it (no wait over ${MAX_WAIT_MS} ms)`,
    points(2, { id: 'lock-timeout', timeout: 150_000 }),
    async () => {
      const d = await rolloutDrill();
      const longest = d.duringLongTxn[0];
      evidence('longest lock wait of a service query behind the report (ms)', longest?.waitedMs ?? 0, { unit: 'ms' });
      const gaveUp = d.runs[0] && !d.runs[0].ok && /lock timeout|55P03/i.test(d.runs[0].error ?? '');
      expect(
        gaveUp,
        `the expand job gave up for good on a lock timeout. ${phasesNote(d)} A step that hits lock_timeout should roll back, ` +
          'wait a moment and try again: the report ends, and the next attempt gets its lock at once.',
      ).toBe(false);
      expect(
        longest?.waitedMs ?? 0,
        `while the report's transaction was open (${LONG_TXN_MS / 1000} s), ${d.duringLongTxn.length} service queries waited on locks; ` +
          `the longest ${longest ? describeWait(longest) : ''}, ${longest ? blockers(longest, d.allDuringLongTxn) : ''}. A DDL statement waiting ` +
          'for its lock makes every later query on the table queue behind it, for as long as the report runs. Set ' +
          'lock_timeout (a few hundred ms) so the step gives up, and try again a little later until it gets through.',
      ).toBeLessThanOrEqual(MAX_WAIT_MS);
    },
  );

  test(
    `when the migration backfills and changes users then no service query waits on a lock for more than ${MAX_WAIT_MS} ms, and no transaction holds more than ${MAX_ROWS_PER_TXN} row locks`,
    points(3, { id: 'lock-waits', timeout: 150_000 }),
    async () => {
      const d = await rolloutDrill();
      const longest = d.afterLongTxn[0];
      evidence('longest lock wait of a service query (ms)', longest?.waitedMs ?? 0, { unit: 'ms' });
      evidence('most rows of users written by one transaction', d.mostRowsInOneTxn);
      expect(
        d.mostRowsInOneTxn,
        `one transaction wrote ${d.mostRowsInOneTxn} rows of users: it held every one of those row locks until it ` +
          'committed, and every write to those users waited behind it. Backfill in batches of a few thousand rows, each ' +
          'its own transaction (an UPDATE … WHERE id BETWEEN … in a loop).',
      ).toBeLessThanOrEqual(MAX_ROWS_PER_TXN);
      expect(
        longest?.waitedMs ?? 0,
        `after the report's transaction, ${d.afterLongTxn.length} service queries waited on locks; the longest ${longest ? describeWait(longest) : ''}. ` +
          `${phasesNote(d)} Every step must hold its locks briefly: small batches, and DDL that needs only a moment of its lock.`,
      ).toBeLessThanOrEqual(MAX_WAIT_MS);
    },
  );

  test(
    'when v2 serves then users (email) has a valid index, built without blocking writes to users',
    points(2, { id: 'index-online', timeout: 150_000 }),
    async () => {
      const d = await rolloutDrill();
      const blocking = await blockingIndexBuilds(lab);
      const indexes = await emailIndexes(lab);
      expect(
        blocking.map((b) => b.query.replace(/\s+/g, ' ').trim()),
        `these statements built an index on users while holding ShareLock on it, which makes every INSERT, UPDATE and ` +
          'DELETE on users wait for the whole build: CREATE INDEX CONCURRENTLY builds it while writes go on (it cannot run ' +
          'inside a transaction block).',
      ).toEqual([]);
      expect(
        indexes.filter((i) => i.valid && i.ready).length,
        `indexes on users (email): ${indexes.length ? indexes.map((i) => `${i.name} (${i.valid ? 'valid' : 'INVALID'})`).join(', ') : 'none'}. ` +
          `${phasesNote(d)} A CREATE INDEX CONCURRENTLY that fails (cancelled, a lock_timeout, inside a transaction) ` +
          'leaves an INVALID index behind, which Postgres never uses: drop it and build it again.',
      ).toBeGreaterThanOrEqual(1);
    },
  );

  test(
    'when the rollout is over then every name v1 wrote, before and during the migration, is in first_name and last_name, as v2 serves it',
    points(3, { id: 'v1-data-in-v2', timeout: 150_000 }),
    async () => {
      const d = await rolloutDrill();
      const liveBad = d.v2.filter((c) => c.problem);
      const { columns } = await usersShape(lab);
      const want = new Map<number, { firstName: string; lastName: string; what: string }>();
      for (const [id, name] of d.seededSample) want.set(id, { ...splitName(name), what: `seeded user ${id} "${name}"` });
      for (const [id, w] of d.v1Wrote) want.set(id, { ...splitName(w.name), what: `user ${id}, which v1 ${w.how} as "${w.name}"` });
      for (const [id, name] of d.routerWrote) want.set(id, { ...splitName(name), what: `user ${id}, signed up as "${name}"` });
      for (const [id, n] of d.v2Wrote) want.set(id, { ...n, what: `user ${id}, which v2 wrote` });
      const wrong: string[] = [];
      if (columns.includes('first_name') && columns.includes('last_name')) {
        const { rows } = await lab.db.query(`SELECT id::int AS id, first_name, last_name FROM users WHERE id = ANY($1::bigint[])`, [
          [...want.keys()],
        ]);
        const got = new Map(rows.map((r: { id: number; first_name: string | null; last_name: string | null }) => [r.id, r]));
        for (const [id, w] of want) {
          const r = got.get(id);
          if (!r) wrong.push(`${w.what}: gone`);
          else if (r.first_name !== w.firstName || (r.last_name ?? '') !== w.lastName)
            wrong.push(`${w.what}: first_name ${JSON.stringify(r.first_name)}, last_name ${JSON.stringify(r.last_name)}`);
        }
      } else wrong.push(`users has no first_name / last_name columns (it has ${columns.join(', ')})`);
      const nulls = columns.includes('first_name')
        ? (await lab.db.query(`SELECT count(*)::int AS n FROM users WHERE first_name IS NULL`)).rows[0].n
        : 0;
      evidence('names wrong in v2’s columns', wrong.length, { of: want.size });
      const v1During = [...d.v1Wrote.values()].filter((w) => w.duringMigration).length;
      expect(
        v1During,
        `v1 wrote ${v1During} users once the expand step had started (at least 10 were expected at ${CLIENT_RATE / 2} writes/s): its writes failed ` +
          '(see v1-keeps-working), so nothing v1 wrote during the migration could reach v2’s columns.',
      ).toBeGreaterThanOrEqual(10);
      expect(
        wrong.length,
        `after the contract step, ${wrong.length} of ${want.size} users checked have the wrong names in v2's columns; e.g. ${wrong.slice(0, 3).join('; ')}. ` +
          `${phasesNote(d)} Users v1 creates or renames while the migration runs must land in first_name / last_name too ` +
          '(a trigger on users, kept until the contract step), and the backfill must cover every row that existed before.',
      ).toBe(0);
      expect(nulls, `${nulls} users have first_name NULL after the rollout`).toBe(0);
      expect(
        liveBad.length,
        `v2's own clients, while v1 still wrote: ${failuresText(d.v2)}. What v1 writes must be in v2's columns as soon as v1 has written it.`,
      ).toBe(0);
    },
  );

  test(
    'when the contract step has run then users has v2’s shape: first_name NOT NULL, last_name, no name column, and every step of the migration succeeded',
    points(2, { id: 'v2-schema', timeout: 150_000 }),
    async () => {
      const d = await rolloutDrill();
      const shape = await usersShape(lab);
      expect(
        d.runs.filter((r) => !r.ok).map((r) => r.phase),
        `${phasesNote(d)} Every phase's job must finish.`,
      ).toEqual([]);
      expect(shape.columns, `users has ${shape.columns.join(', ')}`).toEqual(expect.arrayContaining(['first_name', 'last_name']));
      expect(
        shape.columns,
        `users still has name after the contract step (it has ${shape.columns.join(', ')}): contract means dropping what only v1 used`,
      ).not.toContain('name');
      expect(
        shape.firstNameNotNull,
        'first_name must be NOT NULL in the end (SET NOT NULL, or a validated CHECK (first_name IS NOT NULL)). On a big table ' +
          'add the CHECK … NOT VALID first (a moment of lock), then VALIDATE CONSTRAINT (a scan that lets writes go on).',
      ).toBe(true);
    },
  );
});
