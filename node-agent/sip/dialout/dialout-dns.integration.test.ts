import { createSocket, type Socket } from 'node:dgram';
import * as dnsPacket from 'dns-packet';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../../../shared/testing/until.js';
import { TestPlatform } from '../../../testing/TestPlatform.js';
import { freePort, sippDevice } from '../../testing/sipp.js';
import { useSipDnsServers } from './SipDestination.js';

const ALIAS = 'meet.dns';

/** A DNS server on loopback answering from `zone` (name → its records), NXDOMAIN otherwise: real UDP DNS for the node's resolver. */
async function dnsServer(zone: Map<string, dnsPacket.Answer[]>): Promise<{ port: number; asked: string[]; close(): void }> {
  const socket: Socket = createSocket('udp4');
  const asked: string[] = [];
  socket.on('message', (msg, from) => {
    let query: dnsPacket.Packet;
    try {
      query = dnsPacket.decode(msg);
    } catch {
      return;
    }
    const q = query.questions?.[0];
    if (!q) return;
    asked.push(`${q.type} ${q.name}`);
    const answers = (zone.get(q.name.toLowerCase()) ?? []).filter((a) => a.type === q.type);
    const known = zone.has(q.name.toLowerCase());
    const reply = dnsPacket.encode({
      type: 'response',
      id: query.id,
      flags: dnsPacket.AUTHORITATIVE_ANSWER | (known ? 0 : 3), // rcode 3: NXDOMAIN
      questions: [q],
      answers,
    });
    socket.send(reply, from.port, from.address);
  });
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
  return { port: socket.address().port, asked, close: () => socket.close() };
}

describe('outgoing SIP calls found by DNS (RFC 3263: NAPTR, SRV, A) and sent over the proxy’s transport', () => {
  let platform: TestPlatform;
  let token: string;

  beforeAll(async () => {
    platform = await TestPlatform.start({ node: { sipPort: 0 } });
    await platform.rest('POST', 'conference/', { name: 'DNS room', aliases: [{ alias: ALIAS }], pin: '1357' });
    await until(
      () => platform.node.manager.directory.lookup(ALIAS),
      (s) => s !== undefined,
      15_000,
    );
    const r = await platform.client(ALIAS, 'request_token', { body: { display_name: 'Host' }, pin: '1357' });
    token = ((await r.json()).result as { token: string }).token;
  }, 60_000);
  afterEach(() => useSipDnsServers([]));
  afterAll(() => platform?.stop());

  /** Dials `destination` from the conference; resolves with the dialled participant's id once its call is up. */
  const dialAndConnect = async (destination: string): Promise<string> => {
    const r = await platform.client(ALIAS, 'dial', { token, body: { role: 'GUEST', destination, protocol: 'sip' } });
    expect(r.status).toBe(200);
    const uuid = (await r.json()).result[0] as string;
    const conf = platform.node.manager.conferences().find((c) => c.service.aliases.includes(ALIAS))!;
    await until(
      () => conf.get(uuid)?.leg ?? null,
      (leg) => leg !== null,
      20_000,
    );
    return uuid;
  };
  const disconnect = async (uuid: string) => {
    const r = await platform.client(ALIAS, `participants/${uuid}/disconnect`, { token });
    expect(r.status).toBe(200);
  };

  it('a host without a port: NAPTR gives SIP over UDP, SRV two targets; the first answers 503 and the call goes to the second', async () => {
    const [first, second] = [await freePort(), await freePort()];
    const zone = new Map<string, dnsPacket.Answer[]>([
      [
        'pbx.test',
        [
          {
            type: 'NAPTR',
            name: 'pbx.test',
            data: { order: 10, preference: 10, flags: 's', services: 'SIP+D2U', regexp: '', replacement: '_sip._udp.pbx.test' },
          },
        ],
      ],
      [
        '_sip._udp.pbx.test',
        [
          { type: 'SRV', name: '_sip._udp.pbx.test', data: { priority: 10, weight: 1, port: first, target: 'one.pbx.test' } },
          { type: 'SRV', name: '_sip._udp.pbx.test', data: { priority: 20, weight: 1, port: second, target: 'two.pbx.test' } },
        ],
      ],
      ['one.pbx.test', [{ type: 'A', name: 'one.pbx.test', data: '127.0.0.1' }]],
      ['two.pbx.test', [{ type: 'A', name: 'two.pbx.test', data: '127.0.0.1' }]],
    ]);
    const dns = await dnsServer(zone);
    try {
      useSipDnsServers([`127.0.0.1:${dns.port}`]);
      const unavailable = sippDevice('uas-unavailable.xml', first);
      const answering = sippDevice('uas-answer.xml', second);
      await new Promise((r) => setTimeout(r, 300));
      const uuid = await dialAndConnect('sip:erin@pbx.test');
      expect(dns.asked).toEqual(expect.arrayContaining(['NAPTR pbx.test', 'SRV _sip._udp.pbx.test', 'A one.pbx.test', 'A two.pbx.test']));
      await disconnect(uuid);
      expect(await unavailable, 'the first target got the INVITE and answered 503').toBe(0);
      expect(await answering, 'the second target answered, got the ACK and our BYE').toBe(0);
    } finally {
      dns.close();
    }
  }, 60_000);

  it('the system location’s SIP proxy with transport TCP and no port: SRV _sip._tcp, and the INVITE goes over TCP', async () => {
    const port = await freePort();
    const zone = new Map<string, dnsPacket.Answer[]>([
      ['_sip._tcp.proxy.test', [{ type: 'SRV', name: '_sip._tcp.proxy.test', data: { priority: 10, weight: 1, port, target: 'edge.proxy.test' } }]],
      ['edge.proxy.test', [{ type: 'A', name: 'edge.proxy.test', data: '127.0.0.1' }]],
    ]);
    const dns = await dnsServer(zone);
    const nodes = (await (await platform.rest('GET', 'worker_vm/')).json()) as { objects: { system_location: string }[] };
    const location = nodes.objects[0]!.system_location.replace(/^.*\/configuration\/v1\//, '');
    try {
      useSipDnsServers([`127.0.0.1:${dns.port}`]);
      const proxy = await platform.create('sip_proxy', { name: 'TCP proxy', address: 'proxy.test', port: null, transport: 'tcp' });
      await platform.rest('PATCH', location, { sip_proxy: proxy });
      await until(
        () => platform.node.manager.location?.sipProxy,
        (p) => p === 'proxy.test;transport=tcp',
        15_000,
      );
      // Only a TCP listener is there: the call connects only if the INVITE went over TCP.
      const device = sippDevice('uas-answer.xml', port, 't1');
      await new Promise((r) => setTimeout(r, 300));
      const uuid = await dialAndConnect('ivy@192.0.2.99:5999');
      expect(dns.asked).toContain('SRV _sip._tcp.proxy.test');
      await disconnect(uuid);
      expect(await device, 'the TCP device answered, got the ACK and our BYE').toBe(0);
    } finally {
      await platform.rest('PATCH', location, { sip_proxy: null });
      dns.close();
    }
  }, 60_000);
});
