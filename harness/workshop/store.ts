/**
 * The workshop's state, all of it in Postgres, so that stopping and restarting the server loses
 * nothing: attendees (by a hash of their token), every report (its id is the primary key, so a
 * resent report is stored once), one cell per attendee and lab (the latest state the board shows),
 * the room's settings, and the archives of boards reset between groups.
 */
import { createHash, randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Report, RoomState } from './protocol.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS workshop_meta (key text PRIMARY KEY, value jsonb NOT NULL);
CREATE TABLE IF NOT EXISTS attendees (
  id bigserial PRIMARY KEY,
  board int NOT NULL,
  name text NOT NULL,
  token_hash text NOT NULL UNIQUE,
  joined_at timestamptz NOT NULL DEFAULT now(),
  removed_at timestamptz,
  removed_why text
);
CREATE UNIQUE INDEX IF NOT EXISTS attendees_live_name ON attendees (board, lower(name)) WHERE removed_at IS NULL;
CREATE TABLE IF NOT EXISTS reports (
  id text PRIMARY KEY,
  attendee_id bigint NOT NULL REFERENCES attendees,
  lab text NOT NULL,
  at timestamptz NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  body jsonb NOT NULL
);
CREATE TABLE IF NOT EXISTS cells (
  attendee_id bigint NOT NULL REFERENCES attendees,
  lab text NOT NULL,
  passed int NOT NULL DEFAULT 0,
  total int NOT NULL DEFAULT 0,
  points int NOT NULL DEFAULT 0,
  max_points int NOT NULL DEFAULT 0,
  hints_used int NOT NULL DEFAULT 0,
  hints_total int NOT NULL DEFAULT 0,
  failing text,
  failing_since timestamptz,
  tests jsonb NOT NULL DEFAULT '[]',
  tested_at timestamptz,
  reports int NOT NULL DEFAULT 0,
  PRIMARY KEY (attendee_id, lab)
);
CREATE TABLE IF NOT EXISTS archives (
  id bigserial PRIMARY KEY,
  board int NOT NULL,
  archived_at timestamptz NOT NULL DEFAULT now(),
  board_json jsonb NOT NULL,
  csv text NOT NULL
);
INSERT INTO workshop_meta VALUES ('board', '1') ON CONFLICT DO NOTHING;
`;

export const tokenHash = (token: string) => createHash('sha256').update(token).digest('hex');
export const newToken = () => randomBytes(24).toString('base64url');

export interface Attendee {
  id: number;
  name: string;
  board: number;
  joinedAt: string;
  removedAt: string | null;
  removedWhy: string | null;
}

export interface Cell {
  attendeeId: number;
  lab: string;
  passed: number;
  total: number;
  points: number;
  maxPoints: number;
  hintsUsed: number;
  hintsTotal: number;
  failing: string | null;
  failingSince: string | null;
  tests: Array<{ id: string; status: 'passed' | 'failed' | 'skipped'; points: number; tier: 'core' | 'bonus' }>;
  testedAt: string | null;
  reports: number;
}

export class NameTaken extends Error {}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export class WorkshopStore {
  private constructor(readonly pool: pg.Pool) {}

  static async open(databaseUrl: string): Promise<WorkshopStore> {
    const pool = new pg.Pool({ connectionString: databaseUrl, max: 10, application_name: 'lab-workshop' });
    pool.on('error', () => undefined); // a dropped idle connection is replaced on the next query
    const store = new WorkshopStore(pool);
    try {
      await pool.query('SELECT pg_advisory_lock(7141)');
      await pool.query(SCHEMA);
    } catch (e) {
      await pool.end().catch(() => undefined);
      throw e;
    } finally {
      await pool.query('SELECT pg_advisory_unlock_all()').catch(() => undefined);
    }
    return store;
  }

  close(): Promise<void> {
    return this.pool.end();
  }

  private async meta<T>(key: string): Promise<T | undefined> {
    const { rows } = await this.pool.query('SELECT value FROM workshop_meta WHERE key = $1', [key]);
    return rows[0]?.value as T | undefined;
  }

  private async setMeta(key: string, value: unknown, client: pg.ClientBase | pg.Pool = this.pool): Promise<void> {
    await client.query('INSERT INTO workshop_meta VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value', [
      key,
      JSON.stringify(value),
    ]);
  }

  /** The admin token: made on the first start, the same on every restart. */
  async adminToken(): Promise<string> {
    await this.pool.query('INSERT INTO workshop_meta VALUES ($1, $2) ON CONFLICT DO NOTHING', ['admin_token', JSON.stringify(newToken())]);
    return (await this.meta<string>('admin_token'))!;
  }

  board(): Promise<number> {
    return this.meta<number>('board').then((b) => b ?? 1);
  }

  async room(): Promise<RoomState> {
    const { rows } = await this.pool.query(`SELECT key, value FROM workshop_meta WHERE key IN ('current_lab', 'message')`);
    const get = (k: string) => rows.find((r) => r.key === k)?.value ?? null;
    return { currentLab: get('current_lab'), message: get('message') };
  }

  setCurrentLab(lab: string | null): Promise<void> {
    return this.setMeta('current_lab', lab);
  }

  async setMessage(text: string): Promise<RoomState['message']> {
    if (!text.trim()) {
      await this.setMeta('message', null);
      return null;
    }
    const prev = await this.meta<RoomState['message']>('message');
    const message = { id: (prev?.id ?? 0) + 1, text: text.trim(), at: new Date().toISOString() };
    await this.setMeta('message', message);
    return message;
  }

  /** A new attendee on the current board, with a token only they hold. */
  async join(name: string): Promise<{ attendee: Attendee; token: string }> {
    const token = newToken();
    try {
      const { rows } = await this.pool.query(
        `INSERT INTO attendees (board, name, token_hash)
         SELECT (value)::int, $1, $2 FROM workshop_meta WHERE key = 'board'
         RETURNING id, name, board, joined_at, removed_at, removed_why`,
        [name, tokenHash(token)],
      );
      return { attendee: toAttendee(rows[0]), token };
    } catch (e) {
      if ((e as { code?: string }).code === '23505') throw new NameTaken(name);
      throw e;
    }
  }

  async attendeeByToken(token: string): Promise<Attendee | undefined> {
    const { rows } = await this.pool.query(
      'SELECT id, name, board, joined_at, removed_at, removed_why FROM attendees WHERE token_hash = $1',
      [tokenHash(token)],
    );
    return rows[0] ? toAttendee(rows[0]) : undefined;
  }

  /** Stores each report once (by id) and moves the attendee's cell; returns how many were new. */
  async addReports(attendeeId: number, reports: Report[]): Promise<{ accepted: number; duplicates: number }> {
    const client = await this.pool.connect();
    let accepted = 0;
    try {
      await client.query('BEGIN');
      for (const r of reports) {
        const ins = await client.query(
          'INSERT INTO reports (id, attendee_id, lab, at, body) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING RETURNING id',
          [r.id, attendeeId, r.lab, r.at, JSON.stringify(r)],
        );
        if (ins.rowCount === 0) continue;
        accepted++;
        await client.query(
          `INSERT INTO cells (attendee_id, lab, reports, hints_used, hints_total) VALUES ($1, $2, 1, $3, $4)
           ON CONFLICT (attendee_id, lab) DO UPDATE SET reports = cells.reports + 1,
             hints_used = GREATEST(cells.hints_used, EXCLUDED.hints_used), hints_total = EXCLUDED.hints_total`,
          [attendeeId, r.lab, r.hintsUsed, r.hintsTotal],
        );
        if (r.kind !== 'test') continue;
        // A test run replaces the cell's results unless a later run is already in (reports from
        // one attendee arrive in order; this only guards against a second machine).
        await client.query(
          `UPDATE cells SET passed = $3, total = $4, points = $5, max_points = $6, failing = $7, tests = $8, tested_at = $9,
             failing_since = CASE WHEN $7::text IS NULL THEN NULL
                                  WHEN failing IS NOT DISTINCT FROM $7::text AND failing_since IS NOT NULL THEN failing_since
                                  ELSE LEAST($9::timestamptz, now()) END
           WHERE attendee_id = $1 AND lab = $2 AND (tested_at IS NULL OR tested_at <= $9)`,
          [attendeeId, r.lab, r.passed, r.total, r.points, r.maxPoints, r.failing, JSON.stringify(r.tests), r.at],
        );
      }
      await client.query('COMMIT');
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      client.release();
    }
    return { accepted, duplicates: reports.length - accepted };
  }

  /** Attendees on the current board (all of them, or those named), with their cells. */
  async snapshot(ids?: number[]): Promise<{ attendees: Attendee[]; cells: Cell[] }> {
    const board = await this.board();
    const filter = ids ? 'AND a.id = ANY($2)' : '';
    const params: unknown[] = ids ? [board, ids] : [board];
    const a = await this.pool.query(
      `SELECT id, name, board, joined_at, removed_at, removed_why FROM attendees a WHERE board = $1 AND removed_at IS NULL ${filter} ORDER BY lower(name), id`,
      params,
    );
    const c = await this.pool.query(
      `SELECT c.* FROM cells c JOIN attendees a ON a.id = c.attendee_id WHERE a.board = $1 AND a.removed_at IS NULL ${filter}`,
      params,
    );
    return { attendees: a.rows.map(toAttendee), cells: c.rows.map(toCell) };
  }

  /** Takes the attendee off the board; their token is refused from now on. */
  async remove(id: number, why: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      'UPDATE attendees SET removed_at = now(), removed_why = $2 WHERE id = $1 AND removed_at IS NULL',
      [id, why],
    );
    return rowCount === 1;
  }

  /** Archives the board (its JSON and its CSV) and starts an empty one: everyone joins again. */
  async reset(boardJson: unknown, csv: string): Promise<number> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const { rows } = await client.query(`SELECT (value)::int AS board FROM workshop_meta WHERE key = 'board' FOR UPDATE`);
      const board = rows[0].board as number;
      await client.query('INSERT INTO archives (board, board_json, csv) VALUES ($1, $2, $3)', [board, JSON.stringify(boardJson), csv]);
      await client.query(`UPDATE attendees SET removed_at = now(), removed_why = 'reset' WHERE board = $1 AND removed_at IS NULL`, [board]);
      await this.setMeta('board', board + 1, client);
      await this.setMeta('message', null, client);
      await client.query('COMMIT');
      return board + 1;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      client.release();
    }
  }

  async archives(): Promise<Array<{ id: number; board: number; archivedAt: string; attendees: number }>> {
    const { rows } = await this.pool.query(
      `SELECT id, board, archived_at, jsonb_array_length(board_json->'attendees') AS n FROM archives ORDER BY id`,
    );
    return rows.map((r) => ({ id: Number(r.id), board: r.board, archivedAt: r.archived_at.toISOString(), attendees: r.n }));
  }

  async archiveCsv(id: number): Promise<string | undefined> {
    const { rows } = await this.pool.query('SELECT csv FROM archives WHERE id = $1', [id]);
    return rows[0]?.csv;
  }
}

/* eslint-disable @typescript-eslint/no-explicit-any */
function toAttendee(r: any): Attendee {
  return {
    id: Number(r.id),
    name: r.name,
    board: r.board,
    joinedAt: r.joined_at.toISOString(),
    removedAt: iso(r.removed_at),
    removedWhy: r.removed_why,
  };
}

function toCell(r: any): Cell {
  return {
    attendeeId: Number(r.attendee_id),
    lab: r.lab,
    passed: r.passed,
    total: r.total,
    points: r.points,
    maxPoints: r.max_points,
    hintsUsed: r.hints_used,
    hintsTotal: r.hints_total,
    failing: r.failing,
    failingSince: iso(r.failing_since),
    tests: r.tests,
    testedAt: iso(r.tested_at),
    reports: r.reports,
  };
}
