/**
 * Sessions as signed tokens: the cookie holds who is logged in, until when, and a token id, with an
 * HMAC under the shared sessionSecret. Any instance verifies it without looking anything up, except
 * one thing: whether it was revoked. A token cannot be recalled once issued, so logout records its
 * id in Redis (until the token would expire anyway), and "log out everywhere" records a per-user
 * not-before time.
 */
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import { Redis } from 'ioredis';
import { z } from 'zod';

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

const SESSION = 'session';
const RETURN_TO = 'return_to';
const RETURN_TO_MS = 10 * 60_000;

const Claims = z.object({ sub: z.string(), jti: z.string(), iat: z.number(), exp: z.number() });
type Claims = z.infer<typeof Claims>;
const Pending = z.object({ returnTo: z.string(), exp: z.number() });

function cookiesOf(req: Request): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out.set(part.slice(0, i).trim(), decodeURIComponent(part.slice(i + 1).trim()));
  }
  return out;
}

export function createSessions(config: { redisUrl?: string }, settings: SessionSettings): Sessions {
  const redis = new Redis(config.redisUrl ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: 2 });
  redis.on('error', (err) => console.error('redis error', err.message));
  const ttlMs = settings.sessionTtlSeconds * 1000;
  const flags = { httpOnly: true, sameSite: 'lax' as const, secure: settings.secureCookies, path: '/' };

  const mac = (body: string) => createHmac('sha256', settings.sessionSecret).update(body).digest();
  const sign = (payload: object) => {
    const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
    return `v1.${body}.${mac(body).toString('base64url')}`;
  };
  /** The payload, if the signature is ours and it has not expired. */
  const verify = <T extends { exp: number }>(token: string | undefined, schema: z.ZodType<T>): T | undefined => {
    const [v, body, sig] = (token ?? '').split('.');
    if (v !== 'v1' || !body || !sig) return undefined;
    const given = Buffer.from(sig, 'base64url');
    const expected = mac(body);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    const parsed = schema.safeParse(JSON.parse(Buffer.from(body, 'base64url').toString('utf8')));
    return parsed.success && parsed.data.exp > Date.now() ? parsed.data : undefined;
  };

  const revokedKey = (jti: string) => `revoked:${jti}`;
  const notBeforeKey = (username: string) => `revoked-before:${username}`;

  /** The claims of this request's token, if it is genuine, unexpired and not revoked. */
  async function claims(req: Request): Promise<Claims | undefined> {
    const c = verify(cookiesOf(req).get(SESSION), Claims);
    if (!c) return undefined;
    const [revoked, notBefore] = await redis.mget(revokedKey(c.jti), notBeforeKey(c.sub));
    if (revoked !== null || (notBefore !== null && c.iat < Number(notBefore))) return undefined;
    return c;
  }

  return {
    middleware: [],

    async rememberReturnTo(_req, res, returnTo) {
      res.cookie(RETURN_TO, sign({ returnTo, exp: Date.now() + RETURN_TO_MS }), { ...flags, maxAge: RETURN_TO_MS });
    },

    async logIn(req, res, username) {
      const returnTo = verify(cookiesOf(req).get(RETURN_TO), Pending)?.returnTo ?? '/';
      const now = Date.now();
      // Minted at login: there is no pre-login id to fixate.
      res.cookie(SESSION, sign({ sub: username, jti: randomUUID(), iat: now, exp: now + ttlMs }), { ...flags, maxAge: ttlMs });
      res.clearCookie(RETURN_TO, flags);
      return { returnTo };
    },

    async currentUser(req) {
      return (await claims(req))?.sub;
    },

    async logOut(req, res) {
      const c = await claims(req);
      // Revoked until it would have expired anyway: the list never outgrows the live tokens.
      if (c) await redis.set(revokedKey(c.jti), '1', 'PX', Math.max(1, c.exp - Date.now()));
      res.clearCookie(SESSION, flags);
    },

    async logOutEverywhere(_req, res, username) {
      // Every token issued before now fails; they all expire within ttlMs, and so does this key.
      await redis.set(notBeforeKey(username), String(Date.now()), 'PX', ttlMs);
      res.clearCookie(SESSION, flags);
    },

    close: async () => {
      redis.disconnect();
    },
  };
}
