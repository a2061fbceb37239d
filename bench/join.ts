/**
 * Join latency and memory, on the real product: management server + one node agent as separate
 * processes, Debian Chromium with a fake camera. Prints JSON.
 *
 *   npx tsx bench/join.ts [joins=12]
 *
 * joinToFirstFrameMs: from pressing Join (PIN already typed) to the first remote video frame
 * decoded in the joining browser (polled from getStats() every 5 ms), while one participant is
 * already in the room. RSS is read from /proc for each process.
 */
import { chromium, type Page } from 'playwright-core';
import { CHROMIUM_ARGS, createVmr, rssMiB, startPlatform } from '../e2e/support/platform.js';

const JOINS = Number(process.argv[2] ?? 12);
const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};

const platform = await startPlatform({ managementPort: 28080, nodePort: 28081, mediaPorts: '43000-43999' });
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
try {
  await createVmr(platform, { name: 'Bench Room', aliases: [{ alias: 'meet.bench' }], pin: '4321' });
  await new Promise((r) => setTimeout(r, 500));
  const rssIdle = { managementServer: rssMiB(platform.server.pid!), nodeAgent: rssMiB(platform.node.pid!) };

  async function prepare(name: string): Promise<Page> {
    const ctx = await browser.newContext({ permissions: ['camera', 'microphone'] });
    const page = await ctx.newPage();
    await page.goto(`${platform.nodeUrl}/webapp/?alias=meet.bench&name=${name}`);
    await page.getByRole('button', { name: 'Join' }).click();
    await page.getByLabel('PIN').fill('4321');
    return page;
  }

  /** Presses Join and resolves with ms until the first remote video frame is decoded. */
  async function joinAndTime(page: Page): Promise<number> {
    return page.evaluate(async () => {
      const t0 = performance.now();
      (document.querySelector('button[type=submit]') as HTMLButtonElement).click();
      for (;;) {
        const pc = window.meeting?.pc;
        if (pc) {
          let frames = 0;
          (await pc.getStats()).forEach((r: { type: string; kind?: string; framesDecoded?: number }) => {
            if (r.type === 'inbound-rtp' && r.kind === 'video') frames += r.framesDecoded ?? 0;
          });
          if (frames > 0) return performance.now() - t0;
        }
        await new Promise((r) => setTimeout(r, 5));
        if (performance.now() - t0 > 30_000) throw new Error('no remote frame within 30 s');
      }
    });
  }

  const host = await prepare('Host');
  await host.getByRole('button', { name: 'Join' }).click();
  await host.getByTestId('media-stage').waitFor();

  const samples: number[] = [];
  let rssTwo = { managementServer: 0, nodeAgent: 0 };
  for (let i = 0; i < JOINS; i++) {
    const guest = await prepare(`Guest${i}`);
    samples.push(Math.round(await joinAndTime(guest)));
    if (i === 0) {
      await new Promise((r) => setTimeout(r, 3_000));
      rssTwo = { managementServer: rssMiB(platform.server.pid!), nodeAgent: rssMiB(platform.node.pid!) };
    }
    await guest.getByRole('button', { name: 'Leave' }).click();
    await guest.context().close();
    await new Promise((r) => setTimeout(r, 300));
  }
  console.log(
    JSON.stringify(
      {
        joins: samples.length,
        joinToFirstFrameMs: { median: percentile(samples, 50), p95: percentile(samples, 95), min: Math.min(...samples), max: Math.max(...samples), samples },
        rssMiB: { idle: rssIdle, twoParticipants: rssTwo },
      },
      null,
      2,
    ),
  );
} finally {
  await browser.close();
  await platform.stop();
}
