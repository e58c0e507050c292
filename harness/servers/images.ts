/**
 * The one place image tags are pinned. Defaults are the official images that learners pull;
 * machines without a registry build stand-ins with docker/build-images.sh and point these
 * variables at them (see .ci/run).
 */
export const IMAGES = {
  postgres: process.env.LAB_POSTGRES_IMAGE ?? 'postgres:15-alpine',
  redis: process.env.LAB_REDIS_IMAGE ?? 'redis:7-alpine',
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
