import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../db/client.js';
import { MediaTestClient } from '../../node-agent/testing/MediaTestClient.js';
import { MultiStreamTestClient } from '../../node-agent/testing/MultiStreamTestClient.js';
import { UdpPhone } from '../../node-agent/testing/UdpPhone.js';
import { clientApiSessionSignalling } from '../../testing/clientApiSessionSignalling.js';
import { nodeBundleConfigSchema } from '../../shared/node-protocol/nodeBundleConfig.js';
import { until } from '../../shared/testing/until.js';
import { NetnsLab, type LabNode } from '../../testing/NetnsLab.js';
import { ManagementServer } from '../ManagementServer.js';
import { appRouter } from '../trpc/root.js';
import type { Context } from '../trpc/trpc.js';
import { READ_WRITE_PERMISSIONS } from '../../shared/admin/permissions.js';
import type { BackplaneLinkView } from '../../shared/status/backplaneView.js';

const silent = pino({ level: 'silent' });
const CONFIG = '/api/admin/configuration/v1';
const auth = { authorization: `Basic ${Buffer.from('admin:pw').toString('base64')}`, 'content-type': 'application/json' };
const unsupported = NetnsLab.supported();
if (unsupported) console.warn(`backplane network namespace test skipped: ${unsupported}`);
/** The clients' own ports, on the host's side of the lab network. */
const CLIENT_PORTS: [number, number] = [41000, 41999];
const SIP_PORT = 5060;
/** The Base theme's "waiting for the Host" prompt's tone. */
const BASE_PROMPT_HZ = 660;
const HEARD_DB = -40;
const ALIAS = 'spread@example.com';
const callSchema = z.object({ call_uuid: z.string(), sdp: z.string() });

interface Joined {
  node: LabNode;
  token: string;
  uuid: string;
  client: MediaTestClient;
}

/**
 * Issue 14: one conference across two nodes. Two node agents, each its own process in its own
 * network namespace and address (two system locations), one VMR; two participants call node 1
 * and one calls node 2 through the client API, each a real WebRTC client with its own tone. The
 * nodes join their conference over a backplane the management server brokers; the analyser says
 * who hears whom.
 */
