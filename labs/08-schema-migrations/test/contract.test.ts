/**
 * The contract step run too early: the pipeline starts it while a v1 instance still serves (a
 * rollout that stalled, a canary, someone running the job by hand). It must not drop what v1 uses
 * while v1 is connected: either it waits until no v1 session is left, or it refuses and is run
 * again later.
 */
import { describe, expect, test } from 'vitest';
import { bonus, evidence, sleep, useLab } from '../../../harness/testing/index.js';
import { assertV1Database, describeRuns, runPhase, v1SessionsGone, type PhaseRun } from './drill.js';

const lab = useLab({ instances: 0 });

/** How long v1 keeps serving after the contract job has started. */
const V1_STAYS_MS = 8_000;

const hasName = async () =>
  (
    await lab.db.query(
      `SELECT count(*)::int AS n FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'users' AND column_name = 'name'`,
    )
  ).rows[0].n === 1;

describe('the contract step', () => {
  test(
    'when the contract job starts while a v1 instance still serves then it drops nothing v1 uses until v1 has gone, and then it completes',
    bonus(2, { id: 'contract-after-v1', timeout: 120_000 }),
    async () => {
      await assertV1Database(lab);
      const runs: PhaseRun[] = [];
      const v1 = await lab.startService({ tree: 'v1' });
      expect((await v1.http(0).get('/ready')).status, 'v1 reaches its database').toBe(200);
      runs.push(await runPhase(lab, 'expand'));
      const v2 = await lab.startService({});
      runs.push(await runPhase(lab, 'migrate'));
      const note = () => `Migration jobs: ${describeRuns(runs)}.`;
      expect(
        runs.every((r) => r.ok),
        note(),
      ).toBe(true);
      expect(await hasName(), `users.name was gone before the contract step ran, while v1 still served. ${note()}`).toBe(true);

      const early = runPhase(lab, 'contract');
      const problems: string[] = [];
      const until = performance.now() + V1_STAYS_MS;
      for (let i = 0; performance.now() < until; i++) {
        const created = await v1.http(0).post('/users', { name: `Early${i} Contract`, email: `early-${i}@example.test` });
        if (created.status !== 201)
          problems.push(`v1 POST /users answered ${created.status} ${JSON.stringify(created.body).slice(0, 120)}`);
        else {
          const read = await v1.http(0).get(`/users/${created.body.id}`);
          if (read.status !== 200 || read.body.name !== `Early${i} Contract`)
            problems.push(`v1 GET /users/${created.body.id} answered ${read.status} ${JSON.stringify(read.body).slice(0, 120)}`);
        }
        if (!(await hasName()))
          problems.push(
            `users.name was dropped ${((performance.now() - until + V1_STAYS_MS) / 1000).toFixed(1)} s after the contract job started, while v1 still served`,
          );
        if (problems.length) break;
        await sleep(200);
      }
      evidence('v1 requests that failed while the contract job ran', problems.length);
      expect(
        problems,
        `${problems.join('; ')}. ` +
          'v1 is still connected (its sessions are named users-api/v1 in pg_stat_activity): the contract step must wait for ' +
          'it to go, or refuse to run, rather than drop users.name under it.',
      ).toEqual([]);

      await v1.close();
      await v1SessionsGone(lab);
      let contract = await early;
      if (!contract.ok) contract = await runPhase(lab, 'contract'); // it refused: run again, now that v1 is gone
      runs.push(contract);
      expect(contract.ok, `once v1 had gone the contract step must complete. ${note()}`).toBe(true);
      expect(await hasName(), 'once v1 had gone, the contract step should drop users.name').toBe(false);
      const read = await v2.http(0).get('/users/2');
      expect(read.status, `v2 after the contract step: ${JSON.stringify(read.body).slice(0, 200)}`).toBe(200);
    },
  );
});
