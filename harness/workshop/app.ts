/**
 * The workshop server: an Express app over a WorkshopStore. Public: the scoreboard page (`/`), its
 * data (`/api/board`) and live updates (`/api/events`, server-sent events). Attendees: join, then
 * post reports with the token they were issued. Instructor: `/admin` and `/api/admin/*`, with the
 * admin token. Built apart from `listen` (server.ts), so tests run it on port 0.
 */
import { timingSafeEqual, createHash } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { z } from 'zod';
import { boardCsv, rows, totals, type BoardLab, type Row } from './board.js';
import { adminPage, boardPage } from './pages.js';
import { CurrentLabBody, firstProblem, JoinBody, MAX_BODY_BYTES, MessageBody, ReportBatch } from './protocol.js';
import { DEFAULT_LIMITS, RateLimiter, type Limits } from './rate-limit.js';
import { NameTaken, type Attendee, type WorkshopStore } from './store.js';

export interface WorkshopAppOptions {
  store: WorkshopStore;
  labs: BoardLab[];
  limits?: Limits;
  now?: () => number;
  /** How often a full board goes to every viewer (stuck flags age with time). Default 15 s. */
  fullEveryMs?: number;
}

/** An error the client caused: its status and one line saying what to fix. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

const hash = (s: string) => createHash('sha256').update(s).digest();
const sameSecret = (a: string, b: string) => timingSafeEqual(hash(a), hash(b));

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const r = schema.safeParse(body);
  if (!r.success) throw new HttpError(400, `malformed payload: ${firstProblem(r.error)}`);
  return r.data;
}

function bearer(req: Request): string | undefined {
  const h = req.get('authorization');
  const m = h ? /^Bearer\s+(\S+)$/i.exec(h) : null;
  return m?.[1];
}

/** Live updates: each viewer gets changed rows as they happen (batched every 200 ms) and the whole board now and then. */
class Viewers {
  private readonly clients = new Set<Response>();
  private dirty = new Set<number>();
  private removed = new Set<number>();
  private room = false;
  private reload = false;
  private sending = false;
  private timer?: NodeJS.Timeout;

  constructor(private readonly flush: (ids: number[], removed: number[], room: boolean, reload: boolean) => Promise<string[]>) {}

  add(res: Response): void {
    this.clients.add(res);
    res.on('close', () => this.clients.delete(res));
  }

  get count(): number {
    return this.clients.size;
  }

  changed(what: { attendee?: number; removed?: number; room?: boolean; reload?: boolean }): void {
    if (what.attendee !== undefined) this.dirty.add(what.attendee);
    if (what.removed !== undefined) this.removed.add(what.removed);
    if (what.room) this.room = true;
    if (what.reload) this.reload = true;
    this.schedule();
  }

  private schedule(): void {
    this.timer ??= setTimeout(() => void this.send(), 200);
  }

  private get pending(): boolean {
    return this.dirty.size > 0 || this.removed.size > 0 || this.room || this.reload;
  }

  /** One send at a time, so viewers never get an older row after a newer one; changes made meanwhile go in the next. */
  private async send(): Promise<void> {
    this.timer = undefined;
    if (this.sending) return this.schedule();
    this.sending = true;
    const ids = [...this.dirty];
    const removed = [...this.removed];
    const { room, reload } = this;
    this.dirty = new Set();
    this.removed = new Set();
    this.room = this.reload = false;
    try {
      if (this.clients.size) this.broadcast(await this.flush(ids, removed, room, reload));
    } catch {
      // The database is away for a moment: keep the changes for the next send.
      for (const id of ids) this.dirty.add(id);
      for (const id of removed) this.removed.add(id);
      this.room ||= room;
      this.reload ||= reload;
    } finally {
      this.sending = false;
      if (this.pending && this.clients.size) this.schedule();
    }
  }

  broadcast(events: string[]): void {
    for (const res of this.clients) for (const e of events) res.write(e);
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const res of this.clients) res.end();
    this.clients.clear();
  }
}

const sse = (event: string, data: unknown) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;

export interface WorkshopApp {
  app: express.Express;
  adminToken: string;
  /** Ends live connections and timers (the HTTP server is closed by its owner). */
  close(): void;
}

