import { defineConfig } from 'vitest/config';

/** The meeting client's unit tests (pure logic): `npx vitest run --config web/webapp/vitest.config.ts`. */
export default defineConfig({
  test: {
    root: new URL('../..', import.meta.url).pathname,
    include: ['web/webapp/**/*.test.ts'],
    environment: 'node',
  },
});
