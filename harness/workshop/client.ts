/**
 * The attendee's side of a workshop: `lab workshop join` stores the server's URL and the token it
 * issued in the work folder (WORK_DIR/.workshop/), and from then on every `lab test`, `lab watch`
 * rerun and `lab hint` leaves a report there, in a queue of one file per report.
 *
 * Reporting never slows or breaks a run: a report is written to the queue (a rename, so it is whole
 * or absent), and sending happens elsewhere: in a detached `lab workshop flush` process after a
 * one-shot command, or in the background of `lab watch`. One sender at a time (a lock file), oldest
 * report first; a report leaves the queue only once the server has stored it (or had it already:
 * the server dedupes by report id, so a report whose answer was lost is simply sent again). When the
 * server cannot be reached the sender retries with back-off for a while, and whatever is still
 * queued goes with the next command's reports. Nothing here throws into a run.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LabError } from '../errors.js';
import type { Lab } from '../lab-schema.js';
import { ROOT, WORK_DIR } from '../paths.js';
import { pidAlive } from '../pids.js';
import type { RunResult } from '../runner.js';
import { readHints } from '../hints.js';
import { learnerDir } from '../trees.js';
import { MAX_BATCH, MAX_BODY_BYTES, type Report, type RoomState } from './protocol.js';

export interface WorkshopConfig {
  url: string;
  token: string;
  name: string;
  attendeeId: number;
  joinedAt: string;
  /** The room as the server last described it. */
  room?: RoomState;
  /** The last broadcast shown in `lab test`. */
  shownMessage?: number;
  /** Why the server refused this attendee's reports (removed, board reset), until they join again. */
  refused?: string;
}

export const workshopDir = (workDir = WORK_DIR) => join(workDir, '.workshop');
const configFile = (dir: string) => join(dir, 'workshop.json');
const queueDir = (dir: string) => join(dir, 'queue');
const rejectedDir = (dir: string) => join(dir, 'rejected');
const lockFile = (dir: string) => join(dir, 'flush.lock');

export function readConfig(dir = workshopDir()): WorkshopConfig | undefined {
  try {
    return JSON.parse(readFileSync(configFile(dir), 'utf8')) as WorkshopConfig;
  } catch {
    return undefined;
  }
}

function writeConfig(dir: string, c: WorkshopConfig): void {
  mkdirSync(dir, { recursive: true });
  const tmp = `${configFile(dir)}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(c, null, 2) + '\n', { mode: 0o600 });
  renameSync(tmp, configFile(dir));
}

function updateConfig(dir: string, change: (c: WorkshopConfig) => void): void {
  const c = readConfig(dir);
  if (!c) return;
  change(c);
  writeConfig(dir, c);
}

/** The workshop URL as typed, checked: http(s)://host[:port], no path beyond `/`. */
export function workshopUrl(raw: string): string {
  const hint = '`lab workshop serve` printed, with http:// (e.g. http://192.168.1.20:4000)';
  let u: URL;
  try {
    if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(raw)) throw new Error('no scheme');
    u = new URL(raw);
  } catch {
    throw new LabError(`"${raw}" is not a URL: give the whole address ${hint}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new LabError(`"${raw}" is not an http:// or https:// URL: give the address ${hint}`);
  return u.origin;
}

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

/** One request to the server; a network failure throws with a one-line reason. */
async function request(
  url: string,
  path: string,
  init: { method?: string; token?: string; body?: unknown; timeoutMs?: number },
): Promise<Answer> {
  let res: Response;
  try {
    res = await fetch(url + path, {
      method: init.method ?? 'GET',
      headers: {
        ...(init.token ? { Authorization: `Bearer ${init.token}` } : {}),
        ...(init.body !== undefined ? { 'Content-Type': 'application/json' } : {}),
      },
      body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
      signal: AbortSignal.timeout(init.timeoutMs ?? 5_000),
    });
  } catch (e) {
    const err = e as Error & { cause?: { code?: string; message?: string } };
    const why =
      err.name === 'TimeoutError'
        ? `no answer in ${(init.timeoutMs ?? 5_000) / 1000} s`
        : (err.cause?.code ?? err.cause?.message ?? err.message);
    throw new Error(why);
  }
  const text = await res.text();
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = { notJson: true };
  }
  return { status: res.status, body };
}

