import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { openDatabase } from '../../db/client.js';
import { NodeAgent } from '../../node-agent/NodeAgent.js';
import { NodeIdentity } from '../../node-agent/management/NodeIdentity.js';
import { NODE_WS_PATH, serverToNodeSchema, type ServerToNode } from '../../shared/node-protocol/messages.js';
import { until } from '../../shared/testing/until.js';
import { ManagementServer } from '../ManagementServer.js';

const silent = pino({ level: 'silent' });
const KEY = 'heartbeat-test-key';
const tempDir = () => mkdtempSync(join(tmpdir(), 'om-heartbeat-'));
const children: ChildProcess[] = [];

/** Starts a real process (node agent or management server) and resolves with the URL it prints. */
function launch(script: string, env: Record<string, string>, banner: RegExp): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', script], { env: { ...process.env, LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (d: Buffer) => {
      out += String(d);
      const m = out.match(banner);
      if (m) resolve({ child, url: m[1]! });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => (out += String(d)));
    child.on('exit', (code) => reject(new Error(`${script} exited (${code}): ${out.slice(-2_000)}`)));
  });
}

afterAll(() => {
  for (const c of children) {
    c.kill('SIGCONT');
    c.kill('SIGKILL');
  }
});

describe('heartbeats between nodes and the management server', () => {
  it(
    'shows a frozen node (SIGSTOP) unreachable within 15 s with its conferences stale; a silent holder gives way to a second claimant',
    { timeout: 90_000 },
    async () => {
      const server = await ManagementServer.start({
        port: 0,
        database: await openDatabase({ dataDir: 'memory://' }),
        adminPassword: 'pw',
        enrollmentKey: KEY,
        webRoot: '/nonexistent',
        logger: silent,
      });
      try {
        const dataDir = tempDir();
        const node = await launch(
          'node-agent/main.ts',
          {
            NODE_NAME: 'frozen-node',
            MANAGEMENT_URL: server.url,
            NODE_ENROLLMENT_KEY: KEY,
            NODE_PORT: '0',
            NODE_HTTPS_PORT: 'off',
            NODE_DATA_DIR: dataDir,
            MEDIA_PORTS: '47000-47099',
          },
          /conferencing node at (http:\/\/\S+) /,
        );
        const auth = { authorization: `Basic ${Buffer.from('admin:pw').toString('base64')}`, 'content-type': 'application/json' };
        const vmr = await fetch(`${server.url}/api/admin/configuration/v1/conference/`, {
          method: 'POST',
          headers: auth,
          body: JSON.stringify({ name: 'Frozen room', aliases: [{ alias: 'frozen@example.com' }] }),
        });
        expect(vmr.status).toBe(201);
        const token = await until(
          () =>
            fetch(`${node.url}/api/client/v2/conferences/frozen@example.com/request_token`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ display_name: 'Fay' }),
            }),
          (r) => r.status === 200,
          10_000,
        );
        expect(token.status).toBe(200);
        const nodeId = (await NodeIdentity.load(dataDir)).nodeId!;
        await until(
          () => server.status.conferences().find((c) => c.name === 'Frozen room')?.participants.length,
          (n) => n === 1,
        );
        expect(server.registry.isLive(nodeId)).toBe(true);

        node.child.kill('SIGSTOP');
        const t0 = Date.now();
        const conf = await until(
          () => server.status.conferences().find((c) => c.name === 'Frozen room'),
          (c) => c?.stale === true && !server.registry.isLive(nodeId),
          20_000,
        );
        const unreachableAfterMs = Date.now() - t0;
        console.log(`frozen node shown unreachable after ${unreachableAfterMs} ms`);
        expect(unreachableAfterMs).toBeLessThan(15_000);
        expect(conf!.participants).toEqual([expect.objectContaining({ displayName: 'Fay', node: 'frozen-node', stale: true })]);

        // It resumes: live again and its conferences no longer stale.
        node.child.kill('SIGCONT');
        await until(
          () => server.registry.isLive(nodeId) && server.status.conferences().find((c) => c.name === 'Frozen room'),
          (c) => c !== false && c !== undefined && c.stale === undefined,
          20_000,
        );

        // Frozen again while a second process presents its identity: the silent holder gives way.
        node.child.kill('SIGSTOP');
        const claimant = new WebSocket(server.url.replace(/^http/, 'ws') + NODE_WS_PATH);
        const got: ServerToNode[] = [];
        claimant.on('message', (d) => got.push(serverToNodeSchema.parse(JSON.parse(String(d)))));
        const nonce = await until(
          () => got.find((m) => m.type === 'challenge'),
          (m) => m !== undefined,
        );
        const copy = await NodeIdentity.load(dataDir);
        const n = nonce!.type === 'challenge' ? nonce!.nonce : '';
        claimant.send(
          JSON.stringify({
            type: 'hello',
            name: 'frozen-node',
            hostname: 'h',
            address: '127.0.0.1',
            clientApiUrl: 'http://127.0.0.1:9',
            version: 't',
            configVersion: null,
            publicKey: copy.publicKey,
            nonce: n,
            signature: copy.signHello(n, 'frozen-node'),
            nodeId,
          }),
        );
        expect(
          await until(
            () => got.find((m) => m.type === 'welcome' || m.type === 'rejected'),
            (m) => m !== undefined,
            10_000,
          ),
        ).toMatchObject({ type: 'welcome', nodeId });
        claimant.terminate();
        node.child.kill('SIGCONT');
      } finally {
        await server.stop();
      }
    },
  );

  it('does not cut a node because the server itself stalled (its pongs were unread behind the check)', { timeout: 60_000 }, async () => {
    const server = await ManagementServer.start({
      port: 0,
      database: await openDatabase({ dataDir: 'memory://' }),
      adminPassword: 'pw',
      enrollmentKey: KEY,
      webRoot: '/nonexistent',
      logger: silent,
      nodeLink: { heartbeat: { intervalMs: 300, timeoutMs: 1_000 } },
    });
    const node = await NodeAgent.start({
      name: 'steady-node',
      managementUrl: server.url,
      enrollmentKey: KEY,
      port: 0,
      dataDir: tempDir(),
      webRoot: '/nonexistent',
      mediaPortRange: [47300, 47399],
      logger: silent,
      linkHeartbeat: { intervalMs: 300, timeoutMs: 1_000 },
    });
    try {
      await until(
        () => node.link.connected,
        (c) => c,
      );
      let reconnects = 0;
      node.link.on('connected', () => reconnects++);
      // Both ends share this process: a 2.5 s synchronous stall freezes them together, as a long import would.
      const end = Date.now() + 2_500;
      while (Date.now() < end) {
        /* busy */
      }
      await new Promise((r) => setTimeout(r, 1_500));
      expect(node.link.connected).toBe(true);
      expect(reconnects).toBe(0);
    } finally {
      await node.stop();
      await server.stop();
    }
  });

  it('a node notices a frozen management server (SIGSTOP) and reconnects when it resumes', { timeout: 120_000 }, async () => {
    const server = await launch(
      'server/main.ts',
      { PORT: '0', HTTPS_PORT: 'off', DATA_DIR: tempDir(), ADMIN_PASSWORD: 'pw', NODE_ENROLLMENT_KEY: KEY },
      /management server at (http:\/\/\S+)/,
    );
    const node = await NodeAgent.start({
      name: 'patient-node',
      managementUrl: server.url,
      enrollmentKey: KEY,
      port: 0,
      dataDir: tempDir(),
      webRoot: '/nonexistent',
      mediaPortRange: [47100, 47199],
      logger: silent,
      linkHeartbeat: { intervalMs: 1_000, timeoutMs: 3_000 },
    });
    try {
      await until(
        () => node.link.connected,
        (c) => c,
        20_000,
      );
      server.child.kill('SIGSTOP');
      const t0 = Date.now();
      await until(
        () => node.link.connected,
        (c) => !c,
        10_000,
      );
      const noticedAfterMs = Date.now() - t0;
      console.log(`node noticed the frozen management server after ${noticedAfterMs} ms`);
      expect(noticedAfterMs).toBeLessThan(5_000);
      server.child.kill('SIGCONT');
      const t1 = Date.now();
      await until(
        () => node.link.connected,
        (c) => c,
        30_000,
      );
      console.log(`node reconnected ${Date.now() - t1} ms after the management server resumed`);
    } finally {
      await node.stop();
      server.child.kill('SIGCONT');
      server.child.kill('SIGTERM');
    }
  });
});
