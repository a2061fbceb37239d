import type { Browser, BrowserContext, Page } from '@playwright/test';
import { installFakeMedia, type FakeMediaOptions } from '../fakeMedia.js';
import { pexipSdkHtml } from './bundle.js';
import type { PexipEvent, PexipJoinOptions, PexipState, RemoteMediaProbe } from './types.js';

/**
 * A Chromium page running the official Pexip web SDK against our node. The page is served from
 * the node's own origin (intercepted by Playwright, the node never sees it), as Pexip's web app
 * would be, so the SDK's requests are same-origin and it targets the node by default.
 */
export const PEXIP_SDK_PAGE = '/pexip-sdk-test.html';

export interface SdkPage {
  page: Page;
  context: BrowserContext;
  name: string;
  join(opts: Omit<PexipJoinOptions, 'displayName'> & { displayName?: string }): Promise<void>;
  leave(): Promise<void>;
  present(): Promise<void>;
  stopPresenting(): Promise<void>;
  state(): Promise<PexipState>;
  events(): Promise<PexipEvent[]>;
  probe(freqs?: readonly number[]): Promise<RemoteMediaProbe>;
  rtpStats(): Promise<Record<string, unknown>[]>;
  restartIce(): Promise<void>;
  /** One of the SDK's controls (InfinityClient.lock, mute, spotlight…): the HTTP status it got, or its error. */
  control(name: string, params?: Record<string, unknown>): Promise<{ status: number | null; error: string | null; value?: unknown }>;
  sdp(): Promise<{ local: string | null; remote: string | null }[]>;
  /** The client API traffic seen by the page: method, path, status (for failure messages). */
  traffic: string[];
  close(): Promise<void>;
}

/** A browser whose video offers leave out these codecs (e.g. `['H264']`: one that cannot send H.264). */
export interface SdkPageOptions {
  withoutVideoCodecs?: string[];
}

export async function openSdkPage(browser: Browser, nodeUrl: string, name: string, media: FakeMediaOptions, opts: SdkPageOptions = {}): Promise<SdkPage> {
  const context = await browser.newContext();
  await context.addInitScript(installFakeMedia, media);
  if (opts.withoutVideoCodecs?.length) await context.addInitScript(withoutVideoCodecs, opts.withoutVideoCodecs);
  const html = await pexipSdkHtml();
  await context.route(`${nodeUrl}${PEXIP_SDK_PAGE}`, (route) => route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: html }));
  const page = await context.newPage();
  const traffic: string[] = [];
  page.on('response', (res) => {
    const url = new URL(res.url());
    if (url.pathname.startsWith('/api/client/v2/'))
      traffic.push(`${res.request().method()} ${url.pathname.replace(/^\/api\/client\/v2\/conferences\//, '')} → ${res.status()}`);
  });
  page.on('pageerror', (err) => console.error(`[${name}] page error: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error' || process.env.PEXIP_SDK_VERBOSE) console.error(`[${name}] ${msg.type()}: ${msg.text()}`);
  });
  await page.goto(`${nodeUrl}${PEXIP_SDK_PAGE}`);
  await page.waitForFunction(() => Boolean(window.pexip));
  return {
    page,
    context,
    name,
    traffic,
    join: (opts) => page.evaluate((o) => window.pexip!.join(o), { displayName: name, ...opts }),
    leave: () => page.evaluate(() => window.pexip!.leave()),
    present: () => page.evaluate(() => window.pexip!.present()),
    stopPresenting: () => page.evaluate(() => window.pexip!.stopPresenting()),
    state: () => page.evaluate(() => JSON.parse(JSON.stringify(window.pexip!.state)) as PexipState),
    events: () => page.evaluate(() => JSON.parse(JSON.stringify(window.pexip!.events)) as PexipEvent[]),
    probe: (freqs = []) => page.evaluate((f) => window.pexip!.probe(f), [...freqs]),
    rtpStats: () => page.evaluate(() => window.pexip!.rtpStats()),
    sdp: () => page.evaluate(() => window.pexip!.sdp()),
    restartIce: () => page.evaluate(() => window.pexip!.restartIce()),
    control: (name, params = {}) => page.evaluate(([n, p]) => window.pexip!.control(n, p), [name, params] as const),
    // Hangs up first, as a user does: a closed page alone stays a participant until its token expires.
    close: async () => {
      await Promise.race([page.evaluate(() => window.pexip?.leave()).catch(() => undefined), new Promise((r) => setTimeout(r, 5_000))]);
      await context.close();
    },
  };
}

/**
 * Runs in the page: the peer connection's offers and answers leave these video codecs out (their
 * payload types, RTX included, and their attribute lines), as a browser without them would send.
 */
function withoutVideoCodecs(codecs: string[]): void {
  const names = new Set(codecs.map((c) => c.toLowerCase()));
  const strip = (sdp: string): string => {
    const sections = sdp.split(/(?=^m=)/m);
    return sections
      .map((section) => {
        if (!section.startsWith('m=video')) return section;
        const lines = section.split(/\r\n/);
        const gone = new Set<string>();
        for (const l of lines) {
          const m = /^a=rtpmap:(\d+) ([^/]+)\//.exec(l);
          if (m && names.has(m[2]!.toLowerCase())) gone.add(m[1]!);
        }
        for (const l of lines) {
          const m = /^a=fmtp:(\d+) apt=(\d+)/.exec(l);
          if (m && gone.has(m[2]!)) gone.add(m[1]!);
        }
        return lines
          .filter((l) => !/^a=(rtpmap|fmtp|rtcp-fb):(\d+)/.test(l) || !gone.has(/^a=\w[\w-]*:(\d+)/.exec(l)![1]!))
          .map((l) =>
            l.startsWith('m=video')
              ? l
                  .split(' ')
                  .filter((f, i) => i < 3 || !gone.has(f))
                  .join(' ')
              : l,
          )
          .join('\r\n');
      })
      .join('');
  };
  for (const method of ['createOffer', 'createAnswer'] as const) {
    const original = RTCPeerConnection.prototype[method] as (...args: unknown[]) => Promise<RTCSessionDescriptionInit>;
    RTCPeerConnection.prototype[method] = async function (this: RTCPeerConnection, ...args: unknown[]) {
      const d = await original.apply(this, args);
      return d.sdp ? { type: d.type, sdp: strip(d.sdp) } : d;
    } as never;
  }
}
