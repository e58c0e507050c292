/**
 * Where the servers a lab uses are, and how to reach them. No Testcontainers here: test workers
 * and service processes import this, and only containers.ts starts anything.
 */
export interface PgEndpoint {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
}
/** Logical databases the Redis server is started with: enough that every test file gets its own. */
export const REDIS_DATABASES = 4096;

export interface RedisEndpoint {
  host: string;
  port: number;
}
/** Serializable description of the running servers, passed to test workers in LAB_SERVICES. */
export interface Endpoints {
  postgres?: PgEndpoint;
  redis?: RedisEndpoint;
  replica?: PgEndpoint & { primaryAlias?: string };
  /**
   * The primary the replica streams from, when it is not `postgres`: a run that mixes labs with and
   * without a replica gives the others a server of their own, so that the replica replays only the
   * replica labs' writes. Labs that declare "replica" use it as their Postgres (runner.endpointsFor).
   */
  replicaPrimary?: PgEndpoint;
  /**
   * A second standby of the replica's primary, cut off at the start of the run while the primary's
   * WAL position still had seven hex digits (`frozenAt`, below 0/10000000); the primary has since
   * moved past 0/10000000. It holds one database per lab that declares farBehind
   * (farBehindDatabase()), as it was when it was cut off.
   */
  farBehind?: PgEndpoint & { frozenAt: string; serviceUser: string; servicePassword: string };
}

/** The far-behind standby's database for a lab (lab.json farBehind). */
export function farBehindDatabase(slug: string): string {
  return `far_behind_${slug.replace(/-/g, '_')}`;
}

export function pgUrl(e: PgEndpoint, database = e.database): string {
  return `postgres://${encodeURIComponent(e.user)}:${encodeURIComponent(e.password)}@${e.host}:${e.port}/${database}`;
}
export function redisUrl(e: RedisEndpoint, db = 0): string {
  return `redis://${e.host}:${e.port}/${db}`;
}
