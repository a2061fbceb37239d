import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{shared,server,node-agent,db,web,scripts}/**/*.test.ts'],
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // PGlite start-up is CPU-heavy; two workers on a 2-core machine.
    maxWorkers: 2,
  },
});
