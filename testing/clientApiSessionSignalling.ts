import type { ConsumerInfo, MediaJson, TransportInfo } from '../node-agent/media/MediaTypes.js';
import type { SessionSignalling } from '../node-agent/testing/MultiStreamTestClient.js';
import { EventStream } from './EventStream.js';

interface WireTransport {
  id: string;
  ice_parameters: MediaJson;
  ice_candidates: MediaJson[];
  dtls_parameters: MediaJson;
}
const transport = (t: WireTransport): TransportInfo => ({
  id: t.id,
  iceParameters: t.ice_parameters,
  iceCandidates: t.ice_candidates,
  dtlsParameters: t.dtls_parameters,
});

/**
 * A multi-stream client's signalling over a node's client API, as our meeting client does it:
 * the `media/...` requests, and the consumers from its event stream (`media_consumer_added` /
 * `_removed`). `close()` ends the event stream.
 */
export async function clientApiSessionSignalling(
  nodeUrl: string,
  alias: string,
  token: string,
  participantId: string,
): Promise<SessionSignalling & { close(): void; events: EventStream }> {
  const base = `${nodeUrl}/api/client/v2/conferences/${encodeURIComponent(alias)}`;
  const events = await EventStream.open(`${base}/events?token=${encodeURIComponent(token)}`);
  const post = async (path: string, body: unknown = {}): Promise<unknown> => {
    const r = await fetch(`${base}/participants/${participantId}/${path}`, {
      method: 'POST',
      headers: { token, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const json = (await r.json()) as { result: unknown };
    if (r.status !== 200) throw new Error(`${path}: ${r.status} ${JSON.stringify(json)}`);
    return json.result;
  };
  return {
    events,
    join: async (rtpCapabilities) => {
      const r = (await post('media/join', { rtp_capabilities: rtpCapabilities })) as { send_transport: WireTransport; recv_transport: WireTransport };
      return { send: transport(r.send_transport), recv: transport(r.recv_transport) };
    },
    connectTransport: async (id, dtlsParameters) => void (await post(`media/transports/${id}/connect`, { dtls_parameters: dtlsParameters })),
    produce: async (id, opts) =>
      ((await post(`media/transports/${id}/produce`, { kind: opts.kind, rtp_parameters: opts.rtpParameters, source: opts.source })) as { id: string }).id,
    resumeConsumer: async (id) => void (await post(`media/consumers/${id}/resume`)),
    consumers: async () => {
      const live = new Map<string, ConsumerInfo>();
      for (const e of events.events) {
        const d = e.data as Record<string, unknown> | null;
        if (!d) continue;
        if (e.event === 'media_consumer_added')
          live.set(String(d.consumer_id), {
            consumerId: String(d.consumer_id),
            producerId: String(d.producer_id),
            participantId: String(d.participant_uuid),
            kind: d.kind as ConsumerInfo['kind'],
            source: d.source as ConsumerInfo['source'],
            rtpParameters: d.rtp_parameters as MediaJson,
            producerPaused: d.producer_paused === true,
          });
        else if (e.event === 'media_consumer_removed') live.delete(String(d.consumer_id));
      }
      return [...live.values()];
    },
    close: () => events.close(),
  };
}
