import { copyFileSync, cpSync, existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { eq } from 'drizzle-orm';
import { openDatabase } from '../../db/client.js';
import { nodeCredential } from '../../db/schema.js';
import { NodeAgent, type NodeAgentOptions } from '../../node-agent/NodeAgent.js';
import { NodeIdentity } from '../../node-agent/management/NodeIdentity.js';
import {
  NODE_KEY_HEADER,
  NODE_THEMES_PATH,
  NODE_WS_PATH,
  serverToNodeSchema,
  type NodeToServer,
  type ServerToNode,
} from '../../shared/node-protocol/messages.js';
import { nodeBundleConfigSchema } from '../../shared/node-protocol/nodeBundleConfig.js';
import { until } from '../../shared/testing/until.js';
import { ManagementServer } from '../ManagementServer.js';
import { defaultLocationId } from './location.service.js';
import { issueEnrollmentToken } from './nodeIdentity.service.js';

const silent = pino({ level: 'silent' });
const KEY = 'identity-test-key';
const auth = { authorization: `Basic ${Buffer.from('admin:pw').toString('base64')}`, 'content-type': 'application/json' };
const tempDir = () => mkdtempSync(join(tmpdir(), 'om-identity-'));
/** This machine's address on its network: a connection from it is not loopback. */
const lanAddress = Object.values(networkInterfaces())
  .flatMap((l) => l ?? [])
  .find((i) => i.family === 'IPv4' && !i.internal)?.address;

/** A hand-driven node link: waits for the challenge, then lets the test send what it wants. */
class RawLink {
  readonly received: ServerToNode[] = [];
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (d) => this.received.push(serverToNodeSchema.parse(JSON.parse(String(d)))));
  }

  static async open(url: string): Promise<RawLink> {
    const ws = new WebSocket(url.replace(/^http/, 'ws') + NODE_WS_PATH);
    const link = new RawLink(ws);
    await until(
      () => link.nonce,
      (n) => n !== null,
    );
    return link;
  }

  get nonce(): string | null {
    const c = this.received.find((m) => m.type === 'challenge');
    return c?.type === 'challenge' ? c.nonce : null;
  }

  send(msg: NodeToServer | object): void {
    this.ws.send(JSON.stringify(msg));
  }

  hello(identity: NodeIdentity, name: string, extra: object = {}, nonce = this.nonce!): NodeToServer {
    return {
      type: 'hello',
      name,
      hostname: 'raw',
      address: '127.0.0.1',
      clientApiUrl: 'http://127.0.0.1:9',
      version: 'test',
      configVersion: null,
      publicKey: identity.publicKey,
      nonce,
      signature: identity.signHello(nonce, name),
      ...extra,
    };
  }

  /** The server's verdict: welcome or rejected. */
  verdict(): Promise<ServerToNode> {
    return until(
      () => this.received.find((m) => m.type === 'welcome' || m.type === 'rejected'),
      (m) => m !== undefined,
    ) as Promise<ServerToNode>;
  }

  close(): void {
    this.ws.terminate();
  }
}

