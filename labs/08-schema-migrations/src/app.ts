/**
 * v2 of the users API. v1 (labs/08-schema-migrations/trees/v1) keeps a user's name in one column,
 * `users.name`; v2 splits it into `first_name` and `last_name` (the first word, and the rest), and
 * adds a lookup by email, which needs an index on `users (email)`. Two v1 instances serve
 * production under steady traffic; the rollout replaces them with v2 one at a time, so for a while
 * both versions serve, against one database.
 *
 * The schema change is the migration job, `createWorker(config)` below: the deploy pipeline runs it
 * three times, each time with one phase in `settings.phase`:
 *   - "expand":   while only v1 serves, before the first v2 instance starts;
 *   - "migrate":  while v1 and v2 both serve;
 *   - "contract": once the rollout has replaced every v1 instance.
 * The steps and their phases are in src/migrations.ts; src/migrate.ts runs them.
 *
 * Ops note (INC-4127): the last time this shipped, every v1 request failed from the moment the
 * migration ran, and writes to users hung for as long as the migration ran.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import pg from 'pg';
import { z } from 'zod';
import { migrate, PHASES } from './migrate.js';
import { migrations } from './migrations.js';

export interface Config {
  databaseUrl: string;
  settings?: Record<string, unknown>;
}

/** "Ada Lovelace" → Ada / Lovelace; "Guido van Rossum" → Guido / van Rossum; "Plato" → Plato / "". */
export function splitName(name: string): { firstName: string; lastName: string } {
  const i = name.indexOf(' ');
  return i < 0 ? { firstName: name, lastName: '' } : { firstName: name.slice(0, i), lastName: name.slice(i + 1) };
}

const fullName = (first: string, last: string | null) => (last ? `${first} ${last}` : first);

/** v2 clients send firstName/lastName; v1 clients, still out there, send name. */
const Names = z.union([
  z.object({ firstName: z.string().min(1).max(100), lastName: z.string().max(100).default('') }),
  z.object({ name: z.string().min(1).max(200) }).transform((b) => splitName(b.name)),
]);
const NewUser = z.intersection(Names, z.object({ email: z.string().email().max(200) }));

interface UserRow {
  id: string;
  first_name: string;
  last_name: string | null;
  email: string;
}

const toJson = (r: UserRow) => ({
  version: 'v2',
  id: Number(r.id),
  firstName: r.first_name,
  lastName: r.last_name ?? '',
  name: fullName(r.first_name, r.last_name),
  email: r.email,
});

export function createApp(config: Config) {
  const pool = new pg.Pool({
    connectionString: config.databaseUrl,
    application_name: 'users-api/v2',
    max: 8,
    connectionTimeoutMillis: 5_000,
  });
  pool.on('error', (err) => console.error('idle pg client error', err.message));
  const app = express();
  app.use(express.json());

  app.get('/ready', async (_req, res) => {
    try {
      await pool.query('SELECT 1');
      res.json({ ready: true, version: 'v2' });
    } catch {
      res.status(503).json({ ready: false });
    }
  });

  app.get('/users', async (req, res) => {
    const email = z.string().email().parse(req.query.email);
    const { rows } = await pool.query<UserRow>('SELECT id, first_name, last_name, email FROM users WHERE email = $1', [email]);
    res.json({ version: 'v2', users: rows.map(toJson) });
  });

  app.get('/users/:id', async (req, res) => {
    const { rows } = await pool.query<UserRow>('SELECT id, first_name, last_name, email FROM users WHERE id = $1', [req.params.id]);
    if (!rows[0]) return void res.status(404).json({ error: 'no such user' });
    res.json(toJson(rows[0]));
  });

  app.post('/users', async (req, res) => {
    const body = NewUser.parse(req.body);
    const { rows } = await pool.query<UserRow>(
      'INSERT INTO users (first_name, last_name, email) VALUES ($1, $2, $3) RETURNING id, first_name, last_name, email',
      [body.firstName, body.lastName, body.email],
    );
    res.status(201).json(toJson(rows[0]!));
  });

  app.put('/users/:id', async (req, res) => {
    const body = Names.parse(req.body);
    const { rows } = await pool.query<UserRow>(
      'UPDATE users SET first_name = $2, last_name = $3 WHERE id = $1 RETURNING id, first_name, last_name, email',
      [req.params.id, body.firstName, body.lastName],
    );
    if (!rows[0]) return void res.status(404).json({ error: 'no such user' });
    res.json(toJson(rows[0]));
  });

  app.use((err: Error & { code?: string }, _req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof z.ZodError) return void res.status(400).json({ error: err.issues[0]?.message });
    console.error(`v2 request failed: ${err.code ?? ''} ${err.message}`);
    res.status(500).json({ error: err.message, code: err.code });
  });

  return { app, close: () => pool.end() };
}

const JobSettings = z.object({ phase: z.enum(PHASES) });

/**
 * The migration job: runs the steps of one phase and returns once they are done (it throws if one
 * fails). Nothing listens; the pipeline starts the next step of the rollout when this returns.
 */
export async function createWorker(config: Config) {
  const { phase } = JobSettings.parse(config.settings ?? {});
  const applied = await migrate({ databaseUrl: config.databaseUrl, phase, migrations });
  console.log(`migration ${phase}: ${applied.length ? applied.join(', ') : 'nothing to do'}`);
  return { close: async () => undefined };
}
