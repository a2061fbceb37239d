import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { conferencingNode } from '../../db/schema.js';
import type { Domain } from '../domain.js';
import { isLoopback } from '../http/webSecurity.js';
import type { NodeRegistry } from '../platform/NodeRegistry.js';
import { checkBasic } from '../rest/basicAuth.js';
import type { LiveStatus } from '../status/LiveStatus.js';
import { allows } from '../../shared/admin/permissions.js';

export interface ServerMetricsOptions {
  /** `METRICS_TOKEN`: when set, `/metrics` answers `Authorization: Bearer <token>` from anywhere. */
  token?: string;
}

const sameSecret = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

/**
 * The management server's `/metrics` in Prometheus text (no personal data): live conferences and
 * participants (by protocol and role), conferencing nodes configured and connected, how long a
 * configuration change takes to be applied on each connected node, HTTP request durations, and
 * Node's process metrics (event-loop lag, CPU, memory). A registry per server (tests run several).
 *
 * Who may read it: a bearer token (`METRICS_TOKEN`) when one is set; any client on this machine
 * (a local Prometheus); or an administrator's Basic credentials with "May view conference status".
 */
export function registerServerMetrics(
  app: FastifyInstance,
  dom: Domain,
  status: LiveStatus,
  registry: NodeRegistry,
  opts: ServerMetricsOptions = {},
): Registry {
  const register = new Registry();
  collectDefaultMetrics({ register, eventLoopMonitoringPrecision: 10 });
  new Gauge({
    name: 'openmeet_conferences',
    help: 'Conferences live on the platform (one conference spanning nodes counts once).',
    registers: [register],
    collect() {
      this.set(status.conferences().length);
    },
  });
  new Gauge({
    name: 'openmeet_participants',
    help: 'Participants on the platform, by protocol and role.',
    labelNames: ['protocol', 'role'],
    registers: [register],
    collect() {
      this.reset();
      for (const p of status.participants()) this.inc({ protocol: p.protocol, role: p.role });
    },
  });
  new Gauge({
    name: 'openmeet_nodes_connected',
    help: 'Conferencing nodes connected to the management server (reachable).',
    registers: [register],
    collect() {
      this.set(registry.liveNodes().length);
    },
  });
  new Gauge({
    name: 'openmeet_node_reachable',
    help: 'Each configured conferencing node: 1 while connected to the management server, 0 otherwise.',
    labelNames: ['node'],
    registers: [register],
    async collect() {
      this.reset();
      for (const n of await dom.db.select({ id: conferencingNode.id, name: conferencingNode.name }).from(conferencingNode))
        this.set({ node: n.name }, registry.isLive(n.id) ? 1 : 0);
    },
  });
  new Gauge({
    name: 'openmeet_nodes_configured',
    help: 'Conferencing nodes in the configuration.',
    registers: [register],
    async collect() {
      this.set((await dom.db.select({ id: conferencingNode.id }).from(conferencingNode)).length);
    },
  });

  // From a configuration change to each connected node saying it applied the snapshot.
  const pushLatency = new Histogram({
    name: 'openmeet_config_push_seconds',
    help: 'Time from a configuration change to a connected node applying it.',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
    registers: [register],
  });
  const changedAt = new Map<number, number>();
  dom.bus.on('changed', () => {
    const now = performance.now();
    for (const n of registry.liveNodes()) if (!changedAt.has(n.id)) changedAt.set(n.id, now);
  });
  registry.onNodeMessage((node, msg) => {
    if (msg.type !== 'config_applied') return;
    const since = changedAt.get(node.id);
    if (since === undefined) return;
    changedAt.delete(node.id);
    pushLatency.observe((performance.now() - since) / 1000);
  });

  const httpDuration = new Histogram({
    name: 'openmeet_http_request_duration_seconds',
    help: 'HTTP requests to the management server, by method, route and status code.',
    labelNames: ['method', 'route', 'status_code'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [register],
  });
  app.addHook('onResponse', async (req, reply) => {
    // The route's pattern (never the raw URL: ids and queries would make endless series); unknown paths as one.
    const route = req.routeOptions.url ?? 'unmatched';
    httpDuration.observe({ method: req.method, route, status_code: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });

  app.get('/metrics', async (req: FastifyRequest, reply: FastifyReply) => {
    if (!(await mayRead(req, dom, opts.token))) {
      void reply.header('WWW-Authenticate', 'Bearer realm="metrics"');
      return reply.code(401).send({ error: 'Authentication credentials were not provided.' });
    }
    return reply.type(register.contentType).send(await register.metrics());
  });
  return register;
}

async function mayRead(req: FastifyRequest, dom: Domain, token: string | undefined): Promise<boolean> {
  const auth = req.headers.authorization ?? '';
  const bearer = /^Bearer\s+(\S+)$/i.exec(auth)?.[1];
  if (bearer !== undefined) return token !== undefined && sameSecret(bearer, token);
  if (/^Basic\s/i.test(auth)) {
    const r = await checkBasic(dom.db, req);
    return 'admin' in r && allows(r.admin.permissions, 'status', 'view');
  }
  return isLoopback(req.socket.remoteAddress) && !req.headers['x-forwarded-for'];
}
