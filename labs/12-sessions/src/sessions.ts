/**
 * Sessions: who is logged in, on which browser. The routes in app.ts only call the functions
 * below; how a session is kept is decided here.
 */
import type { Request, RequestHandler, Response } from 'express';
import session from 'express-session';
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

export function createSessions(_config: { redisUrl?: string }, settings: SessionSettings): Sessions {
  // TODO: no `store` option, so express-session keeps sessions in a MemoryStore: a Map inside this
  // process. The other instance has its own Map, and a restart empties both.
  const middleware = session({
    name: COOKIE,
    secret: settings.sessionSecret,
    resave: false,
    saveUninitialized: false,
    // TODO: the cookie's flags. Can a script in the page read it? Is it sent with a request that
    // another site makes? Is it ever sent over plain HTTP when settings.secureCookies is on (the
    // proxy in front terminates TLS)?
    cookie: { maxAge: settings.sessionTtlSeconds * 1000 },
  });

  const destroy = (req: Request) => new Promise<void>((resolve, reject) => req.session.destroy((err) => (err ? reject(err) : resolve())));

  return {
    middleware: [middleware],

    async rememberReturnTo(req, _res, returnTo) {
      req.session.returnTo = returnTo;
    },

    async logIn(req, _res, username) {
      // TODO: the visitor's session, the one they had before logging in, simply becomes the
      // logged-in session. Whoever knew its id before the login is now logged in too.
      const returnTo = req.session.returnTo ?? '/';
      delete req.session.returnTo;
      req.session.username = username;
      return { returnTo };
    },

    async currentUser(req) {
      return req.session.username;
    },

    async logOut(req, res) {
      await destroy(req);
      res.clearCookie(COOKIE);
    },

    async logOutEverywhere(req, res, _username) {
      // TODO: this ends the session of this browser only. The user's phone and laptop stay logged in.
      await destroy(req);
      res.clearCookie(COOKIE);
    },

    close: async () => {},
  };
}
