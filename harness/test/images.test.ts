import { expect, test } from 'vitest';

test('the Ryuk image the kit names is the one testcontainers starts, and TESTCONTAINERS_RYUK_DISABLED=true means none', async () => {
  const { readFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { ROOT } = await import('../paths.js');
  const { RYUK_DEFAULT_IMAGE, ryukImage } = await import('../servers/images.js');
  const reaper = readFileSync(join(ROOT, 'node_modules', 'testcontainers', 'build', 'reaper', 'reaper.js'), 'utf8');
  expect(reaper).toContain(`ImageName.fromString("${RYUK_DEFAULT_IMAGE}")`);
  expect(ryukImage({})).toBe(RYUK_DEFAULT_IMAGE);
  expect(ryukImage({ RYUK_CONTAINER_IMAGE: 'mirror/ryuk:1' })).toBe('mirror/ryuk:1');
  expect(ryukImage({ TESTCONTAINERS_RYUK_DISABLED: 'true' })).toBeUndefined();
});
