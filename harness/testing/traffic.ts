/**
 * Steady traffic: an open-model load generator for lab tests. It sends requests at a fixed rate
 * (N per second, each at its scheduled moment, whether or not earlier ones have answered, as real
 * clients do) for a fixed time, and records every outcome with its latency. Used where a test
 * needs traffic to keep flowing while something changes (a rollout, a migration, a kill).
 *
 * Bounded: at most MAX_RATE requests/s, MAX_DURATION_MS long, and `maxInFlight` unanswered at once
 * (a request due while that many are unanswered is recorded as `dropped`, never queued without
 * end). Loopback only: every target must be on 127.0.0.0/8 or ::1.
 *
 * autocannon was considered: its API rate-limits per connection and reports aggregates
 * (histograms, counts), while these tests need each request's own outcome and time (which one
 * failed, during which step) and targets that change mid-run. This is a timer and node:http.
 */
import { inject } from 'vitest';
import { HttpClient, type HttpResponse } from './http.js';

export const MAX_RATE = 2_000;
export const MAX_DURATION_MS = 120_000;

export interface TrafficRequest {
  method?: string;
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface TrafficOptions {
  /** Requests per second. */
  rate: number;
  /** How long to send for. */
  durationMs: number;
  /** The i-th request (default GET /). */
  request?: (i: number) => TrafficRequest;
  /** A request unanswered after this long counts as failed (status 0). Default 10 s. */
  timeoutMs?: number;
  /** At most this many requests unanswered at once; one due beyond it is recorded as dropped. Default 500. */
  maxInFlight?: number;
}

export interface TrafficOutcome {
  /** 0-based number of the request, in sending order. */
  i: number;
  /** When it was due, in ms since the traffic started. */
  dueMs: number;
  /** When it was sent, in ms since the traffic started (dueMs plus the generator's own lag). */
  sentMs: number;
  /** The target's base URL. */
  target: string;
  /** The HTTP status, or 0 when no answer came (a reset, a refused connection, a time-out, or dropped). */
  status: number;
  /** Why there was no answer. */
  error?: string;
  /** True when the generator itself did not send it (maxInFlight reached). */
  dropped?: boolean;
  /** Time to the whole answer, in ms. */
  ms: number;
  response?: HttpResponse;
}

export interface TrafficReport {
  outcomes: TrafficOutcome[];
  /** Requests per second actually sent. */
  sentRate: number;
  /** The most any request was sent after it was due (the generator's own lag, e.g. a busy machine). */
  maxLagMs: number;
  /** Outcomes that fail `ok` (default: status 2xx is ok). */
  failures(ok?: (o: TrafficOutcome) => boolean): TrafficOutcome[];
  /** The latency at quantile q (0..1) over answered requests, in ms. */
  latency(q: number): number;
  /** "3 of 400 requests failed (2 × HTTP 502, 1 × ECONNRESET) over 4.0 s at 100/s; p50 3 ms, p99 40 ms, max 61 ms". */
  summary(ok?: (o: TrafficOutcome) => boolean): string;
}

export interface Traffic {
  /** Resolves once every request sent has been answered or has timed out. */
  done: Promise<TrafficReport>;
  /** Stops sending now (requests in flight still finish). */
  stop(): void;
  /** Outcomes recorded so far. */
  outcomes(): readonly TrafficOutcome[];
}

/** Where the i-th request goes: one client, several (round-robin), or a function (targets that change mid-run). */
export type TrafficTarget = HttpClient | readonly HttpClient[] | ((i: number) => HttpClient);

const isOk = (o: TrafficOutcome) => o.status >= 200 && o.status < 300;

/**
 * This machine only: loopback (127.0.0.0/8, ::1, localhost), or the address of this run's grading
 * sandbox, the container on this machine where the tree's instances listen (servers/sandbox.ts).
 */
export function isLocalTarget(url: string): boolean {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  if (host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)) return true;
  let sandbox: string | undefined;
  try {
    sandbox = inject('lab')?.sandbox?.address;
  } catch {
    /* not in a lab's test run */
  }
  return sandbox !== undefined && host === sandbox;
}

export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

function describeFailure(o: TrafficOutcome): string {
  if (o.dropped) return 'dropped (too many in flight)';
  if (o.status > 0) return `HTTP ${o.status}`;
  const e = o.error ?? 'no answer';
  return /\bE[A-Z]+\b/.exec(e)?.[0] ?? (e.includes('did not answer') ? 'no answer (time-out)' : e);
}

