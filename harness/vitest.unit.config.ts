/** Unit tests of the harness itself (no containers): argument parsing, lab.json, messages, fault points. */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['harness/test/**/*.test.ts'],
    allowOnly: false,
  },
});
