import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventEmitter } from 'node:events';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { TEST_DATABASES } from '../../db/testing.js';
import { NodeAgent } from '../../node-agent/NodeAgent.js';
import { NodeIdentity } from '../../node-agent/management/NodeIdentity.js';
import { READ_WRITE_PERMISSIONS } from '../../shared/admin/permissions.js';
import { NODE_WS_PATH, type NodeToServer, type ServerToNode } from '../../shared/node-protocol/messages.js';
import { until } from '../../shared/testing/until.js';
import { ManagementServer } from '../ManagementServer.js';
import { appRouter } from '../trpc/root.js';
import type { ConferenceStatus } from './LiveStatus.js';

const KEY = 'active-speaker-key';
const silent = pino({ level: 'silent' });

/** A conferencing node reduced to its management WebSocket, speaking the real protocol. */
class FakeNode {
  readonly received: ServerToNode[] = [];
  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data) => this.received.push(JSON.parse(String(data)) as ServerToNode));
  }

  static async connect(serverUrl: string, name: string): Promise<FakeNode> {
    const ws = new WebSocket(serverUrl.replace(/^http/, 'ws') + NODE_WS_PATH);
    const node = new FakeNode(ws);
    await new Promise<void>((resolve, reject) => ws.once('open', resolve).once('error', reject));
    // The hello answers the server's challenge, signed with the node's own key.
    const challenge = await until(
      () => node.received.find((m) => m.type === 'challenge'),
      (m) => m !== undefined,
    );
    const nonce = challenge?.type === 'challenge' ? challenge.nonce : '';
    const identity = await NodeIdentity.load(mkdtempSync(join(tmpdir(), 'om-fake-node-')));
    node.send({
      type: 'hello',
      name,
      hostname: name,
      address: '127.0.0.1',
      clientApiUrl: 'http://127.0.0.1:9',
      enrollmentKey: KEY,
      version: 'test',
      configVersion: null,
      publicKey: identity.publicKey,
      nonce,
      signature: identity.signHello(nonce, name),
    });
    await until(
      () => node.received.some((m) => m.type === 'welcome'),
      (ok) => ok,
    );
    return node;
  }

  /** Sends raw JSON: what an older node sends may lack newer fields. */
  send(msg: NodeToServer | Record<string, unknown>): void {
    this.ws.send(JSON.stringify(msg));
  }

  close(): void {
    this.ws.close();
  }
}

const participant = (id: string, displayName: string, node: string) => ({
  id,
  displayName,
  role: 'chair',
  alias: 'meet.speaker',
  protocol: 'webrtc',
  connectTime: new Date().toISOString(),
  node,
  remoteAddress: '127.0.0.1',
});

/** A conference as an older node sends it: no activeSpeaker. */
const conference = (id: string, node: string, ...people: [string, string][]) => ({
  id,
  name: 'Speaker room',
  serviceType: 'conference',
  startTime: new Date().toISOString(),
  participants: people.map(([pid, name]) => participant(pid, name, node)),
});

