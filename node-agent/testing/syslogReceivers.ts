import dgram from 'node:dgram';
import net from 'node:net';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { parseOctetFrames } from '../logging/rfc5424.js';
import { until } from '../../shared/testing/until.js';

/**
 * Real syslog receivers for tests: a UDP socket (one message per datagram) and a TCP or TLS
 * server (RFC 6587 octet counting), listening on 127.0.0.1.
 */

/** RFC 5424 §6 header, no structured data: PRI, TIMESTAMP, HOSTNAME, APP-NAME, PROCID, MSGID, MSG. */
export const RFC5424 =
  /^<(\d{1,3})>1 (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,6})?(?:Z|[+-]\d\d:\d\d)) ([\x21-\x7e]{1,255}) ([\x21-\x7e]{1,48}) ([\x21-\x7e]{1,128}) ([\x21-\x7e]{1,32}) - (.*)$/s;

export interface Receiver {
  readonly port: number;
  /** Every message received, in order. */
  readonly messages: string[];
  /** Raw octets received (to search for things that must never be sent). */
  raw(): string;
  close(): Promise<void>;
}

export async function udpReceiver(): Promise<Receiver & { datagramSizes: number[] }> {
  const socket = dgram.createSocket('udp4');
  const messages: string[] = [];
  const datagramSizes: number[] = [];
  const chunks: Buffer[] = [];
  socket.on('message', (msg) => {
    chunks.push(msg);
    datagramSizes.push(msg.length);
    messages.push(msg.toString('utf8'));
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    port: (socket.address() as AddressInfo).port,
    messages,
    datagramSizes,
    raw: () => Buffer.concat(chunks).toString('utf8'),
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

export interface StreamReceiver extends Receiver {
  /** Framing errors (anything not octet-counted). */
  readonly errors: string[];
  connections(): number;
}

/** A TCP (or, with `tlsOptions`, TLS) syslog receiver; `port` reuses a given port (to come back up). */
export async function streamReceiver(opts: { port?: number; tlsOptions?: tls.TlsOptions } = {}): Promise<StreamReceiver> {
  const messages: string[] = [];
  const errors: string[] = [];
  const chunks: Buffer[] = [];
  const sockets = new Set<net.Socket>();
  let connections = 0;
  const onSocket = (socket: net.Socket) => {
    connections++;
    sockets.add(socket);
    let pending: Buffer = Buffer.alloc(0);
    socket.on('data', (data: Buffer) => {
      chunks.push(data);
      try {
        const { messages: got, rest } = parseOctetFrames(Buffer.concat([pending, data]));
        messages.push(...got);
        pending = rest;
      } catch (err) {
        errors.push((err as Error).message);
        socket.destroy();
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  };
  const server = opts.tlsOptions ? tls.createServer(opts.tlsOptions, onSocket) : net.createServer(onSocket);
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    messages,
    errors,
    connections: () => connections,
    raw: () => Buffer.concat(chunks).toString('utf8'),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export { until };
