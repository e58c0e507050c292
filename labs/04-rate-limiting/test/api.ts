/**
 * Helpers shared by the rate-limiting tests: API keys seeded straight into Postgres, one call of
 * the rate-limited endpoint, and readers for the headers the contract names.
 */
import { randomBytes } from 'node:crypto';
import { eventually, sleep, type HttpResponse, type LabContext, type Service } from '../../../harness/testing/index.js';

/** The rate-limited endpoint the tests call: a postcode that schema.sql seeds. */
export const ENDPOINT = '/v1/postcodes/de/10115';

/** Inserts a fresh API key for a new customer and returns it. */
export async function newKey(lab: LabContext, owner = 'customer'): Promise<string> {
  const key = `pk_test_${randomBytes(12).toString('hex')}`;
  await lab.db.query('INSERT INTO api_keys (key, owner) VALUES ($1, $2)', [key, `${owner}-${key.slice(-6)}`]);
  return key;
}

/** One GET of the endpoint with an API key, on instance i (round-robin). */
export function call(service: Service, i: number, key: string, timeoutMs = 15_000): Promise<HttpResponse> {
  return service.http(i).get(ENDPOINT, { headers: { 'x-api-key': key }, timeoutMs });
}

/** Waits until every instance answers GET /health with 200, so that its Redis client is connected. */
export async function healthy(service: Service, timeoutMs = 20_000): Promise<void> {
  const statuses = await eventually(
    async () => {
      const got = await Promise.all(
        service.instances.map((inst) =>
          inst.http.get('/health', { timeoutMs: 3_000 }).then(
            (r) => r.status,
            () => 0,
          ),
        ),
      );
      return got.every((s) => s === 200) ? got : undefined;
    },
    { timeoutMs, everyMs: 200 },
  );
  if (!statuses)
    throw new Error(
      `the service's instances did not all answer GET /health with 200 within ${timeoutMs / 1000} s: /health must answer 200 once Postgres and Redis are reachable`,
    );
}

/** "200 200 200 429" */
export const seq = (statuses: number[]) => statuses.map((s) => (s === 0 ? 'no-answer' : String(s))).join(' ');

export const count = (statuses: number[], status: number) => statuses.filter((s) => s === status).length;

/** Sleeps until performance.now() reaches `at` (ms). */
export async function sleepUntil(at: number): Promise<void> {
  const ms = at - performance.now();
  if (ms > 0) await sleep(ms);
}

export interface RateLimitHeaders {
  limit?: number;
  remaining?: number;
  reset?: number;
  /** Which form was found: "RateLimit-Limit/-Remaining/-Reset", "RateLimit", or "none". */
  form: string;
}

const int = (v: string | null | undefined) => (v != null && /^\s*\d+\s*$/.test(v) ? Number(v) : undefined);

/**
 * Reads the IETF RateLimit header fields: the separate RateLimit-Limit, RateLimit-Remaining and
 * RateLimit-Reset of draft 6 (the contract), or the combined `RateLimit: limit=…, remaining=…,
 * reset=…` of draft 7, or `RateLimit: "name";r=…;t=…` with `RateLimit-Policy: "name";q=…` of draft 8.
 */
export function rateLimitHeaders(h: Pick<Headers, 'get' | 'has'>): RateLimitHeaders {
  if (h.has('ratelimit-limit') || h.has('ratelimit-remaining') || h.has('ratelimit-reset'))
    return {
      limit: int(h.get('ratelimit-limit')),
      remaining: int(h.get('ratelimit-remaining')),
      reset: int(h.get('ratelimit-reset')),
      form: 'RateLimit-Limit/-Remaining/-Reset',
    };
  const combined = h.get('ratelimit');
  if (combined) {
    const params = new Map<string, string>();
    for (const part of combined.split(/[;,]/)) {
      const m = /^\s*([a-z]+)\s*=\s*"?([^"]*)"?\s*$/i.exec(part);
      if (m) params.set(m[1]!.toLowerCase(), m[2]!);
    }
    const q = /(?:^|;)\s*q\s*=\s*(\d+)/.exec(h.get('ratelimit-policy') ?? '');
    return {
      limit: int(params.get('limit')) ?? (q ? Number(q[1]) : undefined),
      remaining: int(params.get('remaining') ?? params.get('r')),
      reset: int(params.get('reset') ?? params.get('t')),
      form: 'RateLimit',
    };
  }
  return { form: 'none' };
}
