/**
 * Ctrl-C (SIGINT) or SIGTERM, once the harness's own handler (servers/containers.ts) has taken it.
 * That handler stops every container of this process and then exits 130 or 143; until it does, the
 * rest of the process keeps running, and a run whose servers were just removed ends quickly, in
 * failures that are not the tree's. So whatever would start something, record a result or exit on
 * its own asks here first: an interrupted process starts nothing new, records no score, progress
 * or verdict, and exits with the signal's code, never with a command's.
 */
let received: NodeJS.Signals | undefined;

/** Called by the signal handler, first thing. */
export function markInterrupted(signal: NodeJS.Signals): void {
  received ??= signal;
}

/** The signal this process is stopping for, if any. */
export function interrupted(): NodeJS.Signals | undefined {
  return received;
}

/** Thrown instead of starting a server or sandbox once the process is stopping. */
export class InterruptedError extends Error {
  constructor(what: string) {
    super(`${what}: not started, the run was stopped (${received})`);
    this.name = 'InterruptedError';
  }
}

export function refuseIfInterrupted(what: string): void {
  if (received) throw new InterruptedError(what);
}

/**
 * Resolves at once, unless the process is stopping: then never, and the signal handler's exit ends
 * it. Await it between a run's end and anything that would use its results.
 */
export function holdIfInterrupted(): Promise<void> {
  return received ? new Promise<void>(() => undefined) : Promise.resolve();
}
