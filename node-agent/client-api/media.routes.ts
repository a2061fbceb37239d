import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { connectBody, joinBody, preferencesBody, produceBody, type ConsumerAddedEvent } from '../../shared/client-api/media.js';
import type { Conference } from '../conference/Conference.js';
import type { ConferenceManager } from '../conference/ConferenceManager.js';
import type { Participant } from '../conference/Participant.js';
import { MediaRequestError, type MultiStreamSession } from '../media/MediaTypes.js';
import type { EventHub } from './EventHub.js';

/**
 * Multi-stream media (our extension of the client API; contract in shared/client-api/media.ts)
 * and Pexip's presentation floor (`take_floor` / `release_floor`). Routes parse, call the
 * conference's media and map errors: a MediaRequestError is the client's fault (400), anything
 * else is logged and answered 500 without details.
 */
const BASE = '/api/client/v2/conferences/:alias/participants/:participant';

type Params = { alias: string; participant: string; id?: string };
type Req = FastifyRequest<{ Params: Params; Querystring: { token?: string }; Body: unknown }>;
type Handler = (req: Req, reply: FastifyReply, conf: Conference, p: Participant) => Promise<unknown> | unknown;

const ok = (result: unknown) => ({ status: 'success', result });
const refused = (reply: FastifyReply, code: number, result: string) => reply.code(code).send({ status: 'success', result });

