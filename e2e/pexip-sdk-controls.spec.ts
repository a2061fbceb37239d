import { writeFileSync } from 'node:fs';
import { expect, test, type Browser } from '@playwright/test';
import { COLORS, type FakeMediaOptions } from './support/fakeMedia.js';
import { openSdkPage, type SdkPage } from './support/pexip-sdk/page.js';
import { createVmr, startPlatform, type Platform } from './support/platform.js';

/**
 * Meeting control driven by the official Pexip web SDK (`@pexip/infinity` 20): a Host's SDK
 * client locks, admits, mutes all Guests, mutes one, spotlights, changes the layout, makes a
 * Guest Host, removes and transfers people, and a second SDK client (the Guest) sees each result
 * through the SDK's own signals (participants, conference status, stage, layout, transfer).
 * Each client sends its own camera colour and tone (fakeMedia), as in the other media tests.
 */
let platform: Platform;
test.beforeAll(async () => {
  platform = await startPlatform({ managementPort: 19480, nodePort: 19481, mediaPorts: '41000-41999' });
});
test.afterAll(async () => platform?.stop());

const sdkPages: SdkPage[] = [];
test.afterEach(async () => {
  const testInfo = test.info();
  if (testInfo.status !== testInfo.expectedStatus) {
    for (const sdk of sdkPages) {
      const events = (await sdk.events().catch(() => [])).map(
        (e) => `${String(e.t).padStart(6)} ${e.name} ${e.detail === undefined ? '' : JSON.stringify(e.detail)}`,
      );
      const path = testInfo.outputPath(`${sdk.name}-sdk.txt`);
      writeFileSync(path, [...events, '', ...sdk.traffic].join('\n'));
      await testInfo.attach(`${sdk.name}-sdk.txt`, { path, contentType: 'text/plain' });
    }
  }
  await Promise.all(sdkPages.splice(0).map((s) => s.close()));
});

async function room(name: string, alias: string): Promise<void> {
  const services = async () => ((await (await fetch(`${platform.nodeUrl}/healthz`)).json()) as { services: number }).services;
  const before = await services();
  await createVmr(platform, { name, aliases: [{ alias }], pin: '1234', allow_guests: true, guest_pin: '' });
  await expect.poll(services, { timeout: 15_000 }).toBeGreaterThan(before);
}

const fake = (color: keyof typeof COLORS, toneHz: number): FakeMediaOptions => ({
  color: [...COLORS[color]],
  screenColor: [...COLORS.white],
  toneHz,
  toneOn: true,
});

async function joinSdk(browser: Browser, alias: string, name: string, pin: string, media: FakeMediaOptions): Promise<SdkPage> {
  const sdk = await openSdkPage(browser, platform.nodeUrl, name, media);
  sdkPages.push(sdk);
  await sdk.join({ alias, pin });
  await expect.poll(async () => (await sdk.state()).phase, { message: `${name}'s SDK call connects`, timeout: 30_000 }).toBe('call_connected');
  return sdk;
}

/** A participant as the SDK holds it: its own fields plus the raw participant object. */
async function seen(sdk: SdkPage, uuid: string): Promise<Record<string, unknown> | undefined> {
  const p = (await sdk.state()).participants.find((x) => x.uuid === uuid);
  return p ? { isMuted: p.isMuted, ...(p.raw as Record<string, unknown>) } : undefined;
}

