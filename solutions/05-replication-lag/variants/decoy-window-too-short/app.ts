import express, { type NextFunction, type Request, type Response } from 'express';
import { Redis } from 'ioredis';
import pg from 'pg';
import { HttpError } from './errors.js';
import { getProfile, parseProfileUpdate, saveProfile, type Queryable } from './profiles.js';

export interface Config {
  databaseUrl: string;
  replicaUrl?: string;
  redisUrl?: string;
  settings?: Record<string, unknown>;
}

/** Long enough for the reload that follows a save. */
const RECENT_WRITE_MS = 150;

function currentUser(req: Request): string | undefined {
  const id = req.get('x-user-id');
  return id && /^[A-Za-z0-9_-]{1,64}$/.test(id) ? id : undefined;
}

export function createApp(config: Config) {
  const primary = new pg.Pool({ connectionString: config.databaseUrl, max: 10 });
  primary.on('error', (err) => console.error('idle primary client error', err));
  const replica = new pg.Pool({
    connectionString: config.replicaUrl ?? config.databaseUrl,
    max: 10,
    connectionTimeoutMillis: 1_000,
    query_timeout: 1_000,
  });
  replica.on('error', (err) => console.error('idle replica client error', err));
  if (!config.redisUrl) throw new Error('this service needs redisUrl: it remembers recent writers there');
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 1, commandTimeout: 500 });
  redis.on('error', (err) => console.error('redis error', err.message));
  const recentKey = (user: string) => `profiles:recent-write:${user}`;

  /** A user who wrote in the last few seconds reads from the primary: the replica may not have it yet. */
  async function wroteRecently(user: string | undefined): Promise<boolean> {
    if (!user) return false;
    try {
      return (await redis.exists(recentKey(user))) === 1;
    } catch {
      return true; // cannot tell: be safe
    }
  }

  async function fromReplica<T>(read: (db: Queryable) => Promise<T>): Promise<T> {
    try {
      return await read(replica);
    } catch (err) {
      console.warn('replica read failed, falling back to the primary:', (err as Error).message);
      return read(primary);
    }
  }

  const app = express();
  app.use(express.json());

  app.get('/profiles/:id', async (req, res) => {
    const read = (db: Queryable) => getProfile(db, req.params.id);
    const profile = (await wroteRecently(currentUser(req))) ? await read(primary) : await fromReplica(read);
    if (!profile) throw new HttpError(404, 'profile not found');
    res.json(profile);
  });

  app.put('/profiles/:id', async (req, res) => {
    const user = currentUser(req);
    if (!user) throw new HttpError(401, 'sign in to edit a profile');
    if (user !== req.params.id) throw new HttpError(403, 'you can only edit your own profile');
    const update = parseProfileUpdate(req.body);
    const profile = await saveProfile(primary, user, update);
    await redis.set(recentKey(user), '1', 'PX', RECENT_WRITE_MS);
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
      redis.disconnect();
      await Promise.allSettled([primary.end(), replica.end()]);
    },
  };
}
