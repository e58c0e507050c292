/**
 * The errors the CLI reports as one line and an exit code, without a stack trace: every
 * user-facing error lives here. Kept apart from the modules that raise them, so that the CLI can
 * recognise them without loading Testcontainers or Vitest.
 */

/** The command line itself is wrong (exit 2): an unknown option, a missing argument. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Something the kit was asked to do cannot be done as asked (exit 1): an unknown lab, a bad lab.json, a stale variant. */
export class LabError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LabError';
  }
}

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
