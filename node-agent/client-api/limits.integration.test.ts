import { request, type IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestTokenResult } from '../../shared/client-api/conference.js';
import { until } from '../../shared/testing/until.js';
import { TestPlatform } from '../../testing/TestPlatform.js';

/**
 * The client API's bounds against memory exhaustion (issue 11, finding 4), over real HTTP against a
 * real node. Clients come from distinct loopback addresses (127.0.0.x) so each bound is per address.
 */
const LIMITS = { streamsPerParticipant: 2, streamsPerAddress: 4, streamBufferBytes: 64 * 1024, requestTokenPerAddress: 5, requestTokenWindowMs: 60_000 };

interface Answer {
  status: number;
  body: unknown;
}

describe('client API limits', () => {
  let platform: TestPlatform;
  const open: IncomingMessage[] = [];

  /** A client API request from a given local address (node:http lets us pick it; fetch does not). */
  const call = (from: string, alias: string, path: string, init: { body?: unknown; token?: string } = {}) =>
    new Promise<Answer>((resolve, reject) => {
      const url = new URL(`${platform.node.url}/api/client/v2/conferences/${alias}/${path}`);
      const body = init.body === undefined ? undefined : JSON.stringify(init.body);
      const req = request(
        url,
        {
          method: 'POST',
          localAddress: from,
          headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...(init.token ? { token: init.token } : {}) },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (text += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : null }));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  const join = async (from: string, alias: string, name: string) => {
    const r = await call(from, alias, 'request_token', { body: { display_name: name } });
    expect(r.status).toBe(200);
    return requestTokenResult.parse((r.body as { result: unknown }).result).token;
  };
  /** Opens an event stream from an address: the response once its head arrived (kept open, read). */
  const stream = (from: string, alias: string, token: string) =>
    new Promise<IncomingMessage>((resolve, reject) => {
      const req = request(`${platform.node.url}/api/client/v2/conferences/${alias}/events?token=${token}`, { localAddress: from }, (res) => {
        open.push(res);
        resolve(res);
      });
      req.on('error', reject);
      req.end();
    });
  const body = (res: IncomingMessage) =>
    new Promise<unknown>((resolve) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve(JSON.parse(text)));
    });
  const ended = (res: IncomingMessage) => new Promise<void>((resolve) => (res.complete || res.destroyed ? resolve() : res.on('close', () => resolve())));

  beforeAll(async () => {
    platform = await TestPlatform.start({ node: { mediaPortRange: [47700, 47799], mediaWorkers: 1, clientApiLimits: LIMITS } });
    for (const n of ['rate', 'own', 'addr', 'slow', 'churn']) await platform.create('conference', { name: `Limits ${n}`, aliases: [{ alias: `lim.${n}` }] });
    await until(
      () => platform.node.manager.directory.lookup('lim.churn'),
      (s) => s !== undefined,
    );
  });

  afterAll(async () => {
    for (const r of open) r.destroy();
    await platform?.stop();
  });

  it('rate-limits request_token per address while another address still joins', async () => {
    for (let i = 0; i < LIMITS.requestTokenPerAddress; i++) await join('127.0.0.3', 'lim.rate', `Flood ${i}`);
    const refused = await call('127.0.0.3', 'lim.rate', 'request_token', { body: { display_name: 'One too many' } });
    expect(refused).toEqual({ status: 429, body: { status: 'failed', result: 'Too many requests' } });
    // No participant was created for the refused request.
    const conf = platform.node.manager.conferences().find((c) => c.service.name === 'Limits rate');
    expect(conf?.participants.map((p) => p.displayName).sort()).toEqual([0, 1, 2, 3, 4].map((i) => `Flood ${i}`));
    // Someone else behind another address is not affected.
    await join('127.0.0.4', 'lim.rate', 'Neighbour');
  });

  it('keeps at most the cap of streams per participant: a further one replaces the oldest', async () => {
    const token = await join('127.0.0.5', 'lim.own', 'Reconnecting');
    const first = await stream('127.0.0.5', 'lim.own', token);
    const second = await stream('127.0.0.5', 'lim.own', token);
    expect([first.statusCode, second.statusCode]).toEqual([200, 200]);
    const third = await stream('127.0.0.5', 'lim.own', token);
    expect(third.statusCode).toBe(200);
    first.resume();
    await ended(first); // the oldest was closed by the node
    expect(second.destroyed || second.complete).toBe(false);
  });

  it('caps streams per address with 429 while another address still opens one', async () => {
    const tokens = [await join('127.0.0.6', 'lim.addr', 'A'), await join('127.0.0.6', 'lim.addr', 'B'), await join('127.0.0.6', 'lim.addr', 'C')];
    for (const t of [tokens[0]!, tokens[0]!, tokens[1]!, tokens[1]!]) expect((await stream('127.0.0.7', 'lim.addr', t)).statusCode).toBe(200);
    const refused = await stream('127.0.0.7', 'lim.addr', tokens[2]!);
    expect(refused.statusCode).toBe(429);
    expect(await body(refused)).toEqual({ status: 'failed', result: 'Too many event streams' });
    // A's reconnect replaces A's oldest stream, so it is let in at the cap.
    expect((await stream('127.0.0.7', 'lim.addr', tokens[0]!)).statusCode).toBe(200);
    expect((await stream('127.0.0.8', 'lim.addr', tokens[2]!)).statusCode).toBe(200);
  });

  it('drops a reader that never reads once its unread buffer passes the bound', async () => {
    const reader = await join('127.0.0.9', 'lim.slow', 'Never reads');
    const talker = await join('127.0.0.9', 'lim.slow', 'Talker');
    const before = platform.node.hub.size.streams;
    const url = new URL(platform.node.url);
    const socket: Socket = connect({ host: url.hostname, port: Number(url.port), localAddress: '127.0.0.10' });
    await new Promise((r) => socket.once('connect', r));
    socket.write(`GET /api/client/v2/conferences/lim.slow/events?token=${reader} HTTP/1.1\r\nHost: x\r\n\r\n`);
    socket.pause(); // never reads: the kernel buffers fill, then the node's
    await until(
      () => platform.node.hub.size.streams,
      (n) => n === before + 1,
    );
    const payload = 'x'.repeat(10_000);
    let sent = 0;
    while (platform.node.hub.size.streams > before && sent < 5_000) {
      const batch = await Promise.all(
        Array.from({ length: 20 }, () => call('127.0.0.11', 'lim.slow', 'message', { token: talker, body: { type: 'text/plain', payload } })),
      );
      for (const r of batch) expect(r.status).toBe(200);
      sent += batch.length;
    }
    expect(platform.node.hub.size.streams).toBe(before);
    // It took more than the bound to fill (kernel buffers first), and far less than what was sent stays.
    expect(sent * payload.length).toBeGreaterThan(LIMITS.streamBufferBytes);
    socket.destroy();
  });

  it('releases everything when many streams open and close', async () => {
    const token = await join('127.0.0.12', 'lim.churn', 'Churner');
    for (let i = 0; i < 150; i++) {
      const res = await stream('127.0.0.12', 'lim.churn', token);
      expect(res.statusCode).toBe(200);
      res.destroy();
    }
    for (const r of open) r.destroy();
    // Once every stream is closed the hub holds no entry: no conference, stream or address left.
    await until(
      () => platform.node.hub.size,
      (s) => s.streams === 0 && s.conferences === 0 && s.addresses === 0,
      5_000,
    );
  });
});