describe('node identity', () => {
  let server: ManagementServer;
  const nodes: NodeAgent[] = [];
  const raws: RawLink[] = [];
  const startNode = async (opts: Partial<NodeAgentOptions> & { name: string; dataDir: string }) => {
    const node = await NodeAgent.start({
      managementUrl: server.url,
      port: 0,
      webRoot: '/nonexistent',
      mediaPortRange: [46000, 46999],
      logger: silent,
      ...opts,
    });
    nodes.push(node);
    return node;
  };
  const raw = async (url = server.url) => {
    const r = await RawLink.open(url);
    raws.push(r);
    return r;
  };
  const rest = (method: string, path: string, body?: unknown) =>
    fetch(`${server.url}${path}`, {
      method,
      headers: body === undefined ? { authorization: auth.authorization } : auth,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  let added = 0;
  const addNode = async (name: string) => {
    const r = await rest('POST', '/api/admin/configuration/v1/worker_vm/', {
      name,
      hostname: name,
      address: `127.0.1.${++added}`,
      system_location: `/api/admin/configuration/v1/system_location/${await defaultLocationId(server.dom)}/`,
      netmask: '255.255.255.0',
      gateway: '127.0.0.1',
    });
    expect(r.status, await r.clone().text()).toBe(201);
    return Number(r.headers.get('location')!.match(/(\d+)\/$/)![1]);
  };
  const configFor = async (id: number) => {
    const r = await rest('POST', '/api/admin/command/v1/conferencing_node/enrollment/', { conferencing_node_id: id, format: 'config' });
    expect(r.status).toBe(200);
    return nodeBundleConfigSchema.parse(await r.json());
  };

  beforeAll(async () => {
    // Every interface, so that one test can come from this machine's network address.
    server = await ManagementServer.start({
      host: '0.0.0.0',
      port: 0,
      database: await openDatabase({ dataDir: 'memory://' }),
      adminPassword: 'pw',
      enrollmentKey: KEY,
      webRoot: '/nonexistent',
      logger: silent,
      nodeLink: { duplicateProbeMs: 1_000 },
    });
  });
  afterEach(async () => {
    for (const r of raws.splice(0)) r.close();
    await Promise.all(nodes.splice(0).map((n) => n.stop()));
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('enrolls the local node with the platform key once; from then on its own key identifies it', async () => {
    const dataDir = tempDir();
    const first = await startNode({ name: 'local-node', dataDir, enrollmentKey: KEY });
    await until(
      () => first.link.connected,
      (c) => c,
    );
    const identity = JSON.parse(readFileSync(join(dataDir, 'identity.json'), 'utf8'));
    expect(statSync(join(dataDir, 'identity.json')).mode & 0o077).toBe(0); // the private key: the node's user only
    const [cred] = await server.dom.db.select().from(nodeCredential).where(eq(nodeCredential.nodeId, identity.nodeId));
    expect(cred?.publicKey).toBe(identity.publicKey);
    await first.stop();
    nodes.splice(0);
    // No key at all now: the node's own key is its credential.
    const again = await startNode({ name: 'local-node', dataDir });
    await until(
      () => again.link.connected,
      (c) => c,
    );
    // Another key claiming the name with the platform key is refused: the name is taken by an identity.
    const impostor = await raw();
    impostor.send(impostor.hello(await NodeIdentity.load(tempDir()), 'local-node', { enrollmentKey: KEY }));
    expect(await impostor.verdict()).toMatchObject({ type: 'rejected', code: 'invalid_credentials' });
  });

  it('refuses a replayed hello, and a second process with the same identity while the first answers', async () => {
    const dataDir = tempDir();
    const node = await startNode({ name: 'replayed', dataDir, enrollmentKey: KEY });
    await until(
      () => node.link.connected,
      (c) => c,
    );
    const nodeId = JSON.parse(readFileSync(join(dataDir, 'identity.json'), 'utf8')).nodeId as number;
    // A copy of the node's key (a cloned machine): a valid signature, but the node is connected and answers.
    const stolen = await NodeIdentity.load(dataDir);
    const first = await raw();
    const recorded = first.hello(stolen, 'replayed', { nodeId });
    first.send(recorded);
    expect(await first.verdict()).toMatchObject({ type: 'rejected', code: 'duplicate' });
    // The recorded hello on another connection: it answers the old nonce, not this one.
    const replay = await raw();
    replay.send(recorded);
    expect(await replay.verdict()).toMatchObject({ type: 'rejected', code: 'invalid_credentials', reason: 'Invalid node signature' });
    // A second node agent on a copy of the data directory is refused; the first stays connected.
    const copy = tempDir();
    cpSync(dataDir, copy, { recursive: true });
    const second = await startNode({ name: 'replayed', dataDir: copy });
    const refused = await new Promise<string | undefined>((resolve) => second.link.once('rejected', (_r, code) => resolve(code)));
    expect(refused).toBe('duplicate');
    expect(node.link.connected).toBe(true);
    expect(server.registry.isLive(nodeId)).toBe(true);
    // Once the first is gone, the second (same identity) is accepted.
    await node.stop();
    await until(
      () => second.link.connected,
      (c) => c,
      15_000,
    );
  });

  it('binds live status to the authenticated node: a node cannot report participants as another', async () => {
    const liar = await raw();
    liar.send(liar.hello(await NodeIdentity.load(tempDir()), 'liar-node', { enrollmentKey: KEY }));
    expect(await liar.verdict()).toMatchObject({ type: 'welcome' });
    const participant = {
      id: 'p1',
      displayName: 'Mallory',
      role: 'guest',
      alias: 'x',
      protocol: 'api',
      connectTime: new Date().toISOString(),
      node: 'someone-else',
      remoteAddress: '10.0.0.1',
    };
    liar.send({
      type: 'conference_started',
      conference: { id: 'c1', name: 'Liar room', serviceType: 'conference', startTime: new Date().toISOString(), participants: [], activeSpeaker: null },
    });
    liar.send({ type: 'participant_joined', conferenceId: 'c1', participant });
    const conf = await until(
      () => server.status.conferences().find((c) => c.name === 'Liar room'),
      (c) => (c?.participants.length ?? 0) > 0,
    );
    expect(conf!.participants.map((p) => p.node)).toEqual(['liar-node']);
  });

  it.skipIf(!lanAddress)('accepts the platform key from this machine only', async () => {
    const remote = await raw(server.url.replace('0.0.0.0', lanAddress!));
    remote.send(remote.hello(await NodeIdentity.load(tempDir()), 'far-node', { enrollmentKey: KEY }));
    expect(await remote.verdict()).toMatchObject({ type: 'rejected', code: 'not_allowed' });
    // Nor does it fetch theme packages from there (a node elsewhere uses its link's session).
    const themeUrl = (host: string) => `${server.url.replace('0.0.0.0', host)}${NODE_THEMES_PATH}/base`;
    expect((await fetch(themeUrl(lanAddress!), { headers: { [NODE_KEY_HEADER]: KEY } })).status).toBe(401);
    expect((await fetch(themeUrl('127.0.0.1'), { headers: { [NODE_KEY_HEADER]: KEY } })).status).toBe(200);
  });

  it('enrolls a node added in the console with its one-time token: single use, expiring, for that node only', async () => {
    const id = await addNode('token-node');
    // Tokens and revocation are for administrators only.
    for (const path of ['enrollment', 'revoke']) {
      const anonymous = await fetch(`${server.url}/api/admin/command/v1/conferencing_node/${path}/`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ conferencing_node_id: id }),
      });
      expect(anonymous.status).toBe(401);
    }
    expect((await rest('POST', '/api/admin/command/v1/conferencing_node/enrollment/', { conferencing_node_id: 'x' })).status).toBe(400);
    expect((await rest('POST', '/api/admin/command/v1/conferencing_node/enrollment/', { conferencing_node_id: 999_999 })).status).toBe(404);
    const listed = () => server.registry.isLive(id);
    const config = await configFor(id);
    expect(config).toMatchObject({ name: 'token-node', managementUrl: server.url, address: '127.0.1.1' });
    const node = await startNode({ name: 'token-node', dataDir: tempDir(), enrollmentToken: config.enrollmentToken });
    await until(
      () => node.link.connected,
      (c) => c,
    );
    expect(listed()).toBe(true);
    // Used: another identity with the same token is refused.
    const again = await raw();
    again.send(again.hello(await NodeIdentity.load(tempDir()), 'token-node', { enrollmentToken: config.enrollmentToken }));
    expect(await again.verdict()).toMatchObject({ type: 'rejected', code: 'token_invalid' });
    // Expired.
    const other = await addNode('expired-node');
    const expired = await issueEnrollmentToken(server.dom, other, -1_000);
    const late = await raw();
    late.send(late.hello(await NodeIdentity.load(tempDir()), 'expired-node', { enrollmentToken: expired.token }));
    expect(await late.verdict()).toMatchObject({ type: 'rejected', code: 'token_invalid' });
    // Enrolled again (a replacement machine): a new download's token moves the identity; the old holder is cut.
    const replaced = new Promise<string | undefined>((resolve) => node.link.once('rejected', (_r, code) => resolve(code)));
    const again2 = await configFor(id);
    const replacement = await raw();
    replacement.send(replacement.hello(await NodeIdentity.load(tempDir()), 'token-node', { enrollmentToken: again2.enrollmentToken }));
    expect(await replacement.verdict()).toMatchObject({ type: 'welcome', nodeId: id });
    expect(await replaced).toBe('invalid_credentials');
    // Another node's token.
    const fresh = await configFor(other);
    const wrongName = await raw();
    wrongName.send(wrongName.hello(await NodeIdentity.load(tempDir()), 'token-node-2', { enrollmentToken: fresh.enrollmentToken }));
    expect(await wrongName.verdict()).toMatchObject({ type: 'rejected' });
  });

  it('refuses a revoked node, which stops serving', async () => {
    const id = await addNode('revoked-node');
    const dataDir = tempDir();
    const config = await configFor(id);
    const node = await startNode({ name: 'revoked-node', dataDir, enrollmentToken: config.enrollmentToken });
    await until(
      () => node.link.connected,
      (c) => c,
    );
    const r = await rest('POST', '/api/admin/configuration/v1/conference/', { name: 'Revoked room', aliases: [{ alias: 'revoked@example.com' }] });
    expect(r.status).toBe(201);
    await until(
      () => node.manager.directory.lookup('revoked@example.com'),
      (s) => s !== undefined,
    );
    const joined = await fetch(`${node.url}/api/client/v2/conferences/revoked@example.com/request_token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ display_name: 'Rae' }),
    });
    expect(joined.status).toBe(200);
    const copy = tempDir();
    copyFileSync(join(dataDir, 'identity.json'), join(copy, 'identity.json')); // the revoked credential, kept by someone

    const decommissioned = new Promise<string>((resolve) => node.link.once('decommissioned', resolve));
    expect((await rest('POST', '/api/admin/command/v1/conferencing_node/revoke/', { conferencing_node_id: id })).status).toBe(200);
    expect(await decommissioned).toMatch(/revoked/);
    expect(node.manager.conferences()).toHaveLength(0);
    const after = await fetch(`${node.url}/api/client/v2/conferences/revoked@example.com/request_token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ display_name: 'Rae' }),
    });
    expect(after.status).not.toBe(200);
    expect(await (await fetch(`${node.url}/healthz`)).json()).toMatchObject({ decommissioned: true });
    expect(existsSync(join(dataDir, 'identity.json'))).toBe(false);
    // The revoked key is refused.
    const back = await raw();
    back.send(back.hello(await NodeIdentity.load(copy), 'revoked-node', { nodeId: id }));
    expect(await back.verdict()).toMatchObject({ type: 'rejected', code: 'revoked' });
    const list = (await (await rest('GET', '/api/admin/configuration/v1/worker_vm/')).json()) as { objects: { id: number }[] };
    expect(list.objects.some((o) => o.id === id)).toBe(true);
  });

  it('makes a deleted node stop serving', async () => {
    const id = await addNode('deleted-node');
    const config = await configFor(id);
    const node = await startNode({ name: 'deleted-node', dataDir: tempDir(), enrollmentToken: config.enrollmentToken });
    await until(
      () => node.link.connected,
      (c) => c,
    );
    const decommissioned = new Promise<string>((resolve) => node.link.once('decommissioned', resolve));
    const deleted = await rest('DELETE', `/api/admin/configuration/v1/worker_vm/${id}/`);
    expect(deleted.status, await deleted.text()).toBe(204);
    expect(await decommissioned).toMatch(/deleted/);
    expect(node.link.connected).toBe(false);
    expect(node.manager.directory.size).toBe(0);
  });
});
