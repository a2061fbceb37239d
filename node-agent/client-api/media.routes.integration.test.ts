import { RTCPeerConnection } from 'werift';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { joinResult, mediaCapabilities } from '../../shared/client-api/media.js';
import { until } from '../../shared/testing/until.js';
import { TestPlatform, type ClientInit } from '../../testing/TestPlatform.js';

/**
 * The multi-stream media extension and Pexip's presentation floor over real HTTP against a real
 * node (and its mediasoup worker): who may call what, and the answers to bad input. Media flowing
 * through these routes is tested with Chromium in e2e/multiparty.spec.ts.
 */
// The routes do not touch the database: the harness's PGlite is enough.
describe('client API media routes', () => {
  let platform: TestPlatform;
  let node: TestPlatform['node'];
  /** A client API request for meet.media: GET without a body, POST with one. */
  const call = async (path: string, init: ClientInit = {}) => {
    const res = await platform.client('meet.media', path, { ...init, method: init.method ?? (init.body === undefined ? 'GET' : 'POST') });
    return { status: res.status, json: (await res.json()) as { status: string; result: unknown } };
  };
  const joinAs = async (name: string, pin: string) => {
    const r = await call('request_token', { body: { display_name: name }, pin });
    expect(r.status).toBe(200);
    return r.json.result as { token: string; participant_uuid: string };
  };

  beforeAll(async () => {
    platform = await TestPlatform.start({ node: { name: 'media-node', mediaPortRange: [45000, 45999], mediaWorkers: 1 } });
    node = platform.node;
    await platform.create('conference', {
      name: 'Media room',
      aliases: [{ alias: 'meet.media' }],
      pin: '1234',
      allow_guests: true,
      guest_pin: '5678',
      guests_can_present: false,
      host_view: 'one_main_twentyone_pips',
    });
    await until(
      () => node.manager.directory.lookup('meet.media'),
      (s) => s !== undefined,
    );
  });
  afterAll(async () => {
    await platform?.stop();
  });

  it('gives a participant the router capabilities and two transports; refuses others and bad input', async () => {
    const host = await joinAs('Hanna', '1234');
    const guest = await joinAs('Gus', '5678');
    const base = `participants/${host.participant_uuid}/media`;

    expect((await call(base)).status).toBe(403);
    expect((await call(`participants/${guest.participant_uuid}/media`, { token: host.token })).json.result).toBe('Invalid participant');

    const caps = await call(base, { token: host.token });
    expect(caps.status).toBe(200);
    const rtpCapabilities = mediaCapabilities.parse(caps.json.result).router_rtp_capabilities;
    // No participant takes only H.264: cameras come in VP8.
    expect(mediaCapabilities.parse(caps.json.result).video_codec).toBe('video/VP8');
    const codecs = rtpCapabilities.codecs as { mimeType: string; preferredPayloadType: number }[];
    // Chrome's payload types (single-stream answers must use the offer's).
    expect(codecs.find((c) => c.mimeType === 'audio/opus')?.preferredPayloadType).toBe(111);
    expect(codecs.find((c) => c.mimeType === 'video/VP8')?.preferredPayloadType).toBe(96);

    expect((await call(`${base}/transports/nope/connect`, { token: host.token, body: { dtls_parameters: {} } })).json.result).toBe('Join media first');
    expect((await call(`${base}/join`, { token: host.token, body: {} })).status).toBe(400);
    expect((await call(`${base}/join`, { token: host.token, body: { rtp_capabilities: { codecs: 'x' } } })).json.result).toBe('rtp_capabilities has no codecs');

    const joined = await call(`${base}/join`, { token: host.token, body: { rtp_capabilities: rtpCapabilities } });
    expect(joined.status).toBe(200);
    const { send_transport: send, recv_transport: recv } = joinResult.parse(joined.json.result);
    expect(send.id).not.toBe(recv.id);
    expect(send.ice_candidates).toEqual(expect.arrayContaining([expect.objectContaining({ address: '127.0.0.1', protocol: 'udp' })]));
    expect(send.dtls_parameters.fingerprints).toEqual(
      expect.arrayContaining([expect.objectContaining({ algorithm: expect.any(String), value: expect.any(String) })]),
    );
    // The participant now counts as having media.
    await until(
      () => node.manager.conferences()[0]?.get(host.participant_uuid)?.multiStream,
      (m) => m === true,
    );

    expect((await call(`${base}/join`, { token: host.token, body: { rtp_capabilities: rtpCapabilities } })).status).toBe(200);
    const produce = (transport: string, body: unknown) => call(`${base}/transports/${transport}/produce`, { token: host.token, body });
    const rtp = { codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2 }], encodings: [{ ssrc: 1111 }] };
    expect((await produce('nope', { kind: 'audio', rtp_parameters: rtp, source: 'mic' })).json.result).toBe('Transport not found');
    expect((await produce('x', { kind: 'audio', rtp_parameters: rtp, source: 'webcam' })).status).toBe(400);
    expect((await call(`${base}/consumers/nope/resume`, { token: host.token, body: {} })).json.result).toBe('Consumer not found');
    expect((await call(`${base}/consumers/nope/preferences`, { token: host.token, body: { spatial_layer: 9 } })).status).toBe(400);
    expect((await call(`${base}/leave`, { token: host.token, body: {} })).status).toBe(200);
  });

  it('presentation floor: a screen stream needs the floor; Guests only when the service lets them present', async () => {
    const host = await joinAs('Hal', '1234');
    const guest = await joinAs('Gail', '5678');
    const hostBase = `participants/${host.participant_uuid}`;
    const caps = mediaCapabilities.parse((await call(`${hostBase}/media`, { token: host.token })).json.result).router_rtp_capabilities;
    const { send_transport: send } = joinResult.parse(
      (await call(`${hostBase}/media/join`, { token: host.token, body: { rtp_capabilities: caps } })).json.result,
    );
    const screen = {
      kind: 'video',
      source: 'screen',
      rtp_parameters: { codecs: [{ mimeType: 'video/VP8', payloadType: 96, clockRate: 90000 }], encodings: [{ ssrc: 2222 }] },
    };
    const refused = await call(`${hostBase}/media/transports/${send.id}/produce`, { token: host.token, body: screen });
    expect(refused).toMatchObject({ status: 403, json: { result: 'Presentation rejected' } });

    expect(await call(`participants/${guest.participant_uuid}/take_floor`, { token: guest.token, body: {} })).toMatchObject({
      status: 403,
      json: { result: 'Presentation rejected' },
    });
    expect((await call(`${hostBase}/take_floor`, { token: host.token, body: {} })).status).toBe(200);
    const conf = node.manager.conferences().find((c) => c.get(host.participant_uuid))!;
    expect(conf.presenter?.id).toBe(host.participant_uuid);
    expect((await call(`${hostBase}/media/transports/${send.id}/produce`, { token: host.token, body: screen })).status).toBe(200);
    expect(conf.media.hasPresentationStream(host.participant_uuid)).toBe(true);
    expect((await call(`${hostBase}/release_floor`, { token: host.token, body: {} })).status).toBe(200);
    expect(conf.presenter).toBeNull();
    // Releasing the floor closes the screen stream.
    await until(
      () => conf.media.hasPresentationStream(host.participant_uuid),
      (live) => !live,
    );
  });

  it('new_candidate: an mDNS (.local) candidate is ignored at once; a host candidate is accepted', async () => {
    const guest = await joinAs('Cand', '5678');
    const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
    try {
      pc.addTransceiver('audio', { direction: 'sendrecv' });
      pc.addTransceiver('video', { direction: 'sendrecv' });
      await pc.setLocalDescription(await pc.createOffer());
      const base = `participants/${guest.participant_uuid}/calls`;
      const made = await call(base, { token: guest.token, body: { call_type: 'WEBRTC', sdp: pc.localDescription!.sdp } });
      expect(made.status).toBe(200);
      const callUuid = (made.json.result as { call_uuid: string }).call_uuid;
      const candidate = async (line: string) => {
        const started = performance.now();
        const r = await call(`${base}/${callUuid}/new_candidate`, { token: guest.token, body: { candidate: line, mid: '0' } });
        return { ...r, ms: performance.now() - started };
      };
      const mdns = await candidate('candidate:1 1 udp 2122260223 4b3a1f0e-7c2d-4e7a-9b1f-2d3c4e5f6a7b.local 54321 typ host generation 0');
      expect(mdns).toMatchObject({ status: 200, json: { status: 'success', result: null } });
      expect(mdns.ms).toBeLessThan(1_000);
      const host = await candidate('candidate:2 1 udp 2122260223 127.0.0.1 54322 typ host generation 0');
      expect(host).toMatchObject({ status: 200, json: { result: null } });
      expect(host.ms).toBeLessThan(1_000);
      expect((await call(`${base}/${callUuid}/new_candidate`, { token: guest.token, body: { mid: '0' } })).json.result).toBe('Invalid candidate');
      expect((await call(`${base}/${callUuid}/disconnect`, { token: guest.token, body: {} })).status).toBe(200);
    } finally {
      await pc.close();
    }
  });

  it('the event stream opens with the role’s layout (the service’s Host view) and the stage', async () => {
    const host = await joinAs('Hedy', '1234');
    const events = await platform.events('meet.media', host.token);
    const stage = (await events.first('stage')).data;
    const layout = events.of('layout')[0]?.data;
    expect(layout).toMatchObject({
      view: '1:21',
      requested_layout: { primary_screen: { chair_layout: 'one_main_twentyone_pips', guest_layout: 'one_main_twentyone_pips' } },
    });
    expect(Array.isArray(stage)).toBe(true);
  });
});
