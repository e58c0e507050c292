/**
 * The account service behind the shop's web front: log in, see who you are, log out. The platform
 * runs two instances behind a round-robin load balancer (no sticky sessions: any request may reach
 * either instance) and restarts them on every deploy.
 *
 * Ops note (INC-4471): customers are "logged out at random" (one request in two answers 401 right
 * after a login), "log out" does not log them out when they come back a minute later, and every
 * deploy logs everyone out. Security review SR-112 adds: session cookies readable from JavaScript
 * and sent on cross-site requests, and a session id that survives the login.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import pg from 'pg';
import { z } from 'zod';
import { createSessions, SessionSettings } from './sessions.js';
import { checkPassword, findUser } from './users.js';

export interface Config {
  databaseUrl: string;
  /** The Redis both instances can reach (the lab starts one; nothing uses it yet). */
  redisUrl?: string;
  settings?: Record<string, unknown>;
}

const Credentials = z.object({ username: z.string().min(1).max(100), password: z.string().min(1).max(200) });

/** Where to send the user after login: a path on this site only (never //evil.example or https://…). */
function safeReturnTo(value: unknown): string {
  return typeof value === 'string' && /^\/(?![/\\])[\x21-\x7e]*$/.test(value) && value.length <= 200 ? value : '/';
}

export function createApp(config: Config) {
  const settings = SessionSettings.parse(config.settings ?? {});
  const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 10 });
  pool.on('error', (err) => console.error('idle pg client error', err.message));
  const sessions = createSessions(config, settings);

  const app = express();
  app.use(express.json());

  app.get('/ready', (_req, res) => {
    res.json({ ready: true });
  });

  for (const handler of sessions.middleware) app.use(handler);

  /** The login page: remembers (in the visitor's session) where to go once logged in. */
  app.get('/login', async (req, res) => {
    const returnTo = safeReturnTo(req.query.returnTo);
    await sessions.rememberReturnTo(req, res, returnTo);
    res.json({ returnTo });
  });

  app.post('/login', async (req, res) => {
    const body = Credentials.safeParse(req.body);
    if (!body.success) return res.status(400).json({ error: 'username and password are required' });
    const user = await checkPassword(pool, body.data.username, body.data.password);
    if (!user) return res.status(401).json({ error: 'wrong username or password' });
    const { returnTo } = await sessions.logIn(req, res, user.username);
    res.json({ ...user, returnTo });
  });

  app.get('/me', async (req, res) => {
    const username = await sessions.currentUser(req);
    const user = username ? await findUser(pool, username) : undefined;
    if (!user) return res.status(401).json({ error: 'not logged in' });
    res.json(user);
  });

  app.post('/logout', async (req, res) => {
    await sessions.logOut(req, res);
    res.status(204).end();
  });

  /** "Log out everywhere": ends every session of this user, on every device. */
  app.post('/logout-all', async (req, res) => {
    const username = await sessions.currentUser(req);
    if (!username) return res.status(401).json({ error: 'not logged in' });
    await sessions.logOutEverywhere(req, res, username);
    res.status(204).end();
  });

  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    console.error('request failed', err);
    res.status(500).json({ error: 'internal error' });
  });

  return {
    app,
    close: async () => {
      await sessions.close();
      await pool.end();
    },
  };
}