export function registerMediaRoutes(app: FastifyInstance, manager: ConferenceManager, hub: EventHub, log: Logger): void {
  /** The participant in the path must be the token's own: media sessions are personal. */
  const own =
    (fn: Handler) =>
    async (req: Req, reply: FastifyReply): Promise<unknown> => {
      const token = (req.headers.token as string | undefined) ?? req.query.token;
      const entry = manager.byToken(token);
      if (!entry) return refused(reply, 403, 'Invalid token');
      if (req.params.participant !== entry.participant.id) return refused(reply, 403, 'Invalid participant');
      try {
        return await fn(req, reply, entry.conference, entry.participant);
      } catch (err) {
        if (err instanceof MediaRequestError) return reply.code(400).send({ status: 'failed', result: err.message });
        log.warn({ err, participant: entry.participant.id }, 'media request failed');
        return reply.code(500).send({ status: 'failed', result: 'Media request failed' });
      }
    };

  const parse = <T extends z.ZodType>(schema: T, body: unknown): z.infer<T> => {
    const r = schema.safeParse(body ?? {});
    if (!r.success) throw new MediaRequestError(r.error.issues[0]?.message ?? 'Invalid request');
    return r.data;
  };

  /** The participant's session: the conference media's, or the one another node handles for it (media allocation). */
  const sessionFor = (conf: Conference, p: Participant): MultiStreamSession | undefined => p.remoteSession ?? conf.media.session(p.id);
  const sessionOf = (conf: Conference, p: Participant): MultiStreamSession => {
    const s = sessionFor(conf, p);
    if (!s) throw new MediaRequestError('Join media first');
    return s;
  };

  app.get(
    `${BASE}/media`,
    own(async (_req, _reply, conf) => ok({ router_rtp_capabilities: await conf.media.capabilities(), video_codec: conf.media.videoCodec() })),
  );

  app.post(
    `${BASE}/media/join`,
    own(async (req, _reply, conf, p) => {
      const body = parse(joinBody, req.body);
      // Media allocation may put the media on another node: the session is that node's, its requests pass through here.
      const mediaNode = manager.admission?.remoteMediaNode(conf.service.name, 'hd');
      p.remoteSession?.close();
      if (mediaNode && manager.remoteLegs) conf.media.session(p.id)?.close();
      const remote =
        mediaNode && manager.remoteLegs ? manager.remoteLegs.openSession(conf, p, { id: mediaNode.id, name: mediaNode.name }, mediaNode.proxyNode) : null;
      p.remoteSession = remote;
      const session: MultiStreamSession = remote ?? conf.media.openSession(p.id);
      // What the node sends this participant goes over its SSE stream.
      session.on('consumerAdded', (c) => {
        const event: ConsumerAddedEvent = {
          consumer_id: c.consumerId,
          producer_id: c.producerId,
          participant_uuid: c.participantId,
          kind: c.kind,
          source: c.source,
          rtp_parameters: c.rtpParameters,
          producer_paused: c.producerPaused,
        };
        hub.sendTo(conf, p.id, 'media_consumer_added', event);
      });
      session.on('consumerRemoved', (id) => hub.sendTo(conf, p.id, 'media_consumer_removed', { consumer_id: id }));
      session.on('consumerPaused', (id) => hub.sendTo(conf, p.id, 'media_consumer_paused', { consumer_id: id }));
      session.on('consumerResumed', (id) => hub.sendTo(conf, p.id, 'media_consumer_resumed', { consumer_id: id }));
      session.on('producerClosed', (id) => hub.sendTo(conf, p.id, 'media_producer_closed', { producer_id: id }));
      session.on('closed', () => {
        if (p.remoteSession === session) p.remoteSession = null;
        if (sessionFor(conf, p) === session || !sessionFor(conf, p)) {
          p.multiStream = false;
          conf.updated(p);
        }
      });
      const { send, recv } = await session.join(body.rtp_capabilities).catch((err: unknown) => {
        if (remote) remote.close();
        throw err;
      });
      p.multiStream = true;
      const wire = (t: typeof send) => ({ id: t.id, ice_parameters: t.iceParameters, ice_candidates: t.iceCandidates, dtls_parameters: t.dtlsParameters });
      conf.updated(p);
      return ok({ send_transport: wire(send), recv_transport: wire(recv) });
    }),
  );

  app.post(
    `${BASE}/media/transports/:id/connect`,
    own(async (req, _reply, conf, p) => {
      const body = parse(connectBody, req.body);
      await sessionOf(conf, p).connectTransport(req.params.id!, body.dtls_parameters);
      return ok(true);
    }),
  );

  app.post(
    `${BASE}/media/transports/:id/produce`,
    own(async (req, reply, conf, p) => {
      const body = parse(produceBody, req.body);
      // A presentation needs the floor first (Pexip's take_floor).
      if (body.source === 'screen' && conf.presenter?.id !== p.id) return refused(reply, 403, 'Presentation rejected');
      const id = await sessionOf(conf, p).produce(req.params.id!, {
        kind: body.kind,
        rtpParameters: body.rtp_parameters,
        source: body.source,
        paused: body.paused,
      });
      return ok({ id });
    }),
  );

  app.post(
    `${BASE}/media/transports/:id/restart_ice`,
    own(async (req, _reply, conf, p) => ok({ ice_parameters: await sessionOf(conf, p).restartIce(req.params.id!) })),
  );

  app.post(
    `${BASE}/media/producers/:id/pause`,
    own(async (req, _reply, conf, p) => {
      await sessionOf(conf, p).pauseProducer(req.params.id!);
      return ok(true);
    }),
  );
  app.post(
    `${BASE}/media/producers/:id/resume`,
    own(async (req, _reply, conf, p) => {
      await sessionOf(conf, p).resumeProducer(req.params.id!);
      return ok(true);
    }),
  );
  app.post(
    `${BASE}/media/producers/:id/close`,
    own((req, _reply, conf, p) => {
      sessionOf(conf, p).closeProducer(req.params.id!);
      return ok(true);
    }),
  );

  app.post(
    `${BASE}/media/consumers/:id/resume`,
    own(async (req, _reply, conf, p) => {
      await sessionOf(conf, p).resumeConsumer(req.params.id!);
      return ok(true);
    }),
  );
  app.post(
    `${BASE}/media/consumers/:id/preferences`,
    own(async (req, _reply, conf, p) => {
      const body = parse(preferencesBody, req.body);
      await sessionOf(conf, p).setConsumerPreferences(req.params.id!, {
        paused: body.paused,
        spatialLayer: body.spatial_layer,
        temporalLayer: body.temporal_layer,
        priority: body.priority,
      });
      return ok(true);
    }),
  );

  app.post(
    `${BASE}/media/leave`,
    own((_req, _reply, conf, p) => {
      sessionFor(conf, p)?.close();
      return ok(true);
    }),
  );

  // Pexip's presentation floor (client-api-v2 §4): 403 "Presentation rejected" when not allowed.
  app.post(
    `${BASE}/take_floor`,
    own((_req, reply, conf, p) => {
      if (conf.takeFloor(p) !== 'ok') return refused(reply, 403, 'Presentation rejected');
      return ok(null);
    }),
  );
  app.post(
    `${BASE}/release_floor`,
    own((_req, _reply, conf, p) => {
      conf.releaseFloor(p);
      return ok(null);
    }),
  );
}
