/**
 * The backing services a lab can declare in lab.json "services", registered once. Each has two
 * halves, one on each side of the harness's line (test/boundary.test.ts):
 *   - servers/services.ts starts it (Testcontainers) and returns its endpoints;
 *   - testing/fixtures.ts gives each test file its own share of it (a database, a Redis logical
 *     database, a replica pool) and the URL its service instances get.
 * This module holds what both halves, lab-schema.ts and the runner agree on: the names, what each
 * needs started with it, and which Endpoints keys are its. Adding a service is one entry here and
 * one in each half; TypeScript points at a half that is missing.
 */
import type { Endpoints } from './endpoints.js';

export interface ServiceSpec {
  /** What it is, for messages. */
  what: string;
  /** Services that must run with it (started with it even when a lab does not list them). */
  requires: readonly string[];
  /** The keys of Endpoints it fills. */
  endpoints: readonly (keyof Endpoints)[];
}

export const SERVICES = {
  postgres: { what: 'PostgreSQL 15', requires: [], endpoints: ['postgres'] },
  redis: { what: 'Redis 7', requires: [], endpoints: ['redis'] },
  replica: {
    what: 'a streaming replica of the Postgres, replaying 500 ms behind',
    requires: ['postgres'],
    endpoints: ['replica', 'replicaPrimary', 'farBehind'],
  },
} as const satisfies Record<string, ServiceSpec>;

export type ServiceName = keyof typeof SERVICES;
export const SERVICE_NAMES = Object.keys(SERVICES) as ServiceName[];

/** The services to run for these declared ones: each with what it requires, in registry order. */
export function withRequired(declared: Iterable<ServiceName>): ServiceName[] {
  const want = new Set<ServiceName>();
  const add = (n: ServiceName) => {
    if (want.has(n)) return;
    want.add(n);
    for (const r of SERVICES[n].requires) add(r as ServiceName);
  };
  for (const n of declared) add(n);
  return SERVICE_NAMES.filter((n) => want.has(n));
}

/** The endpoints of these services only: what a lab's run may see of servers started for several labs. */
export function endpointsOf(services: Iterable<ServiceName>, all: Endpoints): Endpoints {
  const ep: Endpoints = {};
  for (const n of withRequired(services))
    for (const key of SERVICES[n].endpoints) if (all[key] !== undefined) Object.assign(ep, { [key]: all[key] });
  return ep;
}
