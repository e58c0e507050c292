/** Sessions outlive the processes that created them: a deploy or a crash restarts every instance. */
import { describe, expect, test } from 'vitest';
import { evidence, points, useLab } from '../../../harness/testing/index.js';
import { Browser, logIn, nth } from './browser.js';

const lab = useLab({ instances: 2 });

describe('restarts', () => {
  test(
    'when both instances are restarted then a user who was logged in still is, on both new instances',
    points(2, { id: 'restart', timeout: 60_000 }),
    async () => {
      const b = new Browser();
      await logIn(b, lab.service.http(0), 'alice', nth(0));
      const before = await b.whoami(lab.service.http(0));
      expect(before, `right after login, GET /me on ${nth(0)} answered ${before.status}`).toEqual({ status: 200, username: 'alice' });

      // Both old processes go at once (a crash, or a deploy with no overlap), then two new ones start.
      await Promise.all(lab.service.instances.map((inst) => inst.kill('SIGKILL')));
      const next = await lab.startService({ instances: 2 });

      const after = [];
      for (const i of [0, 1]) after.push({ on: `new ${nth(i)}`, ...(await b.whoami(next.http(i))) });
      const kept = after.filter((a) => a.status === 200 && a.username === 'alice').length;
      evidence('new instances that still knew the session', kept, { of: 2 });
      expect(
        after,
        `alice logged in, then both instances were restarted. GET /me with her cookie: ${after.map((a) => `${a.on} ${a.status}`).join(', ')}. ` +
          'A session kept in process memory dies with the process, and so does a signing key generated at start-up: every ' +
          'deploy logs everyone out. Keep sessions (or the key that verifies them) outside the process.',
      ).toEqual([
        { on: `new ${nth(0)}`, status: 200, username: 'alice' },
        { on: `new ${nth(1)}`, status: 200, username: 'alice' },
      ]);
    },
  );
});
