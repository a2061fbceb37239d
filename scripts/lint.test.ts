import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ensureLintTools } from './lint.mjs';

/**
 * The lint configuration (tools/eslint/config.mjs) run through ESLint's Node API on deliberately
 * wrong code: each project rule must fire where it should, and stay quiet on the allowed form.
 */
const root = fileURLToPath(new URL('..', import.meta.url));
const messages = z.array(z.object({ messages: z.array(z.object({ ruleId: z.string().nullable(), message: z.string() })) }));
interface Linter {
  lintText(code: string, options: { filePath: string }): Promise<unknown>;
}
let eslint: Linter;

beforeAll(() => {
  ensureLintTools();
  // The linter is installed apart from the product (tools/eslint), so it is loaded from there.
  const { ESLint }: { ESLint: new (options: { cwd: string }) => Linter } = createRequire(join(root, 'tools/eslint/package.json'))('eslint');
  eslint = new ESLint({ cwd: root });
}, 300_000);

async function rulesFiring(code: string, file: string): Promise<string[]> {
  const [result] = messages.parse(await eslint.lintText(code, { filePath: join(root, file) }));
  return result!.messages.map((m) => m.ruleId ?? `parse error: ${m.message}`);
}

describe('lint configuration', () => {
  it('fails an import out of shared/ into the server', async () => {
    expect(
      await rulesFiring("import { ManagementServer } from '../../server/ManagementServer.js';\nexport const s = ManagementServer;\n", 'shared/config/wrong.ts'),
    ).toContain('openmeet/boundaries');
    expect(
      await rulesFiring("import { normaliseAlias } from '../alias/normalise.js';\nexport const n = normaliseAlias;\n", 'shared/config/right.ts'),
    ).not.toContain('openmeet/boundaries');
  });

  it('lets web/ import only the tRPC router type from server/', async () => {
    const wrong = "import { appRouter } from '../../server/trpc/root.js';\nexport const r = appRouter;\n";
    const typeOnly = "import type { AppRouter } from '../../server/trpc/root.js';\nexport type R = AppRouter;\n";
    const otherType = "import type { LiveStatus } from '../../server/status/LiveStatus.js';\nexport type S = LiveStatus;\n";
    expect(await rulesFiring(wrong, 'web/console/wrong.ts')).toContain('openmeet/boundaries');
    expect(await rulesFiring(otherType, 'web/console/wrong.ts')).toContain('openmeet/boundaries');
    expect(await rulesFiring(typeOnly, 'web/console/right.ts')).not.toContain('openmeet/boundaries');
  });

  it('keeps node-agent/ out of server/ (integration tests excepted)', async () => {
    const code = "import { ManagementServer } from '../server/ManagementServer.js';\nexport const s = ManagementServer;\n";
    expect(await rulesFiring(code, 'node-agent/wrong.ts')).toContain('openmeet/boundaries');
    expect(await rulesFiring(code, 'node-agent/both.integration.test.ts')).not.toContain('openmeet/boundaries');
  });

  it('refuses type assertions through unknown and flags long functions', async () => {
    expect(await rulesFiring('export const n = ("1" as unknown as number) + 1;\n', 'server/wrong.ts')).toContain('no-restricted-syntax');
    expect(await rulesFiring('export const n = Number("1") + 1;\n', 'server/right.ts')).not.toContain('no-restricted-syntax');
    const long = `export function long(): number {\n  let n = 0;\n${'  n += 1;\n'.repeat(90)}  return n;\n}\n`;
    expect(await rulesFiring(long, 'server/long.ts')).toContain('max-lines-per-function');
  });
});