/** `lab workshop join`: asks the server for a token and keeps it, with the URL, in the work folder. */
export async function joinWorkshop(rawUrl: string, name: string, dir = workshopDir()): Promise<WorkshopConfig> {
  const url = workshopUrl(rawUrl);
  const existing = readConfig(dir);
  if (existing) throw new LabError(`already joined ${existing.url} as ${existing.name}: \`lab workshop leave\` first`);
  let a: Answer;
  try {
    a = await request(url, '/api/join', { method: 'POST', body: { name } });
  } catch (e) {
    throw new LabError(
      `cannot reach a workshop server at ${url} (${(e as Error).message}): check the address, and that \`lab workshop serve\` runs there`,
    );
  }
  if (a.body.notJson) throw new LabError(`${url} is not a workshop server (it answered HTTP ${a.status}, not the workshop's JSON)`);
  if (a.status !== 201) throw new LabError(`the workshop server refused to join you: ${String(a.body.error ?? `HTTP ${a.status}`)}`);
  const attendee = a.body.attendee as { id: number; name: string };
  const config: WorkshopConfig = {
    url,
    token: String(a.body.token),
    name: attendee.name,
    attendeeId: attendee.id,
    joinedAt: new Date().toISOString(),
    room: a.body.room as RoomState,
  };
  writeConfig(dir, config);
  return config;
}

/** `lab workshop leave`: stops reporting. Reports still queued are sent first if the server answers at once. */
export async function leaveWorkshop(dir = workshopDir()): Promise<{ config?: WorkshopConfig; unsent: number }> {
  const config = readConfig(dir);
  if (!config) return { unsent: 0 };
  await flushQueue(dir, { retryForMs: 0, timeoutMs: 3_000 }).catch(() => undefined);
  const unsent = queued(dir).length;
  rmSync(dir, { recursive: true, force: true });
  return { config, unsent };
}

export function queued(dir = workshopDir()): string[] {
  try {
    return readdirSync(queueDir(dir))
      .filter((f) => f.endsWith('.json'))
      .sort();
  } catch {
    return [];
  }
}

let sequence = 0;

/** Puts a report in the queue, whole or not at all. Returns false when not in a workshop. */
export function enqueue(report: Report, dir = workshopDir()): boolean {
  if (!existsSync(configFile(dir))) return false;
  mkdirSync(queueDir(dir), { recursive: true });
  const name = `${String(Date.now()).padStart(15, '0')}-${String(process.pid).padStart(8, '0')}-${String(sequence++).padStart(6, '0')}-${report.id}.json`;
  const tmp = join(dir, `.${name}.tmp`);
  writeFileSync(tmp, JSON.stringify(report));
  renameSync(tmp, join(queueDir(dir), name));
  return true;
}

export function testReport(lab: Lab, run: RunResult, hintsUsed: number): Report {
  const passed = run.tests.filter((t) => t.status === 'passed');
  const failing = run.tests.find((t) => t.status !== 'passed');
  return {
    kind: 'test',
    id: randomUUID(),
    at: new Date().toISOString(),
    lab: lab.slug,
    passed: passed.length,
    total: run.tests.length,
    points: passed.reduce((a, t) => a + t.points, 0),
    maxPoints: run.tests.reduce((a, t) => a + t.points, 0),
    hintsUsed,
    hintsTotal: lab.hints.length,
    failing: failing ? failing.name.slice(0, 300) : run.error ? `(the run failed: ${run.error.split('\n')[0]!.slice(0, 260)})` : null,
    tests: run.tests.filter((t) => t.id).map((t) => ({ id: t.id!, status: t.status, points: t.points, tier: t.tier })),
  };
}

export function hintReport(lab: Lab, hintsUsed: number): Report {
  return { kind: 'hint', id: randomUUID(), at: new Date().toISOString(), lab: lab.slug, hintsUsed, hintsTotal: lab.hints.length };
}

/** Work folders this process is sending from right now (`lab watch` sends from its own process). */
const sendingHere = new Set<string>();

/**
 * Takes the sender's lock: one sender per work folder, so reports go in order. A lock whose holder
 * is gone (or is this process, not sending) is stale and taken over.
 */
