/**
 * k6 load for the replication-lag lab: every virtual user edits their own profile and reloads it at
 * once (read-your-writes, checked on every iteration), while readers browse other profiles.
 * k6 keeps each virtual user's cookies, like a browser, so an LSN or "recent write" cookie works.
 * SLO: no failed request, every reload shows the save, saves p50 under 400 ms, reads p95 under 300 ms.
 *
 *   k6 run -e BASE_URL=http://127.0.0.1:3000 labs/05-replication-lag/load/script.ts
 */
import { check, sleep } from 'k6';
import http from 'k6/http';
import type { Options } from 'k6/options';

export const options: Options = {
  scenarios: {
    editors: { executor: 'constant-vus', vus: 20, duration: '30s', exec: 'editor' },
    readers: { executor: 'constant-vus', vus: 80, duration: '30s', exec: 'reader' },
  },
  thresholds: {
    http_req_failed: ['rate==0'],
    'checks{check:reload shows the save}': ['rate==1'],
    'http_req_duration{op:save}': ['med<400', 'p(95)<800'],
    'http_req_duration{op:read}': ['p(95)<300'],
  },
};

const base = __ENV.BASE_URL ?? 'http://127.0.0.1:3000';
const EDITORS = 20;

export function editor(): void {
  const me = `k6-editor-${__VU}`;
  const name = `${me} #${__ITER}`;
  const headers = { 'content-type': 'application/json', 'x-user-id': me };
  const saved = http.put(`${base}/profiles/${me}`, JSON.stringify({ displayName: name }), { headers, tags: { op: 'save' } });
  check(saved, { 'save accepted': (r) => r.status === 200 });
  const reload = http.get(`${base}/profiles/${me}`, { headers: { 'x-user-id': me }, tags: { op: 'read' } });
  check(reload, { 'reload shows the save': (r) => r.status === 200 && r.json('displayName') === name });
  sleep(1);
}

export function reader(): void {
  const someone = `k6-editor-${1 + Math.floor(Math.random() * EDITORS)}`;
  const res = http.get(`${base}/profiles/${someone}`, { tags: { op: 'read' }, responseCallback: http.expectedStatuses(200, 404) });
  check(res, { 'profile read (200, or 404 before its first save)': (r) => r.status === 200 || r.status === 404 });
  sleep(0.2);
}
