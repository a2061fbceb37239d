import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { platformSetting } from '../../db/schema.js';
import { TEST_DATABASES } from '../../db/testing.js';
import { NodeAgent } from '../../node-agent/NodeAgent.js';
import { ManagementServer } from '../ManagementServer.js';
import { createBackup, downloadBackup, restoreBackup } from './backup.service.js';

const silent = pino({ level: 'silent' });

/** Resolves with how a node agent's enrollment ended: connected, or the server's refusal. */
async function enrollOutcome(server: ManagementServer, key: string, name: string): Promise<{ outcome: string; node: NodeAgent }> {
  const node = await NodeAgent.start({
    name,
    managementUrl: server.url,
    enrollmentKey: key,
    port: 0,
    dataDir: mkdtempSync(join(tmpdir(), 'om-restore-')),
    webRoot: '/nonexistent',
    mediaPortRange: [45100, 45199],
    logger: silent,
  });
  const outcome = await new Promise<string>((resolve) => {
    if (node.link.connected) return resolve('connected');
    node.link.once('connected', () => resolve('connected'));
    node.link.once('rejected', (reason) => resolve(`rejected: ${reason}`));
    setTimeout(() => resolve('no answer'), 10_000).unref();
  });
  return { outcome, node };
}

describe.each(TEST_DATABASES)('enrollment key after a restore on $name', ({ open }) => {
  let server: ManagementServer;
  const nodes: NodeAgent[] = [];

  beforeAll(async () => {
    server = await ManagementServer.start({
      port: 0,
      database: await open(),
      adminPassword: 'pw',
      enrollmentKey: 'running-key',
      webRoot: '/nonexistent',
      logger: silent,
    });
  });
  afterAll(async () => {
    for (const n of nodes) await n.stop();
    await server?.stop();
  });

  it('takes the restored key at once: nodes with the old key are refused, nodes with the restored one enroll', async () => {
    const dom = { ...server.dom, actor: 'admin' };
    const db = server.dom.db;
    // A backup made when the platform's key was another one (as on another installation).
    await db.update(platformSetting).set({ value: 'backed-up-key' }).where(eq(platformSetting.key, 'node_enrollment_key'));
    const file = await createBackup(dom, { passphrase: 'pass phrase', passphrase_confirm: 'pass phrase' });
    await db.update(platformSetting).set({ value: 'running-key' }).where(eq(platformSetting.key, 'node_enrollment_key'));
    const { archive } = await downloadBackup(dom, file.id);

    const before = await enrollOutcome(server, 'running-key', 'before-restore');
    nodes.push(before.node);
    expect(before.outcome).toBe('connected');

    await restoreBackup(dom, archive, 'pass phrase');
    // The registry re-reads the key asynchronously after the restore notification.
    await server.registry.enrollmentKeyRead();

    const old = await enrollOutcome(server, 'running-key', 'old-key');
    nodes.push(old.node);
    expect(old.outcome).toBe('rejected: Invalid enrollment key');
    const restored = await enrollOutcome(server, 'backed-up-key', 'restored-key');
    nodes.push(restored.node);
    expect(restored.outcome).toBe('connected');
  });
});
