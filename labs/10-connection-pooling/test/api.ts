/**
 * Helpers shared by the connection-pooling tests: the database's connection limit, a sampler of
 * the sessions Postgres holds for the service, and one report request.
 *
 * The harness's own sessions (superuser, application_name lab-harness) count towards the
 * database's CONNECTION LIMIT like anybody's, as a DBA's psql or the monitoring would: that is what
 * settings.reservedConnections is for. These helpers use at most two of them at a time (the
 * sampler's, and one for everything else), so the four the tests reserve are never all taken.
 */
import type pg from 'pg';
import {
  explainFound,
  sleep,
  summarizeOutcomes,
  type HttpResponse,
  type LabContext,
  type Service,
  type Settled,
} from '../../../harness/testing/index.js';

/** The budget the core tests give the service: 20 sessions, 4 of them reserved, two instances: 16 for the service, 8 per instance. */
export const LIMITS = { connectionLimit: 20, reservedConnections: 4, instances: 2 } as const;

export const budget = (s: { connectionLimit: number; reservedConnections: number }) => s.connectionLimit - s.reservedConnections;

/**
 * ALTER DATABASE <this test file's database> CONNECTION LIMIT n. Postgres then refuses the
 * service's (n+1)th session with 53300 "too many connections for database": a real limit, on this
 * file's database alone. Superusers are never refused, but their sessions count.
 */
export async function limitConnections(lab: LabContext, n: number): Promise<void> {
  const c = await lab.db.connect();
  try {
    const { rows } = await c.query('SELECT current_database() AS name');
    await c.query(`ALTER DATABASE "${rows[0].name}" CONNECTION LIMIT ${Number(n)}`);
  } finally {
    c.release(true); // closed, not kept idle: it would count towards the limit
  }
}

const SERVICE_SESSIONS = `
  SELECT count(*)::int AS total,
         count(*) FILTER (WHERE state = 'idle')::int AS idle,
         count(*) FILTER (WHERE state = 'active')::int AS active,
         count(*) FILTER (WHERE state LIKE 'idle in transaction%')::int AS in_transaction
    FROM pg_stat_activity
   WHERE datname = current_database() AND backend_type = 'client backend'
     AND usename = (SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database())`;

export interface Sessions {
  total: number;
  idle: number;
  active: number;
  in_transaction: number;
}

/** The sessions the service holds on the test database now (its role owns the database; the harness is the superuser). */
export async function serviceSessions(db: Pick<pg.Pool, 'query'>): Promise<Sessions> {
  const { rows } = await db.query(SERVICE_SESSIONS);
  return rows[0];
}

export const describeSessions = (s: Sessions) =>
  `${s.total} (${s.active} running a query, ${s.idle} idle, ${s.in_transaction} idle in a transaction)`;

/** Samples pg_stat_activity on a session of its own, every few milliseconds, until stopped. */
export class SessionSampler {
  private peakSeen = 0;
  private count = 0;
  private running = true;
  private readonly loop: Promise<void>;

  private constructor(private readonly client: pg.PoolClient) {
    this.loop = (async () => {
      while (this.running) {
        const s = await serviceSessions(this.client);
        this.count++;
        this.peakSeen = Math.max(this.peakSeen, s.total);
        await sleep(10);
      }
    })();
  }

  static async start(lab: LabContext): Promise<SessionSampler> {
    return new SessionSampler(await lab.db.connect());
  }

  /** Stops sampling; the most sessions of the service seen at once, and how many samples were taken. */
  async stop(): Promise<{ peak: number; samples: number }> {
    this.running = false;
    try {
      await this.loop;
    } finally {
      this.client.release(true);
    }
    return { peak: this.peakSeen, samples: this.count };
  }
}

/** GET /reports/:name on instance i. */
export function report(service: Service, i: number, name: string, timeoutMs = 30_000): Promise<HttpResponse> {
  return service.http(i).get(`/reports/${name}`, { timeoutMs });
}

/** The statuses of settled requests, 0 for no answer. */
export const statuses = (results: Settled<HttpResponse>[]) => results.map((r) => (r.ok ? r.value.status : 0));

/** "37 of 200 reports failed (30 × HTTP 500, 7 × no answer …)" */
export function tally(what: string, results: Settled<HttpResponse>[], ok: (status: number) => boolean): string {
  return summarizeOutcomes(
    what,
    results.map((r) => (r.ok ? { status: r.value.status } : { status: 0, error: r.error.message })),
    (o) => ok(o.status),
  );
}

/** What the service logged that names a concept: "too many connections (53300) ×12: …". */
export function logged(service: Service): string {
  const found = service.loggedConcepts();
  return found.size ? `\nThe service logged:\n${explainFound(found)}` : '';
}
