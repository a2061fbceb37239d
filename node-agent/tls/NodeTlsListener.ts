import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { NodeConfigSnapshot } from '../../shared/node-protocol/messages.js';

export interface NodeTlsListenerOptions {
  /** HTTPS port; 0 picks a free one. */
  port: number;
  address: string;
  log: Logger;
}

/**
 * The node's HTTPS port, serving the same client API and meeting client as its HTTP port with the
 * TLS certificate assigned to the node (Platform > TLS certificates). It listens while a certificate
 * is assigned, and a new certificate applies to new connections at once, without a restart.
 */
export class NodeTlsListener {
  private server: Server | null = null;
  private fingerprint: string | null = null;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly app: FastifyInstance,
    private readonly opts: NodeTlsListenerOptions,
  ) {}

  /** https://address:port while listening, else null. */
  get url(): string | null {
    const a = this.server?.address() as AddressInfo | null | undefined;
    return a ? `https://${a.address}:${a.port}` : null;
  }

  /** Follows the pushed configuration; applications run one after another. */
  apply(tls: NodeConfigSnapshot['tls']): Promise<void> {
    this.chain = this.chain.then(() => this.applyNow(tls)).catch((err: unknown) => this.opts.log.error({ err }, 'could not apply the TLS certificate'));
    return this.chain;
  }

  private async applyNow(tls: NodeConfigSnapshot['tls']): Promise<void> {
    if (!tls) {
      if (this.server) this.opts.log.warn('no TLS certificate is assigned to this node any more: HTTPS stopped');
      await this.closeServer();
      return;
    }
    const fingerprint = createHash('sha256').update(tls.certificate).update(tls.privateKey).digest('hex');
    if (fingerprint === this.fingerprint && this.server) return;
    const context = { cert: tls.certificate, key: tls.privateKey };
    if (this.server) {
      // Throws on a key that does not pair: the previous certificate then stays in use.
      this.server.setSecureContext(context);
    } else {
      // The Fastify app handles HTTPS requests exactly as it handles HTTP ones.
      const server = createServer(context, (req, res) => this.app.server.emit('request', req, res));
      server.on('tlsClientError', () => {}); // scanners and wrong clients must not fill the log
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(this.opts.port, this.opts.address, () => {
          server.off('error', reject);
          resolve();
        });
      });
      this.server = server;
      this.opts.log.info({ url: this.url }, 'HTTPS listening with the assigned TLS certificate');
    }
    this.fingerprint = fingerprint;
  }

  private async closeServer(): Promise<void> {
    const server = this.server;
    this.server = null;
    this.fingerprint = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async close(): Promise<void> {
    await this.chain;
    await this.closeServer();
  }
}
