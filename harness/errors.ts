/**
 * The errors the CLI reports as one line and an exit code, without a stack trace. Kept apart from
 * the modules that raise them, so that the CLI can recognise them without loading Testcontainers
 * or Vitest.
 */

/** A problem the user can fix with their machine (no Docker, a missing image). */
export class EnvironmentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EnvironmentError';
  }
}

/** A service instance that did not start: its own output says why. */
export class ServiceStartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ServiceStartError';
  }
}