describe.each(TEST_DATABASES)('the current speaker in the live status on $name', ({ open }) => {
  let server: ManagementServer;
  const nodes: FakeNode[] = [];
  const asConsole = () =>
    appRouter.createCaller({
      dom: server.dom,
      status: server.status,
      registry: server.registry,
      admin: { id: 1, username: 'admin', mayUseWeb: true, mayUseApi: true, permissions: READ_WRITE_PERMISSIONS },
      sessionToken: undefined,
      setCookie: () => {},
    });
  const speakerOf = async (name = 'Speaker room') => (await asConsole().status.conferences()).find((c) => c.name === name)?.activeSpeaker;
  const connect = async (name: string) => {
    const n = await FakeNode.connect(server.url, name);
    nodes.push(n);
    return n;
  };

  beforeAll(async () => {
    server = await ManagementServer.start({
      port: 0,
      database: await open(),
      adminPassword: 'pw',
      enrollmentKey: KEY,
      webRoot: '/nonexistent',
      logger: silent,
    });
  });
  afterEach(async () => {
    for (const n of nodes.splice(0)) n.close();
    await until(
      () => server.status.conferences().length,
      (n) => n === 0,
    );
  });
  afterAll(() => server?.stop());

  it("follows a node's active_speaker messages in the console's query and live subscription", async () => {
    const node = await connect('speaker-node-1');
    node.send({ type: 'conference_started', conference: conference('conf-1', 'speaker-node-1') });
    node.send({ type: 'participant_joined', conferenceId: 'conf-1', participant: participant('alice', 'Alice', 'speaker-node-1') });
    node.send({ type: 'participant_joined', conferenceId: 'conf-1', participant: participant('bob', 'Bob', 'speaker-node-1') });
    await until(
      () => asConsole().status.conferences(),
      (cs) => cs[0]?.participants.length === 2,
    );
    // An older node's conference (no activeSpeaker field) still parses: nobody is speaking.
    expect(await speakerOf()).toBeNull();

    const live = (await asConsole().status.live()) as AsyncIterable<ConferenceStatus[]>;
    const updates = live[Symbol.asyncIterator]();
    expect((await updates.next()).value?.[0]?.activeSpeaker).toBeNull();

    node.send({ type: 'active_speaker', conferenceId: 'conf-1', participantId: 'bob' });
    expect((await updates.next()).value?.[0]).toMatchObject({ name: 'Speaker room', activeSpeaker: 'bob' });
    expect(await speakerOf()).toBe('bob');

    node.send({ type: 'active_speaker', conferenceId: 'conf-1', participantId: 'alice' });
    expect((await updates.next()).value?.[0]?.activeSpeaker).toBe('alice');

    // The speaker leaving clears it even before the node reports the next one.
    node.send({ type: 'participant_left', conferenceId: 'conf-1', participantId: 'alice' });
    expect((await updates.next()).value?.[0]?.activeSpeaker).toBeNull();
    await updates.return?.();

    // A speaker for a conference the server does not know is ignored.
    node.send({ type: 'active_speaker', conferenceId: 'unknown', participantId: 'bob' });
    node.send({ type: 'active_speaker', conferenceId: 'conf-1', participantId: 'bob' });
    await until(
      () => speakerOf(),
      (s) => s === 'bob',
    );
    expect(await asConsole().status.conferences()).toHaveLength(1);
  });

  it('takes the speaker from a resynchronising status message, and defaults it to null', async () => {
    const node = await connect('speaker-node-2');
    node.send({ type: 'status', conferences: [{ ...conference('conf-2', 'speaker-node-2', ['carol', 'Carol'], ['dave', 'Dave']), activeSpeaker: 'dave' }] });
    await until(
      () => speakerOf(),
      (s) => s === 'dave',
    );
    node.send({ type: 'status', conferences: [conference('conf-2', 'speaker-node-2', ['carol', 'Carol'], ['dave', 'Dave'])] });
    await until(
      () => speakerOf(),
      (s) => s === null,
    );
  });

  it('shows the most recently reported speaker of a conference spanning two nodes', async () => {
    const a = await connect('speaker-node-a');
    const b = await connect('speaker-node-b');
    a.send({ type: 'conference_started', conference: conference('conf-a', 'speaker-node-a', ['erin', 'Erin']) });
    b.send({ type: 'conference_started', conference: conference('conf-b', 'speaker-node-b', ['frank', 'Frank']) });
    await until(
      () => asConsole().status.conferences(),
      (cs) => cs[0]?.participants.length === 2,
    );
    b.send({ type: 'active_speaker', conferenceId: 'conf-b', participantId: 'frank' });
    await until(
      () => speakerOf(),
      (s) => s === 'frank',
    );
    a.send({ type: 'active_speaker', conferenceId: 'conf-a', participantId: 'erin' });
    await until(
      () => speakerOf(),
      (s) => s === 'erin',
    );
    a.send({ type: 'active_speaker', conferenceId: 'conf-a', participantId: null });
    await until(
      () => speakerOf(),
      (s) => s === 'frank',
    );
    // A node going away takes its speaker with it.
    b.close();
    await until(
      () => speakerOf(),
      (s) => s === null,
    );
  });

  it('keeps the REST participant status to the fields Pexip has', async () => {
    const node = await connect('speaker-node-3');
    node.send({ type: 'conference_started', conference: conference('conf-3', 'speaker-node-3', ['gina', 'Gina']) });
    node.send({ type: 'active_speaker', conferenceId: 'conf-3', participantId: 'gina' });
    await until(
      () => speakerOf(),
      (s) => s === 'gina',
    );
    const r = await fetch(`${server.url}/api/admin/status/v1/participant/`, {
      headers: { authorization: `Basic ${Buffer.from('admin:pw').toString('base64')}` },
    });
    const body = (await r.json()) as { objects: Record<string, unknown>[] };
    expect(body.objects).toHaveLength(1);
    expect(Object.keys(body.objects[0]!).filter((k) => /speak/i.test(k))).toEqual([]);
  });
});

