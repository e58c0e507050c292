/** Starts the servers a set of labs needs once, hands their endpoints to fn, and always stops them. */
import { trace } from './trace.js';
import { startServices, stopAll, type Endpoints, type StartedServices } from './containers.js';
import type { Lab, ServiceName } from './lab-schema.js';

export function servicesFor(labs: Lab[]): ServiceName[] {
  return [...new Set(labs.flatMap((l) => l.services))];
}

export type StartWrapper = (label: string, start: () => Promise<StartedServices>) => Promise<StartedServices>;

export async function withServices<T>(labs: Lab[], fn: (endpoints: Endpoints) => Promise<T>, wrap?: StartWrapper): Promise<T> {
  const needs = servicesFor(labs);
  const label = `Starting ${needs.join(' + ')} with Testcontainers`;
  trace('servers-start');
  const started = wrap ? await wrap(label, () => startServices(needs)) : await startServices(needs);
  trace('servers-ready');
  try {
    return await fn(started.endpoints);
  } finally {
    await started.stop();
    await stopAll();
  }
}
