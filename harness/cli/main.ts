/**
 * The `lab` CLI: a thin layer over the harness API. Each command is one module in commands/;
 * its option table feeds both parsing and --help. Commands import the heavy parts (Vitest,
 * Testcontainers) only when they run, so that a cheap command (list, show, hint) stays cheap.
 */
import { EnvironmentError, ServiceStartError } from '../errors.js';
import { LabError } from '../errors.js';
import { formatOptions, parseArgs } from './args.js';
import { UsageError } from '../errors.js';
import { holdIfInterrupted } from '../interrupt.js';
import type { Command } from './command.js';
import { dev } from './commands/dev.js';
import { doctor } from './commands/doctor.js';
import { grade } from './commands/grade.js';
import { hint } from './commands/hint.js';
import { interview } from './commands/interview.js';
import { reset } from './commands/reset.js';
import { solution } from './commands/solution.js';
import { list } from './commands/list.js';
import { pack } from './commands/pack.js';
import { question, questions } from './commands/questions.js';
import { load, serve } from './commands/serve.js';
import { show } from './commands/show.js';
import { start } from './commands/start.js';
import { test } from './commands/test.js';
import { verify } from './commands/verify.js';
import { watch } from './commands/watch.js';
import { images } from './commands/images.js';
import { workshop } from './commands/workshop.js';

export const COMMANDS: Command[] = [
  list,
  show,
  start,
  test,
  watch,
  hint,
  solution,
  reset,
  interview,
  questions,
  question,
  serve,
  load,
  pack,
  grade,
  verify,
  doctor,
  images,
  workshop,
  dev,
];

export function help(): string {
  const w = Math.max(...COMMANDS.map((c) => `${c.name} ${c.args ?? ''}`.length));
  return [
    'usage: lab <command> [options]',
    '',
    ...COMMANDS.map((c) => `  ${`${c.name} ${c.args ?? ''}`.padEnd(w)}  ${c.summary}`),
    '',
    "`lab <command> --help` shows a command's options.",
  ].join('\n');
}

export function commandHelp(cmd: Command): string {
  return [
    `usage: lab ${cmd.name}${cmd.args ? ` ${cmd.args}` : ''}${cmd.options.length ? ' [options]' : ''}`,
    '',
    `  ${cmd.summary}`,
    ...(cmd.options.length ? ['', formatOptions(cmd.options)] : []),
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(help());
    return name ? 0 : 2;
  }
  const cmd = COMMANDS.find((c) => c.name === name);
  try {
    if (!cmd) throw new UsageError(`unknown command "${name}". Commands: ${COMMANDS.map((c) => c.name).join(', ')}`);
    if (rest.includes('--help') || rest.includes('-h')) {
      console.log(commandHelp(cmd));
      return 0;
    }
    const code = await cmd.run(parseArgs(rest, cmd.options, cmd.name));
    await holdIfInterrupted(); // the signal's exit code, once its handler has cleaned up, not the command's
    return code;
  } catch (e) {
    await holdIfInterrupted();
    if (e instanceof UsageError) {
      console.error(`lab: ${e.message}`);
      return 2;
    }
    if (e instanceof LabError || e instanceof EnvironmentError || e instanceof ServiceStartError) {
      console.error(`lab: ${e.message}`);
      return 1;
    }
    throw e;
  }
}