describe.skipIf(unsupported !== null)('a conference across two nodes (backplane)', () => {
  let lab: NetnsLab;
  let server: ManagementServer;
  const dbDir = mkdtempSync(join(tmpdir(), 'om-backplane-db-'));
  const clients: { close(): Promise<unknown> }[] = [];
  const phones: UdpPhone[] = [];
  const rest = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(`${server.url}${path.startsWith('/') ? path : `${CONFIG}/${path}`}`, {
      method,
      headers: body === undefined ? { authorization: auth.authorization } : auth,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
    return r;
  };
  const created = async (path: string, body: unknown) => new URL((await rest('POST', path, body)).headers.get('location')!, server.url).pathname;
  const api = async (node: LabNode, path: string, token?: string, body: unknown = {}, room = ALIAS, headers: Record<string, string> = {}) => {
    const r = await fetch(`${node.url}/api/client/v2/conferences/${encodeURIComponent(room)}/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { token } : {}), ...headers },
      body: JSON.stringify(body),
    });
    const json = (await r.json()) as { result: unknown };
    if (r.status !== 200) throw new Error(`${path}: ${r.status} ${JSON.stringify(json)}`);
    return json.result;
  };
  const participants = async (node: LabNode, token: string, room = ALIAS) => {
    const r = await fetch(`${node.url}/api/client/v2/conferences/${encodeURIComponent(room)}/participants`, { headers: { token } });
    if (r.status !== 200) throw new Error(`participants: ${r.status}`);
    return ((await r.json()) as { result: Record<string, unknown>[] }).result;
  };
  const roster = async (node: LabNode, token: string) => (await participants(node, token)).map((p) => String(p.display_name)).sort();
  /** Joins through the node's client API (request_token, then a WEBRTC call with the client's offer). */
  const join_ = async (node: LabNode, name: string, toneHz: number, room = ALIAS, pin?: string, answered?: (sdp: string) => void): Promise<Joined> => {
    const call = (path: string, token?: string, body: unknown = {}) => api(node, path, token, body, room);
    const joined = (await api(node, 'request_token', undefined, { display_name: name }, room, pin ? { pin } : {})) as {
      token: string;
      participant_uuid: string;
    };
    const client = new MediaTestClient(name, CLIENT_PORTS, { toneHz, address: lab.hostAddress });
    clients.push(client);
    // The client's offer goes to the node as a Pexip client's would; the answer comes back from it.
    const viaApi = {
      createLeg: () => ({
        negotiate: async (sdp: string) => {
          const answer = callSchema.parse(await call(`participants/${joined.participant_uuid}/calls`, joined.token, { call_type: 'WEBRTC', sdp }));
          await call(`participants/${joined.participant_uuid}/calls/${answer.call_uuid}/ack`, joined.token);
          answered?.(answer.sdp);
          return answer.sdp;
        },
      }),
    };
    await client.join(viaApi);
    return { node, token: joined.token, uuid: joined.participant_uuid, client };
  };

  beforeAll(async () => {
    lab = await NetnsLab.create();
    server = await ManagementServer.start({
      host: lab.hostAddress,
      port: 0,
      database: await openDatabase({ dataDir: dbDir }),
      adminPassword: 'pw',
      enrollmentKey: 'lab-platform-key',
      webRoot: '/nonexistent',
      logger: silent,
    });
  }, 60_000);
  const started: LabNode[] = [];
  afterAll(async () => {
    if (process.env.BACKPLANE_TRACE) for (const n of started) appendFileSync(process.env.BACKPLANE_TRACE, `--- ${n.name}\n${n.output().slice(-6_000)}\n`);
    await Promise.all(clients.map((c) => c.close()));
    for (const p of phones) p.close();
    await server?.stop().catch(() => undefined);
    await lab?.close();
    rmSync(dbDir, { recursive: true, force: true });
  }, 60_000);

  /** The two nodes in two locations, started once for the tests below (the last one kills node 2). */
  let nodesStarted: Promise<[LabNode, LabNode]> | null = null;
  /** The two system locations' URIs (London, Oslo) and the two nodes'. */
  const locationUris: string[] = [];
  const nodeUris: string[] = [];
  const twoNodes = () => (nodesStarted ??= startNodes());
  async function startNodes(): Promise<[LabNode, LabNode]> {
    const nodes: LabNode[] = [];
    for (const [i, name] of ['London', 'Oslo'].entries()) {
      const location = await created('system_location/', { name });
      locationUris.push(location);
      const uri = await created('worker_vm/', {
        name: `bp-node-${i + 1}`,
        hostname: `bp-node-${i + 1}`,
        address: lab.nodeAddress(i + 1),
        netmask: '255.255.255.0',
        gateway: lab.hostAddress,
        system_location: location,
      });
      nodeUris.push(uri);
      const id = Number(uri.match(/(\d+)\/$/)![1]);
      const r = await rest('POST', '/api/admin/command/v1/conferencing_node/enrollment/', { conferencing_node_id: id, format: 'config' });
      nodes.push(
        await lab.startNode(
          { ...nodeBundleConfigSchema.parse(await r.json()), port: 8081 },
          { MEDIA_PORTS: '40000-40999', NODE_SIP_PORT: String(SIP_PORT), NODE_SIP_TLS_PORT: 'off' },
        ),
      );
    }
    started.push(...nodes);
    step('nodes started');
    return nodes as [LabNode, LabNode];
  }

  /** The room has reached the nodes once a join works there; the probe leaves again at once. */
  const roomOnNodes = async (nodes: LabNode[], room = ALIAS, pin?: string) => {
    for (const n of nodes) {
      const probe = await until(
        () => api(n, 'request_token', undefined, { display_name: 'probe' }, room, pin ? { pin } : {}).catch(() => null),
        (r) => r !== null,
        20_000,
        200,
      );
      await api(n, 'release_token', (probe as { token: string }).token, {}, room);
    }
  };

  /** The two nodes, with a new VMR whose only alias is `room` live on both (`pin`: its Host PIN, given to the probes). */
  const roomOnTwoNodes = async (room: string, vmr: Record<string, unknown>, pin?: string): Promise<[LabNode, LabNode]> => {
    const nodes = await twoNodes();
    await rest('POST', 'conference/', { ...vmr, ...(pin ? { pin } : {}), aliases: [{ alias: room }] });
    await roomOnNodes(nodes, room, pin);
    return nodes;
  };

  /** BACKPLANE_TRACE=<file>: each step's time is appended there as it happens. */
  const step = (what: string) => process.env.BACKPLANE_TRACE && appendFileSync(process.env.BACKPLANE_TRACE, `${new Date().toISOString()} ${what}\n`);
  it(
    "meeting control across nodes: a Host on node 1 lets in, mutes, admits and finally ends the conference for node 2's Guests; the lock reaches node 2",
    { timeout: 120_000 },
    async () => {
      const room = 'hosted@example.com';
      const [one, two] = await roomOnTwoNodes(room, { name: 'Hosted room', allow_guests: true }, '1234');
      const tones = { Hilda: 830, Gus: 1_330, Gwen: 1_630 } as const;
      const find = async (node: LabNode, token: string, uuid: string) => (await participants(node, token, room)).find((p) => p.uuid === uuid);

      // Gus, a Guest, arrives first, on node 2: he waits for a Host.
      const gus = await join_(two, 'Gus', tones.Gus, room, 'none');
      gus.client.startSending(20, ['audio']);
      expect(await find(two, gus.token, gus.uuid)).toMatchObject({ role: 'guest', service_type: 'waiting_room' });
      // Hilda, a Host, joins on node 1: the backplane tells node 2 a Host is in, and Gus is let in.
      const hilda = await join_(one, 'Hilda', tones.Hilda, room, '1234');
      hilda.client.startSending(20, ['audio']);
      await until(
        () => find(two, gus.token, gus.uuid),
        (p) => p?.service_type === 'conference',
        20_000,
        200,
      );
      await gus.client.waitFor("Hilda's tone", () => gus.client.toneLevelDb(tones.Hilda) > HEARD_DB, 30_000);
      await hilda.client.waitFor("Gus's tone", () => hilda.client.toneLevelDb(tones.Gus) > HEARD_DB, 30_000);
      // Node 1 lists Gus with the controls its Host may use on him.
      expect(
        await until(
          () => find(one, hilda.token, gus.uuid),
          (p) => p !== undefined,
          10_000,
          100,
        ),
      ).toMatchObject({
        display_name: 'Gus',
        mute_supported: 'YES',
        disconnect_supported: 'YES',
      });

      // Hilda mutes Gus through node 1: node 2 mutes him, and she no longer hears him.
      await api(one, `participants/${gus.uuid}/mute`, hilda.token, {}, room);
      await until(
        () => find(two, gus.token, gus.uuid),
        (p) => p?.is_muted === 'YES',
        10_000,
        100,
      );
      await hilda.client.waitFor("Gus's tone gone", () => hilda.client.toneLevelDb(tones.Gus) < HEARD_DB - 20, 10_000);
      expect((await find(one, hilda.token, gus.uuid))?.is_muted).toBe('YES');

      // Hilda locks the conference on node 1: node 2 is locked too, and Gwen, joining there, waits until Hilda admits her.
      await api(one, 'lock', hilda.token, {}, room);
      const status = async () =>
        (await (
          await fetch(`${two.url}/api/client/v2/conferences/${encodeURIComponent(room)}/conference_status`, { headers: { token: gus.token } })
        ).json()) as {
          result: { locked: boolean };
        };
      await until(status, (s) => s.result.locked, 10_000, 100);
      const gwen = await join_(two, 'Gwen', tones.Gwen, room, 'none');
      gwen.client.startSending(20, ['audio']);
      expect(await find(two, gwen.token, gwen.uuid)).toMatchObject({ service_type: 'waiting_room' });
      await until(
        () => find(one, hilda.token, gwen.uuid),
        (p) => p?.service_type === 'waiting_room',
        10_000,
        100,
      );
      await api(one, `participants/${gwen.uuid}/unlock`, hilda.token, {}, room);
      await until(
        () => find(two, gwen.token, gwen.uuid),
        (p) => p?.service_type === 'conference',
        10_000,
        100,
      );
      await hilda.client.waitFor("Gwen's tone", () => hilda.client.toneLevelDb(tones.Gwen) > HEARD_DB, 30_000);

      // Hilda ends the conference: it ends on node 2 as well, and its participants' tokens no longer work there.
      await api(one, 'disconnect', hilda.token, {}, room);
      await until(
        () =>
          participants(two, gus.token, room).then(
            () => 'still in',
            (err: Error) => err.message,
          ),
        (r) => r !== 'still in',
        10_000,
        100,
      );
      await until(
        () => server.backplanes.list().length,
        (n) => n === 0,
        15_000,
        100,
      );
    },
  );
  it(
    "media on another node than the signalling node: London's transcoding location is Oslo, so calls signalled on node 1 (Pexip's single-stream, our multi-stream client, a SIP phone) have their media on node 2, heard and seen both ways, mute following; proxying node 1, then a less loaded proxying node 3, relay the next calls; status names every node",
    { timeout: 120_000 },
    async () => {
      const [one, two] = await twoNodes();
      const room = 'media@example.com';
      await rest('POST', 'conference/', { name: 'Media room', aliases: [{ alias: room }, { alias: 'media.sip' }] });
      // SIP over UDP (off by default, as the guide has it) for Sid's desk phone.
      await rest('PATCH', `${CONFIG}/global/1/`, { enable_sip_udp: true });
      await roomOnNodes([one, two], room);
      await rest('PATCH', locationUris[0]!, { transcoding_location: locationUris[1] });
      const tones = { Olga: 760, Lars: 1_420 } as const;
      const answers: string[] = [];
      /**
       * Joins through node 1 until the answer is the one wanted: node 1 may not have heard of the
       * latest configuration (or of node 3's load) yet; such a call is hung up and placed again.
       */
      const joinAnswered = async (name: string, toneHz: number, wanted: (sdp: string) => boolean) =>
        (await until(
          async () => {
            const joined = await join_(one, name, toneHz, room, undefined, (sdp) => answers.push(sdp));
            if (wanted(answers.at(-1) ?? '')) return joined;
            await api(one, 'release_token', joined.token, {}, room);
            return null;
          },
          (j) => j !== null,
          30_000,
          500,
        ))!;
      /** A participant's status/v1 object once it satisfies `ready`. */
      const statusOf = (name: string, ready: (p: Record<string, unknown> | undefined) => boolean) =>
        until(
          async () =>
            ((await (await rest('GET', '/api/admin/status/v1/participant/')).json()) as { objects: Record<string, unknown>[] }).objects.find(
              (p) => p.display_name === name,
            ),
          ready,
          10_000,
          200,
        );
      // Olga calls node 2 in Oslo.
      const olga = await join_(two, 'Olga', tones.Olga, room);
      olga.client.startSending();
      // Lars calls node 1 in London: node 1 signals his call, node 2 answers it (its address in the answer).
      const lars = await joinAnswered('Lars', tones.Lars, (sdp) => sdp.includes(` ${lab.nodeAddress(2)} `));
      expect(answers.at(-1)).not.toContain(` ${lab.nodeAddress(1)} `);
      lars.client.startSending();
      const l = lars.client;
      const o = olga.client;
      await l.waitFor("Olga's tone at Lars", () => l.toneLevelDb(tones.Olga) > HEARD_DB, 30_000);
      await o.waitFor("Lars's tone at Olga", () => o.toneLevelDb(tones.Lars) > HEARD_DB, 30_000);
      await l.waitFor("Lars's own tone absent", () => l.toneLevelDb(tones.Lars) < l.toneLevelDb(tones.Olga) - 20, 10_000);
      await l.waitFor("Olga's video at Lars", () => l.receivedFrom('Olga', 'video').length >= 25, 20_000);
      await o.waitFor("Lars's video at Olga", () => o.receivedFrom('Lars', 'video').length >= 25, 20_000);
      // status/v1: signalled on node 1, media on node 2.
      const status = await statusOf('Lars', (p) => p?.media_node === 'bp-node-2');
      expect(status).toMatchObject({ signalling_node: 'bp-node-1', media_node: 'bp-node-2', conference: 'Media room' });
      // Muted through node 1 (his signalling node): node 2, which handles his media, stops sending him to Olga.
      await api(one, `participants/${lars.uuid}/mute`, lars.token, {}, room);
      await o.waitFor("Lars's tone gone at Olga", () => o.toneLevelDb(tones.Lars) < HEARD_DB - 20, 10_000);
      await api(one, `participants/${lars.uuid}/unmute`, lars.token, {}, room);
      await o.waitFor("Lars's tone back at Olga", () => o.toneLevelDb(tones.Lars) > HEARD_DB, 10_000);
      // Lars leaves through node 1: node 2 closes his media and Olga no longer hears him.
      await api(one, 'release_token', lars.token, {}, room);
      await o.waitFor("Lars's tone gone after he left", () => o.toneLevelDb(tones.Lars) < HEARD_DB - 20, 10_000);

      // Sid's desk phone calls node 1 over SIP: node 1 keeps the dialog and the participant, node 2
      // answers with its own address (his RTP goes there); he and Olga hear each other, and the *7
      // he keys in his RTP (RFC 4733, which node 2 receives) locks the conference on node 1 and again unlocks it.
      const toneSid = 1_730;
      const sid = new UdpPhone(toneSid, 'remote-sip-1', 'Sid', { local: lab.hostAddress, node: lab.nodeAddress(1) });
      phones.push(sid);
      await sid.open();
      await sid.call(SIP_PORT, 'media.sip');
      expect(sid.mediaAddress).toBe(lab.nodeAddress(2));
      sid.startSending();
      await o.waitFor("Sid's tone at Olga", () => o.toneLevelDb(toneSid) > HEARD_DB, 20_000);
      const sidHears = await sid.lastSecondLevels(tones.Olga);
      console.log(`remote SIP media: Sid hears ${JSON.stringify(sidHears)} dBFS; payload types ${JSON.stringify(sid.payloadTypes)}`);
      expect(sidHears.z, `Olga's tone at Sid: ${JSON.stringify(sidHears)}`).toBeGreaterThan(HEARD_DB);
      expect(sidHears.self, `Sid's own tone: ${JSON.stringify(sidHears)}`).toBeLessThan(sidHears.z - 20);
      expect(await statusOf('Sid', (p) => p?.media_node === 'bp-node-2')).toMatchObject({ signalling_node: 'bp-node-1', protocol: 'sip' });
      const locked = async () =>
        ((await (await rest('GET', '/api/admin/status/v1/conference/')).json()) as { objects: Record<string, unknown>[] }).objects.some(
          (c) => c.name === 'Media room' && c.is_locked === true,
        );
      await sid.keys('*7');
      await until(locked, (l) => l, 10_000, 200);
      await sid.keys('*7');
      await until(locked, (l) => !l, 10_000, 200);
      await sid.bye(SIP_PORT, 'media.sip');
      sid.close();
      phones.splice(phones.indexOf(sid), 1);
      await o.waitFor("Sid's tone gone after he hung up", () => o.toneLevelDb(toneSid) < HEARD_DB - 20, 20_000);

      // Xena's phone calls with a late offer (an INVITE without SDP): node 2 makes the offer in the
      // 200, her answer in the ACK goes there, and she and Olga hear each other.
      const toneXena = 1_570;
      const xena = new UdpPhone(toneXena, 'remote-sip-5', 'Xena', { local: lab.hostAddress, node: lab.nodeAddress(1) });
      phones.push(xena);
      await xena.open();
      await xena.call(SIP_PORT, 'media.sip', true);
      expect(xena.mediaAddress).toBe(lab.nodeAddress(2));
      xena.startSending();
      await o.waitFor("Xena's tone at Olga", () => o.toneLevelDb(toneXena) > HEARD_DB, 20_000);
      const xenaHears = await xena.lastSecondLevels(tones.Olga);
      expect(xenaHears.z, `Olga's tone at Xena: ${JSON.stringify(xenaHears)}`).toBeGreaterThan(HEARD_DB);
      await xena.bye(SIP_PORT, 'media.sip');
      xena.close();
      phones.splice(phones.indexOf(xena), 1);

      // Tess, a Guest by her PIN, calls a room with no Host yet: node 2 handles her media and plays her
      // the theme's "waiting for the Host" prompt when node 1 (where she waits) asks it to.
      await rest('POST', 'conference/', { name: 'Waiting room', pin: '1234', guest_pin: '5678', allow_guests: true, aliases: [{ alias: 'waiting.sip' }] });
      await roomOnNodes([one, two], 'waiting.sip', '5678');
      const tess = new UdpPhone(1_130, 'remote-sip-2', 'Tess', { local: lab.hostAddress, node: lab.nodeAddress(1) });
      phones.push(tess);
      await tess.open();
      await tess.call(SIP_PORT, 'waiting.sip**5678');
      expect(tess.mediaAddress).toBe(lab.nodeAddress(2));
      tess.startSending();
      // The Base theme's prompt: a 2-s pause, then its 660-Hz tones.
      await until(
        () => tess.heardLevelDb(BASE_PROMPT_HZ, 3_000),
        (db) => db > HEARD_DB,
        15_000,
        200,
      );
      // Walt calls the room without a PIN: node 2 answers him too, for PIN entry (held in the
      // conference there); the Host PIN he keys in his RTP reaches node 1, he joins as Host, which
      // lets Tess in: each hears the other.
      const toneWalt = 1_350;
      const walt = new UdpPhone(toneWalt, 'remote-sip-4', 'Walt', { local: lab.hostAddress, node: lab.nodeAddress(1) });
      phones.push(walt);
      await walt.open();
      await walt.call(SIP_PORT, 'waiting.sip');
      expect(walt.mediaAddress).toBe(lab.nodeAddress(2));
      walt.startSending();
      await new Promise((r) => setTimeout(r, 1_000));
      await walt.keys('1234');
      expect(await statusOf('Walt', (p) => p?.role === 'chair')).toMatchObject({ signalling_node: 'bp-node-1', media_node: 'bp-node-2' });
      const waltHears = await walt.lastSecondLevels(1_130);
      expect(waltHears.z, `Tess's tone at Walt: ${JSON.stringify(waltHears)}`).toBeGreaterThan(HEARD_DB);
      const tessHears = await tess.lastSecondLevels(toneWalt);
      expect(tessHears.z, `Walt's tone at Tess: ${JSON.stringify(tessHears)}`).toBeGreaterThan(HEARD_DB);
      for (const phone of [tess, walt]) {
        await phone.bye(SIP_PORT, 'waiting.sip');
        phone.close();
        phones.splice(phones.indexOf(phone), 1);
      }

      // Mona calls node 1 with our meeting client's multi-stream signalling: node 1 passes her
      // session's requests on, node 2 holds it (its address in her transports), and she and Olga
      // hear each other.
      const toneMona = 2_550;
      const monaJoined = (await api(one, 'request_token', undefined, { display_name: 'Mona' }, room)) as { token: string; participant_uuid: string };
      const monaSig = await clientApiSessionSignalling(one.url, room, monaJoined.token, monaJoined.participant_uuid);
      const mona = new MultiStreamTestClient('Mona', { portRange: CLIENT_PORTS, toneHz: toneMona, address: lab.hostAddress });
      clients.push(mona);
      let monaCandidates = '';
      await mona.join({
        ...monaSig,
        join: async (caps) => {
          const t = await monaSig.join(caps);
          monaCandidates = JSON.stringify([t.send.iceCandidates, t.recv.iceCandidates]);
          return t;
        },
      });
      expect(monaCandidates).toContain(`"${lab.nodeAddress(2)}"`);
      expect(monaCandidates).not.toContain(`"${lab.nodeAddress(1)}"`);
      await mona.receive(2);
      mona.startSending();
      await mona.waitFor("Olga's tone at Mona", () => mona.toneLevelDb(olga.uuid, tones.Olga) > HEARD_DB, 20_000);
      await o.waitFor("Mona's tone at Olga", () => o.toneLevelDb(toneMona) > HEARD_DB, 20_000);
      expect(await statusOf('Mona', (p) => p?.media_node === 'bp-node-2')).toMatchObject({ signalling_node: 'bp-node-1' });
      await api(one, 'release_token', monaJoined.token, {}, room);
      monaSig.close();
      await o.waitFor("Mona's tone gone after she left", () => o.toneLevelDb(toneMona) < HEARD_DB - 20, 10_000);

      // Node 1 becomes a proxying edge node: Pia's call to it is answered with node 1's address (its
      // relay), her media forwarded to node 2, which handles it; status names all three roles.
      await rest('PATCH', nodeUris[0]!, { node_type: 'PROXYING' });
      const tonePia = 1_910;
      const pia = await joinAnswered('Pia', tonePia, (sdp) => sdp.includes('edgerelay'));
      const relayed = answers.at(-1)!;
      expect(relayed).toContain(` ${lab.nodeAddress(1)} `);
      expect(relayed).not.toContain(` ${lab.nodeAddress(2)} `);
      pia.client.startSending();
      const pc = pia.client;
      await pc.waitFor("Olga's tone at Pia", () => pc.toneLevelDb(tones.Olga) > HEARD_DB, 30_000);
      await o.waitFor("Pia's tone at Olga", () => o.toneLevelDb(tonePia) > HEARD_DB, 30_000);
      await o.waitFor("Pia's video at Olga", () => o.receivedFrom('Pia', 'video').length >= 25, 20_000);
      const viaEdge = await statusOf('Pia', (p) => p?.proxy_node === 'bp-node-1');
      expect(viaEdge).toMatchObject({ signalling_node: 'bp-node-1', proxy_node: 'bp-node-1', media_node: 'bp-node-2' });

      // Vera's desk phone calls proxying node 1: its answer is node 1's address (relays for her RTP
      // and RTCP, learnt from her first packets), her media is node 2's, and she and Olga hear each other.
      const toneVera = 1_260;
      const vera = new UdpPhone(toneVera, 'remote-sip-3', 'Vera', { local: lab.hostAddress, node: lab.nodeAddress(1) });
      phones.push(vera);
      await vera.open();
      const veraAnswer = await vera.call(SIP_PORT, 'media.sip');
      expect(vera.mediaAddress).toBe(lab.nodeAddress(1));
      expect(veraAnswer).not.toContain(lab.nodeAddress(2));
      vera.startSending();
      await o.waitFor("Vera's tone at Olga", () => o.toneLevelDb(toneVera) > HEARD_DB, 20_000);
      const veraHears = await vera.lastSecondLevels(tones.Olga);
      expect(veraHears.z, `Olga's tone at Vera: ${JSON.stringify(veraHears)}`).toBeGreaterThan(HEARD_DB);
      expect(await statusOf('Vera', (p) => p?.proxy_node === 'bp-node-1')).toMatchObject({ signalling_node: 'bp-node-1', media_node: 'bp-node-2' });
      // Her RTCP reaches node 2 through its own relay, and node 2's reports come back to her RTCP port.
      await until(
        () => vera.rtcpFromNode,
        (n) => n > 0,
        15_000,
        250,
      );
      await vera.bye(SIP_PORT, 'media.sip');
      vera.close();
      phones.splice(phones.indexOf(vera), 1);
      await o.waitFor("Vera's tone gone after she hung up", () => o.toneLevelDb(toneVera) < HEARD_DB - 20, 20_000);

      // Rhea calls proxying node 1 with our meeting client's multi-stream signalling: her session
      // is node 2's, and both her transports are reached through node 1's relays.
      const toneRhea = 2_870;
      const rheaJoined = (await api(one, 'request_token', undefined, { display_name: 'Rhea' }, room)) as { token: string; participant_uuid: string };
      const rheaSig = await clientApiSessionSignalling(one.url, room, rheaJoined.token, rheaJoined.participant_uuid);
      const rhea = new MultiStreamTestClient('Rhea', { portRange: CLIENT_PORTS, toneHz: toneRhea, address: lab.hostAddress });
      clients.push(rhea);
      let rheaCandidates = '';
      await rhea.join({
        ...rheaSig,
        join: async (caps) => {
          const t = await rheaSig.join(caps);
          rheaCandidates = JSON.stringify([t.send.iceCandidates, t.recv.iceCandidates]);
          return t;
        },
      });
      expect(rheaCandidates).toContain(`"${lab.nodeAddress(1)}"`);
      expect(rheaCandidates).not.toContain(`"${lab.nodeAddress(2)}"`);
      await rhea.receive(2);
      rhea.startSending();
      await rhea.waitFor("Olga's tone at Rhea", () => rhea.toneLevelDb(olga.uuid, tones.Olga) > HEARD_DB, 20_000);
      await o.waitFor("Rhea's tone at Olga", () => o.toneLevelDb(toneRhea) > HEARD_DB, 20_000);
      expect(await statusOf('Rhea', (p) => p?.proxy_node === 'bp-node-1')).toMatchObject({ signalling_node: 'bp-node-1', media_node: 'bp-node-2' });
      await api(one, 'release_token', rheaJoined.token, {}, room);
      rheaSig.close();
      await o.waitFor("Rhea's tone gone after she left", () => o.toneLevelDb(toneRhea) < HEARD_DB - 20, 10_000);

      // A second proxying node in London, less loaded than node 1 (which forwards Pia's call): the
      // next call node 1 signals has its lineside media on node 3, asked over the management server.
      const third = await created('worker_vm/', {
        name: 'bp-node-3',
        hostname: 'bp-node-3',
        address: lab.nodeAddress(3),
        netmask: '255.255.255.0',
        gateway: lab.hostAddress,
        system_location: locationUris[0],
        node_type: 'PROXYING',
      });
      const thirdId = Number(third.match(/(\d+)\/$/)![1]);
      const bundle = await rest('POST', '/api/admin/command/v1/conferencing_node/enrollment/', { conferencing_node_id: thirdId, format: 'config' });
      const three = await lab.startNode({ ...nodeBundleConfigSchema.parse(await bundle.json()), port: 8081 }, { MEDIA_PORTS: '40000-40999' });
      started.push(three);
      const toneQuinn = 2_230;
      const quinn = await joinAnswered('Quinn', toneQuinn, (sdp) => sdp.includes(` ${lab.nodeAddress(3)} `));
      quinn.client.startSending(20, ['audio']);
      const q = quinn.client;
      await q.waitFor("Olga's tone at Quinn", () => q.toneLevelDb(tones.Olga) > HEARD_DB, 30_000);
      await o.waitFor("Quinn's tone at Olga", () => o.toneLevelDb(toneQuinn) > HEARD_DB, 30_000);
      const viaThird = await statusOf('Quinn', (p) => p?.proxy_node === 'bp-node-3');
      expect(viaThird).toMatchObject({ signalling_node: 'bp-node-1', media_node: 'bp-node-2' });
      await api(one, 'release_token', quinn.token, {}, room);
      await o.waitFor("Quinn's tone gone after he left", () => o.toneLevelDb(toneQuinn) < HEARD_DB - 20, 10_000);
      await lab.stopNode(three);
      await rest('DELETE', third);
      await api(one, 'release_token', pia.token, {}, room);
      await o.waitFor("Pia's tone gone after she left", () => o.toneLevelDb(tonePia) < HEARD_DB - 20, 10_000);
      await rest('PATCH', nodeUris[0]!, { node_type: 'CONFERENCING' });

      await api(two, 'release_token', olga.token, {}, room);
      await until(
        () => server.backplanes.list().length,
        (n) => n === 0,
        15_000,
        100,
      );
      await rest('PATCH', locationUris[0]!, { transcoding_location: null });
    },
  );
  it(
    "a room's participant limit counts the conference across its nodes: node 2, with nobody of the room yet, refuses the caller over the limit, and takes one once a place is free",
    { timeout: 60_000 },
    async () => {
      const room = 'limited@example.com';
      const [one, two] = await roomOnTwoNodes(room, { name: 'Limited room', participant_limit: 2 });
      const token = async (node: LabNode, name: string) => {
        const r = await fetch(`${node.url}/api/client/v2/conferences/${encodeURIComponent(room)}/request_token`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ display_name: name }),
        });
        return { status: r.status, body: (await r.json()) as { result: unknown } };
      };
      /** `node`'s answer to a caller now; a caller it admits leaves again at once. */
      const probeJoin = async (node: LabNode) => {
        const r = await token(node, 'probe');
        if (r.status === 200) await api(node, 'release_token', (r.body.result as { token: string }).token, {}, room);
        return r;
      };
      /** `node`'s answer to a caller once it is `status`: what it knows of the others' participants can lag a moment. */
      const answerOnce = (node: LabNode, status: number) =>
        until(
          () => probeJoin(node),
          (r) => r.status === status,
          10_000,
          100,
        );
      // Two participants on node 1: the room is full. Node 2 has no instance of it, hence no backplane.
      const ann = (await api(one, 'request_token', undefined, { display_name: 'Ann' }, room)) as { token: string };
      const ben = (await api(one, 'request_token', undefined, { display_name: 'Ben' }, room)) as { token: string };
      // The management server relays node 1's count to node 2 (within a quarter of a second of its report).
      const refused = await answerOnce(two, 403);
      expect(refused.body.result).toBe('Participant limit reached');
      // Ann leaves node 1: node 2 takes Cleo.
      await api(one, 'release_token', ann.token, {}, room);
      await answerOnce(two, 200);
      const cleo = await token(two, 'Cleo');
      expect(cleo.status).toBe(200);
      // The room is full again, now with a participant on each node: node 1 refuses Dan once it has heard of Cleo.
      const dan = await answerOnce(one, 403);
      expect(dan.body.result).toBe('Participant limit reached');
      // Both leave: the room's backplane closes before the next test.
      await api(one, 'release_token', ben.token, {}, room);
      await api(two, 'release_token', (cleo.body.result as { token: string }).token, {}, room);
      await until(
        () => server.backplanes.list().length,
        (n) => n === 0,
        10_000,
        100,
      );
    },
  );

  it(
    'two participants on node 1 and one on node 2 each hear the other two and not themselves; video and the roster cross; closed when one side empties or its node dies',
    { timeout: 120_000 },
    async () => {
      const [one, two] = await twoNodes();
      const nodes = [one, two];
      await rest('POST', 'conference/', { name: 'Spread room', aliases: [{ alias: ALIAS }] });
      await roomOnNodes(nodes);

      const tones = { Alice: 910, Bob: 1_180, Carol: 1_510 } as const;
      step('room on both nodes');
      const alice = await join_(one, 'Alice', tones.Alice);
      const bob = await join_(one, 'Bob', tones.Bob);
      // Carol alone sends video at first: node 1's voice switching then has only her camera to show.
      alice.client.startSending(20, ['audio']);
      bob.client.startSending(20, ['audio']);
      await alice.client.waitFor("Bob's tone", () => alice.client.toneLevelDb(tones.Bob) > HEARD_DB, 20_000);
      expect(server.backplanes.list()).toHaveLength(0);

      step('Alice and Bob hear each other');
      const carolJoinedAt = Date.now();
      const carol = await join_(two, 'Carol', tones.Carol);
      carol.client.startSending();
      step('Carol joined');
      for (const [who, others] of [
        [alice, ['Bob', 'Carol']],
        [bob, ['Alice', 'Carol']],
        [carol, ['Alice', 'Bob']],
      ] as const) {
        const c = who.client;
        await c.waitFor(`${others.join(' and ')} in ${c.name}'s mix`, () => others.every((o) => c.toneLevelDb(tones[o]) > HEARD_DB), 30_000);
        const own = () => c.toneLevelDb(tones[c.name as keyof typeof tones]) < Math.min(...others.map((o) => c.toneLevelDb(tones[o]))) - 20;
        await c.waitFor(`${c.name}'s own tone absent from the mix`, own, 10_000);
      }
      step('all hear');
      console.log(`backplane: all three hear each other ${Date.now() - carolJoinedAt} ms after Carol's join on node 2 began`);
      // Carol's video reaches node 1's participants.
      for (const who of [alice, bob]) await who.client.waitFor("Carol's video", () => who.client.receivedFrom('Carol', 'video').length >= 25, 20_000);
      const latencies = alice.client
        .receivedFrom('Carol', 'video')
        .map((p) => p.receivedAt - p.sentAt)
        .sort((x, y) => x - y);
      console.log(`backplane: Carol's video reaches Alice (client → node 2 → backplane → node 1 → client) in ${latencies[latencies.length >> 1]} ms median`);

      // One backplane for the conference and this pair of nodes, geographic (two locations), listed in status/v1 one link each way.
      expect(server.backplanes.list()).toMatchObject([{ conference: 'Spread room', type: 'geographic' }]);
      const links = (await (await rest('GET', '/api/admin/status/v1/backplane/')).json()) as { objects: Record<string, unknown>[] };
      expect(links.objects.map((o) => `${String(o.media_node)}→${String(o.remote_media_node)}`).sort()).toEqual(['bp-node-1→bp-node-2', 'bp-node-2→bp-node-1']);
      expect(links.objects.every((o) => o.type === 'geographic' && o.conference === 'Spread room')).toBe(true);
      // Each link's media streams as its node measures them: node 1 sends Alice's and Bob's audio and
      // receives Carol's; node 2 the other way round.
      for (const link of links.objects) {
        const streams = await until(
          async () =>
            ((await (await rest('GET', `/api/admin/status/v1/backplane/${String(link.id)}/media_stream/`)).json()) as { objects: Record<string, unknown>[] })
              .objects,
          (o) => o.some((x) => x.type === 'audio' && Number(x.rx_packets_received) > 0 && Number(x.tx_packets_sent) > 0),
          15_000,
          200,
        );
        const audio = streams.find((x) => x.type === 'audio')!;
        expect(audio).toMatchObject({ node: link.media_node, backplane: `/api/admin/status/v1/backplane/${String(link.id)}/` });
        expect(Number(audio.rx_bitrate)).toBeGreaterThan(0);
        console.log(`backplane ${String(link.media_node)}: audio rx ${String(audio.rx_bitrate)} kbps, tx ${String(audio.tx_bitrate)} kbps`);
      }
      // The console's live view of the conference lists the same two links.
      const live = await appRouter
        .createCaller({
          dom: server.dom,
          status: server.status,
          registry: server.registry,
          backplanes: server.backplanes,
          admin: { id: 1, username: 'admin', mayUseWeb: true, mayUseApi: true, permissions: READ_WRITE_PERMISSIONS },
          sessionToken: undefined,
          setCookie: () => {},
        } satisfies Context)
        .status.backplanes({ conference: 'Spread room' });
      const first = await live[Symbol.asyncIterator]().next();
      expect((first.value as BackplaneLinkView[]).map((l) => `${l.mediaNode}→${l.remoteMediaNode} ${l.type}`).sort()).toEqual([
        'bp-node-1→bp-node-2 geographic',
        'bp-node-2→bp-node-1 geographic',
      ]);
      await live[Symbol.asyncIterator]().return?.(undefined);

      // Each node's client API lists the other node's participants too.
      await until(
        () => roster(one, alice.token),
        (r) => r.includes('Carol'),
        10_000,
        100,
      );
      await until(
        () => roster(two, carol.token),
        (r) => r.includes('Alice') && r.includes('Bob'),
        10_000,
        100,
      );

      // Carol leaves: node 2 has nobody left, the backplane closes and node 1 no longer lists her.
      await api(two, `participants/${carol.uuid}/disconnect`, carol.token);
      await until(
        () => server.backplanes.list().length,
        (n) => n === 0,
        15_000,
        100,
      );
      // The closed backplane is in history/v1: one row per link, each way, with its end and duration.
      const history = await until(
        async () =>
          ((await (await rest('GET', '/api/admin/history/v1/backplane/?conference=Spread%20room')).json()) as { objects: Record<string, unknown>[] }).objects,
        (o) => o.length === 2,
        10_000,
        100,
      );
      expect(history.map((b) => `${b.media_node}→${b.remote_media_node} ${b.type}`).sort()).toEqual([
        'bp-node-1→bp-node-2 geographic',
        'bp-node-2→bp-node-1 geographic',
      ]);
      for (const b of history) expect(Date.parse(String(b.end_time))).toBeGreaterThanOrEqual(Date.parse(String(b.start_time)));
      await until(
        () => roster(one, alice.token),
        (r) => !r.includes('Carol'),
        10_000,
        100,
      );
      // Alice and Bob still hear each other, and Carol's tone has left their mix.
      for (const [who, other] of [
        [alice, 'Bob'],
        [bob, 'Alice'],
      ] as const) {
        const c = who.client;
        await c.waitFor(`${other} without Carol`, () => c.toneLevelDb(tones[other]) > HEARD_DB && c.toneLevelDb(tones.Carol) < HEARD_DB - 20, 10_000);
      }

      // Dave joins on node 2, then node 2 dies: only Dave goes; Alice and Bob go on, and node 1 no longer lists him.
      const dave = await join_(two, 'Dave', 1_720);
      dave.client.startSending(20, ['audio']);
      await alice.client.waitFor("Dave's tone", () => alice.client.toneLevelDb(1_720) > HEARD_DB, 30_000);
      await dave.client.waitFor(
        'Alice and Bob',
        () => dave.client.toneLevelDb(tones.Alice) > HEARD_DB && dave.client.toneLevelDb(tones.Bob) > HEARD_DB,
        30_000,
      );
      const killedAt = Date.now();
      two.child.kill('SIGKILL');
      await until(
        () => roster(one, alice.token),
        (r) => !r.includes('Dave'),
        20_000,
        100,
      );
      console.log(`backplane: node 2 killed; its participant left node 1's roster ${Date.now() - killedAt} ms later`);
      expect(server.backplanes.list()).toHaveLength(0);
      for (const [who, other] of [
        [alice, 'Bob'],
        [bob, 'Alice'],
      ] as const) {
        const c = who.client;
        await c.waitFor(`${other} after node 2 died`, () => c.toneLevelDb(tones[other]) > HEARD_DB && c.toneLevelDb(1_720) < HEARD_DB - 20, 10_000);
      }
    },
  );
});