test('the Pexip SDK drives lock, admit, mute all Guests, mute, spotlight, hand, layout, role, kick and transfer; another SDK sees each', async ({
  browser,
}) => {
  test.setTimeout(180_000);
  await room('SDK control room', 'sdk.ctl');
  await room('SDK other room', 'sdk.ctl.other');
  const host = await joinSdk(browser, 'sdk.ctl', 'Hanna', '1234', fake('red', 440));
  const guest = await joinSdk(browser, 'sdk.ctl', 'Gus', 'none', fake('blue', 660));
  const hostId = (await host.state()).participantUuid!;
  const guestId = (await guest.state()).participantUuid!;
  const ok = { status: 200, error: null };

  // A Guest may not lock: the SDK gets Pexip's refusal.
  expect((await guest.control('lock', { lock: true })).status).not.toBe(200);

  // lock → the Guest's SDK sees the conference locked; a newcomer waits in the lobby; the Host admits them.
  expect(await host.control('lock', { lock: true })).toEqual(ok);
  await expect.poll(async () => ((await guest.state()).conferenceStatus as { locked?: boolean } | null)?.locked).toBe(true);
  const newcomer = (await (
    await fetch(`${platform.nodeUrl}/api/client/v2/conferences/sdk.ctl/request_token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', pin: 'none' },
      body: JSON.stringify({ display_name: 'Lena' }),
    })
  ).json()) as { result: { participant_uuid: string; token: string; current_service_type: string } };
  expect(newcomer.result.current_service_type).toBe('waiting_room');
  await expect.poll(async () => (await seen(host, newcomer.result.participant_uuid))?.service_type).toBe('waiting_room');
  expect(await host.control('admit', { participantUuid: newcomer.result.participant_uuid })).toEqual(ok);
  await expect.poll(async () => (await seen(guest, newcomer.result.participant_uuid))?.service_type).toBe('conference');
  expect(await host.control('lock', { lock: false })).toEqual(ok);
  await expect.poll(async () => ((await guest.state()).conferenceStatus as { locked?: boolean } | null)?.locked).toBe(false);

  // muteAllGuests → the Guest's SDK sees Guests muted and itself muted; then the Host unmutes the Guest alone.
  expect(await host.control('muteAllGuests', { mute: true })).toEqual(ok);
  await expect.poll(async () => ((await guest.state()).conferenceStatus as { guests_muted?: boolean } | null)?.guests_muted).toBe(true);
  await expect.poll(async () => (await seen(guest, guestId))?.isMuted).toBe(true);
  expect((await seen(guest, hostId))?.isMuted).toBe(false);
  expect(await host.control('mute', { mute: false, participantUuid: guestId })).toEqual(ok);
  await expect.poll(async () => (await seen(guest, guestId))?.isMuted).toBe(false);
  expect(await host.control('mute', { mute: true, participantUuid: guestId })).toEqual(ok);
  await expect.poll(async () => (await seen(guest, guestId))?.is_muted).toBe('YES');

  // spotlight → the spotlit Guest leads the stage the Guest's SDK receives.
  expect(await host.control('spotlight', { enable: true, participantUuid: guestId })).toEqual(ok);
  await expect.poll(async () => (await seen(guest, guestId))?.spotlight as number).toBeGreaterThan(0);
  await expect.poll(async () => (await guest.state()).stage[0]?.userId).toBe(guestId);

  // raiseHand (the Guest) → the Host's SDK sees the hand.
  expect(await guest.control('raiseHand', { raise: true })).toEqual(ok);
  await expect.poll(async () => (await seen(host, guestId))?.buzz_time as number).toBeGreaterThan(0);

  // setLayout → the Guest's SDK gets the layout.
  expect(await host.control('setLayout', { transforms: { layout: '4:0' } })).toEqual(ok);
  await expect
    .poll(async () => (await guest.events()).some((e) => e.name === 'onLayoutUpdate' && JSON.stringify(e.detail).includes('"view":"4:0"')))
    .toBe(true);
  // Pexip's layout names, as the SDK lists them; a Host layout and a Guest layout each; pictures for a picker.
  expect((await host.control('availableLayouts', {})).value).toEqual(['1:0', '4:0', '1:7', '1:21', '2:21']);
  const svgs = (await host.control('layoutSvgs', {})).value as Record<string, string>;
  expect(Object.keys(svgs).sort()).toEqual(['1:0', '1:21', '1:7', '2:21', '4:0']);
  expect(svgs['1:7']).toMatch(/^<svg /);
  expect(await host.control('setLayout', { transforms: { host_layout: '1:21', guest_layout: '2:21' } })).toEqual(ok);
  await expect
    .poll(async () => (await guest.events()).some((e) => e.name === 'onLayoutUpdate' && JSON.stringify(e.detail).includes('"view":"2:21"')))
    .toBe(true);
  // Adaptive Composition ("ac") is not offered by this node: refused, the SDK sees a failure.
  expect((await host.control('setLayout', { transforms: { layout: 'ac' } })).error).toMatch(/400/);
  // The SDK's other per-participant controls: tile text, presentation in mix, aspect ratio, presence.
  expect(await host.control('setTextOverlay', { participantUuid: guestId, text: 'Gus (guest)' })).toEqual(ok);
  await expect.poll(async () => (await seen(host, guestId))?.overlay_text).toBe('Gus (guest)');
  expect(await guest.control('presInMix', { participantUuid: guestId, state: true })).toEqual(ok);
  await expect.poll(async () => (await seen(host, guestId))?.needs_presentation_in_mix).toBe(true);
  expect(await guest.control('requestAspectRatio', { aspectRatio: 16 / 9 })).toEqual(ok);
  expect(await guest.control('notifyNotAFK', {})).toEqual(ok);
  // No speech-to-text here: the SDK gets Pexip's refusal, not fake captions.
  expect((await guest.control('liveCaptions', { enable: true })).status).toBe(403);

  // setRole → the Guest becomes Host (its SDK refreshes its token) and may now lock.
  expect(await host.control('setRole', { role: 'chair', participantUuid: guestId })).toEqual({ status: null, error: null });
  await expect.poll(async () => (await seen(host, guestId))?.role).toBe('chair');
  await expect.poll(async () => (await guest.control('lock', { lock: true })).status, { timeout: 10_000 }).toBe(200);
  expect(await guest.control('lock', { lock: false })).toEqual(ok);

  // kick → the newcomer leaves everyone's list.
  expect(await host.control('kick', { participantUuid: newcomer.result.participant_uuid })).toEqual(ok);
  await expect.poll(async () => await seen(guest, newcomer.result.participant_uuid)).toBeUndefined();

  // transfer → the Guest's SDK is told to go to the other room with a one-time token, which lets it in there.
  expect(await host.control('transfer', { destination: 'sdk.ctl.other', role: 'guest', participantUuid: guestId })).toEqual(ok);
  await expect
    .poll(async () => (await guest.events()).find((e) => e.name === 'onTransfer')?.detail as { alias?: string } | undefined)
    .toMatchObject({ alias: 'sdk.ctl.other' });
  const transfer = (await guest.events()).find((e) => e.name === 'onTransfer')!.detail as { token: string };
  const landed = await fetch(`${platform.nodeUrl}/api/client/v2/conferences/sdk.ctl.other/request_token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ display_name: 'Gus', token: transfer.token }),
  });
  expect(landed.status).toBe(200);
  expect(((await landed.json()) as { result: { role: string } }).result.role).toBe('GUEST');
});

