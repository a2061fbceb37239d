import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { openDatabase, type DatabaseHandle } from '../db/client.js';
import { NodeAgent, type NodeAgentOptions } from '../node-agent/NodeAgent.js';
import { ManagementServer, type ManagementServerOptions } from '../server/ManagementServer.js';
import { until } from '../shared/testing/until.js';
import { EventStream } from './EventStream.js';

/** The management configuration API's base path. */
export const CONFIG_API = '/api/admin/configuration/v1';

export interface TestPlatformOptions {
  /** The database; default a fresh in-memory PGlite. */
  database?: DatabaseHandle;
  /** The server's other options (logger, enrollment key...); port 0 and no web root unless given. */
  server?: Partial<ManagementServerOptions>;
  /** The node to enroll, or none; its management URL and enrollment key are the server's. */
  node?: Omit<NodeAgentOptions, 'managementUrl' | 'enrollmentKey'> | null;
}

export interface ClientInit {
  pin?: string;
  token?: string;
  body?: unknown;
  method?: string;
}

const silent = pino({ level: 'silent' });
const PASSWORD = 'pw';
const KEY = 'test-enrollment-key';

/**
 * A real management server (on PGlite unless a database is given) with a real conferencing node
 * enrolled into it, and the requests tests make of them: the management REST API as `admin`, the
 * node's client API and its event stream. One harness for every server+node test.
 */
export class TestPlatform {
  private readonly streams: EventStream[] = [];
  private readonly auth = { authorization: `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}`, 'content-type': 'application/json' };

  private constructor(
    readonly server: ManagementServer,
    private readonly nodeAgent: NodeAgent | null,
  ) {}

  static async start(opts: TestPlatformOptions = {}): Promise<TestPlatform> {
    const enrollmentKey = opts.server?.enrollmentKey ?? KEY;
    const server = await ManagementServer.start({
      port: 0,
      webRoot: '/nonexistent',
      logger: silent,
      ...opts.server,
      database: opts.database ?? (await openDatabase({ dataDir: 'memory://' })),
      adminPassword: PASSWORD,
      enrollmentKey,
    });
    let node: NodeAgent | null = null;
    if (opts.node !== null) {
      try {
        // SIP tests talk UDP (sipp, baresip); the guide's default leaves it off.
        if (opts.node?.sipPort !== undefined) {
          const r = await fetch(`${server.url}${CONFIG_API}/global/1/`, {
            method: 'PATCH',
            headers: { authorization: `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}`, 'content-type': 'application/json' },
            body: JSON.stringify({ enable_sip_udp: true }),
          });
          if (r.status >= 300) throw new Error(`enable_sip_udp: ${r.status} ${await r.text()}`);
        }
        node = await NodeAgent.start({
          port: 0,
          dataDir: mkdtempSync(join(tmpdir(), 'om-test-node-')),
          webRoot: '/nonexistent',
          logger: silent,
          ...opts.node,
          managementUrl: server.url,
          enrollmentKey,
        });
        // Generous: enrolling signs a challenge and loads the snapshot, slow when the machine runs a whole suite.
        await until(
          () => node!.link.connected,
          (c) => c,
          20_000,
        );
      } catch (err) {
        await node?.stop();
        await server.stop();
        throw err;
      }
    }
    return new TestPlatform(server, node);
  }

  /** The enrolled node. */
  get node(): NodeAgent {
    if (!this.nodeAgent) throw new Error('This platform was started without a node');
    return this.nodeAgent;
  }

  /** A management REST API request as `admin`; `path` is under the configuration API unless it starts with `/`. */
  api(method: string, path: string, body?: unknown): Promise<Response> {
    const url = `${this.server.url}${path.startsWith('/') ? path : `${CONFIG_API}/${path}`}`;
    return fetch(url, { method, headers: this.auth, body: body === undefined ? undefined : JSON.stringify(body) });
  }

  /** `api()` that fails the test on any status of 300 or more, with the body in the message. */
  async rest(method: string, path: string, body?: unknown): Promise<Response> {
    const r = await this.api(method, path, body);
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
    return r;
  }

  /** Creates an object over REST: the path of its URI. */
  async create(resource: string, body: unknown): Promise<string> {
    const r = await this.rest('POST', `${resource}/`, body);
    return new URL(r.headers.get('location')!, this.server.url).pathname;
  }

  /** Waits until the node's configuration has these aliases (it arrives after a REST change). */
  async nodeKnows(aliases: readonly string[], ms = 10_000): Promise<void> {
    for (const alias of aliases)
      await until(
        () => this.node.manager.directory.lookup(alias),
        (s) => s !== undefined,
        ms,
      );
  }

  /** A client API request to the node for a conference alias (POST unless a method is given). */
  client(alias: string, path: string, init: ClientInit = {}): Promise<Response> {
    return fetch(`${this.node.url}/api/client/v2/conferences/${encodeURIComponent(alias)}/${path}`, {
      method: init.method ?? 'POST',
      headers: {
        ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(init.pin !== undefined ? { pin: init.pin } : {}),
        ...(init.token ? { token: init.token } : {}),
      },
      body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
    });
  }

  /** A participant's event stream, closed at `stop()`. */
  async events(alias: string, token: string): Promise<EventStream> {
    const s = await EventStream.open(`${this.node.url}/api/client/v2/conferences/${encodeURIComponent(alias)}/events?token=${token}`);
    this.streams.push(s);
    return s;
  }

  async stop(): Promise<void> {
    for (const s of this.streams) s.close();
    await this.nodeAgent?.stop();
    await this.server.stop();
  }
}
