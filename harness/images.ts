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
  '-c',
  'shared_preload_libraries=pg_stat_statements',
  '-c',
  'pg_stat_statements.track=all',
  '-c',
  'max_connections=400',
  '-c',
  'fsync=off',
  '-c',
  'synchronous_commit=off',
  '-c',
  'full_page_writes=off',
  '-c',
  'deadlock_timeout=200ms',
];

/** Enough logical databases that every test file gets its own. */
export const REDIS_DATABASES = 4096;
