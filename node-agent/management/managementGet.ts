import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { TLSSocket } from 'node:tls';

/** How the node trusts an https:// management server: its certificate (PEM) or its pinned SHA-256 fingerprint. */
export interface ManagementTrust {
  ca?: string;
  fingerprint?: string;
}

export interface ManagementResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

const normalise = (f: string) => f.replace(/[^0-9a-f]/gi, '').toLowerCase();

/**
 * A GET to the management server (theme packages) with the same trust as the node link: a pinned
 * fingerprint is checked before the request is written, so a server with another certificate
 * never sees the node's credentials. Bodies above `maxBytes` are refused.
 */
export function managementGet(
  url: string,
  headers: Record<string, string>,
  opts: { trust?: ManagementTrust; timeoutMs: number; maxBytes: number },
): Promise<ManagementResponse> {
  const u = new URL(url);
  const tls = u.protocol === 'https:';
  const trust = opts.trust;
  return new Promise((resolve, reject) => {
    const req = (tls ? httpsRequest : httpRequest)(u, {
      method: 'GET',
      headers,
      timeout: opts.timeoutMs,
      ...(tls && trust?.ca ? { ca: trust.ca } : {}),
      ...(tls && trust?.fingerprint ? { rejectUnauthorized: false, agent: false } : {}),
    });
    if (tls && trust?.fingerprint) {
      const pinned = normalise(trust.fingerprint);
      // Corked until the certificate is checked: nothing (headers included) leaves before.
      req.on('socket', (socket) => {
        req.cork();
        socket.once('secureConnect', () => {
          const shown = (socket as TLSSocket).getPeerCertificate()?.fingerprint256;
          if (!shown || normalise(shown) !== pinned) req.destroy(new Error('the management server’s certificate does not match the pinned fingerprint'));
          else req.uncork();
        });
      });
    }
    req.on('timeout', () => req.destroy(new Error(`no answer within ${opts.timeoutMs} ms`)));
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > opts.maxBytes) res.destroy(new Error('answer too large'));
        else chunks.push(c);
      });
      res.on('error', reject);
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.end();
  });
}
