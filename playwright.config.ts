import { defineConfig } from '@playwright/test';
import { CHROMIUM_ARGS } from './e2e/support/platform.js';

/** Debian's Chromium (no browser download is possible here); fake camera and microphone. */
export default defineConfig({
  testDir: 'e2e',
  testMatch: '**/*.spec.ts',
  workers: 1,
  timeout: 120_000,
  expect: { timeout: 10_000 },
  // The JSON report feeds the short failure summary npm test prints last (scripts/e2e-summary.mjs).
  reporter: [['list'], ['json', { outputFile: 'playwright-report/results.json' }]],
  use: {
    launchOptions: { executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS },
    permissions: ['camera', 'microphone'],
    trace: 'retain-on-failure',
  },
});
