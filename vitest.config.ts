import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration suites bind sockets and spawn peers; two workers fit a 2-core board.
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default'],
  },
});