export function report(outcomes: TrafficOutcome[], elapsedMs: number): TrafficReport {
  const sorted = outcomes
    .filter((o) => o.status > 0)
    .map((o) => o.ms)
    .sort((a, b) => a - b);
  const rep: TrafficReport = {
    outcomes,
    sentRate: elapsedMs > 0 ? (outcomes.filter((o) => !o.dropped).length * 1000) / elapsedMs : 0,
    maxLagMs: outcomes.reduce((m, o) => Math.max(m, o.sentMs - o.dueMs), 0),
    failures: (ok = isOk) => outcomes.filter((o) => !ok(o)),
    latency: (q) => quantile(sorted, q),
    summary: (ok = isOk) => {
      const failed = rep.failures(ok);
      const counts = new Map<string, number>();
      for (const o of failed) counts.set(describeFailure(o), (counts.get(describeFailure(o)) ?? 0) + 1);
      const why = [...counts]
        .sort((a, b) => b[1] - a[1])
        .map(([k, n]) => `${n} × ${k}`)
        .join(', ');
      const rate = elapsedMs > 0 ? Math.round((outcomes.length * 1000) / elapsedMs) : 0;
      const lat = sorted.length
        ? `; p50 ${Math.round(rep.latency(0.5))} ms, p99 ${Math.round(rep.latency(0.99))} ms, max ${Math.round(sorted.at(-1)!)} ms`
        : '';
      return `${failed.length} of ${outcomes.length} requests failed${why ? ` (${why})` : ''} over ${(elapsedMs / 1000).toFixed(1)} s at ${rate}/s${lat}`;
    },
  };
  return rep;
}

/**
 * Sends `rate` requests per second to `target` for `durationMs`, each at its due time
 * (start + i / rate), and records every outcome. Returns at once; await `.done` for the report.
 */
export function steadyTraffic(target: TrafficTarget, opts: TrafficOptions): Traffic {
  const { rate, durationMs, timeoutMs = 10_000, maxInFlight = 500 } = opts;
  if (!(rate > 0 && rate <= MAX_RATE)) throw new RangeError(`steadyTraffic: rate must be in (0, ${MAX_RATE}] requests/s, not ${rate}`);
  if (!(durationMs > 0 && durationMs <= MAX_DURATION_MS))
    throw new RangeError(`steadyTraffic: durationMs must be in (0, ${MAX_DURATION_MS}], not ${durationMs}`);
  for (const c of target instanceof HttpClient ? [target] : typeof target === 'function' ? [] : target)
    if (!isLocalTarget(c.baseUrl)) throw new Error(`steadyTraffic sends to this machine's instances only, not to ${c.baseUrl}`);
  const pick: (i: number) => HttpClient =
    typeof target === 'function' ? target : target instanceof HttpClient ? () => target : (i) => target[i % target.length]!;
  const request: (i: number) => TrafficRequest = opts.request ?? (() => ({ path: '/' }));
  const total = Math.floor((rate * durationMs) / 1000);
  const outcomes: TrafficOutcome[] = [];
  const pending = new Set<Promise<void>>();
  const t0 = performance.now();
  let next = 0;
  let stopped = false;
  let fatal: Error | undefined;
  let timer: NodeJS.Timeout | undefined;
  let finish!: () => void;
  const sending = new Promise<void>((r) => (finish = r));

  const send = (i: number) => {
    const dueMs = (i * 1000) / rate;
    const sentMs = performance.now() - t0;
    const client = pick(i);
    if (!isLocalTarget(client.baseUrl)) throw new Error(`steadyTraffic sends to this machine's instances only, not to ${client.baseUrl}`);
    const base = { i, dueMs, sentMs, target: client.baseUrl };
    if (pending.size >= maxInFlight) {
      outcomes.push({ ...base, status: 0, dropped: true, error: `dropped: ${maxInFlight} requests already in flight`, ms: 0 });
      return;
    }
    const r = request(i);
    const p = client
      .request(r.method ?? 'GET', r.path, r.body, { headers: r.headers, timeoutMs })
      .then(
        (res) => void outcomes.push({ ...base, status: res.status, ms: res.ms, response: res }),
        (e: Error) => void outcomes.push({ ...base, status: 0, error: e.message, ms: performance.now() - t0 - sentMs }),
      )
      .finally(() => pending.delete(p));
    pending.add(p);
  };

  const tick = () => {
    const now = performance.now() - t0;
    try {
      while (!stopped && next < total && (next * 1000) / rate <= now) send(next++);
    } catch (e) {
      fatal = e as Error;
      stopped = true;
    }
    if (stopped || next >= total) return finish();
    timer = setTimeout(tick, Math.max(0, (next * 1000) / rate - (performance.now() - t0)));
  };
  tick();

  const done = (async () => {
    await sending;
    if (fatal) throw fatal;
    const elapsed = performance.now() - t0;
    while (pending.size) await Promise.all([...pending]);
    outcomes.sort((a, b) => a.i - b.i);
    return report(outcomes, elapsed);
  })();
  return {
    done,
    stop: () => {
      stopped = true;
      clearTimeout(timer);
      finish();
    },
    outcomes: () => outcomes,
  };
}
