/**
 * Graded tests for the replication-lag lab. The service runs as two instances against a primary and
 * a real streaming replica that applies every commit 500 ms after the primary made it. Every user is
 * a Browser (./browser.ts): it sends X-User-Id and keeps the cookies the service sets, on both
 * instances. Which server answered a read is judged from each server's own pg_stat_statements.
 */
import { describe, expect, test } from 'vitest';
import { bonus, eventually, evidence, points, sleep, useLab } from '../../../harness/testing/index.js';
import { Browser, type Exchange } from './browser.js';

const lab = useLab({ instances: 2 });

/** The SLO for a profile save. The replica applies commits 500 ms late, so a save that waits for it cannot meet this. */
const WRITE_SLO_MS = 400;
/** The SLO for a profile read while the replica is unreachable. */
const FALLBACK_SLO_MS = 3_000;
/**
 * When a user reloads after their own save (ms after the save answered): right away, then three
 * times within the replica's delay. The late ones matter on a busy primary: the replica replays
 * every commit 500 ms late, another run's commit just before this save holds its replay back as
 * long, and only a late reload then finds the replica past the row's new version but short of its
 * commit (what an LSN taken before COMMIT mistakes for "has my write"). A correct fix is right at
 * any moment, so later reloads only catch more.
 */
const RELOADS_AFTER_MS = [0, 150, 300, 450];
/** A user whose last save is older than this has "no recent write": their reads belong on the replica. */
const QUIET_MS = 5_000;

const original = (id: string) => `${id} (original)`;

/** Inserts profiles on the primary and waits until the replica has them. */
async function seed(...ids: string[]): Promise<void> {
  for (const id of ids) await lab.db.query('INSERT INTO profiles (id, display_name) VALUES ($1, $2)', [id, original(id)]);
  await lab.replication.catchUp();
}

async function primaryName(id: string): Promise<string | undefined> {
  const { rows } = await lab.db.query('SELECT display_name FROM profiles WHERE id = $1', [id]);
  return rows[0]?.display_name;
}

/**
 * Runs fn and reports how many statements on `profiles` each server executed meanwhile, from the
 * server's own pg_stat_statements. Only the service touches profiles while fn runs.
 */
async function servedBy<T>(fn: () => Promise<T>): Promise<{ result: T; primary: number; replica: number }> {
  const count = () => Promise.all([lab.stats.statementCalls('%profiles%'), lab.replicaStats.statementCalls('%profiles%')]);
  const [p0, r0] = await count();
  const result = await fn();
  const [p1, r1] = await count();
  return { result, primary: p1 - p0, replica: r1 - r0 };
}

const describeRead = (e: Exchange) =>
  e.status === 200
    ? `"${e.name}" (instance ${e.instance}, ${e.ms} ms)`
    : `${e.status || 'no answer'} (instance ${e.instance}: ${e.error ?? ''})`;

