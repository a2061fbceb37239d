import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { sinkEventSchema, type SinkEvent } from '../events/sinkEvents.js';
import { until as pollUntil } from '../../shared/testing/until.js';

/** Test support: a real HTTP(S) event sink receiver on 127.0.0.1 that records every request. */
export interface ReceivedRequest {
  method: string;
  path: string;
  authorization: string | undefined;
  contentType: string | undefined;
  /** The parsed JSON body. */
  body: unknown;
  status: number;
  at: number;
}

export interface SinkReceiver {
  url: string;
  requests: ReceivedRequest[];
  /** Status to answer for the n-th request (0-based); `'hang'` never answers. Default 200. */
  respond: (n: number) => number | 'hang';
  /** Every event received in a 2xx-answered request, in arrival order, schema-checked. */
  events(): SinkEvent[];
  /** Every event of every request, answered or not. */
  allEvents(): SinkEvent[];
  close(): Promise<void>;
}

export async function startSinkReceiver(opts: { path?: string; tls?: { certificate: string; privateKey: string } } = {}): Promise<SinkReceiver> {
  const requests: ReceivedRequest[] = [];
  const hanging: http.ServerResponse[] = [];
  const receiver: SinkReceiver = {
    url: '',
    requests,
    respond: () => 200,
    events: () => flatten(requests.filter((r) => r.status >= 200 && r.status < 300)),
    allEvents: () => flatten(requests),
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  const handler: http.RequestListener = (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // kept as text
      }
      const answer = receiver.respond(requests.length);
      requests.push({
        method: req.method ?? '',
        path: req.url ?? '',
        authorization: req.headers.authorization,
        contentType: req.headers['content-type'],
        body,
        status: answer === 'hang' ? 0 : answer,
        at: Date.now(),
      });
      if (answer === 'hang') return void hanging.push(res);
      res.writeHead(answer, { 'content-type': 'application/json' }).end('{}');
    });
  };
  const server = opts.tls ? https.createServer({ cert: opts.tls.certificate, key: opts.tls.privateKey }, handler) : http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  receiver.url = `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}${opts.path ?? '/events'}`;
  return receiver;
}

function flatten(requests: ReceivedRequest[]): SinkEvent[] {
  return requests.flatMap((r) => (Array.isArray(r.body) ? r.body : [r.body])).map((e) => sinkEventSchema.parse(e));
}

/** Polls until `ok` (10 s by default: these tests deliver over retries). */
export const until = <T>(fn: () => T | Promise<T>, ok: (v: T) => boolean, timeoutMs = 10_000): Promise<T> => pollUntil(fn, ok, timeoutMs, 10);
