#!/usr/bin/env node
// `npm run lint [-- paths/options]`: ESLint over the project (default: the whole tree, plus Prettier's check), with the
// configuration in tools/eslint/config.mjs. The linter's dependencies live in tools/eslint/ because
// typescript-eslint needs TypeScript's JavaScript API (5.x) and the project builds with TypeScript 7
// (the native compiler, which has none); they are installed there on first use.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { requireSupportedNode } from './node-version.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const tools = join(root, 'tools', 'eslint');
export const eslintBin = join(tools, 'node_modules', '.bin', 'eslint');

/** Installs the linter's dependencies in tools/eslint/ when missing (from its committed lockfile). */
export function ensureLintTools() {
  if (existsSync(eslintBin)) return;
  const r = spawnSync('npm', ['ci', '--prefix', tools, '--no-audit', '--no-fund'], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`could not install the linter in ${tools} (npm ci exit ${r.status ?? r.signal})`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  requireSupportedNode();
  ensureLintTools();
  const args = process.argv.slice(2);
  const r = spawnSync(eslintBin, args.length ? args : ['.'], { cwd: root, stdio: 'inherit' });
  // The whole-tree run also checks formatting (Prettier, .prettierrc.json; `npm run format` fixes it).
  const f = args.length ? { status: 0 } : spawnSync('npx', ['prettier', '--check', '--log-level', 'warn', '.'], { cwd: root, stdio: 'inherit' });
  process.exit(r.status !== 0 ? (r.status ?? 1) : (f.status ?? 1));
}
