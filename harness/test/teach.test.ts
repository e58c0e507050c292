/**
 * Golden tests of the messages that teach: the saved expected output in golden/*.txt is the
 * contract. A change to a message shows up as a diff here (`vitest -u` rewrites it on purpose).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { conceptLabel, CONCEPTS, explainFound, scanForConcepts, summarizeOutcomes } from '../teach.js';

const input = (name: string) => readFileSync(join(import.meta.dirname, 'golden', 'inputs', name), 'utf8');
const golden = (name: string) => join(import.meta.dirname, 'golden', name);

describe('failure messages', () => {
  test('when a service logs deadlocks then the concept and what to look at are named', async () => {
    const found = scanForConcepts(input('deadlock.log'));
    expect(Object.fromEntries(found)).toEqual({ '40P01': 2 });
    await expect(explainFound(found)).toMatchFileSnapshot(golden('deadlock.txt'));
  });

  test('when a service logs several kinds of failure then each is explained, most frequent first', async () => {
    const found = scanForConcepts(input('mixed.log'));
    expect(Object.fromEntries(found)).toEqual({ '40001': 1, '23505': 2, '25P02': 1, '53300': 1, POOL_TIMEOUT: 2, REDIS_OFFLINE_QUEUE: 2 });
    await expect(explainFound(found)).toMatchFileSnapshot(golden('mixed.txt'));
  });

  test('when a service logs nothing known then nothing is claimed', () => {
    expect(scanForConcepts(input('clean.log')).size).toBe(0);
    expect(explainFound(new Map())).toBe('');
  });

  test('when outcomes are summarised then failures are grouped by what came back', async () => {
    const outcomes = [
      ...Array.from({ length: 43 }, () => ({ status: 201 })),
      ...Array.from({ length: 5 }, () => ({ status: 500 })),
      { status: 409 },
      { status: 0, error: 'GET /x did not answer within 10000 ms' },
    ];
    await expect(summarizeOutcomes('transfers', outcomes, (o) => o.status >= 200 && o.status < 300)).toMatchFileSnapshot(
      golden('outcomes.txt'),
    );
  });

  test('when every concept is labelled then each has a name and a line of what to look at', async () => {
    await expect(CONCEPTS.map((c) => `${conceptLabel(c.code)}: ${c.look}`).join('\n')).toMatchFileSnapshot(golden('concepts.txt'));
  });
});
