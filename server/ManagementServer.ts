import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import { fastifyTRPCPlugin } from '@trpc/server/adapters/fastify';
import { applyWSSHandler } from '@trpc/server/adapters/ws';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import { WebSocketServer } from 'ws';
import { openDatabase, type DatabaseHandle } from '../db/client.js';
import { NODE_WS_PATH } from '../shared/node-protocol/messages.js';
import { ensureFirstAdmin, persistentSecret } from './auth/admin.service.js';
import { addShippedObjects } from './config/shipped.js';
import { registerAdministrationRoutes } from './auth/administration.routes.js';
import type { Domain } from './domain.js';
import { ConfigBus } from './platform/ConfigBus.js';
import { ManagementCluster, type ManagementClusterOptions } from './platform/cluster/ManagementCluster.js';
import { PlatformLoads } from './platform/PlatformLoads.js';
import { ADVISORY_LOCKS, withAdvisoryLock } from '../db/advisoryLock.js';
import { NodeRegistry, type NodeRegistryOptions } from './platform/NodeRegistry.js';
import { registerConfigurationRoutes } from './rest/configuration.routes.js';
import { registerStatusRoutes } from './rest/status.routes.js';
import { BackplaneBroker } from './platform/BackplaneBroker.js';
import { registerAlarmRoutes } from './rest/alarm.routes.js';
import { AlarmManager } from './alarms/AlarmManager.js';
import { AlarmWatch, type AlarmWatchOptions } from './alarms/AlarmWatch.js';
import { AlarmSyslog } from './alarms/AlarmSyslog.js';
import { registerHistoryRoutes } from './rest/history.routes.js';
import { HistoryRecorder } from './history/HistoryRecorder.js';
import { schedulePurge } from './history/historyRetention.js';
import { registerBreakInRoutes } from './rest/breakIn.routes.js';
import { registerCommandRoutes } from './rest/command.routes.js';
import { registerServerMetrics } from './metrics/serverMetrics.js';
import { registerNodeEnrollmentRoutes } from './rest/nodeEnrollment.routes.js';
import { LARGEST_BODY_LIMIT, registerBodyLimits } from './rest/bodyLimits.js';
import { registerErrorHandling } from './rest/errorHandling.js';
import { errorRequestId } from './errors/internalError.js';
import { BackupScheduler } from './backup/backup.service.js';
import { registerBackupRoutes } from './backup/backup.routes.js';
import { registerBulkRoutes } from './bulk/bulk.routes.js';
import { registerCertificateRoutes } from './certificate/certificate.routes.js';
import { registerThemeRoutes } from './theme/theme.routes.js';
import { registerThemeDeliveryRoutes } from './theme/themeDelivery.routes.js';
import { LiveStatus } from './status/LiveStatus.js';
import { SupportLog } from './supportLog/SupportLog.js';
import { teeLogger } from '../node-agent/logging/teeLogger.js';
import { appRouter } from './trpc/root.js';
import { isLoopback, isTls, registerWebSecurity, sameOrigin } from './http/webSecurity.js';
import { ManagementHttps } from './tls/ManagementHttps.js';
import { createContext, type ServerServices } from './trpc/trpc.js';
import type { Clock } from '../shared/time/Clock.js';

export interface ManagementServerOptions {
  /** HTTP port; default 8080 (`PORT`). 0 picks a free port. */
  port?: number;
  /** Listen address; default 127.0.0.1. */
  host?: string;
  /** Where conferencing nodes reach this server (node bundles list every server's); default the address it listens on, unless that is every address. */
  publicUrl?: string;
  /** Postgres URL (`DATABASE_URL`); default: embedded PGlite in `dataDir`. */
  databaseUrl?: string;
  /** PGlite directory; default `./data/db`. */
  dataDir?: string;
  /** An already-open database (tests); takes precedence over databaseUrl/dataDir. */
  database?: DatabaseHandle;
  /** Password of `admin` (`ADMIN_PASSWORD`); generated and reported once when absent. */
  adminPassword?: string;
  /** Key nodes present to enroll (`NODE_ENROLLMENT_KEY`); generated and kept when absent. */
  enrollmentKey?: string;
  /** Node link heartbeats and the second-claimant probe (tests shorten them); defaults in NodeRegistry. */
  nodeLink?: NodeRegistryOptions;
  /** Drives the console's live-view session rechecks; default the system clock (tests move a ManualClock). */
  clock?: Clock;
  /** Alarm checks' timings (certificate check interval, configuration sync limit); defaults in AlarmWatch. */
  alarms?: AlarmWatchOptions;
  /**
   * HTTPS port (`HTTPS_PORT`, default 9443 in `server/main.ts`); unset = HTTP only (tests). With
   * HTTPS on, plain HTTP is left to clients on this machine: others are redirected or refused.
   */
  httpsPort?: number;
  /** Where the self-signed HTTPS certificate is generated and kept; default `./data/tls` (DATA_DIR/tls). */
  tlsDir?: string;
  /** Origins besides the server's own the console may be used from (`CONSOLE_ORIGINS`: a reverse proxy's public origin when it rewrites Host). */
  allowedOrigins?: string[];
  /** When the HTTPS port cannot be opened: fail (default), or warn and serve HTTP only (the default port of the quick start). */
  httpsOptional?: boolean;
  /** `METRICS_TOKEN`: a bearer token that may read `/metrics` from anywhere (else loopback clients and administrators only). */
  metricsToken?: string;
  /** With Postgres: heartbeats between the management servers sharing the database (server/platform/cluster). */
  cluster?: ManagementClusterOptions;
  /** How often the history purge runs (once per interval across all management servers); default hourly. */
  historyPurgeMs?: number;
  /** When automatic backups run (UTC cron, seconds allowed; once per minute at most across all management servers); default AUTOMATIC_BACKUP_CRON. */
  backupCron?: string;
  /** Built web assets (the console); default `./dist/web`. */
  webRoot?: string;
  logger?: Logger;
}

