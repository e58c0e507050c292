/**
 * Starts the servers a set of labs needs once, hands their endpoints to fn, and always stops them.
 * LAB_SERVICES (a JSON Endpoints object) hands over servers someone else started on purpose (the
 * bench does, to time a whole `lab test` process on warm containers): they are used and never
 * stopped.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { trace } from './trace.js';
import { farBehindDatabase } from './endpoints.js';
import { assertOwnServers } from './servers/own-servers.js';
import type { FarBehindSpec } from './servers/replica.js';
import { startServices, stopAll, type Endpoints, type StartedServices } from './servers/containers.js';
import type { Lab } from './lab-schema.js';
import { withRequired, type ServiceName } from './services.js';
import { LabError } from './errors.js';

export function servicesFor(labs: Lab[]): ServiceName[] {
  return withRequired(labs.flatMap((l) => l.services));
}

/** The far-behind standby's databases for the labs that declare one: each from the lab's pristine schema. */
export function farBehindSpecs(labs: Lab[]): FarBehindSpec[] {
  return labs
    .filter((l) => l.farBehind)
    .map((l) => ({
      database: farBehindDatabase(l.slug),
      schemaSql: readFileSync(join(l.srcDir, 'schema.sql'), 'utf8'),
      seedSql: l.farBehind!.seed,
    }));
}

export type StartWrapper = (label: string, start: () => Promise<StartedServices>) => Promise<StartedServices>;

function handedOver(needs: ServiceName[]): Endpoints | undefined {
  const raw = process.env.LAB_SERVICES;
  if (!raw) return undefined;
  let ep: Endpoints;
  try {
    ep = JSON.parse(raw) as Endpoints;
  } catch {
    throw new LabError('LAB_SERVICES is set but is not JSON: unset it to let the kit start its own servers');
  }
  const missing = needs.filter((n) => !ep[n]);
  if (missing.length) throw new LabError(`LAB_SERVICES has no ${missing.join(', ')}: unset it to let the kit start its own servers`);
  return ep;
}

/** Starts a lab's servers, as for a run of that lab alone. */
export function startLabServers(lab: Lab): Promise<StartedServices> {
  return startServices(servicesFor([lab]), { farBehind: farBehindSpecs([lab]) });
}

/**
 * For grading code nobody trusts: no shared servers at all. fn gets a starter of servers for one
 * lab (one submission's own, which it stops after its run); everything is stopped at the end.
 */
export async function withOwnServers<T>(
  _labs: Lab[],
  fn: (endpoints: Endpoints, servers: (lab: Lab) => Promise<StartedServices>) => Promise<T>,
): Promise<T> {
  try {
    return await fn({}, startLabServers);
  } finally {
    await stopAll();
  }
}

export async function withServices<T>(labs: Lab[], fn: (endpoints: Endpoints) => Promise<T>, wrap?: StartWrapper): Promise<T> {
  const needs = servicesFor(labs);
  const given = handedOver(needs);
  if (given) {
    await assertOwnServers(given);
    return fn(given);
  }
  const label = `Starting ${needs.join(' + ')} with Testcontainers`;
  trace('servers-start');
  // Labs without a replica, run beside labs with one, get a Postgres of their own.
  const opts = {
    alsoPlainPostgres: labs.some((l) => l.services.includes('postgres') && !l.services.includes('replica')),
    farBehind: farBehindSpecs(labs),
  };
  const started = wrap ? await wrap(label, () => startServices(needs, opts)) : await startServices(needs, opts);
  trace('servers-ready');
  try {
    return await fn(started.endpoints);
  } finally {
    await started.stop();
    await stopAll();
  }
}