export async function createWorkshopApp(opts: WorkshopAppOptions): Promise<WorkshopApp> {
  const { store, labs } = opts;
  const now = opts.now ?? Date.now;
  const limits = opts.limits ?? DEFAULT_LIMITS;
  const adminToken = await store.adminToken();
  const joinLimit = new RateLimiter(limits.joins, now);
  const reportLimit = new RateLimiter(limits.reports, now);
  const requestLimit = new RateLimiter(limits.requests, now);
  const slugs = new Set(labs.map((l) => l.slug));

  async function boardJson() {
    const [{ attendees, cells }, room] = await Promise.all([store.snapshot(), store.room()]);
    const board = rows(labs, attendees, cells, now());
    return { labs, attendees: board, totals: totals(labs, board), room, at: new Date(now()).toISOString() };
  }

  const viewers = new Viewers(async (ids, removed, room, reload) => {
    if (reload) return [sse('board', await boardJson())];
    const events: string[] = [];
    let changed: Row[] = [];
    if (ids.length) {
      const { attendees, cells } = await store.snapshot(ids);
      changed = rows(labs, attendees, cells, now());
    }
    const all = await store.snapshot();
    const t = totals(labs, rows(labs, all.attendees, all.cells, now()));
    events.push(sse('rows', { attendees: changed, removed, totals: t }));
    if (room) events.push(sse('room', await store.room()));
    return events;
  });
  const full = setInterval(() => {
    if (viewers.count)
      boardJson().then(
        (b) => viewers.broadcast([sse('board', b)]),
        () => undefined,
      );
  }, opts.fullEveryMs ?? 15_000);

  const app = express();
  app.disable('x-powered-by');
  app.use((_req, res, next) => {
    res.set({
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      // The pages load nothing from elsewhere and run only their own script.
      'Content-Security-Policy':
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    });
    next();
  });

  const limited =
    (limiter: RateLimiter, key: (req: Request) => string, what: string) => (req: Request, _res: Response, next: NextFunction) => {
      const wait = limiter.take(key(req));
      if (wait)
        return next(new HttpError(429, `too many ${what} from this client: try again in ${wait} s`, { 'Retry-After': String(wait) }));
      next();
    };
  const ip = (req: Request) => req.socket.remoteAddress ?? '?';

  const json = express.json({ limit: MAX_BODY_BYTES, strict: true, type: () => true });
  const api = express.Router();
  api.use(limited(requestLimit, ip, 'requests'));
  api.use((req, _res, next) => {
    // An admin action such as reset has no body (a browser still sends Content-Length: 0).
    const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
    if (hasBody && !req.is('application/json')) return next(new HttpError(415, 'send JSON, with Content-Type: application/json'));
    next();
  });
  api.use(json);

  // --- public ---
  api.get('/board', async (_req, res) => res.json(await boardJson()));
  api.get('/events', async (req, res) => {
    res.set({ 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', Connection: 'keep-alive' });
    res.flushHeaders();
    res.write(sse('board', await boardJson()));
    viewers.add(res);
    req.socket.setTimeout(0);
  });

  // --- attendees ---
  api.post('/join', limited(joinLimit, ip, 'joins'), async (req, res) => {
    const { name } = parse(JoinBody, req.body);
    try {
      const { attendee, token } = await store.join(name);
      viewers.changed({ attendee: attendee.id });
      res.status(201).json({ attendee: { id: attendee.id, name: attendee.name }, token, room: await store.room() });
    } catch (e) {
      if (e instanceof NameTaken) throw new HttpError(409, `the name "${name}" is already on the board: pick another one`);
      throw e;
    }
  });

  async function attendeeOf(req: Request): Promise<Attendee> {
    const token = bearer(req);
    if (!token) throw new HttpError(401, 'no attendee token: join first with `lab workshop join URL --name NAME`');
    const a = await store.attendeeByToken(token);
    if (!a)
      throw new HttpError(401, 'this token was not issued by this workshop server: join again with `lab workshop join URL --name NAME`');
    if (a.removedAt)
      throw new HttpError(
        403,
        a.removedWhy === 'reset'
          ? 'the instructor reset the board for a new group: join again with `lab workshop join URL --name NAME`'
          : 'the instructor removed you from the board: ask them, then join again',
      );
    return a;
  }

  api.get('/me', async (req, res) => {
    const a = await attendeeOf(req);
    res.json({ attendee: { id: a.id, name: a.name }, room: await store.room() });
  });

  api.post('/reports', async (req, res) => {
    const a = await attendeeOf(req);
    const wait = reportLimit.take(`a${a.id}`);
    if (wait) throw new HttpError(429, `too many reports from ${a.name}: try again in ${wait} s`, { 'Retry-After': String(wait) });
    const { reports } = parse(ReportBatch, req.body);
    const unknown = reports.find((r) => !slugs.has(r.lab));
    if (unknown) throw new HttpError(400, `malformed payload: no lab "${unknown.lab}" in this workshop (labs: ${[...slugs].join(', ')})`);
    const { accepted, duplicates } = await store.addReports(a.id, reports);
    if (accepted) viewers.changed({ attendee: a.id });
    res.json({ accepted, duplicates, room: await store.room() });
  });

  // --- instructor ---
  const admin = express.Router();
  admin.use((req, _res, next) => {
    const token = bearer(req) ?? (typeof req.query.token === 'string' ? req.query.token : undefined);
    if (!token) return next(new HttpError(401, 'admin only: add the admin token that `lab workshop serve` printed'));
    if (!sameSecret(token, adminToken)) return next(new HttpError(403, 'admin only: that is not this server’s admin token'));
    next();
  });
  admin.post('/current-lab', async (req, res) => {
    const { lab } = parse(CurrentLabBody, req.body);
    if (lab !== null && !slugs.has(lab)) throw new HttpError(400, `malformed payload: no lab "${lab}" in this workshop`);
    await store.setCurrentLab(lab);
    viewers.changed({ room: true });
    res.json(await store.room());
  });
  admin.post('/message', async (req, res) => {
    const { text } = parse(MessageBody, req.body);
    if (/[\u0000-\u0008\u000b-\u001f\u007f]/.test(text)) throw new HttpError(400, 'malformed payload: text holds control characters');
    await store.setMessage(text);
    viewers.changed({ room: true });
    res.json(await store.room());
  });
  admin.delete('/attendees/:id', async (req, res) => {
    const id = Number(req.params.id);
    if (!Number.isSafeInteger(id) || id < 1) throw new HttpError(400, 'malformed attendee id');
    if (!(await store.remove(id, 'removed'))) throw new HttpError(404, `no attendee ${id} on the board`);
    viewers.changed({ removed: id });
    res.json({ removed: id });
  });
  admin.get('/export.csv', async (_req, res) => {
    const { attendees, cells } = await store.snapshot();
    res.set({ 'Content-Type': 'text/csv; charset=utf-8', 'Content-Disposition': 'attachment; filename="class.csv"' });
    res.send(boardCsv(labs, attendees, cells));
  });
  admin.post('/reset', async (_req, res) => {
    const { attendees, cells } = await store.snapshot();
    const board = await store.reset(await boardJson(), boardCsv(labs, attendees, cells));
    viewers.changed({ reload: true });
    res.json({ board, archives: await store.archives() });
  });
  admin.get('/archives', async (_req, res) => res.json(await store.archives()));
  admin.get('/archives/:id.csv', async (req, res) => {
    const csv = await store.archiveCsv(Number(req.params.id));
    if (csv === undefined) throw new HttpError(404, `no archive ${req.params.id}`);
    res.set({ 'Content-Type': 'text/csv; charset=utf-8' }).send(csv);
  });
  api.use('/admin', admin);

  app.use('/api', api);
  app.get('/', (_req, res) => res.type('html').send(boardPage.html));
  app.get('/board.js', (_req, res) => res.type('js').send(boardPage.js));
  app.get('/board.css', (_req, res) => res.type('css').send(boardPage.css));
  app.get('/admin.js', (_req, res) => res.type('js').send(adminPage.js));
  // The admin page itself holds no data, but is served only with the token, so a wrong link says so at once.
  app.get('/admin', (req, res, next) => {
    const token = typeof req.query.token === 'string' ? req.query.token : undefined;
    if (!token) return next(new HttpError(401, 'admin only: open the admin link that `lab workshop serve` printed (…/admin?token=…)'));
    if (!sameSecret(token, adminToken)) return next(new HttpError(403, 'admin only: that is not this server’s admin token'));
    res.type('html').send(adminPage.html);
  });
  app.use((_req, _res, next) => next(new HttpError(404, 'not found')));

  // One error handler: the client's mistakes as a status and one line; anything else as a 500.
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const e = err as { type?: string; status?: number; message?: string };
    let status = 500;
    let message = 'the workshop server failed; its console says why';
    if (err instanceof HttpError) {
      status = err.status;
      message = err.message;
      res.set(err.headers);
    } else if (e.type === 'entity.too.large') {
      status = 413;
      message = `payload too large: the limit is ${MAX_BODY_BYTES / 1024} KB`;
    } else if (e.type === 'entity.parse.failed') {
      status = 400;
      message = 'malformed payload: the body is not valid JSON';
    } else if (e.status && e.status >= 400 && e.status < 500) {
      status = e.status;
      message = `bad request: ${e.message}`;
    } else console.error(`workshop: ${req.method} ${req.path}:`, err);
    if (req.path.startsWith('/api/')) res.status(status).json({ error: message });
    else res.status(status).type('text').send(message);
  });

  return {
    app,
    adminToken,
    close: () => {
      clearInterval(full);
      viewers.close();
    },
  };
}
