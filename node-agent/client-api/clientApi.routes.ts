import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { parse as parseSdp } from 'sdp-transform';
import type { Logger } from 'pino';
import type { z } from 'zod';
import {
  callsBody,
  candidateBody,
  clientStatisticsBody,
  CONFERENCE_ACTIONS,
  dialBody,
  messageBody,
  overlayTextBody,
  PARTICIPANT_ACTIONS,
  preferredAspectRatioBody,
  presInMixBody,
  requestTokenBody,
  roleBody,
  setGuestsCanUnmuteBody,
  transferBody,
  transformLayoutBody,
  updateBody,
  ackBody,
} from '../../shared/client-api/conference.js';
import { LAYOUT_SHORT } from '../../shared/client-api/media.js';
import { ControlError, REFUSAL } from '../conference/ControlError.js';
import type { CallLeg } from '../media/MediaTypes.js';
import { RESOURCE_UNAVAILABLE } from '../../shared/platform/mediaAllocation.js';
import type { Conference } from '../conference/Conference.js';
import type { ConferenceManager } from '../conference/ConferenceManager.js';
import { TOKEN_LIFETIME_S, type Participant } from '../conference/Participant.js';
import { clientObject, conferenceStatus, type EventHub } from './EventHub.js';
import { remoteClientObject } from '../conference/remoteParticipant.js';
import { pinCallerClientObject } from '../conference/PinCaller.js';
import { avatarJpeg } from './avatar.js';
import { layoutSvgs } from './layoutSvgs.js';
import { AddressRateLimiter } from './AddressRateLimiter.js';
import { DEFAULT_CLIENT_API_LIMITS, type ClientApiLimits } from './ClientApiLimits.js';
import { clientIceServers } from './iceServers.js';
import type { MediaStatistics } from '../status/MediaStatistics.js';
import { callStatisticsOf, clientReports, participantStatisticsOf } from './callStatistics.js';
import { MEDIA_STATISTICS_INTERVAL_MS } from '../../shared/node-protocol/messages.js';

/**
 * The Pexip-compatible client REST API v2 (`/api/client/v2/…`, see client-api-v2.md). Our own
 * meeting client uses exactly this, so any Pexip-style client can join too.
 */
const BASE = '/api/client/v2/conferences/:alias';
export const SERVER_VERSION = { version_id: '24', pseudo_version: '0.1.0' };

type Params = { alias: string; participant?: string; call?: string };
type Req = FastifyRequest<{ Params: Params; Querystring: { token?: string }; Body: unknown }>;

const ok = (result: unknown) => ({ status: 'success', result });
/** `candidate:<foundation> <component> <transport> <priority> <address> ...`: the address is an mDNS name. */
const isMdnsCandidate = (candidate: string) => /\.local\.?$/i.test(candidate.replace(/^a=/, '').split(/\s+/)[4] ?? '');
const failed = (reply: FastifyReply, code: number, result: string) => reply.code(code).send({ status: 'failed', result });

/** A syntactically usable SDP offer: what werift would choke on is refused here with a 400. */
function checkOffer(sdp: string): string | null {
  try {
    const parsed = parseSdp(sdp);
    if (!parsed.media?.length) return 'SDP has no media';
    if (parsed.media.length > 8) return 'SDP has too many media sections';
    return null;
  } catch {
    return 'SDP could not be parsed';
  }
}