/** "#3" → 3, an original name → 0. */
const versionOf = (name: string | undefined) => (name && /#(\d+)$/.exec(name) ? Number(/#(\d+)$/.exec(name)![1]) : 0);

function backInTime(reads: Exchange[]): { before: Exchange; after: Exchange; count: number } | undefined {
  let newest: Exchange | undefined;
  let first: { before: Exchange; after: Exchange } | undefined;
  let count = 0;
  for (const r of reads) {
    if (r.status !== 200) continue;
    if (newest && versionOf(r.name) < versionOf(newest.name)) {
      count++;
      first ??= { before: newest, after: r };
    }
    if (!newest || versionOf(r.name) > versionOf(newest.name)) newest = r;
  }
  return first && { ...first, count };
}

/** A WAL position ('0/10000060') as a number of bytes. */
const lsnBytes = (lsn: string) => {
  const [hi, lo] = lsn.split('/');
  return Number.parseInt(hi!, 16) * 2 ** 32 + Number.parseInt(lo!, 16);
};

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

describe('profiles on a primary and a lagging replica', () => {
  test(
    'when a user saves their profile and reloads it right away then they see their change, on either instance',
    points(3, { id: 'read-your-writes' }),
    async () => {
      const ids = ['ryw-1', 'ryw-2', 'ryw-3', 'ryw-4'];
      await seed(...ids);
      const users = ids.map((id) => new Browser(id, lab.service));
      const stale: string[] = [];
      let reads = 0;
      for (let round = 1; round <= 2; round++)
        for (const [i, user] of users.entries()) {
          const id = ids[i]!;
          const saved = `${id} #${round}`;
          // Each user always saves through the same instance…
          const put = await user.save(i, { displayName: saved });
          expect(put.status, `PUT /profiles/${id} answered ${put.status}: ${put.error}`).toBe(200);
          // …and reloads through the other instance first, then through that one, right away and
          // again while the replica is still behind: a fix whose notion of "the replica has my write"
          // is early (an LSN taken before COMMIT) sends the later reloads to a replica that has the
          // row's new version but not yet its commit.
          const savedAt = performance.now();
          for (const afterMs of RELOADS_AFTER_MS) {
            await sleep(Math.max(0, savedAt + afterMs - performance.now()));
            for (const inst of [i + 1, i]) {
              const r = await user.read(inst, id);
              reads++;
              if (r.status !== 200 || r.name !== saved)
                stale.push(
                  `saved "${saved}" on instance ${put.instance}, then ${Math.round(r.at - put.at - put.ms)} ms later read ${describeRead(r)}`,
                );
            }
          }
        }
      evidence("stale reloads after the user's own save", stale.length, { of: reads });
      expect(
        stale.length,
        `${stale.length} of ${reads} reloads right after the user's own save did not show it (read-your-writes broken):\n  ` +
          stale.slice(0, 4).join('\n  ') +
          `\nThe replica applies each commit ${lab.replication.applyDelayMs} ms after the primary, so a read sent there right after a write sees the old row.`,
      ).toBe(0);
      for (const id of ids) expect(await primaryName(id), 'the primary should hold the last save').toBe(`${id} #2`);
    },
  );

  test(
    'when the replica is far behind, at a WAL position with a hex digit fewer than the primary’s, then a user’s reload after a save still shows it',
    points(2, { id: 'far-behind' }),
    async () => {
      // The far-behind standby stopped replaying at the start of the run, at 0/F… or lower; the
      // primary has since passed 0/10000000. Its database holds profiles far-1, far-2, … as seeded.
      const fb = lab.farBehind;
      const primaryAt = async () => (await fb.db.query('SELECT pg_current_wal_insert_lsn()::text AS lsn')).rows[0].lsn as string;
      const digits = (lsn: string) => lsn.split('/')[1]!.length;
      const before = await primaryAt();
      if (digits(fb.frozenAt) >= digits(before))
        throw new Error(`harness: the far-behind standby (${fb.frozenAt}) is not a digit behind the primary (${before})`);
      const { rows } = await fb.db.query(`SELECT 'far-' || nextval('far_behind_claims') AS id FROM generate_series(1, 2)`);
      const ids = rows.map((r) => r.id as string);
      const svc = await lab.startService({ instances: 2, databaseUrl: fb.databaseUrl, replicaUrl: fb.replicaUrl });
      const stale: string[] = [];
      let reads = 0;
      let savedAt = '';
      for (const [i, id] of ids.entries()) {
        const user = new Browser(id, svc);
        const saved = `${id} #1`;
        const put = await user.save(i, { displayName: saved });
        expect(put.status, `PUT /profiles/${id} answered ${put.status}: ${put.error}`).toBe(200);
        savedAt = await primaryAt();
        for (const inst of [i + 1, i]) {
          const r = await user.read(inst, id, { timeoutMs: 8_000 });
          reads++;
          if (r.status !== 200 || r.name !== saved)
            stale.push(`saved "${saved}" on instance ${put.instance}, then read ${describeRead(r)}`);
        }
      }
      const asText = fb.frozenAt >= savedAt;
      expect(
        stale.length,
        `${stale.length} of ${reads} reloads right after the user's own save did not show it. This replica is far behind: ` +
          `it has replayed up to ${fb.frozenAt}, the saves were at about ${savedAt}, ` +
          `${(lsnBytes(savedAt) - lsnBytes(fb.frozenAt)).toLocaleString('en')} bytes later. ` +
          `A fix that compares them as text finds '${fb.frozenAt}' >= '${savedAt}' ${asText}${asText ? ' and calls the replica up to date' : ''}: ` +
          `LSNs are hex without zero padding, so compare them as pg_lsn (pg_last_wal_replay_lsn() >= $1::pg_lsn), ` +
          `with pg_wal_lsn_diff(), or as numbers, never as strings.\n  ${stale.slice(0, 3).join('\n  ')}`,
      ).toBe(0);
    },
  );

  test(
    'when other users read a profile, or a user has not written recently, then the replica serves the read (by its own statistics)',
    points(2, { id: 'replica-serves-reads' }),
    async () => {
      const author = 'pop-author';
      await seed(author, 'pop-reader-1', 'pop-reader-2');
      const a = new Browser(author, lab.service);
      const r1 = new Browser('pop-reader-1', lab.service);
      const r2 = new Browser('pop-reader-2', lab.service);
      const anon = new Browser(undefined, lab.service);
      const onReplica = (what: string, s: { primary: number; replica: number }, n: number) => {
        expect(
          s.primary,
          `${what}: the primary executed ${s.primary} statements on profiles and the replica ${s.replica} (each server's pg_stat_statements). ` +
            `These reads should be served by the replica: sending them to the primary puts the read load the replica exists for back on it.`,
        ).toBe(0);
        expect(
          s.replica,
          `${what}: the replica's pg_stat_statements counted only ${s.replica} statements on profiles for ${n} reads`,
        ).toBeGreaterThanOrEqual(n);
      };

      const quiet = await servedBy(async () => {
        const out: Exchange[] = [];
        for (let i = 0; i < 6; i++) out.push(await (i % 2 ? anon : r1).read(i, i % 3 ? author : 'pop-reader-2'));
        return out;
      });
      for (const r of quiet.result) expect(r.status, `a read by a user who wrote nothing answered ${describeRead(r)}`).toBe(200);
      onReplica('6 reads by users who had written nothing (one signed in, one anonymous)', quiet, 6);

      const put = await a.save(0, { displayName: `${author} #1` });
      expect(put.status, `PUT answered ${put.status}: ${put.error}`).toBe(200);
      const savedAt = Date.now();
      const others = await servedBy(async () => {
        const out: Exchange[] = [];
        for (let i = 0; i < 6; i++) out.push(await (i % 2 ? r2 : r1).read(i, author));
        return out;
      });
      for (const r of others.result)
        expect([original(author), `${author} #1`], `another user's read answered ${describeRead(r)}`).toContain(r.name);
      onReplica(`6 reads of ${author}'s profile by two other users, right after ${author} saved it`, others, 6);

      await sleep(Math.max(0, savedAt + QUIET_MS - Date.now()));
      const later = await servedBy(async () => {
        const out: Exchange[] = [];
        for (let i = 0; i < 4; i++) out.push(await a.read(i, i % 2 ? 'pop-reader-1' : author));
        return out;
      });
      expect(
        later.result[0]!.name,
        `${author}'s own read ${QUIET_MS / 1000} s after the save answered ${describeRead(later.result[0]!)}`,
      ).toBe(`${author} #1`);
      onReplica(`4 reads by ${author}, ${QUIET_MS / 1000} s after their last save`, later, 4);
    },
  );

  test(
    'when a user keeps saving and reloading while another user watches then neither ever sees a value go back in time',
    points(2, { id: 'monotonic-reads' }),
    async () => {
      const author = 'mono-author';
      await seed(author, 'mono-watcher');
      const a = new Browser(author, lab.service);
      const w = new Browser('mono-watcher', lab.service);
      const authorReads: Exchange[] = [];
      const watcherReads: Exchange[] = [];
      let writing = true;
      const watching = (async () => {
        for (let i = 0; writing && i < 2_000; i++) {
          watcherReads.push(await w.read(i, author));
          await sleep(20);
        }
      })();
      try {
        // The author saves through instance 1 and reloads through both.
        for (let v = 1; v <= 6; v++) {
          const put = await a.save(0, { displayName: `${author} #${v}` });
          expect(put.status, `PUT answered ${put.status}: ${put.error}`).toBe(200);
          for (let k = 0; k < 3; k++) authorReads.push(await a.read(v + k, author));
          if (v === 3 || v === 6) {
            // Keep reloading for three times the replication delay.
            const end = Date.now() + 3 * lab.replication.applyDelayMs;
            for (let k = 0; Date.now() < end; k++) {
              authorReads.push(await a.read(k, author));
              await sleep(25);
            }
          }
        }
      } finally {
        writing = false;
        await watching;
      }
      for (const [who, reads] of [
        [author, authorReads],
        ['mono-watcher', watcherReads],
      ] as const) {
        const failed = reads.filter((r) => r.status !== 200);
        expect(
          failed.length,
          `${failed.length} of ${reads.length} reads by ${who} failed, e.g. ${failed[0] && describeRead(failed[0])}`,
        ).toBe(0);
        const back = backInTime(reads);
        expect(
          back?.count ?? 0,
          back &&
            `monotonic reads broken: ${back.count} of ${reads.length} reads by ${who} showed an older version than one they had already seen. ` +
              `First ${describeRead(back.before)}, then, ${back.after.at - back.before.at} ms later, ${describeRead(back.after)}. ` +
              `Consecutive reads were answered by servers at different points of the WAL ` +
              `(the primary, then the replica ${lab.replication.applyDelayMs} ms behind it).`,
        ).toBe(0);
      }
      expect(watcherReads.length, 'the watcher should have read many times while the author was saving').toBeGreaterThan(10);
    },
  );

  test(
    'when the replica is unreachable then reads fall back to the primary within 3 s, with no 5xx and no hang',
    points(3, { id: 'replica-down' }),
    async () => {
      const ids = ['down-1', 'down-2', 'down-3'];
      await seed(...ids);
      const fp = await lab.faultPoint('replica');
      const svc = await lab.startService({ instances: 2, replicaUrl: fp.url });
      const [u1, u2] = [new Browser(ids[0], svc), new Browser(ids[1], svc)];
      const anon = new Browser(undefined, svc);
      for (let i = 0; i < 4; i++) {
        const r = await anon.read(i, ids[i % 3]!);
        expect(r.status, `with a healthy replica, a read answered ${describeRead(r)}`).toBe(200);
      }

      const outage = async (what: string) => {
        const saved = `${ids[0]} saved during ${what}`;
        const put = await u1.save(0, { displayName: saved });
        expect(put.status, `a save while the replica was ${what} answered ${put.status}: writes go to the primary`).toBe(200);
        const expected: Record<string, string> = { [ids[0]!]: saved, [ids[1]!]: original(ids[1]!), [ids[2]!]: original(ids[2]!) };
        // At once, on both instances: down-1 reloads its own profile, an anonymous visitor reads
        // down-3, down-2 reads down-1.
        const plan = [
          ['down-1', u1, ids[0]!],
          ['anonymous', anon, ids[2]!],
          ['down-2', u2, ids[0]!],
        ] as const;
        const reads = await Promise.all(
          Array.from({ length: 6 }, async (_, i) => {
            const [who, browser, id] = plan[i % 3]!;
            return { who, id, r: await browser.read(i, id, { timeoutMs: 8_000 }) };
          }),
        );
        const bad = reads.filter(({ id, r }) => r.status !== 200 || r.name !== expected[id] || r.ms > FALLBACK_SLO_MS);
        const hung = reads.filter(({ r }) => r.status === 0).length;
        const errors = reads.filter(({ r }) => r.status >= 500).length;
        evidence('reads failed while the replica was unreachable', bad.length, { of: reads.length });
        expect(
          bad.map(({ who, id, r }) => `${who} reading ${id}: ${describeRead(r)}`),
          `while the replica was ${what}, ${bad.length} of ${reads.length} reads did not answer 200 with the current profile within ${FALLBACK_SLO_MS / 1000} s` +
            (hung ? ` (${hung} hung: nothing bounds how long a read waits to connect to, or hear back from, the replica)` : '') +
            (errors ? ` (${errors} answered 5xx: a replica failure should fall back to the primary, not fail the read)` : ''),
        ).toEqual([]);
      };
      await fp.timeout();
      await outage('blackholed (connections accepted, nothing ever answered)');
      await fp.down();
      await outage('down (connections refused and reset)');

      await fp.heal();
      let k = 0;
      const back = await eventually(
        async () => {
          const s = await servedBy(() => anon.read(k++, ids[1]!));
          return s.result.status === 200 && s.replica > 0;
        },
        { timeoutMs: 15_000, everyMs: 250 },
      );
      expect(back, 'after the replica came back, reads had not returned to it 15 s later: a fallback should not become permanent').toBe(
        true,
      );
    },
  );

  test(
    `when a user saves their profile then the write answers promptly (median under ${WRITE_SLO_MS} ms): nothing waits for the replica`,
    points(1, { id: 'prompt-writes' }),
    async () => {
      const id = 'writer-1';
      await seed(id);
      const u = new Browser(id, lab.service);
      const ms: number[] = [];
      for (let i = 0; i < 10; i++) {
        const put = await u.save(i, { displayName: `${id} #${i}` });
        expect(put.status, `PUT answered ${put.status}: ${put.error}`).toBe(200);
        ms.push(put.ms);
      }
      expect(
        median(ms),
        `the median save took ${median(ms)} ms (all: ${ms.join(', ')}). The replica applies commits ${lab.replication.applyDelayMs} ms late: ` +
          `a save that sleeps, or waits until the replica has caught up, makes every writer pay the replication lag.`,
      ).toBeLessThan(WRITE_SLO_MS);
      expect(await primaryName(id), 'the primary should hold the last save').toBe(`${id} #9`);
    },
  );

  test(
    "bonus: when the replica has replayed a user's write then that user's reads go back to the replica (the fix compares WAL positions)",
    bonus(2, { id: 'back-to-replica' }),
    async () => {
      const id = 'lsn-1';
      await seed(id);
      const u = new Browser(id, lab.service);
      const saveMs: number[] = [];
      for (let round = 1; round <= 2; round++) {
        const saved = `${id} #${round}`;
        const put = await u.save(round, { displayName: saved });
        expect(put.status, `PUT answered ${put.status}: ${put.error}`).toBe(200);
        saveMs.push(put.ms);
        const now = await u.read(round + 1, id);
        expect(now.name, `right after saving "${saved}", the reload answered ${describeRead(now)}`).toBe(saved);

        await lab.replication.catchUp();
        const after = await servedBy(async () => {
          const out: Exchange[] = [];
          for (let i = 0; i < 6; i++) out.push(await u.read(i, id));
          return out;
        });
        for (const r of after.result) expect(r.name, `a read after the replica caught up answered ${describeRead(r)}`).toBe(saved);
        expect(
          after.primary,
          `the replica had already replayed the save, yet the primary executed ${after.primary} statements on profiles for the user's next 6 reads ` +
            `(replica: ${after.replica}). Routing by "the user wrote recently" (or always) sends reads to the primary that the replica could serve: ` +
            `compare pg_last_wal_replay_lsn() on the replica with the LSN of the user's write instead.`,
        ).toBe(0);
        expect(
          after.replica,
          `the replica's pg_stat_statements counted ${after.replica} statements on profiles for 6 reads`,
        ).toBeGreaterThanOrEqual(6);
      }
      expect(
        Math.min(...saveMs),
        `saves took ${saveMs.join(', ')} ms: read-your-writes must not come from waiting after the write`,
      ).toBeLessThan(WRITE_SLO_MS);
    },
  );
});
