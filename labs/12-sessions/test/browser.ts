/**
 * A browser, as far as sessions go: it keeps the cookies a service sets and sends them back on
 * every request, whichever instance answers. The contract is the README's: the session travels in
 * cookies, under whatever names and in whatever format the service chooses.
 *
 * It forgets a cookie only when the service deletes it (an expiry in the past, or Max-Age <= 0),
 * never by itself when its expiry passes: `copy()` is what someone who copied the cookies holds (a
 * stolen laptop, a proxy log, malware), and the tests replay such copies to see what the *server*
 * still accepts.
 */
import { expect } from 'vitest';
import type { HttpClient, HttpResponse } from '../../../harness/testing/index.js';

export interface SetCookie {
  name: string;
  value: string;
  /** Attribute names in lower case; flags map to true. */
  attrs: Map<string, string | true>;
  raw: string;
}

export function parseSetCookie(raw: string): SetCookie {
  const [pair = '', ...rest] = raw.split(';');
  const eq = pair.indexOf('=');
  const attrs = new Map<string, string | true>();
  for (const part of rest) {
    const i = part.indexOf('=');
    if (i < 0) attrs.set(part.trim().toLowerCase(), true);
    else attrs.set(part.slice(0, i).trim().toLowerCase(), part.slice(i + 1).trim());
  }
  return { name: pair.slice(0, eq).trim(), value: pair.slice(eq + 1).trim(), attrs, raw };
}

/** Whether this Set-Cookie deletes the cookie rather than setting it. */
export function deletes(c: SetCookie): boolean {
  const maxAge = c.attrs.get('max-age');
  if (typeof maxAge === 'string' && Number(maxAge) <= 0) return true;
  const expires = c.attrs.get('expires');
  return typeof expires === 'string' && Date.parse(expires) < Date.now();
}

export class Browser {
  private readonly jar = new Map<string, string>();

  constructor(readonly extraHeaders: Record<string, string> = {}) {}

  /** The cookies this browser holds now, as a copy someone could replay later. */
  copy(): Browser {
    const b = new Browser(this.extraHeaders);
    for (const [k, v] of this.jar) b.jar.set(k, v);
    return b;
  }

  cookieNames(): string[] {
    return [...this.jar.keys()];
  }

  async request(client: HttpClient, method: 'GET' | 'POST', path: string, body?: unknown): Promise<HttpResponse> {
    const headers: Record<string, string> = { ...this.extraHeaders };
    if (this.jar.size) headers.cookie = [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await client.request(method, path, method === 'POST' ? (body ?? {}) : undefined, { headers });
    for (const raw of res.headers.getSetCookie()) {
      const c = parseSetCookie(raw);
      if (!c.name) continue;
      if (deletes(c)) this.jar.delete(c.name);
      else this.jar.set(c.name, c.value);
    }
    return res;
  }

  get(client: HttpClient, path: string) {
    return this.request(client, 'GET', path);
  }
  post(client: HttpClient, path: string, body?: unknown) {
    return this.request(client, 'POST', path, body);
  }

  /** GET /me: the user this browser is logged in as, or the status it got instead. */
  async whoami(client: HttpClient): Promise<{ status: number; username?: string }> {
    const res = await this.get(client, '/me');
    return { status: res.status, username: res.status === 200 ? res.body?.username : undefined };
  }
}

export const PASSWORDS: Record<string, string> = { alice: 'correct-horse-7', bob: 'battery-staple-2', carol: 'tr0ub4dor-3' };

/** POST /login as `username` on `client`; fails the test (with what the service said) unless it logs in and sets a cookie. */
export async function logIn(b: Browser, client: HttpClient, username: string, where: string): Promise<HttpResponse> {
  const res = await b.post(client, '/login', { username, password: PASSWORDS[username] });
  expect(res.status, `POST /login as ${username} on ${where} answered ${res.status} ${res.text.slice(0, 200)}`).toBe(200);
  const raw = res.headers.getSetCookie();
  expect(
    raw.filter((r) => !deletes(parseSetCookie(r))).length,
    raw.length === 0
      ? `POST /login as ${username} on ${where} set no cookie. The contract: the session travels in a cookie the service sets at login.`
      : `POST /login as ${username} on ${where} set only cookies that are already expired (${raw.join(' | ')}): the browser drops them at once. ` +
          "Is the lifetime in the right unit (express-session's cookie.maxAge is in milliseconds)?",
  ).toBeGreaterThan(0);
  return res;
}

/** "instance 1" for index 0: what the messages call them. */
export const nth = (i: number) => `instance ${i + 1}`;
