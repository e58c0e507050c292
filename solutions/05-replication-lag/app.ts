import express, { type NextFunction, type Request, type Response } from 'express';
import pg from 'pg';
import { minLsnOf, primaryLsn, rememberLsn, routedRead } from './consistency.js';
import { HttpError } from './errors.js';
import { getProfile, parseProfileUpdate, saveProfile } from './profiles.js';

export interface Config {
  /** The primary: every write goes here. */
  databaseUrl: string;
  /** A streaming replica of the primary (asynchronous). Without one, reads use the primary too. */
  replicaUrl?: string;
  /** A Redis both instances share. Nothing uses it yet. */
  redisUrl?: string;
  settings?: Record<string, unknown>;
}

/** The caller, as the API gateway authenticated them (X-User-Id). Anonymous callers may read. */
function currentUser(req: Request): string | undefined {
  const id = req.get('x-user-id');
  return id && /^[A-Za-z0-9_-]{1,64}$/.test(id) ? id : undefined;
}

export function createApp(config: Config) {
  const primary = new pg.Pool({ connectionString: config.databaseUrl, max: 10 });
  primary.on('error', (err) => console.error('idle primary client error', err));

  // Profile pages are ~95% of our traffic, so since PLAT-412 they are served by the read replica
  // and the primary only takes writes. A replica that is slow or gone must cost a read at most
  // about a second before it falls back to the primary: bound the connect and every query.
  const replica = new pg.Pool({
    connectionString: config.replicaUrl ?? config.databaseUrl,
    max: 10,
    connectionTimeoutMillis: 1_000,
    query_timeout: 1_000,
  });
  replica.on('error', (err) => console.error('idle replica client error', err));
  const pools = { primary, replica };

  const app = express();
  app.use(express.json());

  app.get('/profiles/:id', async (req, res) => {
    const minLsn = minLsnOf(req);
    const { value: profile, servedBy } = await routedRead(pools, minLsn, (db) => getProfile(db, req.params.id));
    // What the primary showed this browser is now the floor for its next reads.
    if (servedBy === 'primary') rememberLsn(res, await primaryLsn(primary));
    if (!profile) throw new HttpError(404, 'profile not found');
    res.json(profile);
  });

  app.put('/profiles/:id', async (req, res) => {
    const user = currentUser(req);
    if (!user) throw new HttpError(401, 'sign in to edit a profile');
    if (user !== req.params.id) throw new HttpError(403, 'you can only edit your own profile');
    const update = parseProfileUpdate(req.body);
    const profile = await saveProfile(primary, user, update);
    // Read after the commit: an LSN taken inside the transaction would be older than its commit record.
    rememberLsn(res, await primaryLsn(primary));
    res.json(profile);
  });

  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof HttpError) return res.status(err.status).json({ error: err.message });
    console.error('request failed', err);
    res.status(500).json({ error: 'internal error' });
  });

  return {
    app,
    close: async () => {
      await Promise.allSettled([primary.end(), replica.end()]);
    },
  };
}
