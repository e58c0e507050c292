/** A small HTTP client for lab tests: JSON in, { status, headers, body } out, never hangs. */
import http from 'node:http';

export interface HttpResponse<T = any> {
  status: number;
  headers: ResponseHeaders;
  body: T;
  text: string;
  ms: number;
}

export interface RequestOptions {
  headers?: Record<string, string>;
  /** Give up after this long; a hang becomes a clear error, not a stuck test. Default 10 s. */
  timeoutMs?: number;
}

export class HttpTimeoutError extends Error {
  constructor(method: string, url: string, ms: number) {
    super(
      `${method} ${url} did not answer within ${ms} ms: the service hung (a lock wait, an exhausted pool, or a client that queues while its server is down?)`,
    );
    this.name = 'HttpTimeoutError';
  }
}

/**
 * The headers of a response, read the way the Fetch API's Headers are: names are case-insensitive,
 * repeated fields are joined with ", " (except Set-Cookie, see getSetCookie()).
 */
export class ResponseHeaders implements Iterable<[string, string]> {
  private readonly map = new Map<string, string[]>();

  constructor(raw: string[]) {
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const name = raw[i]!.toLowerCase();
      const list = this.map.get(name) ?? [];
      list.push(raw[i + 1]!);
      this.map.set(name, list);
    }
  }
  get(name: string): string | null {
    const v = this.map.get(name.toLowerCase());
    return v ? v.join(', ') : null;
  }
  has(name: string): boolean {
    return this.map.has(name.toLowerCase());
  }
  getSetCookie(): string[] {
    return [...(this.map.get('set-cookie') ?? [])];
  }
  *entries(): IterableIterator<[string, string]> {
    for (const name of [...this.map.keys()].sort()) yield [name, this.get(name)!];
  }
  keys(): IterableIterator<string> {
    return [...this.map.keys()].sort()[Symbol.iterator]();
  }
  forEach(fn: (value: string, name: string) => void): void {
    for (const [name, value] of this.entries()) fn(value, name);
  }
  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }
}

/**
 * Connections are kept alive and reused, as a browser or a load balancer would. Node drops an idle
 * connection a second before the server's announced keep-alive time-out (the `timeout` option must
 * be set for that), so a request is never sent on a connection the server is closing.
 */
const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity, timeout: 60_000 });

export class HttpClient {
  private readonly base: URL;

  constructor(readonly baseUrl: string) {
    this.base = new URL(baseUrl);
  }

  /**
   * One request on node:http (the Fetch API's client costs about three times the CPU per request,
   * which adds up over the thousands of requests a lab's tests send).
   */
  request<T = any>(method: string, path: string, body?: unknown, opts: RequestOptions = {}): Promise<HttpResponse<T>> {
    const timeoutMs = opts.timeoutMs ?? 10_000;
    const headers: Record<string, string> = { ...opts.headers };
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    if (payload !== undefined) {
      if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
      headers['content-length'] = String(Buffer.byteLength(payload));
    }
    const t0 = performance.now();
    return new Promise((resolve, reject) => {
      let settled = false;
      const fail = (e: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(e);
      };
      const req = http.request(
        { host: this.base.hostname, port: this.base.port, path: this.base.pathname.replace(/\/$/, '') + path, method, headers, agent },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', (e) => fail(requestError(method, path, e)));
          res.on('end', () => {
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            const text = Buffer.concat(chunks).toString('utf8');
            const h = new ResponseHeaders(res.rawHeaders);
            let parsed: unknown = text;
            if ((h.get('content-type') ?? '').includes('json') && text) {
              try {
                parsed = JSON.parse(text);
              } catch {
                /* leave as text */
              }
            }
            resolve({ status: res.statusCode ?? 0, headers: h, body: parsed as T, text, ms: performance.now() - t0 });
          });
        },
      );
      const timer = setTimeout(() => {
        fail(new HttpTimeoutError(method, path, timeoutMs));
        req.destroy();
      }, timeoutMs);
      req.on('error', (e) => fail(requestError(method, path, e)));
      req.end(payload);
    });
  }

  get<T = any>(path: string, opts?: RequestOptions) {
    return this.request<T>('GET', path, undefined, opts);
  }
  post<T = any>(path: string, body?: unknown, opts?: RequestOptions) {
    return this.request<T>('POST', path, body ?? {}, opts);
  }
  put<T = any>(path: string, body?: unknown, opts?: RequestOptions) {
    return this.request<T>('PUT', path, body ?? {}, opts);
  }
  delete<T = any>(path: string, opts?: RequestOptions) {
    return this.request<T>('DELETE', path, undefined, opts);
  }
}

function requestError(method: string, path: string, e: Error): Error {
  const code = (e as { code?: string }).code;
  return new Error(`${method} ${path} failed: ${code ?? e.message} (did the service crash?)`);
}
