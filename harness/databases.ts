/**
 * Per-test-file isolation: a template database holding the schema of the tree under test, and a
 * fresh database cloned from it for each test file (CREATE DATABASE … TEMPLATE, ~40 ms). Redis gets
 * one logical database per test file.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { pgUrl, redisUrl, type PgEndpoint, type RedisEndpoint } from './endpoints.js';
import { REDIS_DATABASES } from './images.js';

const ADMIN_LOCK = 7_340_001;

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

export function templateName(schemaSql: string): string {
  return 'tpl_' + createHash('sha256').update(schemaSql).digest('hex').slice(0, 16);
}

/** Creates (once) the template database for a schema.sql file; returns its name. */
export async function ensureTemplate(pgEp: PgEndpoint, schemaFile: string): Promise<string> {
  let schema: string;
  try {
    schema = readFileSync(schemaFile, 'utf8');
  } catch {
    throw new Error(`the tree under test has no ${schemaFile}: every lab keeps its schema in src/schema.sql`);
  }
  const name = templateName(schema);
  await withClient(pgUrl(pgEp), async (admin) => {
    await admin.query('SELECT pg_advisory_lock($1)', [ADMIN_LOCK]);
    try {
      const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
      if (rowCount) return;
      const building = `${name}_building`;
      await admin.query(`DROP DATABASE IF EXISTS "${building}" WITH (FORCE)`);
      await admin.query(`CREATE DATABASE "${building}"`);
      try {
        await withClient(pgUrl(pgEp, building), async (c) => {
          await c.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
          try {
            await c.query(schema);
          } catch (e) {
            throw new Error(`schema.sql failed to apply: ${(e as Error).message}`);
          }
        });
      } catch (e) {
        await admin.query(`DROP DATABASE IF EXISTS "${building}" WITH (FORCE)`);
        throw e;
      }
      await admin.query(`ALTER DATABASE "${building}" RENAME TO "${name}"`);
    } finally {
      await admin.query('SELECT pg_advisory_unlock($1)', [ADMIN_LOCK]).catch(() => undefined);
    }
  });
  return name;
}

/**
 * A fresh database cloned from the template. STRATEGY FILE_COPY copies the template's files
 * instead of writing every page of it into the WAL (WAL_LOG, the default since Postgres 15: about
 * 4.4 MB of WAL per database, which a streaming replica then has to replay, holding up the writes
 * the tests are timing behind it).
 */
export async function createTestDatabase(pgEp: PgEndpoint, template: string): Promise<string> {
  const name = `t_${randomBytes(6).toString('hex')}`;
  await withClient(pgUrl(pgEp), (c) => c.query(`CREATE DATABASE "${name}" TEMPLATE "${template}" STRATEGY FILE_COPY`));
  return name;
}

export async function dropTestDatabase(pgEp: PgEndpoint, name: string): Promise<void> {
  if (!/^t_[0-9a-f]{12}$/.test(name)) throw new Error(`refusing to drop ${name}: not a test database`);
  await withClient(pgUrl(pgEp), (c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
}

/** Allocates a Redis logical database (1…N-1) for one test file, and empties it. */
export async function allocateRedisDb(ep: RedisEndpoint): Promise<number> {
  const { Redis } = await import('ioredis');
  const r = new Redis(redisUrl(ep, 0), { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await r.connect();
    const n = await r.incr('backend-labs:next-db');
    const db = 1 + ((n - 1) % (REDIS_DATABASES - 1));
    await r.select(db);
    await r.flushdb();
    return db;
  } finally {
    r.disconnect();
  }
}
