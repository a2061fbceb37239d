import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Domain } from '../domain.js';
import { certificateDigest, managementCertificate, type ManagementCertificate } from './managementCertificate.js';

export interface ManagementHttpsOptions {
  /** 0 picks a free port. */
  port: number;
  host: string;
  /** Where the self-signed certificate is kept (DATA_DIR/tls). */
  dir: string;
  log: Logger;
}

/**
 * The management server's HTTPS port: the same Fastify app (console, tRPC and its WebSocket, REST
 * API, node link) over TLS. A certificate assigned to the Management Node later replaces the
 * self-signed one for new connections at once, without a restart.
 */
export class ManagementHttps {
  private digest = '';
  private current!: ManagementCertificate;
  private chain: Promise<void> = Promise.resolve();

  private constructor(
    private readonly server: Server,
    private readonly dom: Domain,
    private readonly opts: ManagementHttpsOptions,
  ) {}

  static async start(app: FastifyInstance, dom: Domain, opts: ManagementHttpsOptions): Promise<ManagementHttps> {
    const cert = await managementCertificate(dom, opts.dir, [opts.host]);
    const server = createServer({ cert: cert.cert, key: cert.key }, (req, res) => app.server.emit('request', req, res));
    // WebSocket upgrades (tRPC subscriptions, the node link) go through the app's one handler.
    server.on('upgrade', (req, socket, head) => app.server.emit('upgrade', req, socket, head));
    server.on('tlsClientError', () => {}); // scanners and clients that refuse the certificate must not fill the log
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port, opts.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const https = new ManagementHttps(server, dom, opts);
    https.current = cert;
    https.digest = certificateDigest(cert);
    dom.bus.on('changed', (what) => {
      if (what === 'management_vm' || what === 'tls_certificate' || what === 'restore') https.reload();
    });
    opts.log.info({ url: https.url, certificate: cert.source, fingerprint: cert.fingerprint }, 'HTTPS listening');
    return https;
  }

  get url(): string {
    const a = this.server.address() as AddressInfo;
    return `https://${a.address.includes(':') ? `[${a.address}]` : a.address}:${a.port}`;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** What is served now (its SHA-256 fingerprint is what a node pins). */
  get certificate(): ManagementCertificate {
    return this.current;
  }

  /** Re-reads the certificate after a configuration change; one reload at a time. */
  reload(): Promise<void> {
    this.chain = this.chain
      .then(async () => {
        const cert = await managementCertificate(this.dom, this.opts.dir, [this.opts.host]);
        const digest = certificateDigest(cert);
        if (digest === this.digest) return;
        // Throws on a key that does not pair: the previous certificate then stays in use.
        this.server.setSecureContext({ cert: cert.cert, key: cert.key });
        this.current = cert;
        this.digest = digest;
        this.opts.log.info({ certificate: cert.source, fingerprint: cert.fingerprint }, 'HTTPS certificate replaced');
      })
      .catch((err: unknown) => this.opts.log.error({ err }, 'could not apply the Management Node TLS certificate'));
    return this.chain;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