export function registerClientApi(
  app: FastifyInstance,
  manager: ConferenceManager,
  hub: EventHub,
  log: Logger,
  limits: ClientApiLimits = DEFAULT_CLIENT_API_LIMITS,
  statistics?: MediaStatistics,
): void {
  // Each request_token creates a participant: one address may not create them without end.
  const tokenRequests = new AddressRateLimiter(limits.requestTokenPerAddress, limits.requestTokenWindowMs);
  app.addHook('onClose', async () => tokenRequests.close());
  const tokenOf = (req: Req) => (req.headers.token as string | undefined) ?? req.query.token;

  /**
   * Resolves the token to its participant, answering 403 "Invalid token" otherwise. A ControlError
   * from the conference domain becomes Pexip's answer here, in one place.
   */
  const authed =
    (fn: (req: Req, reply: FastifyReply, conf: Conference, p: Participant) => Promise<unknown> | unknown, opts: { othersCheckedByDomain?: boolean } = {}) =>
    async (req: Req, reply: FastifyReply) => {
      const entry = manager.byToken(tokenOf(req));
      if (!entry) return reply.code(403).send({ status: 'success', result: 'Invalid token' });
      if (!opts.othersCheckedByDomain && req.params.participant && req.params.participant !== entry.participant.id && entry.participant.role !== 'HOST') {
        return reply.code(403).send({ status: 'success', result: 'Invalid role' });
      }
      try {
        return await fn(req, reply, entry.conference, entry.participant);
      } catch (err) {
        if (!(err instanceof ControlError)) throw err;
        return reply.code(err.httpStatus).send(err.httpStatus === 400 ? { status: 'failed', result: err.reason } : ok(err.reason));
      }
    };
  /** Parses a body with the contract's schema; a bad one is a 400 with the first problem. */
  const parsed = <T>(schema: z.ZodType<T>, body: unknown): T => {
    const r = schema.safeParse(body ?? {});
    if (!r.success) throw new ControlError(r.error.issues[0]?.message ?? 'Invalid request', 400);
    return r.data;
  };
  const control = manager.control;

  app.post(`${BASE}/request_token`, async (req: Req, reply) => {
    if (!tokenRequests.take(req.ip)) {
      log.warn({ alias: req.params.alias, remote: req.ip }, 'Too many token requests from one address');
      return failed(reply, 429, 'Too many requests');
    }
    const body = requestTokenBody.safeParse(req.body ?? {});
    if (!body.success) return failed(reply, 400, body.error.issues[0]?.message ?? 'Invalid request');
    const pinHeader = req.headers.pin;
    const pin = typeof pinHeader === 'string' ? pinHeader.trim() : undefined;
    // Service configuration policy of the location's policy profile, if any (ServicePolicy.ts).
    const route =
      manager.policy.active && !manager.maintenanceMode
        ? await manager.policy.resolve(req.params.alias, {
            displayName: body.data.display_name,
            remoteAddress: req.ip,
            remotePort: req.socket.remotePort,
            nodeIp: req.socket.localAddress ?? '',
            callTag: body.data.call_tag,
            vendor: typeof req.headers['user-agent'] === 'string' ? req.headers['user-agent'] : '',
          })
        : undefined;
    // A one-time transfer token must be valid for this alias's service; used up only on a successful join.
    const transferToken = body.data.token || undefined;
    const transferTarget = !transferToken
      ? undefined
      : route
        ? route.kind === 'service'
          ? route.service
          : undefined
        : manager.directory.lookup(req.params.alias);
    const transfer = transferToken && transferTarget ? manager.transfers.check(transferToken, transferTarget.id) : undefined;
    if (transfer && !transfer.ok) return reply.code(403).send(ok('Invalid token'));
    const result = manager.join({
      grantedRole: transfer?.ok ? transfer.grant.role : undefined,
      alias: req.params.alias,
      displayName: body.data.display_name,
      pin,
      remoteAddress: req.ip,
      protocol: 'api',
      callTag: body.data.call_tag,
      route,
    });
    const logCtx = { alias: req.params.alias, remote: req.ip, participant: body.data.display_name };
    switch (result.kind) {
      case 'not_found':
        return failed(reply, 404, 'Neither conference nor gateway found');
      case 'pin_required':
        return reply.code(403).send(ok({ pin: 'required', guest_pin: result.guestPin ? 'required' : 'none', version: SERVER_VERSION }));
      case 'invalid_pin':
        log.info(logCtx, 'Participant entered incorrect conference PIN');
        return reply.code(403).send(ok('Invalid PIN'));
      case 'full':
        return reply.code(403).send(ok('Participant limit reached'));
      case 'maintenance':
        log.info(logCtx, 'Call refused: node in maintenance mode');
        return failed(reply, 503, 'System in maintenance mode');
      case 'no_capacity':
        return failed(reply, 503, result.reason);
      case 'joined': {
        const { participant: p, conference: conf, token } = result;
        if (transferToken && transfer?.ok) {
          manager.transfers.consume(transferToken);
          log.info(
            { ...logCtx, from: transfer.grant.fromService, fromParticipant: transfer.grant.fromParticipant },
            'Participant transferred in with a one-time token',
          );
        }
        if (pin !== undefined && pin !== 'none') log.info({ ...logCtx, role: p.role.toLowerCase() }, 'PIN entry correct.');
        const ice = clientIceServers(manager.location, p.id);
        return ok({
          token,
          expires: String(TOKEN_LIFETIME_S),
          participant_uuid: p.id,
          version: SERVER_VERSION,
          role: p.role,
          display_name: p.displayName,
          conference_name: conf.service.name,
          service_name: conf.service.name,
          current_service_type: conf.clientServiceType(p),
          service_type: conf.clientServiceType(),
          call_type: 'video',
          chat_enabled: manager.chatEnabled(conf.service),
          guests_can_present: conf.service.guestsCanPresent,
          fecc_enabled: false,
          allow_1080p: false,
          vp9_enabled: false,
          rtmp_enabled: false,
          rtsp_enabled: false,
          trickle_ice_enabled: true,
          analytics_enabled: false,
          direct_media: false,
          breakout_rooms: false,
          use_relay_candidates_only: ice.useRelayCandidatesOnly,
          // Pexip's SDK then posts its call statistics this often (ms): the node keeps the resolutions.
          client_stats_update_interval: MEDIA_STATISTICS_INTERVAL_MS,
          // Pexip omits these when the location has none; the SDK turns even `stun: []` into an ICE server without URLs.
          ...(ice.stun.length > 0 ? { stun: ice.stun } : {}),
          ...(ice.turn.length > 0 ? { turn: ice.turn } : {}),
        });
      }
    }
  });

  app.post(
    `${BASE}/refresh_token`,
    authed((_req, _reply, conf, p) => ok({ token: manager.refreshToken(conf, p), expires: String(TOKEN_LIFETIME_S), role: p.role })),
  );
  app.post(
    `${BASE}/release_token`,
    authed((_req, _reply, conf, p) => {
      conf.remove(p.id, 'Participant released token');
      return ok(true);
    }),
  );

  // `…/theme/` and `…/theme/<file>` are served by node-agent/theme/theme.routes.ts.
  app.get(
    `${BASE}/conference_status`,
    authed((_req, _reply, conf) => ok(conferenceStatus(conf))),
  );
  app.get(
    `${BASE}/participants`,
    authed((_req, _reply, conf) =>
      ok([
        ...conf.participants.map((p) => clientObject(conf, p)),
        ...conf.remoteParticipants.map((r) => remoteClientObject(r, conf.clientServiceType())),
        ...conf.pinCallers.map(pinCallerClientObject),
      ]),
    ),
  );

  app.post(
    `${BASE}/message`,
    authed((req, _reply, conf, p) => {
      control.requireChat(conf);
      hub.message(conf, p, parsed(messageBody, req.body));
      return ok(true);
    }),
  );

  // Conference control (client-api-v2 §6): Hosts only; the domain checks.
  for (const action of CONFERENCE_ACTIONS) {
    app.post(
      `${BASE}/${action}`,
      authed((_req, _reply, conf, p) => {
        control.conference(conf, p, action);
        return ok(true);
      }),
    );
  }
  app.post(
    `${BASE}/set_guests_can_unmute`,
    authed((req, _reply, conf, p) => {
      control.setGuestsCanUnmute(conf, p, parsed(setGuestsCanUnmuteBody, req.body).setting);
      return ok(true);
    }),
  );
  app.post(
    `${BASE}/transform_layout`,
    authed((req, _reply, conf, p) => {
      control.transformLayout(conf, p, parsed(transformLayoutBody, req.body));
      return ok(true);
    }),
  );
  app.get(
    `${BASE}/available_layouts`,
    authed(() => ok(Object.values(LAYOUT_SHORT))),
  );
  app.get(
    `${BASE}/layout_svgs`,
    authed(() => ok(layoutSvgs())),
  );
  // Personal mixes need the node to compose a video per participant; it forwards streams instead
  // (participants say can_receive_personal_mix: false), so these are refused.
  const noPersonalMix = authed(() => {
    throw new ControlError(REFUSAL.personalMixUnavailable);
  });
  app.post(`${BASE}/video_mixes/create`, noPersonalMix);
  app.post(`${BASE}/video_mixes/:mix/configure`, noPersonalMix);
  app.post(`${BASE}/video_mixes/:mix/delete`, noPersonalMix);
  app.post(
    `${BASE}/dial`,
    authed((req, _reply, conf, p) => ok(control.dial(conf, p, parsed(dialBody, req.body)))),
  );
  // Breakout rooms are not offered (request_token answers breakout_rooms: false): refused with a reason, not 404.
  const noBreakouts = authed(() => {
    throw new ControlError(REFUSAL.breakoutsUnavailable);
  });
  for (const path of ['breakouts', 'breakouts/*', 'participants/breakout', 'leavebreakout', 'breakoutbuzz', 'clearbreakoutbuzz']) {
    app.post(`${BASE}/${path}`, noBreakouts);
  }

  // Participant control (client-api-v2 §7): on oneself, or a Host on anyone; the domain checks.
  for (const action of PARTICIPANT_ACTIONS) {
    app.post(
      `${BASE}/participants/:participant/${action}`,
      authed(
        (req, _reply, conf, p) => {
          control.participant(conf, p, req.params.participant!, action);
          return ok(true);
        },
        { othersCheckedByDomain: true },
      ),
    );
  }
  app.post(
    `${BASE}/participants/:participant/role`,
    authed(
      (req, _reply, conf, p) => {
        control.setRole(conf, p, req.params.participant!, parsed(roleBody, req.body).role);
        return ok(true);
      },
      { othersCheckedByDomain: true },
    ),
  );
  app.post(
    `${BASE}/participants/:participant/transfer`,
    authed(
      (req, _reply, conf, p) => {
        control.transfer(conf, p, req.params.participant!, parsed(transferBody, req.body));
        return ok(true);
      },
      { othersCheckedByDomain: true },
    ),
  );
  app.post(
    `${BASE}/participants/:participant/overlaytext`,
    authed(
      (req, _reply, conf, p) => {
        control.setOverlayText(conf, p, req.params.participant!, parsed(overlayTextBody, req.body).text);
        return ok(true);
      },
      { othersCheckedByDomain: true },
    ),
  );
  app.post(
    `${BASE}/participants/:participant/pres_in_mix`,
    authed(
      (req, _reply, conf, p) => {
        control.setPresentationInMix(conf, p, req.params.participant!, parsed(presInMixBody, req.body).state);
        return ok(true);
      },
      { othersCheckedByDomain: true },
    ),
  );
  app.post(
    `${BASE}/participants/:participant/preferred_aspect_ratio`,
    authed(
      (req, _reply, conf, p) => {
        control.setPreferredAspectRatio(conf, p, req.params.participant!, parsed(preferredAspectRatioBody, req.body).aspect_ratio);
        return ok(true);
      },
      { othersCheckedByDomain: true },
    ),
  );
  // Live captions need speech-to-text, which the node does not have (live_captions_available is never set).
  for (const action of ['show_live_captions', 'hide_live_captions'] as const) {
    app.post(
      `${BASE}/participants/:participant/${action}`,
      authed(() => {
        throw new ControlError(REFUSAL.liveCaptionsUnavailable);
      }),
    );
  }
  // Direct chat: anyone may write to anyone in the meeting.
  app.post(
    `${BASE}/participants/:participant/message`,
    authed(
      (req, _reply, conf, p) => {
        control.requireChat(conf);
        const body = parsed(messageBody, req.body);
        const to = conf.get(req.params.participant!);
        if (!to) throw new ControlError(REFUSAL.notFound);
        hub.direct(conf, p, to, body);
        return ok(true);
      },
      { othersCheckedByDomain: true },
    ),
  );
  app.get(
    `${BASE}/participants/:participant/avatar.jpg`,
    authed(
      (req, reply, conf) => {
        const target = conf.get(req.params.participant!);
        if (!target) return reply.code(404).send({ status: 'failed', result: 'No image available' });
        return reply.type('image/jpeg').header('Cache-Control', 'private, max-age=300').send(avatarJpeg(target.displayName, target.id));
      },
      { othersCheckedByDomain: true },
    ),
  );

  app.get(
    `${BASE}/events`,
    authed((req, reply, conf, p) => {
      if (!hub.admits(conf, p, req.ip)) return failed(reply, 429, 'Too many event streams');
      reply.hijack();
      hub.open(conf, p, reply.raw, req.ip);
    }),
  );

  app.post(
    `${BASE}/participants/:participant/calls`,
    authed(async (req, reply, conf, self) => {
      const body = callsBody.safeParse(req.body);
      if (!body.success)
        return reply
          .code(400)
          .type('text/plain')
          .send(body.error.issues[0]?.message ?? 'Invalid request');
      if (body.data.call_type !== 'WEBRTC') return reply.code(400).type('text/plain').send('Only WEBRTC calls are supported');
      const p = conf.get(req.params.participant!) ?? self;
      const problem = checkOffer(body.data.sdp);
      if (problem) return reply.code(400).type('text/plain').send(problem);
      // The call starts: its media must fit (audio only when the offer has no video), and is counted from now.
      const call = /^m=video [1-9]/m.test(body.data.sdp) ? 'hd' : 'audio';
      const admitted = manager.admission?.admit({ conference: conf.service.name, call, participantId: p.id, hostsHere: true, remoteMedia: true });
      if (admitted && !admitted.ok) return failed(reply, 503, admitted.reason);
      // Media allocation may put the call's media on another node: its signalling stays here, the endpoint's media goes there.
      const mediaNode = admitted?.ok ? admitted.mediaNode : undefined;
      const proxyNode = admitted?.ok ? admitted.proxyNode : undefined;
      const leg: CallLeg = mediaNode && manager.remoteLegs ? manager.remoteLegs.create(conf, p, mediaNode, call, proxyNode) : conf.media.createLeg(p.id);
      try {
        const answer = await leg.negotiate(body.data.sdp);
        p.leg = leg;
        p.lastCallId = leg.id;
        // The node's own offers (the conference's camera codec changed): Pexip's `update_sdp`, answered in `ack`.
        leg.on('offer', (sdp) => hub.sendTo(conf, p.id, 'update_sdp', { sdp }));
        leg.on('closed', (reason) => {
          if (p.leg === leg) {
            p.leg = null;
            // The media ended without a hang-up from the client (e.g. ICE failed): tell it.
            hub.callDisconnected(conf, p, leg.id, reason);
            conf.updated(p);
          }
        });
        conf.updated(p);
        return ok({ call_uuid: leg.id, sdp: answer });
      } catch (err) {
        leg.close('Call failed');
        // The media node another node chose was full by the time the call came: the guide's refusal.
        if (err instanceof Error && err.message === RESOURCE_UNAVAILABLE) return failed(reply, 503, RESOURCE_UNAVAILABLE);
        log.warn({ err, participant: p.id }, 'could not answer call offer');
        return reply.code(400).type('text/plain').send('Offer could not be negotiated');
      }
    }),
  );

  const withCall = (fn: (req: Req, reply: FastifyReply, conf: Conference, p: Participant) => Promise<unknown> | unknown) =>
    authed((req, reply, conf, self) => {
      const p = conf.get(req.params.participant!) ?? self;
      if (!p.leg || p.leg.id !== req.params.call) return reply.code(403).send({ status: 'success', result: 'Call not found' });
      return fn(req, reply, conf, p);
    });

  app.post(
    `${BASE}/participants/:participant/calls/:call/new_candidate`,
    withCall(async (req, reply, _conf, p) => {
      const body = candidateBody.safeParse(req.body);
      if (!body.success) return reply.code(403).send({ status: 'success', result: 'Invalid candidate' });
      // A browser hiding its address sends an mDNS name (x.local) the node cannot resolve: ignored at once.
      if (isMdnsCandidate(body.data.candidate)) return ok(null);
      await p.leg!.addRemoteCandidate(body.data.candidate, body.data.mid);
      return ok(null);
    }),
  );
  app.post(
    `${BASE}/participants/:participant/calls/:call/ack`,
    withCall(async (req, _reply, _conf, p) => {
      // `{}` after our answer; `{sdp}` answering an offer of ours (update_sdp); `offer_ignored` when the client would not take it.
      const body = ackBody.safeParse(req.body ?? {});
      if (body.success && body.data.sdp !== undefined && p.leg?.answered) {
        const ignored = body.data.offer_ignored === true || body.data.sdp === 'offer_ignored';
        await p.leg.answered(ignored ? null : body.data.sdp).catch((err: unknown) => log.warn({ err, participant: p.id }, 'answer to our offer not applied'));
      }
      return ok(true);
    }),
  );
  app.post(
    `${BASE}/participants/:participant/calls/:call/update`,
    withCall(async (req, reply, _conf, p) => {
      const body = updateBody.safeParse(req.body ?? {});
      if (!body.success || !body.data.sdp) return reply.code(403).send({ status: 'success', result: 'SDP required' });
      const problem = checkOffer(body.data.sdp);
      if (problem) return reply.code(403).send({ status: 'success', result: problem });
      try {
        return ok(await p.leg!.negotiate(body.data.sdp));
      } catch {
        return reply.code(500).type('text/plain').send('Offer could not be negotiated');
      }
    }),
  );
  app.post(
    `${BASE}/participants/:participant/calls/:call/disconnect`,
    authed((req, reply, conf, self) => {
      const p = conf.get(req.params.participant!) ?? self;
      // Hanging up a call whose media already ended (the client closed its peer connection first,
      // so the node saw DTLS close) is done, not an error.
      if (!p.leg && p.lastCallId === req.params.call) return ok(null);
      if (!p.leg || p.leg.id !== req.params.call) return reply.code(403).send({ status: 'success', result: 'Call not found' });
      const leg = p.leg;
      p.leg = null;
      leg.close('Call disconnected');
      conf.updated(p);
      return ok(null);
    }),
  );
  // The client's own report of the call (Pexip's SDK posts it periodically): Pexip answers null.
  // The node keeps what only the client knows (resolution, frame rate) beside its own figures.
  app.post(
    `${BASE}/participants/:participant/calls/:call/statistics`,
    withCall((req, _reply, _conf, p) => {
      const body = parsed(clientStatisticsBody, req.body);
      for (const [type, report] of clientReports(body)) statistics?.clientReport(p.id, type, report);
      return ok(null);
    }),
  );
  // What the node measures for this call, in the SDK's shape (callStatistics.ts; our addition to Pexip's API).
  app.get(
    `${BASE}/participants/:participant/calls/:call/statistics`,
    withCall((_req, reply, _conf, p) => {
      const media = statistics?.participant(p.id);
      return media ? ok(callStatisticsOf(media)) : reply.code(404).send({ status: 'failed', result: 'Statistics are not available' });
    }),
  );
  // A multi-stream client's own report (it has no call to post it on): the same body, for itself only.
  app.post(
    `${BASE}/participants/:participant/statistics`,
    authed((req, reply, _conf, self) => {
      if (req.params.participant !== self.id) return reply.code(403).send({ status: 'success', result: 'Invalid role' });
      const body = parsed(clientStatisticsBody, req.body);
      for (const [type, report] of clientReports(body)) statistics?.clientReport(self.id, type, report);
      return ok(null);
    }),
  );
  // The same for any participant (multi-stream clients have no call), with the guide's call quality.
  app.get(
    `${BASE}/participants/:participant/statistics`,
    authed((req, reply, conf, self) => {
      const p = conf.get(req.params.participant!) ?? self;
      const media = statistics?.participant(p.id);
      return media ? ok(participantStatisticsOf(media)) : reply.code(404).send({ status: 'failed', result: 'Statistics are not available' });
    }),
  );
}
