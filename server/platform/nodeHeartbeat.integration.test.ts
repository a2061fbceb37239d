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
import { NODE_HEARTBEAT, NODE_WS_PATH, serverToNodeSchema, type ServerToNode } from '../../shared/node-protocol/messages.js';
import { ManualClock } from '../../shared/time/ManualClock.js';
import { until } from '../../shared/testing/until.js';
import { ManagementServer, type ManagementServerOptions } from '../ManagementServer.js';

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

/** A management server on an in-memory database, its node link as given (a clock the test moves). */
const startServer = async (nodeLink: NonNullable<ManagementServerOptions['nodeLink']>) =>
  ManagementServer.start({
    port: 0,
    database: await openDatabase({ dataDir: 'memory://' }),
    adminPassword: 'pw',
    enrollmentKey: KEY,
    webRoot: '/nonexistent',
    logger: silent,
    nodeLink,
  });

/**
 * A second process presenting a node's identity (from its data directory): answers the server's
 * challenge with a signed hello. Resolves with the server's messages as they come, and the socket.
 */
async function claimIdentity(server: ManagementServer, dataDir: string, nodeId: number, name: string) {
  const claimant = new WebSocket(server.url.replace(/^http/, 'ws') + NODE_WS_PATH);
  const got: ServerToNode[] = [];
  claimant.on('message', (d) => got.push(serverToNodeSchema.parse(JSON.parse(String(d)))));
  const challenge = await until(
    () => got.find((m) => m.type === 'challenge'),
    (m) => m !== undefined,
  );
  const copy = await NodeIdentity.load(dataDir);
  const nonce = challenge!.type === 'challenge' ? challenge!.nonce : '';
  claimant.send(
    JSON.stringify({
      type: 'hello',
      name,
      hostname: 'h',
      address: '127.0.0.1',
      clientApiUrl: 'http://127.0.0.1:9',
      version: 't',
      configVersion: null,
      publicKey: copy.publicKey,
      nonce,
      signature: copy.signHello(nonce, name),
      nodeId,
    }),
  );
  return { claimant, got };
}

afterAll(() => {
  for (const c of children) {
    c.kill('SIGCONT');
    c.kill('SIGKILL');
  }
});

describe('heartbeats: the management server watches its nodes', () => {
  it(
    'shows a frozen node (SIGSTOP) unreachable within 15 s with its conferences stale; a silent holder gives way to a second claimant',
    { timeout: 90_000 },
    async () => {
      // The server's heartbeat runs on a clock the test moves: the node is a real, really frozen process.
      const clock = new ManualClock();
      const server = await startServer({ clock });
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
        const frozenRoom = () => server.status.conferences().find((c) => c.name === 'Frozen room');
        const unreachableAfterMs = await clock.advanceUntil(() => frozenRoom()?.stale === true && !server.registry.isLive(nodeId), {
          stepMs: 500,
          maxMs: 20_000,
        });
        const conf = frozenRoom();
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
        const { claimant, got } = await claimIdentity(server, dataDir, nodeId, 'frozen-node');
        // The holder is pinged and given 2 s to answer: the claimant is let in then, well before the holder's silence alone would cut it.
        const answered = () => got.find((m) => m.type === 'welcome' || m.type === 'rejected');
        const gaveWayAfterMs = await clock.advanceUntil(() => answered() !== undefined, { stepMs: 250, maxMs: 10_000 });
        expect(answered()).toMatchObject({ type: 'welcome', nodeId });
        expect(gaveWayAfterMs).toBeGreaterThanOrEqual(2_000);
        expect(gaveWayAfterMs).toBeLessThan(NODE_HEARTBEAT.timeoutMs);
        claimant.terminate();
        node.child.kill('SIGCONT');
      } finally {
        await server.stop();
      }
    },
  );
});

describe('heartbeats: a stall of this process is not silence', () => {
  it('does not cut a node because the server itself stalled (its pongs were unread behind the check)', { timeout: 60_000 }, async () => {
    const clock = new ManualClock();
    const server = await startServer({ heartbeat: { intervalMs: 300, timeoutMs: 1_000 }, clock });
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
      linkClock: clock,
    });
    try {
      await until(
        () => node.link.connected,
        (c) => c,
      );
      let reconnects = 0;
      node.link.on('connected', () => reconnects++);
      // A normal beat first: pings answered, nothing cut.
      await clock.advance(300);
      // Both ends share this process: a 2.5 s stall freezes them together, as a long import would; both
      // checks then run late, once, with the other side's pongs still unread.
      await clock.stall(2_500);
      // And 1.5 s of normal running after it, pongs answered in real time between beats.
      await clock.run(1_500, { stepMs: 100 });
      expect(node.link.connected).toBe(true);
      expect(reconnects).toBe(0);
    } finally {
      await node.stop();
      await server.stop();
    }
  });
});

describe('heartbeats: a node watches its management server', () => {
  it('a node notices a frozen management server (SIGSTOP) and reconnects when it resumes', { timeout: 120_000 }, async () => {
    // The node's side runs on a clock the test moves; the server is a real, really frozen process.
    const clock = new ManualClock();
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
      linkClock: clock,
    });
    try {
      await until(
        () => node.link.connected,
        (c) => c,
        20_000,
      );
      server.child.kill('SIGSTOP');
      const noticedAfterMs = await clock.advanceUntil(() => !node.link.connected, { stepMs: 250, maxMs: 10_000 });
      console.log(`node noticed the frozen management server after ${noticedAfterMs} ms`);
      expect(noticedAfterMs).toBeGreaterThan(3_000);
      expect(noticedAfterMs).toBeLessThan(5_000);
      server.child.kill('SIGCONT');
      const reconnectedAfterMs = await clock.advanceUntil(() => node.link.connected, { stepMs: 250, maxMs: 30_000, ioMs: 200 });
      console.log(`node reconnected ${reconnectedAfterMs} ms after the management server resumed`);
    } finally {
      await node.stop();
      server.child.kill('SIGCONT');
      server.child.kill('SIGTERM');
    }
  });
});
