import express, { type NextFunction, type Request, type Response } from 'express';
import pg from 'pg';
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
  // and the primary only takes writes.
  const replica = new pg.Pool({ connectionString: config.replicaUrl ?? config.databaseUrl, max: 10 });
  replica.on('error', (err) => console.error('idle replica client error', err));

  const app = express();
  app.use(express.json());

  app.get('/profiles/:id', async (req, res) => {
    // The replica lags; the primary never does.
    const profile = await getProfile(primary, req.params.id);
    if (!profile) throw new HttpError(404, 'profile not found');
    res.json(profile);
  });

  app.put('/profiles/:id', async (req, res) => {
    const user = currentUser(req);
    if (!user) throw new HttpError(401, 'sign in to edit a profile');
    if (user !== req.params.id) throw new HttpError(403, 'you can only edit your own profile');
    const update = parseProfileUpdate(req.body);
    const profile = await saveProfile(primary, user, update);
    // TODO: the profile page reloads (GET /profiles/:id) as soon as this answers.
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
