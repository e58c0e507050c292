/** Who the users are, and whether a password is theirs. Nothing here is about sessions. */
import { scrypt, timingSafeEqual } from 'node:crypto';
import type pg from 'pg';

export interface User {
  username: string;
  displayName: string;
}

function scryptAsync(password: string, salt: string, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => scrypt(password, salt, 32, { N: n }, (err, key) => (err ? reject(err) : resolve(key))));
}

/** The user, if `password` is theirs; undefined for an unknown user or a wrong password. */
export async function checkPassword(pool: pg.Pool, username: string, password: string): Promise<User | undefined> {
  const { rows } = await pool.query('SELECT username, display_name, password_hash FROM users WHERE username = $1', [username]);
  const row = rows[0];
  // An unknown user costs the same scrypt as a known one, so timing does not tell them apart.
  const [, n, salt, hash] = (row?.password_hash ?? 'scrypt$1024$00$00').split('$');
  const key = await scryptAsync(password, salt, Number(n));
  const expected = Buffer.from(hash, 'hex');
  if (!row || expected.length !== key.length || !timingSafeEqual(expected, key)) return undefined;
  return { username: row.username, displayName: row.display_name };
}

export async function findUser(pool: pg.Pool, username: string): Promise<User | undefined> {
  const { rows } = await pool.query('SELECT username, display_name FROM users WHERE username = $1', [username]);
  return rows[0] && { username: rows[0].username, displayName: rows[0].display_name };
}
