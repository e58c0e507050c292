/** A small HTTP client for lab tests: JSON in, { status, headers, body } out, never hangs. */

export interface HttpResponse<T = any> {
  status: number;
  headers: Headers;
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

export class HttpClient {
  constructor(readonly baseUrl: string) {}

  async request<T = any>(method: string, path: string, body?: unknown, opts: RequestOptions = {}): Promise<HttpResponse<T>> {
    const timeoutMs = opts.timeoutMs ?? 10_000;
    const url = this.baseUrl + path;
    const headers: Record<string, string> = { ...opts.headers };
    if (body !== undefined) headers['content-type'] ??= 'application/json';
    const t0 = performance.now();
    let res: Response;
    let text: string;
    try {
      res = await fetch(url, {
        method,
        headers,
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
      text = await res.text();
    } catch (e) {
      const err = e as Error;
      if (err.name === 'TimeoutError' || err.name === 'AbortError') throw new HttpTimeoutError(method, path, timeoutMs);
      const cause = (err as { cause?: { code?: string } }).cause?.code;
      throw new Error(`${method} ${path} failed: ${cause ?? err.message} (did the service crash?)`);
    }
    let parsed: unknown = text;
    if ((res.headers.get('content-type') ?? '').includes('json') && text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        /* leave as text */
      }
    }
    return { status: res.status, headers: res.headers, body: parsed as T, text, ms: performance.now() - t0 };
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