describe('a conferencing node reports its current speaker', () => {
  let server: ManagementServer;
  let node: NodeAgent;
  const sent: NodeToServer[] = [];

  beforeAll(async () => {
    const db = TEST_DATABASES[0]!;
    server = await ManagementServer.start({
      port: 0,
      database: await db.open(),
      adminPassword: 'pw',
      enrollmentKey: KEY,
      webRoot: '/nonexistent',
      logger: silent,
    });
    node = await NodeAgent.start({
      name: 'speaker-node',
      managementUrl: server.url,
      enrollmentKey: KEY,
      port: 0,
      dataDir: mkdtempSync(join(tmpdir(), 'om-speaker-node-')),
      webRoot: '/nonexistent',
      mediaPortRange: [44400, 44499],
      mediaWorkers: 1,
      logger: silent,
    });
    await until(
      () => node.link.connected && node.link.config !== null,
      (c) => c,
    );
    const send = node.link.send.bind(node.link);
    node.link.send = (msg) => {
      sent.push(msg);
      send(msg);
    };
  });
  afterAll(async () => {
    await node?.stop();
    await server?.stop();
  });

  it('sends active_speaker when the front of the stage changes to someone heard, once per change', async () => {
    const auth = { authorization: `Basic ${Buffer.from('admin:pw').toString('base64')}`, 'content-type': 'application/json' };
    const r = await fetch(`${server.url}/api/admin/configuration/v1/conference/`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ name: 'Node speaker room', aliases: [{ alias: 'meet.node-speaker' }] }),
    });
    expect(r.status, await r.clone().text()).toBe(201);
    await until(
      () => node.manager.directory.lookup('meet.node-speaker'),
      (s) => s !== undefined,
    );
    const join = async (name: string) => {
      const res = await fetch(`${node.url}/api/client/v2/conferences/meet.node-speaker/request_token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ display_name: name }),
      });
      expect(res.status).toBe(200);
      return ((await res.json()) as { result: { participant_uuid: string } }).result.participant_uuid;
    };
    const alice = await join('Alice');
    const bob = await join('Bob');
    await until(
      () => appStatus(),
      (cs) => cs[0]?.participants.length === 2,
    );
    const conf = node.manager.conferences()[0]!;
    // The media's stage as the mediasoup observers would publish it.
    const media = conf.media;
    if (!(media instanceof EventEmitter)) throw new Error('the conference media is not an EventEmitter');
    const stage = (...s: [string, boolean][]) =>
      media.emit(
        'stage',
        s.map(([participantId, speaking]) => ({ participantId, speaking })),
      );

    stage([alice, false], [bob, false]);
    stage([alice, false], [bob, true]);
    expect(sent.filter((m) => m.type === 'active_speaker')).toEqual([]);
    stage([bob, true], [alice, false]);
    stage([bob, false], [alice, false]);
    expect(sent.filter((m) => m.type === 'active_speaker')).toEqual([{ type: 'active_speaker', conferenceId: conf.id, participantId: bob }]);
    await until(
      () => appStatus(),
      (cs) => cs[0]?.activeSpeaker === bob,
    );

    // After a reconnection the node's status message carries the speaker again.
    sent.length = 0;
    const ws: unknown = Reflect.get(node.link, 'ws');
    if (!(ws instanceof WebSocket)) throw new Error('the management link has no socket');
    ws.close();
    await until(
      () => sent.find((m) => m.type === 'status'),
      (m) => m !== undefined,
    );
    expect(sent.find((m) => m.type === 'status')).toMatchObject({ conferences: [{ id: conf.id, activeSpeaker: bob }] });
    await until(
      () => appStatus(),
      (cs) => cs[0]?.activeSpeaker === bob && cs[0].participants.length === 2,
    );

    // Bob leaves: the stage's new front (Alice) has never been heard, so nobody is the speaker.
    sent.length = 0;
    stage([alice, false]);
    expect(sent).toEqual([{ type: 'active_speaker', conferenceId: conf.id, participantId: null }]);
  });

  function appStatus(): ConferenceStatus[] {
    return server.status.conferences();
  }
});
