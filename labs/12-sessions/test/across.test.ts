/**
 * One session, two instances. The load balancer is round-robin (lab.router()): it does not pin a
 * browser to an instance, so whatever instance answers must know the session, and a logout on one
 * must end it on the other at once.
 */
import { describe, expect, test } from 'vitest';
import { bonus, evidence, points, useLab } from '../../../harness/testing/index.js';
import { Browser, deletes, logIn, nth, parseSetCookie } from './browser.js';

const lab = useLab({ instances: 2 });
const OPTS = { timeout: 30_000 };

/** GET /me on both instances; fails the test unless both say `username` (a precondition the test's point rests on). */
async function expectLoggedInOnBoth(b: Browser, username: string, what: string) {
  for (const i of [0, 1]) {
    const me = await b.whoami(lab.service.http(i));
    expect(
      me,
      `${what}: GET /me on ${nth(i)} answered ${me.status}${me.username ? ` as ${me.username}` : ''}, expected 200 as ${username}. ` +
        'Each instance must find the session in a place both share; a session kept in one process is unknown to the other.',
    ).toEqual({ status: 200, username });
  }
}

describe('sessions across instances', () => {
  test(
    'when a user logs in on one instance then every request, whichever instance it reaches, is logged in',
    points(3, { id: 'shared-session', ...OPTS }),
    async () => {
      const router = await lab.router();
      for (const inst of lab.service.instances) router.add(inst);
      for (const inst of lab.service.instances)
        expect(await router.waitReady(inst), `${inst.url} never answered GET /ready with 200`).toBe(true);

      const b = new Browser();
      const page = await b.get(lab.service.http(0), '/login?returnTo=/orders/42');
      expect(page.status, `GET /login on ${nth(0)} answered ${page.status}`).toBe(200);
      const login = await logIn(b, lab.service.http(1), 'alice', nth(1));

      const seen: string[] = [];
      for (let i = 0; i < 8; i++) {
        const res = await b.get(router.http, '/me');
        const on = res.headers.get('x-lab-backend') === lab.service.instances[0]!.url ? nth(0) : nth(1);
        seen.push(`${on}: ${res.status}${res.status === 200 ? ` ${res.body?.username}` : ''}`);
      }
      const ok = seen.filter((s) => s.endsWith(' alice')).length;
      evidence('requests after login that knew the session', ok, { of: seen.length });
      expect(
        ok,
        `logged in as alice on ${nth(1)}; then 8 × GET /me through the round-robin load balancer: ${seen.join(', ')}. ` +
          `${ok} of 8 knew the session. A session kept in one process (express-session's default MemoryStore) exists on that ` +
          'instance alone: the other answers 401, and the user is "logged out at random". Both instances must read sessions from a shared store (or verify a signed token).',
      ).toBe(8);
      expect(
        login.body?.returnTo,
        `GET /login?returnTo=/orders/42 on ${nth(0)}, then POST /login on ${nth(1)} answered returnTo ${JSON.stringify(login.body?.returnTo)}: ` +
          'what the visitor chose before logging in (kept in their pre-login session) was lost between the instances, or across the login. ' +
          'Carry it over when the session is replaced at login.',
      ).toBe('/orders/42');
    },
  );

  test(
    'when a user logs out on one instance then the session is over on every instance at once, even for a copy of the cookie',
    points(3, { id: 'logout-everywhere', ...OPTS }),
    async () => {
      const b = new Browser();
      await logIn(b, lab.service.http(0), 'alice', nth(0));
      await expectLoggedInOnBoth(b, 'alice', `before logging out (logged in on ${nth(0)})`);
      const copied = b.copy();

      const out = await b.post(lab.service.http(1), '/logout');
      expect(out.status, `POST /logout on ${nth(1)} answered ${out.status} ${out.text.slice(0, 200)}`).toBeLessThan(300);

      // At once: no sleep. Every answer here must be 401.
      const after = [];
      for (const i of [0, 1]) {
        after.push({ who: 'the cookie copied before logout', on: nth(i), ...(await copied.whoami(lab.service.http(i))) });
        after.push({ who: 'the browser that logged out', on: nth(i), ...(await b.whoami(lab.service.http(i))) });
      }
      const accepted = after.filter((a) => a.status === 200);
      evidence('requests still logged in after logout', accepted.length, { of: after.length });
      expect(
        accepted.map((a) => `${a.who} on ${a.on}: 200 as ${a.username}`),
        `alice logged out on ${nth(1)}; right after, ${accepted.length} of ${after.length} GET /me were still logged in ` +
          `(${accepted.map((a) => `${a.who} on ${a.on}: 200 as ${a.username}`).join('; ')}). ` +
          'A logout that only tells the browser to delete its cookie ends nothing: a copy of the cookie (or a token with no ' +
          'revocation) keeps working until it expires, and an instance that cached the session keeps serving it. The server ' +
          'must forget or revoke the session where every instance looks, before it answers the logout.',
      ).toEqual([]);
    },
  );

  test(
    'when a visitor logs in with a session id someone else knew before the login then that id is not logged in (session fixation)',
    points(2, { id: 'fixation', ...OPTS }),
    async () => {
      // The attacker visits the login page and gets a pre-login session, then plants its cookie in
      // the victim's browser (a shared computer, a subdomain, a link); the victim logs in with it.
      const attacker = new Browser();
      const page = await attacker.get(lab.service.http(0), '/login?returnTo=/settings');
      expect(page.status, `GET /login on ${nth(0)} answered ${page.status}`).toBe(200);
      const planted = attacker.cookieNames();
      const victim = attacker.copy();
      await logIn(victim, lab.service.http(0), 'alice', nth(0));
      const me = await victim.whoami(lab.service.http(0));
      expect(me, `after logging in, the victim's own GET /me on ${nth(0)} answered ${me.status}`).toEqual({
        status: 200,
        username: 'alice',
      });

      const hijacked = [];
      for (const i of [0, 1]) {
        const r = await attacker.whoami(lab.service.http(i));
        if (r.status === 200) hijacked.push(`${nth(i)}: 200 as ${r.username}`);
      }
      evidence('instances where the pre-login id was logged in', hijacked.length, { of: 2 });
      expect(
        hijacked,
        `the attacker kept the cookies the login page gave before the login (${planted.join(', ') || 'none'}); after alice logged in ` +
          `with them, those cookies were logged in as her (${hijacked.join('; ')}). That is session fixation: the login kept the ` +
          "visitor's session id. Give the session a new id at login (express-session: req.session.regenerate) and end the old one.",
      ).toEqual([]);
    },
  );

  test(
    'when the service sets its cookies then they are HttpOnly and SameSite, and Secure behind an HTTPS proxy when secureCookies is on',
    points(2, { id: 'cookie-flags', ...OPTS }),
    async () => {
      const problems: string[] = [];
      const check = (raw: string[], where: string, secure: boolean) => {
        const set = raw.map(parseSetCookie).filter((c) => !deletes(c));
        if (set.length === 0) problems.push(`${where}: GET /login and POST /login set no cookie`);
        for (const c of set) {
          const missing: string[] = [];
          if (!c.attrs.has('httponly')) missing.push('HttpOnly (a script in the page, an XSS, can read it)');
          const sameSite = String(c.attrs.get('samesite') ?? '').toLowerCase();
          if (sameSite !== 'lax' && sameSite !== 'strict')
            missing.push(
              `SameSite=Lax or Strict (it has ${sameSite ? `SameSite=${sameSite}` : 'none'}: the browser sends it with requests other sites make, CSRF)`,
            );
          if (secure && !c.attrs.has('secure')) missing.push('Secure (with secureCookies on, it must never travel over plain HTTP)');
          if (missing.length) problems.push(`${where}: "${c.raw}" lacks ${missing.join('; ')}`);
        }
      };

      const b = new Browser();
      const page = await b.get(lab.service.http(0), '/login?returnTo=/orders');
      const plain = await logIn(b, lab.service.http(0), 'alice', nth(0));
      check([...page.headers.getSetCookie(), ...plain.headers.getSetCookie()], 'default settings', false);

      // Production: a proxy terminates TLS and tells the service so with X-Forwarded-Proto.
      const prod = await lab.startService({ instances: 1, settings: { secureCookies: true } });
      const viaTls = new Browser({ 'x-forwarded-proto': 'https' });
      const tlsPage = await viaTls.get(prod.http(0), '/login?returnTo=/orders');
      const res = await viaTls.post(prod.http(0), '/login', { username: 'bob', password: 'battery-staple-2' });
      expect(
        res.status,
        `with secureCookies on, POST /login (X-Forwarded-Proto: https) answered ${res.status} ${res.text.slice(0, 200)}`,
      ).toBe(200);
      check([...tlsPage.headers.getSetCookie(), ...res.headers.getSetCookie()], 'secureCookies on, behind the HTTPS proxy', true);
      const me = await viaTls.whoami(prod.http(0));
      if (me.status !== 200)
        problems.push(
          `secureCookies on, behind the HTTPS proxy: after login GET /me answered ${me.status}. A Secure cookie is only set on a ` +
            'request the service knows came over HTTPS: behind a proxy, trust its X-Forwarded-Proto (express-session: proxy: true, or app.set("trust proxy", 1)).',
        );
      expect(problems, `cookie flags:\n${problems.join('\n')}`).toEqual([]);
    },
  );

  test(
    'bonus: when a user logs out everywhere then every session of that user ends, on every instance, and only theirs',
    bonus(2, { id: 'logout-all', ...OPTS }),
    async () => {
      const devices = { laptop: new Browser(), phone: new Browser(), tablet: new Browser() };
      await logIn(devices.laptop, lab.service.http(0), 'alice', nth(0));
      await logIn(devices.phone, lab.service.http(1), 'alice', nth(1));
      await logIn(devices.tablet, lab.service.http(0), 'alice', nth(0));
      const bob = new Browser();
      await logIn(bob, lab.service.http(1), 'bob', nth(1));
      for (const [name, d] of Object.entries(devices))
        await expectLoggedInOnBoth(d, 'alice', `alice's ${name}, before "log out everywhere"`);
      const copies = Object.fromEntries(Object.entries(devices).map(([k, d]) => [k, d.copy()]));

      const out = await devices.phone.post(lab.service.http(1), '/logout-all');
      expect(out.status, `POST /logout-all on ${nth(1)} answered ${out.status} ${out.text.slice(0, 200)}`).toBeLessThan(300);

      const still: string[] = [];
      for (const [name, d] of Object.entries(copies))
        for (const i of [0, 1]) {
          const r = await d.whoami(lab.service.http(i));
          if (r.status === 200) still.push(`${name} on ${nth(i)}`);
        }
      evidence('sessions still logged in after "log out everywhere"', still.length, { of: 6 });
      expect(
        still,
        `alice logged out everywhere from her phone (${nth(1)}); still logged in as her: ${still.join(', ')}. ` +
          'Every session of the user must end, including those on other devices, on every instance: keep an index of the ' +
          'user\'s sessions (or a per-user "not before" time that tokens issued earlier fail).',
      ).toEqual([]);
      await expectLoggedInOnBoth(bob, 'bob', 'bob, who did not log out');
      const again = new Browser();
      await logIn(again, lab.service.http(0), 'alice', nth(0));
      await expectLoggedInOnBoth(again, 'alice', 'alice logging in again right after "log out everywhere"');
    },
  );
});
