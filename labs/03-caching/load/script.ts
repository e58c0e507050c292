/**
 * k6 load for the caching lab: product page reads over a small hot set of products, with an
 * occasional price change. Every read must show the newest price the script itself wrote.
 * SLO: p95 read latency under 200 ms with a warm cache, fewer than 1 % failed requests.
 *
 *   k6 run -e BASE_URL=http://127.0.0.1:3000 -e PRODUCTS=1,2,3,4,5 labs/03-caching/load/script.ts
 */
import { check } from 'k6';
import http from 'k6/http';
import type { Options } from 'k6/options';

export const options: Options = {
  scenarios: {
    readers: { executor: 'constant-vus', vus: 50, duration: '30s', exec: 'read' },
    merchandiser: { executor: 'constant-arrival-rate', rate: 2, timeUnit: '1s', duration: '30s', preAllocatedVUs: 2, exec: 'write' },
  },
  thresholds: {
    http_req_failed: ['rate<0.01'],
    'http_req_duration{scenario:readers}': ['p(95)<200'],
    checks: ['rate>0.99'],
  },
};

const base = __ENV.BASE_URL ?? 'http://127.0.0.1:3000';
const products = (__ENV.PRODUCTS ?? '1,2,3,4,5').split(',').map(Number);
const pick = () => products[Math.floor(Math.random() * products.length)]!;

export function read(): void {
  const res = http.get(`${base}/products/${pick()}`, { tags: { name: 'GET /products/:id' } });
  check(res, { 'page served (200)': (r) => r.status === 200 });
}

export function write(): void {
  const id = pick();
  const priceCents = 1_000 + Math.floor(Math.random() * 9_000);
  const put = http.put(`${base}/products/${id}`, JSON.stringify({ priceCents }), {
    headers: { 'content-type': 'application/json' },
    tags: { name: 'PUT /products/:id' },
  });
  check(put, { 'update accepted (200)': (r) => r.status === 200 });
  const after = http.get(`${base}/products/${id}`, { tags: { name: 'GET after PUT' } });
  check(after, { 'read after write shows the new price': (r) => r.status === 200 && r.json('priceCents') === priceCents });
}
