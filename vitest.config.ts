import { defineConfig } from 'vitest/config';

// IMCSIM_TEST_REPORT=<file> adds a JSON report beside the console output (.ci/run reads its counts), so
// CI runs exactly the README's `npm test`.
const report = process.env.IMCSIM_TEST_REPORT;

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    pool: 'forks',
    ...(report ? { reporters: ['default', 'json'], outputFile: { json: report } } : {}),
  },
});
