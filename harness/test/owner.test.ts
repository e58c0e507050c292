/** Which containers and networks are this kit's to remove: owner.ts. */
import { describe, expect, test } from 'vitest';
import { HOST_ID, HOST_LABEL, isOrphan, OWNER_LABEL, ownerLabels } from '../servers/owner.js';

/** A pid that no process has (pid_max is at most 2^22 on Linux). */
const DEAD = 4_194_304 + 7;

describe('orphans', () => {
  test('when a resource was made on this host by a process that died then it is an orphan', () => {
    expect(isOrphan({ [OWNER_LABEL]: String(DEAD), [HOST_LABEL]: HOST_ID })).toBe(true);
  });

  test.each([
    ['its owner is alive', { [OWNER_LABEL]: String(process.pid), [HOST_LABEL]: HOST_ID }],
    ['it was made on another host or in another pid namespace', { [OWNER_LABEL]: String(DEAD), [HOST_LABEL]: 'elsewhere:pid:[1]' }],
    ['it carries no host label (another tool, or an older kit)', { [OWNER_LABEL]: String(DEAD) }],
    ['its owner label is not a pid', { [OWNER_LABEL]: 'me', [HOST_LABEL]: HOST_ID }],
    ['it has no labels', undefined],
  ])('when %s then it is not touched', (_, labels) => {
    expect(isOrphan(labels)).toBe(false);
  });

  test('when this process labels what it makes then both its pid and its host are named', () => {
    expect(ownerLabels()).toEqual({ [OWNER_LABEL]: String(process.pid), [HOST_LABEL]: HOST_ID });
    expect(HOST_ID).toMatch(/:pid:/);
  });
});
