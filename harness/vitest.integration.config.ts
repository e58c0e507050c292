/** Integration tests of the harness through the real CLI and containers (slow; run by `npm test`). */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['harness/test-integration/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 900_000,
    allowOnly: false,
  },
});
