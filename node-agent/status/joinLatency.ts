import type { FastifyInstance } from 'fastify';
import { Histogram, type Registry } from 'prom-client';
import type { ConferenceManager } from '../conference/ConferenceManager.js';

/** Media set up: an SDK client acknowledges its call; the meeting client sends its first stream. */
const MEDIA_UP = /\/participants\/:participant\/(calls\/:call\/ack|media\/transports\/:id\/produce)$/;

/**
 * `openmeet_node_join_seconds`: how long joining takes, from the participant's `request_token` to
 * its media being set up (its first call acknowledged, or its first stream sent), as the client API sees it.
 */
export function observeJoinLatency(app: FastifyInstance, manager: ConferenceManager, register: Registry): void {
  const joins = new Histogram({
    name: 'openmeet_node_join_seconds',
    help: "Time from a participant's request_token to its media being set up (first call acknowledged or first stream sent).",
    buckets: [0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 20, 60],
    registers: [register],
  });
  const counted = new WeakSet<object>();
  app.addHook('onResponse', async (req, reply) => {
    if (req.method !== 'POST' || reply.statusCode !== 200 || !MEDIA_UP.test(req.routeOptions.url ?? '')) return;
    const id = (req.params as { participant?: string }).participant;
    for (const conf of manager.conferences()) {
      const p = id ? conf.get(id) : undefined;
      if (!p || counted.has(p)) continue;
      counted.add(p);
      joins.observe((Date.now() - p.connectTime.getTime()) / 1000);
    }
  });
}