function lock(dir: string): boolean {
  if (sendingHere.has(dir)) return false;
  for (let i = 0; i < 2; i++) {
    try {
      writeFileSync(lockFile(dir), String(process.pid), { flag: 'wx' });
      sendingHere.add(dir);
      return true;
    } catch {
      let holder = 0;
      try {
        holder = Number(readFileSync(lockFile(dir), 'utf8').trim() || 0);
      } catch {
        continue; // released meanwhile: try again
      }
      if (holder && holder !== process.pid && pidAlive(holder)) return false;
      rmSync(lockFile(dir), { force: true });
    }
  }
  return false;
}

function unlock(dir: string): void {
  sendingHere.delete(dir);
  rmSync(lockFile(dir), { force: true });
}

export interface FlushResult {
  sent: number;
  left: number;
  /** Why sending stopped with reports left (unreachable, refused), if it did. */
  stopped?: string;
  /** Reports the server refused as malformed: kept in rejected/, never resent. */
  rejected: number;
}

export interface FlushOptions {
  /** Keep retrying an unreachable server this long (with back-off). 0: one pass. */
  retryForMs?: number;
  timeoutMs?: number;
}

/**
 * Sends the queue, oldest first, in batches. Returns at once (sent 0) when another sender holds
 * the lock: that one sends whatever is queued, including reports added while it runs.
 */
export async function flushQueue(dir = workshopDir(), opts: FlushOptions = {}): Promise<FlushResult> {
  const result: FlushResult = { sent: 0, left: 0, rejected: 0 };
  if (!readConfig(dir) || !lock(dir)) return { ...result, left: queued(dir).length };
  const until = Date.now() + (opts.retryForMs ?? 0);
  let backoff = 500;
  try {
    for (;;) {
      const pass = await sendPass(dir, opts.timeoutMs ?? 5_000, result);
      if (pass === 'done') break;
      if (pass === 'refused' || Date.now() + backoff > until) break;
      await new Promise((r) => setTimeout(r, backoff));
      backoff = Math.min(backoff * 2, 15_000);
    }
  } finally {
    unlock(dir);
  }
  result.left = queued(dir).length;
  // A report queued after the last pass but before the unlock saw the lock held: send it too.
  if (result.left && !result.stopped && readConfig(dir)) {
    const more = await flushQueue(dir, { ...opts, retryForMs: 0 });
    return { sent: result.sent + more.sent, left: more.left, stopped: more.stopped, rejected: result.rejected + more.rejected };
  }
  return result;
}

/** One pass over the queue: 'done' (empty), 'retry' (unreachable, busy, rate-limited) or 'refused' (this attendee's token). */
async function sendPass(dir: string, timeoutMs: number, result: FlushResult): Promise<'done' | 'retry' | 'refused'> {
  let batchSize = MAX_BATCH;
  for (;;) {
    const config = readConfig(dir);
    if (!config) return 'done';
    const files = queued(dir).slice(0, batchSize);
    if (!files.length) {
      result.stopped = undefined;
      return 'done';
    }
    const reports: Report[] = [];
    let bytes = 20;
    for (const f of files) {
      let text: string;
      try {
        text = readFileSync(join(queueDir(dir), f), 'utf8');
        JSON.parse(text);
      } catch {
        rmSync(join(queueDir(dir), f), { force: true }); // unreadable: not a report this kit wrote
        continue;
      }
      if (reports.length && bytes + text.length > MAX_BODY_BYTES - 1024) break;
      bytes += text.length + 1;
      reports.push(JSON.parse(text) as Report);
    }
    if (!reports.length) continue;
    const sending = files.slice(0, reports.length);
    let a: Answer;
    try {
      a = await request(config.url, '/api/reports', { method: 'POST', token: config.token, body: { reports }, timeoutMs });
    } catch (e) {
      result.stopped = `cannot reach ${config.url} (${(e as Error).message})`;
      return 'retry';
    }
    if (a.status === 200) {
      for (const f of sending) rmSync(join(queueDir(dir), f), { force: true });
      result.sent += sending.length;
      updateConfig(dir, (c) => {
        c.room = a.body.room as RoomState;
        delete c.refused;
      });
      batchSize = MAX_BATCH;
      continue;
    }
    const error = String(a.body.error ?? `HTTP ${a.status}`);
    if (a.status === 401 || a.status === 403) {
      updateConfig(dir, (c) => (c.refused = error));
      result.stopped = error;
      return 'refused';
    }
    if ((a.status === 400 || a.status === 413) && !a.body.notJson) {
      if (sending.length > 1) {
        batchSize = 1; // find the one report the server will not take
        continue;
      }
      mkdirSync(rejectedDir(dir), { recursive: true });
      renameSync(join(queueDir(dir), sending[0]!), join(rejectedDir(dir), sending[0]!));
      writeFileSync(join(rejectedDir(dir), `${sending[0]}.why`), error + '\n');
      result.rejected++;
      continue;
    }
    result.stopped = `${config.url} answered ${error}`;
    return 'retry';
  }
}

