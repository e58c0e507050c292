/**
 * Sessions: who is logged in, on which browser. The routes in app.ts only call the functions
 * below; how a session is kept is decided here.
 *
 * The fix: sessions live in Redis (connect-redis), where both instances and every future instance
 * find them, each key expiring with its session. A login replaces the pre-login session with a new
 * id; each user's session ids are indexed so that "log out everywhere" can end them all.
 */
import type { Request, RequestHandler, Response } from 'express';
import session from 'express-session';
import { RedisStore } from 'connect-redis';
import { Redis } from 'ioredis';
import { z } from 'zod';

declare module 'express-session' {
  interface SessionData {
    /** Who logged in with this session. */
    username?: string;
    /** Where to go after login (chosen before login, on the login page). */
    returnTo?: string;
  }
}

export const SessionSettings = z.object({
  /** Signs the session cookie. The same on every instance, and kept across deploys. */
  sessionSecret: z.string().min(16).default('lab-sessions-secret-4f1c9a2e7b'),
  /** How long a session lives without being used, in seconds. */
  sessionTtlSeconds: z.number().int().positive().default(3_600),
  /**
   * True in production: the service sits behind a proxy that terminates TLS and sends
   * X-Forwarded-Proto: https, so cookies must only ever travel over HTTPS.
   */
  secureCookies: z.boolean().default(false),
});
export type SessionSettings = z.infer<typeof SessionSettings>;

export interface Sessions {
  /** Mounted before the routes that use sessions. */
  middleware: RequestHandler[];
  /** Remembers, for this visitor (not yet logged in), where to go after login. */
  rememberReturnTo(req: Request, res: Response, returnTo: string): Promise<void>;
  /** Logs this browser in as `username`; returns where the login page said to go next. */
  logIn(req: Request, res: Response, username: string): Promise<{ returnTo: string }>;
  /** Who this request is logged in as, if anyone. */
  currentUser(req: Request): Promise<string | undefined>;
  /** Ends this browser's session. */
  logOut(req: Request, res: Response): Promise<void>;
  /** Ends every session `username` has, on every device. */
  logOutEverywhere(req: Request, res: Response, username: string): Promise<void>;
  close(): Promise<void>;
}

const COOKIE = 'sid';
const PREFIX = 'sess:';
/** The ids of every session a user has: what "log out everywhere" ends. */
const userKey = (username: string) => `user-sessions:${username}`;

export function createSessions(config: { redisUrl?: string }, settings: SessionSettings): Sessions {
  const redis = new Redis(config.redisUrl ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: 2 });
  redis.on('error', (err) => console.error('redis error', err.message));
  // Each key gets the cookie's lifetime as its TTL (EX), so Redis forgets a session when it ends.
  // disableTouch: the lifetime counts from the last write (the login), not from every request.
  const store = new RedisStore({ client: redis, prefix: PREFIX, ttl: settings.sessionTtlSeconds, disableTouch: true });
  const cookie = { httpOnly: true, sameSite: 'lax' as const, secure: settings.secureCookies, path: '/' };

  const middleware = session({
    name: COOKIE,
    secret: settings.sessionSecret,
    store,
    resave: false,
    saveUninitialized: false,
    // Behind the TLS-terminating proxy: trust its X-Forwarded-Proto, or a Secure cookie is never set.
    proxy: true,
    cookie: { ...cookie, maxAge: settings.sessionTtlSeconds * 1000 },
  });

  const call = (fn: (cb: (err?: unknown) => void) => void) => new Promise<void>((ok, ko) => fn((err) => (err ? ko(err) : ok())));

  return {
    middleware: [middleware],

    async rememberReturnTo(req, _res, returnTo) {
      req.session.returnTo = returnTo;
    },

    async logIn(req, _res, username) {
      const returnTo = req.session.returnTo ?? '/';
      // A new id: the pre-login session (whose id someone else may know) is destroyed.
      await call((cb) => req.session.regenerate(cb));
      req.session.username = username;
      await call((cb) => req.session.save(cb));
      await redis.multi().sadd(userKey(username), req.sessionID).expire(userKey(username), settings.sessionTtlSeconds).exec();
      return { returnTo };
    },

    async currentUser(req) {
      return req.session.username;
    },

    async logOut(req, res) {
      const { username } = req.session;
      const id = req.sessionID;
      await call((cb) => req.session.destroy(cb));
      if (username) await redis.srem(userKey(username), id);
      res.clearCookie(COOKIE, cookie);
    },

    async logOutEverywhere(req, res, username) {
      await call((cb) => req.session.destroy(cb));
      const ids = await redis.smembers(userKey(username));
      await redis.del(userKey(username), ...ids.map((id) => PREFIX + id));
      res.clearCookie(COOKIE, cookie);
    },

    close: async () => {
      redis.disconnect();
    },
  };
}
