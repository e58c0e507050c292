/**
 * The one place image tags are pinned. Defaults are the official images that learners pull;
 * machines without a registry build stand-ins with docker/build-images.sh and point these
 * variables at them (see .ci/run).
 */
export const IMAGES = {
  postgres: process.env.LAB_POSTGRES_IMAGE ?? 'postgres:15-alpine',
  redis: process.env.LAB_REDIS_IMAGE ?? 'redis:7-alpine',
  /** The grading sandbox's (servers/sandbox.ts): Node 20, nothing else needed. */
  node: process.env.LAB_NODE_IMAGE ?? 'node:20-bookworm-slim',
} as const;

/** Server options every lab's Postgres runs with. Speed over durability: these are throwaway servers. */
export const POSTGRES_ARGS = [
  'shared_preload_libraries=pg_stat_statements',
  'pg_stat_statements.track=all',
  'max_connections=400',
  'fsync=off',
  'synchronous_commit=off',
  'full_page_writes=off',
  'deadlock_timeout=200ms',
  // Parallel query needs dynamic shared memory; many small concurrent queries gain nothing from it.
  'max_parallel_workers_per_gather=0',
].flatMap((setting) => ['-c', setting]);

/**
 * /dev/shm for Postgres containers. Docker's default of 64 MB can run out under many concurrent
 * sessions; a backend that hits the limit dies with SIGBUS, which restarts the whole server
 * ("the database system is in recovery mode").
 */
export const POSTGRES_SHM_BYTES = 512 * 1024 * 1024;

/**
 * The image Testcontainers' resource reaper (Ryuk) runs, or undefined when it is disabled
 * (TESTCONTAINERS_RYUK_DISABLED=true; the kit stops its own containers either way). The same
 * default as testcontainers' reaper.js (a unit test holds the two equal).
 */
export const RYUK_DEFAULT_IMAGE = 'testcontainers/ryuk:0.14.0';
export function ryukImage(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.TESTCONTAINERS_RYUK_DISABLED === 'true') return undefined;
  return env.RYUK_CONTAINER_IMAGE ?? RYUK_DEFAULT_IMAGE;
}

/** The one line for a Ryuk image that is not here and cannot be pulled. */
export function ryukMissing(image: string): string {
  return (
    `Testcontainers' resource reaper (Ryuk) cannot start: its image ${image} is not here and cannot be pulled. ` +
    'Set TESTCONTAINERS_RYUK_DISABLED=true (the kit stops its own containers without it), or pull it when online.'
  );
}
