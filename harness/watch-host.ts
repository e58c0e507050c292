/**
 * The Vitest process behind `lab watch`. It keeps one Vitest instance (and its module cache) alive
 * and reruns the lab's tests whenever the parent says a file in the tree under test was saved.
 * The parent watches the files itself: the tree is loaded by service processes, not by Vitest, so
 * Vitest's own watcher cannot know about it.
 *
 * It also keeps a pool of service hosts forked ahead of time (testing/host.ts): test workers take
 * them through LAB_HOST_POOL, so a rerun does not wait for new processes to boot.
 */
import { createVitest } from 'vitest/node';
import { tmpdir } from 'node:os';
import { VITEST_CONFIG } from './paths.js';
import { HostPool } from './testing/host.js';
import { trace } from './trace.js';

const jsonFile = process.env.LAB_WATCH_JSON!;
const hosts = new HostPool(tmpdir(), Number(process.env.LAB_WARM_HOSTS ?? 4));
await hosts.listen();
process.env.LAB_HOST_POOL = hosts.socketPath;
const vitest = await createVitest('test', {
  config: VITEST_CONFIG,
  watch: true,
  reporters: process.env.LAB_WATCH_QUIET ? ['json'] : ['default', 'json'],
  outputFile: { json: jsonFile },
});
let running: Promise<unknown> = vitest.start();
let again = false;
process.on('message', (m: { type?: string }) => {
  if (m?.type !== 'rerun') return;
  if (again) return;
  again = true;
  running = running.finally(async () => {
    again = false;
    trace('rerun');
    await vitest.rerunTestSpecifications(await vitest.getRelevantTestSpecifications(), true);
  });
});
// Vitest may exit the process from its own signal handlers: the hosts go with it either way.
process.once('exit', () => hosts.killNow());
const stop = () =>
  void hosts
    .close()
    .finally(() => vitest.close())
    .finally(() => process.exit(0));
process.on('disconnect', stop);
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
