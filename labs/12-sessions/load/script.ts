/**
 * k6 load for the sessions lab. Traffic model: 50 users (one per virtual user, each with its own
 * cookie jar, as a browser has), each logging in once and then browsing: GET /me about every
 * 100 ms, through the round-robin proxy of `lab serve`, so consecutive requests land on different
 * instances. Every 100th iteration the user logs out and logs straight back in.
 *
 * SLO: a logged-in user is never refused (`logged_in_refused` stays 0: one 401 is a user "logged
 * out at random"), the cookie a user held before logging out is refused right after it (`logged_out_accepted` stays 0),
 * GET /me p95 under 50 ms (one store read per request), POST /login p95 under 300 ms (the password
 * hash dominates). Run it while restarting the instances behind `lab serve` to see sessions survive.
 *
 *   k6 run -e BASE_URL=http://127.0.0.1:3000 labs/12-sessions/load/script.ts
 */
import { check, sleep } from 'k6';
import http from 'k6/http';
import { Counter } from 'k6/metrics';
import type { Options } from 'k6/options';

export const options: Options = {
  scenarios: { browsing: { executor: 'constant-vus', vus: 50, duration: '60s' } },
  thresholds: {
    logged_in_refused: ['count==0'],
    logged_out_accepted: ['count==0'],
    'http_req_duration{route:me}': ['p(95)<50'],
    'http_req_duration{route:login}': ['p(95)<300'],
  },
};

const BASE = __ENV.BASE_URL ?? 'http://127.0.0.1:3000';
const PASSWORD = 'correct-horse-7';
const loggedInRefused = new Counter('logged_in_refused');
const loggedOutAccepted = new Counter('logged_out_accepted');

let loggedIn = false;

function logIn(): void {
  const user = `load${String(__VU % 50 || 50).padStart(2, '0')}`;
  const res = http.post(`${BASE}/login`, JSON.stringify({ username: user, password: PASSWORD }), {
    headers: { 'content-type': 'application/json' },
    tags: { route: 'login' },
  });
  loggedIn = check(res, { 'login answered 200': (r) => r.status === 200 });
}

export default function (): void {
  if (!loggedIn) logIn();
  const me = http.get(`${BASE}/me`, { tags: { route: 'me' } });
  if (!check(me, { 'logged in: GET /me answered 200': (r) => r.status === 200 })) loggedInRefused.add(1);

  if (__ITER % 100 === 99) {
    // The cookies as they were before logout, replayed afterwards from a jar of their own: what a
    // copied cookie (or a token that cannot be revoked) would still do.
    const held = http.cookieJar().cookiesForURL(BASE);
    const copied = Object.entries(held)
      .map(([name, values]) => `${name}=${values[0]}`)
      .join('; ');
    http.post(`${BASE}/logout`, null, { tags: { route: 'logout' } });
    const after = http.get(`${BASE}/me`, {
      headers: { cookie: copied },
      jar: new http.CookieJar(),
      tags: { route: 'me-after-logout' },
      responseCallback: http.expectedStatuses(401),
    });
    if (after.status === 200) loggedOutAccepted.add(1);
    loggedIn = false;
  }
  sleep(0.1);
}
