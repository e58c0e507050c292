/**
 * A user's browser, for the tests. It sends X-User-Id (as the API gateway does after sign-in),
 * keeps every cookie the service sets (honouring Path, Max-Age and Expires) and sends them back,
 * to whichever instance it talks to, the way a browser behind a load balancer would. It does not
 * echo any other response header.
 */
import { HttpTimeoutError, type Service } from '../../../harness/testing/index.js';

interface Cookie {
  value: string;
  path: string;
  expiresAt: number;
}

export interface Exchange {
  /** 0 when the service did not answer in time (a hang). */
  status: number;
  /** The profile's displayName, for a 200 carrying a profile. */
  name?: string;
  /** Which instance answered: 1 or 2. */
  instance: number;
  ms: number;
  /** When the request was sent, ms since the test file started. */
  at: number;
  error?: string;
}

const started = performance.now();

function defaultPath(path: string): string {
  const p = path.split('?')[0]!;
  const i = p.lastIndexOf('/');
  return i <= 0 ? '/' : p.slice(0, i);
}

function pathMatches(cookiePath: string, path: string): boolean {
  return path === cookiePath || (path.startsWith(cookiePath) && (cookiePath.endsWith('/') || path[cookiePath.length] === '/'));
}

export class Browser {
  private readonly jar = new Map<string, Cookie>();

  constructor(
    /** undefined: an anonymous visitor. */
    readonly userId: string | undefined,
    private readonly service: Service,
  ) {}

  /** Cookies the browser holds now (name → value). */
  cookies(): Record<string, string> {
    const now = Date.now();
    return Object.fromEntries([...this.jar].filter(([, c]) => c.expiresAt > now).map(([k, c]) => [k, c.value]));
  }

  private headers(path: string): Record<string, string> {
    const h: Record<string, string> = {};
    if (this.userId) h['x-user-id'] = this.userId;
    const now = Date.now();
    const cookie = [...this.jar]
      .filter(([, c]) => c.expiresAt > now && pathMatches(c.path, path))
      .map(([k, c]) => `${k}=${c.value}`)
      .join('; ');
    if (cookie) h.cookie = cookie;
    return h;
  }

  private remember(path: string, setCookies: string[]): void {
    for (const line of setCookies) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair!.indexOf('=');
      if (eq <= 0) continue;
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      let expiresAt = Number.POSITIVE_INFINITY;
      let cookiePath = defaultPath(path);
      let maxAgeSeen = false;
      for (const a of attrs) {
        const [k, ...rest] = a.split('=');
        const key = k!.trim().toLowerCase();
        const v = rest.join('=').trim();
        if (key === 'max-age' && /^-?\d+$/.test(v)) {
          expiresAt = Date.now() + Number(v) * 1000;
          maxAgeSeen = true;
        } else if (key === 'expires' && !maxAgeSeen) {
          const t = Date.parse(v);
          if (!Number.isNaN(t)) expiresAt = t;
        } else if (key === 'path' && v.startsWith('/')) cookiePath = v;
      }
      if (expiresAt <= Date.now()) this.jar.delete(name);
      else this.jar.set(name, { value, path: cookiePath, expiresAt });
    }
  }

  private async send(method: 'GET' | 'PUT', i: number, path: string, body?: unknown, timeoutMs = 8_000): Promise<Exchange> {
    const inst = this.service.instances[i % this.service.instances.length]!;
    const at = Math.round(performance.now() - started);
    try {
      const res = await inst.http.request(method, path, body, { headers: this.headers(path), timeoutMs });
      this.remember(path, res.headers.getSetCookie());
      const name =
        res.status === 200 && res.body && typeof res.body === 'object' ? (res.body as { displayName?: string }).displayName : undefined;
      return {
        status: res.status,
        name,
        instance: inst.index + 1,
        ms: Math.round(res.ms),
        at,
        ...(res.status >= 400 ? { error: res.text } : {}),
      };
    } catch (e) {
      if (e instanceof HttpTimeoutError) return { status: 0, instance: inst.index + 1, ms: timeoutMs, at, error: 'no answer: it hung' };
      throw e;
    }
  }

  /** GET /profiles/:id on instance i (mod n). */
  read(i: number, profileId: string, opts: { timeoutMs?: number } = {}): Promise<Exchange> {
    return this.send('GET', i, `/profiles/${profileId}`, undefined, opts.timeoutMs);
  }

  /** PUT /profiles/<own id> on instance i (mod n). */
  save(i: number, body: { displayName: string; bio?: string }): Promise<Exchange> {
    if (!this.userId) throw new Error('an anonymous browser cannot save a profile');
    return this.send('PUT', i, `/profiles/${this.userId}`, body);
  }
}
