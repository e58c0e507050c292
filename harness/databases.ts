/**
 * Per-test-file isolation: a template database holding the schema of the tree under test, and a
 * fresh database cloned from it for each test file (CREATE DATABASE … TEMPLATE, ~40 ms). Redis gets
 * one logical database per test file.
 *
 * The service under test never logs in as the superuser. Each test database comes with a login
 * role of its own (svc_<id>) that owns the database and every object the schema made in it, and
 * that no other database lets in: CONNECT is revoked from PUBLIC on test databases, templates and
 * the admin database. So a submission can change its own tables (even their DDL), and cannot reach
 * another test file's database, another learner's, or the template every clone is made from. The
 * harness keeps the superuser for itself (lab.db, statistics, fault points' targets).
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { pgUrl, REDIS_DATABASES, redisUrl, type PgEndpoint, type RedisEndpoint } from './endpoints.js';

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

/** Owns the schema's objects in a template; each clone hands them to its own service role. */
export const SCHEMA_ROLE = 'lab_schema';

export function templateName(schemaSql: string): string {
  // v3: applied logged in as SCHEMA_ROLE (v2 applied it as the superuser behind SET ROLE; before
  // v2 its objects belonged to the superuser). A kept server may hold older ones: never reused.
  return 'tpl_' + createHash('sha256').update('v3\0').update(schemaSql).digest('hex').slice(0, 16);
}

/**
 * Once per server: the role that owns templates' objects, and no CONNECT for PUBLIC on the
 * databases that exist before any test (the admin database, postgres, template1).
 */
async function hardenServer(admin: pg.Client): Promise<void> {
  await admin.query(`DO $$ BEGIN CREATE ROLE ${SCHEMA_ROLE} NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$`);
  const { rows } = await admin.query(`SELECT datname FROM pg_database WHERE datname IN ('postgres', 'template1', current_database())`);
  for (const r of rows) await admin.query(`REVOKE CONNECT, TEMPORARY ON DATABASE "${r.datname}" FROM PUBLIC`);
}

/**
 * Applies schema.sql (the tree's: a submission's, when grading) logged in as SCHEMA_ROLE itself,
 * never as the superuser behind SET ROLE: from there RESET ROLE or SET SESSION AUTHORIZATION
 * DEFAULT would give the superuser back (to make a superuser login, say, and reset the statistics
 * the tests judge by). The role can log in only meanwhile, with a password made for this once, and
 * only to the database being built.
 */
async function applyAsSchemaRole(admin: pg.Client, pgEp: PgEndpoint, building: string, schema: string): Promise<void> {
  const password = randomBytes(18).toString('base64url');
  await admin.query(`ALTER ROLE ${SCHEMA_ROLE} LOGIN PASSWORD '${password}'`);
  await admin.query(`GRANT CONNECT ON DATABASE "${building}" TO ${SCHEMA_ROLE}`);
  try {
    await withClient(pgUrl({ ...pgEp, user: SCHEMA_ROLE, password }, building), async (c) => {
      try {
        await c.query(schema);
      } catch (e) {
        throw new Error(`schema.sql failed to apply: ${(e as Error).message}`);
      }
    });
  } finally {
    await admin.query(`REVOKE CONNECT ON DATABASE "${building}" FROM ${SCHEMA_ROLE}`).catch(() => undefined);
    await admin.query(`ALTER ROLE ${SCHEMA_ROLE} NOLOGIN PASSWORD NULL`);
  }
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
      await hardenServer(admin);
      const building = `${name}_building`;
      await admin.query(`DROP DATABASE IF EXISTS "${building}" WITH (FORCE)`);
      await admin.query(`CREATE DATABASE "${building}"`);
      await admin.query(`REVOKE CONNECT, TEMPORARY ON DATABASE "${building}" FROM PUBLIC`);
      try {
        await withClient(pgUrl(pgEp, building), async (c) => {
          await c.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
          // The schema's objects belong to SCHEMA_ROLE, so that each clone can give them away.
          await c.query(`GRANT USAGE, CREATE ON SCHEMA public TO ${SCHEMA_ROLE}`);
        });
        await applyAsSchemaRole(admin, pgEp, building, schema);
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
export interface TestDatabase {
  name: string;
  /** The service's login: owns this database and its objects, and may connect nowhere else. */
  user: string;
  password: string;
}

export async function createTestDatabase(pgEp: PgEndpoint, template: string): Promise<TestDatabase> {
  const id = randomBytes(6).toString('hex');
  const db: TestDatabase = { name: `t_${id}`, user: `svc_${id}`, password: randomBytes(18).toString('base64url') };
  await withClient(pgUrl(pgEp), async (c) => {
    await c.query(`CREATE ROLE "${db.user}" LOGIN PASSWORD '${db.password}'`);
    await c.query(`CREATE DATABASE "${db.name}" TEMPLATE "${template}" OWNER "${db.user}" STRATEGY FILE_COPY`);
    await c.query(`REVOKE CONNECT, TEMPORARY ON DATABASE "${db.name}" FROM PUBLIC`);
  });
  await withClient(pgUrl(pgEp, db.name), (c) => c.query(`REASSIGN OWNED BY ${SCHEMA_ROLE} TO "${db.user}"`));
  return db;
}

export async function dropTestDatabase(pgEp: PgEndpoint, name: string): Promise<void> {
  const m = /^t_([0-9a-f]{12})$/.exec(name);
  if (!m) throw new Error(`refusing to drop ${name}: not a test database`);
  await withClient(pgUrl(pgEp), async (c) => {
    await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await c.query(`DROP ROLE IF EXISTS "svc_${m[1]}"`);
  });
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
