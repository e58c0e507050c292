import type { OptionSpec, Parsed } from './args.js';

/** One CLI command: its help, its option table, and a handler that calls the harness API. */
export interface Command {
  name: string;
  args?: string;
  summary: string;
  options: OptionSpec[];
  /** Returns the exit code. */
  run(parsed: Parsed): Promise<number>;
}
