import type pg from 'pg';

export interface Postcode {
  country: string;
  code: string;
  place: string;
  lat: number;
  lon: number;
}

export async function findPostcode(pool: pg.Pool, country: string, code: string): Promise<Postcode | undefined> {
  const { rows } = await pool.query('SELECT country, code, place, lat, lon FROM postcodes WHERE country = $1 AND code = $2', [
    country.toUpperCase(),
    code,
  ]);
  return rows[0];
}
