import type pg from 'pg';
import { HttpError } from './errors.js';

export interface Profile {
  id: string;
  displayName: string;
  bio: string;
  updatedAt: string;
}

export interface ProfileUpdate {
  displayName: string;
  bio?: string;
}

/** Anything that can run a query: a pg.Pool, or a client checked out of one. */
export type Queryable = Pick<pg.Pool, 'query'>;

function toProfile(r: Record<string, unknown>): Profile {
  return {
    id: String(r.id),
    displayName: String(r.display_name),
    bio: String(r.bio),
    updatedAt: new Date(r.updated_at as string).toISOString(),
  };
}

export function parseProfileUpdate(body: unknown): ProfileUpdate {
  const { displayName, bio } = (body ?? {}) as Record<string, unknown>;
  if (typeof displayName !== 'string' || displayName.trim().length === 0 || displayName.length > 100)
    throw new HttpError(400, 'displayName must be a non-empty string of at most 100 characters');
  if (bio !== undefined && (typeof bio !== 'string' || bio.length > 500))
    throw new HttpError(400, 'bio must be a string of at most 500 characters');
  return { displayName: displayName.trim(), bio };
}

export async function getProfile(db: Queryable, id: string): Promise<Profile | undefined> {
  const { rows } = await db.query('SELECT id, display_name, bio, updated_at FROM profiles WHERE id = $1', [id]);
  return rows[0] && toProfile(rows[0]);
}

/** Creates or updates a profile; returns it as stored. */
export async function saveProfile(db: Queryable, id: string, update: ProfileUpdate): Promise<Profile> {
  const { rows } = await db.query(
    `INSERT INTO profiles (id, display_name, bio) VALUES ($1, $2, coalesce($3, ''))
     ON CONFLICT (id) DO UPDATE
       SET display_name = EXCLUDED.display_name, bio = coalesce($3, profiles.bio), updated_at = now()
     RETURNING id, display_name, bio, updated_at`,
    [id, update.displayName, update.bio ?? null],
  );
  return toProfile(rows[0]);
}
