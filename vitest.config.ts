import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    // Set-up hooks run the CLI end to end (simulate twice); 10 s is too short on a loaded 2-core machine.
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