/** Video frames an SDK has decoded per m-line (mid), from its inbound RTP statistics. */
async function videoFramesByMid(sdk: SdkPage): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const r of await sdk.rtpStats()) if (r.type === 'inbound-rtp' && r.kind === 'video') out[String(r.mid)] = Number(r.framesDecoded ?? 0);
  return out;
}

test('denyrxpresentation: a denied SDK decodes no more presentation frames while another SDK still does, until allowed again', async ({ browser }) => {
  test.setTimeout(150_000);
  await room('SDK presentation room', 'sdk.pres');
  const host = await joinSdk(browser, 'sdk.pres', 'Hanna', '1234', fake('red', 440));
  const gus = await joinSdk(browser, 'sdk.pres', 'Gus', 'none', fake('blue', 660));
  const gia = await joinSdk(browser, 'sdk.pres', 'Gia', 'none', fake('green', 990));
  const gusId = (await gus.state()).participantUuid!;
  // The camera m-line is there before anyone presents; the presentation one is the other.
  const cameraMids = { gus: Object.keys(await videoFramesByMid(gus)), gia: Object.keys(await videoFramesByMid(gia)) };
  const presFrames = async (sdk: SdkPage, who: 'gus' | 'gia') =>
    Object.entries(await videoFramesByMid(sdk))
      .filter(([mid]) => !cameraMids[who].includes(mid))
      .reduce((n, [, f]) => n + f, 0);
  /** Presentation frames decoded over 1.5 s. */
  const flow = async (sdk: SdkPage, who: 'gus' | 'gia') => {
    const a = await presFrames(sdk, who);
    await new Promise((r) => setTimeout(r, 1_500));
    return (await presFrames(sdk, who)) - a;
  };

  await host.present();
  for (const [sdk, who] of [
    [gus, 'gus'],
    [gia, 'gia'],
  ] as const) {
    await expect.poll(async () => (await sdk.state()).presentationStreams, { timeout: 30_000 }).toBeGreaterThan(0);
    await expect.poll(() => flow(sdk, who), { message: `${who} decodes the presentation`, timeout: 30_000 }).toBeGreaterThan(0);
  }

  // The Host denies Gus presentation receipt (Pexip's participant call; the SDK has no wrapper for it).
  const control = async (action: string) => {
    const res = await fetch(`${platform.nodeUrl}/api/client/v2/conferences/sdk.pres/participants/${gusId}/${action}`, {
      method: 'POST',
      headers: { token: (await host.state()).token! },
    });
    return { status: res.status, body: (await res.json()) as unknown };
  };
  expect(await control('denyrxpresentation')).toEqual({ status: 200, body: { status: 'success', result: true } });
  await expect.poll(async () => (await seen(gia, gusId))?.rx_presentation_policy).toBe('DENY');
  await expect.poll(() => flow(gus, 'gus'), { message: 'Gus decodes no more presentation frames', timeout: 10_000 }).toBe(0);
  expect(await flow(gia, 'gia')).toBeGreaterThan(0);

  expect(await control('allowrxpresentation')).toEqual({ status: 200, body: { status: 'success', result: true } });
  await expect.poll(() => flow(gus, 'gus'), { message: 'Gus decodes the presentation again', timeout: 15_000 }).toBeGreaterThan(0);
});