export class ManagementServer {
  private constructor(
    readonly app: FastifyInstance,
    readonly database: DatabaseHandle,
    readonly dom: Domain,
    readonly status: LiveStatus,
    readonly registry: NodeRegistry,
    readonly enrollmentKey: string,
    /** Set only when the admin password was generated by this start. */
    readonly generatedAdminPassword: string | undefined,
    private readonly wss: WebSocketServer[],
    /** The HTTPS port, when on. */
    readonly https: ManagementHttps | null,
    readonly alarms: AlarmManager,
    /** The other management servers on the same Postgres; null on the embedded database. */
    readonly cluster: ManagementCluster | null,
    /** Backplanes between nodes holding one conference (issue 14). */
    readonly backplanes: BackplaneBroker,
  ) {}

  get url(): string {
    const a = this.app.server.address() as AddressInfo;
    return `http://${a.address.includes(':') ? `[${a.address}]` : a.address}:${a.port}`;
  }

  /** https://host:port when HTTPS is on. */
  get httpsUrl(): string | null {
    return this.https?.url ?? null;
  }

  static async start(opts: ManagementServerOptions = {}): Promise<ManagementServer> {
    // The support log keeps the management node's own lines (info and above, whatever the given logger's level) and the nodes'.
    const supportLog = new SupportLog();
    const log = teeLogger(opts.logger ?? pino({ level: process.env.LOG_LEVEL ?? 'info', name: 'management' }), supportLog.destination);
    const database = opts.database ?? (await openDatabase({ url: opts.databaseUrl, dataDir: opts.dataDir }));
    const dom: Domain = { db: database.db, bus: new ConfigBus() };
    // Management servers starting together on one Postgres set up the first admin, keys and shipped objects once.
    const firstStart = async () => {
      const { generated } = await ensureFirstAdmin(database.db, opts.adminPassword);
      const enrollmentKey = await persistentSecret(database.db, 'node_enrollment_key', opts.enrollmentKey);
      await addShippedObjects(dom);
      return { generated, enrollmentKey };
    };
    const { generated, enrollmentKey } = database.url ? await withAdvisoryLock(database.url, ADVISORY_LOCKS.startup, firstStart) : await firstStart();
    const status = new LiveStatus();
    const registry = new NodeRegistry(dom, status, enrollmentKey, log.child({ part: 'nodes' }), opts.nodeLink);
    // The live graphs' samples every 2 s, by the connected nodes' locations.
    status.startSampling(() => registry.liveNodes());
    // Alarms go to the log and, as the management node's own lines, to the syslog servers.
    const alarmSyslog = new AlarmSyslog(dom, log.child({ part: 'syslog' }));
    const alarms = new AlarmManager(database.db, log, undefined, alarmSyslog.destination);
    await alarmSyslog.start(alarms);
    // Other management servers on the same Postgres: changes, live status and alarms shared over LISTEN/NOTIFY.
    const cluster = database.url
      ? await ManagementCluster.start(database.url, { bus: dom.bus, registry, status, alarms, log: log.child({ part: 'cluster' }) }, opts.cluster)
      : null;
    const alarmWatch = new AlarmWatch(alarms, dom, registry, log.child({ part: 'alarms' }), opts.alarms);
    // Every node's load to the nodes linked here, for media allocation.
    const platformLoads = new PlatformLoads(status, registry);
    registry.onNodeMessage((node, msg) => {
      if (msg.type === 'support_log') supportLog.acceptNode(node.name, msg.entries, msg.dropped);
    });
    // A conference live on two nodes: the broker pairs them and relays their backplane set-up.
    const backplanes = new BackplaneBroker(registry, log.child({ part: 'backplanes' }));
    registry.onNodeMessage((node, msg) => backplanes.accept(node, msg));
    registry.onRemoteNodeMessage((node, msg) => backplanes.accept(node, msg));
    registry.onRemoteCommand((nodeIds, msg) => backplanes.observeCommand(nodeIds, msg));
    registry.onNodePresence((node, state) => state === 'lost' && backplanes.nodeGone(node.id));
    // A call whose media is on another node than its signalling: the two nodes' messages about it, passed on as they are.
    registry.onNodeMessage((node, msg) => {
      if (msg.type !== 'media_relay') return;
      if (registry.command([msg.toNode], { type: 'media_relay', fromNode: node.id, message: msg.message }) === 0 && msg.message.kind !== 'close')
        registry.commandHere([node.id], {
          type: 'media_relay',
          fromNode: msg.toNode,
          message: { kind: 'close', legId: msg.message.legId, reason: 'Media node unavailable' },
        });
    });
    const services: ServerServices = { dom, status, registry, alarms, supportLog, backplanes, ...(opts.clock ? { clock: opts.clock } : {}) };
    // Conference history (CDRs) from the nodes' records, purged as the global settings say.
    const history = new HistoryRecorder(dom.db, status, log.child({ part: 'history' }));
    registry.onNodeMessage((node, msg) => history.accept(node, msg));
    // Backplanes this server brokered, when they close (history/v1 backplane).
    backplanes.on('closed', (bp) => history.backplaneClosed(bp));
    const stopPurge = schedulePurge(dom, log.child({ part: 'history' }), opts.historyPurgeMs);

    const app = Fastify({ loggerInstance: log.child({ part: 'http' }, { level: 'warn' }) as FastifyBaseLogger, bodyLimit: LARGEST_BODY_LIMIT });
    // Security headers on every answer (refusals included), HTTPS for clients not on this machine.
    let https: ManagementHttps | null = null;
    const allowedOrigins = (opts.allowedOrigins ?? []).map((o) => new URL(o).origin);
    registerWebSecurity(app, { httpsPort: () => https?.port ?? null, allowedOrigins });
    // First: every route's body limit depends on who is asking, decided before the body is read.
    registerBodyLimits(app, dom);
    registerErrorHandling(app, log.child({ part: 'http' }));
    await app.register(fastifyTRPCPlugin, {
      prefix: '/trpc',
      trpcOptions: {
        router: appRouter,
        createContext: ({ req, res }: { req: { raw: import('node:http').IncomingMessage }; res: { header: (k: string, v: string) => unknown } }) =>
          createContext(services, req.raw, (cookie) => void res.header('set-cookie', cookie)),
        onError: ({ error, path }: { error: { code: string; message: string }; path?: string }) => {
          if (error.code === 'INTERNAL_SERVER_ERROR') log.error({ path, err: error, requestId: errorRequestId(error) }, 'tRPC error');
        },
      },
    });
    registerConfigurationRoutes(app, dom);
    registerThemeRoutes(app, dom);
    registerThemeDeliveryRoutes(app, dom, registry.sessionNode);
    registerCertificateRoutes(app, dom);
    registerBackupRoutes(app, dom);
    registerBulkRoutes(app, dom);
    registerAdministrationRoutes(app, dom);
    const backups = new BackupScheduler(dom, log.child({ part: 'backup' }), opts.backupCron);
    registerStatusRoutes(
      app,
      dom,
      status,
      () => backplanes.statusObjects(),
      (linkId) => backplanes.linkMediaStreams(linkId),
    );
    registerAlarmRoutes(app, dom);
    registerBreakInRoutes(app, dom, status, registry);
    registerCommandRoutes(app, dom, status, registry, supportLog);
    registerServerMetrics(app, dom, status, registry, { token: opts.metricsToken });
    registerHistoryRoutes(app, dom);
    registerNodeEnrollmentRoutes(app, dom, registry);
    app.get('/healthz', async () => ({ ok: true }));

    const webRoot = opts.webRoot ?? join(process.cwd(), 'dist', 'web');
    if (existsSync(join(webRoot, 'console', 'index.html'))) {
      await app.register(fastifyStatic, { root: webRoot, prefix: '/', index: false, wildcard: true });
      // The console is a single-page app: unknown non-API paths get its page.
      app.get('/', (_req, reply) => reply.sendFile('console/index.html'));
      app.setNotFoundHandler((req, reply) => {
        if (req.method === 'GET' && !req.url.startsWith('/api/') && !req.url.startsWith('/trpc')) {
          return reply.type('text/html').sendFile('console/index.html');
        }
        return reply.code(404).send({ error: 'Not found' });
      });
    } else {
      log.warn({ webRoot }, 'console assets not built (npm run build); serving APIs only');
    }

    // Two WebSocket endpoints on the same port: the console's tRPC subscriptions and node agents.
    const trpcWss = new WebSocketServer({ noServer: true });
    const wssHandler = applyWSSHandler({
      wss: trpcWss,
      router: appRouter,
      createContext: async ({ req }) => ({ ...(await createContext(services, req)), viaWebSocket: true }),
      keepAlive: { enabled: true, pingMs: 15_000, pongWaitMs: 5_000 },
      onError: ({ error, path }) => {
        if (error.code === 'INTERNAL_SERVER_ERROR') log.error({ path, err: error, requestId: errorRequestId(error) }, 'tRPC error');
      },
    });
    const nodeWss = new WebSocketServer({ noServer: true, maxPayload: 16 * 1024 * 1024 });
    nodeWss.on('connection', (ws, req) => registry.handleConnection(ws, req));
    app.server.on('upgrade', (req, socket, head) => {
      const path = (req.url ?? '').split('?')[0];
      const target = path === '/trpc' ? trpcWss : path === NODE_WS_PATH ? nodeWss : null;
      if (!target) return socket.destroy();
      // A page elsewhere must not open the console's WebSocket with the administrator's cookie, and
      // the node link (its key) crosses the network only over TLS once HTTPS is on.
      const refuse = !sameOrigin(req, allowedOrigins)
        ? 'cross-origin WebSocket'
        : https && !isTls(req) && !isLoopback(req.socket.remoteAddress)
          ? 'WebSocket over plain HTTP'
          : null;
      if (refuse) {
        log.warn({ remote: req.socket.remoteAddress, origin: req.headers.origin, path }, `${refuse} refused`);
        socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      target.handleUpgrade(req, socket, head, (ws) => target.emit('connection', ws, req));
    });
    // preClose: the HTTP server waits for open WebSockets before onClose hooks run.
    app.addHook('preClose', async () => {
      status.stopSampling();
      platformLoads.stop();
      alarmWatch.stop();
      await alarms.settled();
      alarmSyslog.close();
      backups.stop();
      stopPurge();
      await history.settled();
      await cluster?.stop();
      wssHandler.broadcastReconnectNotification();
      registry.close();
      backplanes.stop();
      for (const c of trpcWss.clients) c.terminate();
      for (const c of nodeWss.clients) c.terminate();
      await https?.close();
    });

    const host = opts.host ?? '127.0.0.1';
    await app.listen({ port: opts.port ?? 8080, host });
    if (opts.httpsPort !== undefined) {
      try {
        https = await ManagementHttps.start(app, dom, {
          port: opts.httpsPort,
          host,
          dir: opts.tlsDir ?? join(process.cwd(), 'data', 'tls'),
          log: log.child({ part: 'https' }),
        });
        const served = https;
        // Enrollment downloads point new nodes at HTTPS and pin this certificate.
        registry.managementTls = () => ({ port: served.port, fingerprint: served.certificate.fingerprint });
      } catch (err) {
        if (opts.httpsOptional) {
          log.warn({ err, port: opts.httpsPort }, 'HTTPS port unavailable: serving HTTP only (set HTTPS_PORT)');
        } else {
          await app.close();
          throw err;
        }
      }
    }
    if (cluster) {
      const a = app.server.address() as AddressInfo;
      const wildcard = a.address === '0.0.0.0' || a.address === '::';
      const own = https ? `https://${host}:${https.port}` : `http://${a.address.includes(':') ? `[${a.address}]` : a.address}:${a.port}`;
      cluster.advertisedUrl = opts.publicUrl ?? (wildcard ? null : own);
    }
    backups.start();
    return new ManagementServer(app, database, dom, status, registry, enrollmentKey, generated, [trpcWss, nodeWss], https, alarms, cluster, backplanes);
  }

  /**
   * Stops serving and closes the database. Bounded: a connection that does not end (a keep-alive
   * client, a request still streaming) is cut after 3 s, and the database gets 5 s to let go of
   * its connections, so a stop never hangs (it once did in CI, on Postgres).
   */
  async stop(): Promise<void> {
    const force = setTimeout(() => this.app.server.closeAllConnections(), 3_000);
    await this.app.close();
    clearTimeout(force);
    for (const w of this.wss) w.close();
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = await Promise.race([
      this.database.close().then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), 5_000))),
    ]);
    clearTimeout(timer);
    if (gaveUp) this.app.log.warn('database connections did not close within 5 s; left to the process exit');
  }
}
