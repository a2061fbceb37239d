import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { ConferenceManager } from '../conference/ConferenceManager.js';
import { dtmfBody, VirtualReceptions, type ReceptionTimings } from '../conference/VirtualReception.js';
import type { EventHub } from './EventHub.js';

const BASE = '/api/client/v2/conferences/:alias';

type Req = FastifyRequest<{ Params: { alias: string; participant: string; call?: string }; Querystring: { token?: string }; Body: unknown }>;

const refuse = (reply: FastifyReply, result: string) => reply.code(403).send({ status: 'success', result });

/**
 * DTMF endpoints of the client API (client-api-v2 §4 call `dtmf`, §7 participant `dtmf`) and the
 * Virtual Reception that consumes the digits. Returns the receptions for the node to wire up.
 */
export function registerVirtualReception(
  app: FastifyInstance,
  manager: ConferenceManager,
  hub: EventHub,
  log: Logger,
  location: () => string | null,
  timings: Partial<ReceptionTimings> = {},
): VirtualReceptions {
  const receptions = new VirtualReceptions(manager, manager.transfers, hub, log, location, timings);

  const dtmf = (needsCall: boolean) => async (req: Req, reply: FastifyReply) => {
    const entry = manager.byToken((req.headers.token as string | undefined) ?? req.query.token);
    if (!entry) return refuse(reply, 'Invalid token');
    const { conference: conf, participant: self } = entry;
    const target = conf.get(req.params.participant);
    if (!target) return refuse(reply, 'Participant not found');
    // Sending tones for someone else (e.g. a dialled-out participant) is a Host's privilege.
    if (target !== self && self.role !== 'HOST') return refuse(reply, 'Invalid role');
    if (needsCall && (!target.leg || target.leg.id !== req.params.call)) return refuse(reply, 'Call not found');
    const body = dtmfBody.safeParse(req.body ?? {});
    if (!body.success) return refuse(reply, body.error.issues[0]?.message ?? 'Invalid digits');
    receptions.dtmf(conf, target, body.data.digits);
    // A Host's own keys may be conference commands (*7 lock, *5 mute Guests, ## end); tones for someone else are logged.
    if (target === self) manager.control.callDtmf(conf, self, body.data.digits);
    else manager.control.sendDtmf(conf, self, target.id, body.data.digits);
    return { status: 'success', result: true };
  };
  app.post(`${BASE}/participants/:participant/dtmf`, dtmf(false));
  app.post(`${BASE}/participants/:participant/calls/:call/dtmf`, dtmf(true));
  return receptions;
}
