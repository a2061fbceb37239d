import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import pg from 'pg';
import type { Logger } from 'pino';
import { clusterMessageSchema, type ClusterMessage } from './clusterMessages.js';

/** The Postgres channel the management servers of one database talk on. */
export const CLUSTER_CHANNEL = 'openmeet_cluster';
/** NOTIFY payloads must stay under 8000 bytes: longer messages travel in parts of this many characters (at most 3 bytes each in UTF-8). */
const PART_CHARS = 2_000;
/** Parts of a message still missing after this long are dropped (their sender's connection broke mid-way). */
const PART_TTL_MS = 30_000;

export interface ClusterChannelEvents {
  message: [ClusterMessage, from: string];
  /** The listening connection was lost and is back: messages in between may be missing, so peers are asked to resync. */
  reconnected: [];
}

/**
 * Postgres LISTEN/NOTIFY between the management servers on one database: each message goes to
 * every other server, in the order this server sent it (one connection sends and listens; the
 * parts of a long message go in one statement, hence one transaction, delivered together).
 */
export class ClusterChannel extends EventEmitter<ClusterChannelEvents> {
  private client: pg.Client | null = null;
  private sending: Promise<unknown> = Promise.resolve();
  private readonly parts = new Map<string, { got: string[]; left: number; since: number }>();
  private closed = false;
  private retryMs = 250;
  private retryTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly url: string,
    /** This server's id in the cluster; its own notifications come back to it and are skipped. */
    readonly serverId: string,
    private readonly log: Logger,
  ) {
    super();
  }

  async start(): Promise<void> {
    await this.connect();
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url });
    client.on('error', (err) => {
      this.log.warn({ err: err.message }, 'cluster channel: Postgres connection lost');
      void client.end().catch(() => {});
    });
    client.on('end', () => {
      if (this.client !== client) return;
      this.client = null;
      this.scheduleReconnect();
    });
    client.on('notification', (n) => {
      if (n.channel === CLUSTER_CHANNEL && n.payload) this.receive(n.payload);
    });
    await client.connect();
    await client.query(`LISTEN ${CLUSTER_CHANNEL}`);
    this.client = client;
    this.retryMs = 250;
  }

  private scheduleReconnect(): void {
    if (this.closed || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.connect()
        .then(() => {
          this.log.info('cluster channel: listening again');
          this.emit('reconnected');
        })
        .catch((err: unknown) => {
          this.log.warn({ err: (err as Error).message }, 'cluster channel: Postgres not reachable; retrying');
          this.retryMs = Math.min(this.retryMs * 2, 5_000);
          this.scheduleReconnect();
        });
    }, this.retryMs);
    this.retryTimer.unref();
  }

  /** Sends a message to the other servers; lost (and logged) while the database is unreachable, as peers resync after. */
  publish(msg: ClusterMessage): Promise<void> {
    const text = JSON.stringify(msg);
    const id = randomUUID().slice(0, 8);
    const count = Math.max(1, Math.ceil(text.length / PART_CHARS));
    const payloads: string[] = [];
    for (let i = 0; i < count; i++) payloads.push(`${this.serverId}|${id}|${i}|${count}|${text.slice(i * PART_CHARS, (i + 1) * PART_CHARS)}`);
    const run = this.sending.then(async () => {
      const client = this.client;
      if (!client || this.closed) return;
      const calls = payloads.map((_, i) => `pg_notify('${CLUSTER_CHANNEL}', $${i + 1})`).join(', ');
      await client.query(`SELECT ${calls}`, payloads);
    });
    this.sending = run.catch((err: unknown) => {
      if (!this.closed) this.log.warn({ err: (err as Error).message, kind: msg.kind }, 'cluster channel: message not sent');
    });
    return this.sending.then(() => undefined);
  }

  private receive(payload: string): void {
    // serverId|messageId|part|count|text (the ids hold no '|').
    const fields = payload.split('|', 4);
    if (fields.length < 4) return;
    const [from, id, partText, countText] = fields as [string, string, string, string];
    if (from === this.serverId) return;
    const text = payload.slice(from.length + id.length + partText.length + countText.length + 4);
    const part = Number(partText);
    const count = Number(countText);
    if (!Number.isInteger(part) || !Number.isInteger(count) || count < 1 || count > 10_000 || part < 0 || part >= count) return;
    let whole = text;
    if (count > 1) {
      const key = `${from}|${id}`;
      const now = Date.now();
      for (const [k, p] of this.parts) if (now - p.since > PART_TTL_MS) this.parts.delete(k);
      const entry = this.parts.get(key) ?? { got: new Array<string>(count).fill(''), left: count, since: now };
      this.parts.set(key, entry);
      if (entry.got[part] === '') entry.left--;
      entry.got[part] = text;
      if (entry.left > 0) return;
      this.parts.delete(key);
      whole = entry.got.join('');
    }
    let parsed;
    try {
      parsed = clusterMessageSchema.safeParse(JSON.parse(whole));
    } catch {
      this.log.warn({ from }, 'cluster channel: unreadable message');
      return;
    }
    if (!parsed.success) {
      this.log.warn({ from, issues: parsed.error.issues.slice(0, 3) }, 'cluster channel: invalid message');
      return;
    }
    this.emit('message', parsed.data, from);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    await this.sending;
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => {});
  }
}
