/**
 * Sessions end, neither too soon nor never. With sessionTtlSeconds = 3, a session is still valid
 * on both instances 1.2 s after login (a lifetime read in the wrong unit, milliseconds for seconds,
 * ends it long before), and once unused for longer than the lifetime it is refused by every
 * instance, even if the cookie is replayed. Nothing the service keeps in Redis stays there for
 * ever. This file has a Redis database of its own, so every key in it is this service's.
 */
import { describe, expect, test } from 'vitest';
import { evidence, points, sleep, useLab } from '../../../harness/testing/index.js';
import { Browser, logIn, nth } from './browser.js';

const lab = useLab({ instances: 0 });

const TTL_SECONDS = 3;
/** Well inside the lifetime, even for one counted in whole seconds and rounded down. */
const MID_LIFE_MS = 1_200;
/** Waited past the lifetime, after the session's last use: Redis's expiry and second-rounded lifetimes fit well inside it. */
const MARGIN_MS = 1_500;

async function allKeysWithTtl(): Promise<{ key: string; pttl: number }[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await lab.redis.scan(cursor, 'COUNT', 500);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  return Promise.all(keys.map(async (key) => ({ key, pttl: await lab.redis.pttl(key) })));
}

describe('expiry', () => {
  test(
    'when a session has not been used for sessionTtlSeconds then every instance refuses it, and Redis keeps nothing for ever',
    points(2, { id: 'expiry', timeout: 30_000 }),
    async () => {
      const s = await lab.startService({ instances: 2, settings: { sessionTtlSeconds: TTL_SECONDS } });
      // What else a service may keep in Redis: bob logs out, carol logs out everywhere (a denylist,
      // a per-user mark, an index: all of it must expire too).
      const bob = new Browser();
      await logIn(bob, s.http(1), 'bob', nth(1));
      expect((await bob.post(s.http(0), '/logout')).status, `POST /logout on ${nth(0)}`).toBeLessThan(300);
      const carol = new Browser();
      await logIn(carol, s.http(0), 'carol', nth(0));
      // Not asserted: "log out everywhere" is the bonus, and this test is not about it.
      await carol.post(s.http(1), '/logout-all');

      const b = new Browser();
      const loginSent = performance.now();
      await logIn(b, s.http(0), 'alice', nth(0));
      for (const i of [0, 1]) {
        const me = await b.whoami(s.http(i));
        expect(
          me,
          `right after login on ${nth(0)}, GET /me on ${nth(i)} answered ${me.status}: the session must be valid on both instances before it expires`,
        ).toEqual({ status: 200, username: 'alice' });
      }
      const copied = b.copy();

      const keys = await allKeysWithTtl();
      evidence('Redis keys after three logins and two logouts', keys.length);
      const forever = keys.filter((k) => k.pttl === -1).map((k) => k.key);
      expect(
        forever,
        `after three logins, a logout and a "log out everywhere", Redis holds ${keys.length} key(s); ${forever.length} of them have no expiry (PTTL -1): ${forever.slice(0, 5).join(', ')}. ` +
          'A session store (or a revocation list) without a TTL keeps every entry ever made, for ever: memory grows until Redis evicts ' +
          'or refuses writes, and an expired session is only refused if every reader remembers to check. Let Redis expire each key ' +
          'when the session (or the token it revokes) would end.',
      ).toEqual([]);
      const tooLong = keys.filter((k) => k.pttl > TTL_SECONDS * 1_000 + 1_000).map((k) => `${k.key} (${(k.pttl / 1000).toFixed(1)} s)`);
      expect(
        tooLong,
        `sessionTtlSeconds is ${TTL_SECONDS}, but these keys expire later than that: ${tooLong.join(', ')}. A session's keys should live as long as the session.`,
      ).toEqual([]);

      await sleep(Math.max(0, loginSent + MID_LIFE_MS - performance.now()));
      for (const i of [0, 1]) {
        const me = await copied.whoami(s.http(i));
        const at = performance.now() - loginSent;
        expect(
          me,
          `${(at / 1000).toFixed(1)} s after login, with sessionTtlSeconds ${TTL_SECONDS}, GET /me on ${nth(i)} answered ${me.status}: ` +
            "the session ended too soon. Is the lifetime read in the right unit (express-session's cookie.maxAge is in milliseconds, Redis's EX in seconds)?",
        ).toEqual({ status: 200, username: 'alice' });
      }
      const lastUse = performance.now();

      await sleep(Math.max(0, lastUse + TTL_SECONDS * 1_000 + MARGIN_MS - performance.now()));
      const waited = performance.now() - lastUse;
      const after = [];
      for (const i of [0, 1]) after.push({ on: nth(i), ...(await copied.whoami(s.http(i))) });
      const accepted = after.filter((a) => a.status === 200);
      evidence('instances that accepted the expired session', accepted.length, { of: 2 });
      expect(
        accepted.map((a) => `${a.on}: 200 as ${a.username}`),
        `the session was last used ${(waited / 1000).toFixed(1)} s ago (sessionTtlSeconds is ${TTL_SECONDS}); replaying its cookie, ` +
          `${accepted.length} of 2 instances still accepted it. The server must refuse an expired session whatever the browser ` +
          "sends (a cookie's own Max-Age only asks the browser to drop it): a store entry that expires, or a token whose expiry is checked.",
      ).toEqual([]);
    },
  );
});
