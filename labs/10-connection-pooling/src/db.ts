import pg from 'pg';

/**
 * A database connection for one request. The caller runs its queries on it and ends it.
 *
 * TODO: a connection per request means a new Postgres session (a process, a login) for every
 * request, as many at once as there are requests in flight. The database allows this service
 * settings.connectionLimit sessions in all, for every instance together, and settings.reservedConnections
 * of those belong to people and tools (psql, migrations, monitoring). Nothing here waits for a
 * connection either: when Postgres does not answer, connect() waits for ever.
 */
export async function connect(databaseUrl: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  return client;
}
