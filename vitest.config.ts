import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{shared,server,node-agent,db,web,scripts}/**/*.test.ts'],
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // PGlite start-up is CPU-heavy; two workers on a 2-core machine.
    maxWorkers: 2,
    // Every test client comes from 127.0.0.1: the node's per-address client API limits (defaults 20
    // token requests per 10 s, 50 streams) are raised for the suite; the limits' own test sets them.
    env: { NODE_REQUEST_TOKEN_PER_ADDRESS: '100000', NODE_STREAMS_PER_ADDRESS: '100000' },
  },
});