/**
 * After a one-shot command: a detached `lab workshop flush` sends the queue, so the command exits
 * at once. Never throws.
 */
export function sendInBackground(dir = workshopDir()): void {
  try {
    const child = spawn(process.execPath, [join(ROOT, 'harness', 'cli', 'bin.js'), 'workshop', 'flush'], {
      cwd: ROOT,
      env: { ...process.env, LAB_WORKSHOP_DIR: dir },
      detached: true,
      stdio: 'ignore',
    });
    child.on('error', () => undefined);
    child.unref();
  } catch {
    /* the report stays queued for the next command */
  }
}

/** The room as the server describes it now (bounded wait), else as last seen; undefined when not in a workshop. */
export async function roomNow(dir = workshopDir(), timeoutMs = 1_000): Promise<RoomState | undefined> {
  const config = readConfig(dir);
  if (!config) return undefined;
  try {
    const a = await request(config.url, '/api/me', { token: config.token, timeoutMs });
    if (a.status === 200) {
      updateConfig(dir, (c) => (c.room = a.body.room as RoomState));
      return a.body.room as RoomState;
    }
  } catch {
    /* offline: what the server said last */
  }
  return config.room;
}

/**
 * For `lab test`: started with the run, so the room (a broadcast) is fetched while the tests run.
 * `finish` queues the run's report, sends it in the background, and returns the lines to print:
 * a new broadcast, or why the server refuses this attendee's reports. It never waits for the network.
 */
export function workshopRun(dir = workshopDir()): { finish(lab: Lab, run: RunResult): Promise<string[]> } {
  if (!readConfig(dir)) return { finish: async () => [] };
  let room: RoomState | undefined;
  const fetching = roomNow(dir, 10_000).then(
    (r) => void (room = r),
    () => undefined,
  );
  return {
    async finish(lab, run) {
      try {
        if (run.tests.length === 0 && !run.error) return [];
        enqueue(testReport(lab, run, readHints(learnerDir(lab)).revealed), dir);
        sendInBackground(dir);
        await Promise.race([fetching, new Promise((r) => setImmediate(r))]);
        return notices(dir, room);
      } catch {
        return [];
      }
    },
  };
}

/** What to tell the attendee after a run: a broadcast not shown yet, or that reports are refused. */
export function notices(dir = workshopDir(), room?: RoomState): string[] {
  const config = readConfig(dir);
  if (!config) return [];
  const lines: string[] = [];
  const m = (room ?? config.room)?.message;
  if (m && m.id !== config.shownMessage) {
    lines.push(`✉ From the instructor: ${m.text}`);
    updateConfig(dir, (c) => (c.shownMessage = m.id));
  }
  if (config.refused) lines.push(`The workshop board does not take your reports: ${config.refused}`);
  return lines;
}

/** For `lab watch`: each rerun's report, sent from this (long-lived) process in the background. Never throws. */
export function reportWatchRun(lab: Lab, run: RunResult, dir = workshopDir()): void {
  try {
    if (!readConfig(dir) || (run.tests.length === 0 && !run.error)) return;
    enqueue(testReport(lab, run, readHints(learnerDir(lab)).revealed), dir);
    void flushQueue(dir, { retryForMs: 60_000 }).catch(() => undefined);
  } catch {
    /* reporting never breaks a run */
  }
}

/** For `lab hint`: the new hint count, sent by a detached process. Never throws. */
export function reportHint(lab: Lab, dir = workshopDir()): void {
  try {
    if (!readConfig(dir)) return;
    enqueue(hintReport(lab, readHints(learnerDir(lab)).revealed), dir);
    sendInBackground(dir);
  } catch {
    /* reporting never breaks a command */
  }
}

/** For `lab list`: the lab the instructor set as current, if in a workshop (asks the server, briefly). */
export async function currentWorkshopLab(dir = workshopDir()): Promise<string | undefined> {
  try {
    return (await roomNow(dir, 800))?.currentLab ?? undefined;
  } catch {
    return undefined;
  }
}
