/**
 * Node memory under an event-stream flood from one address (issue 11, finding 4): a real management
 * server and node process (e2e/support/platform.ts) with the client API limits at their defaults.
 * One address asks for `attempts` tokens, then makes `attempts` event-stream requests spread over
 * the tokens it got, each a reader that never reads; a chat flood then pushes data at them. Prints
 * JSON: the node's RSS before, after the attempts (and the flood), and after every stream closed,
 * with how many requests were let in or refused. Loopback only; stops by itself.
 *
 *   npx tsx bench/node-stream-memory.ts [attempts=1000] [lifted]
 *
 * `lifted` raises the per-address limits (as the test suites do) for a comparison; the stream
 * buffer bound and the per-participant cap still apply.
 */
import { request, type ClientRequest } from 'node:http';
import { createVmr, rssMiB, startPlatform } from '../e2e/support/platform.js';

const ATTEMPTS = Number(process.argv[2] ?? 1000);
const LIFTED = process.argv[3] === 'lifted';
const ALIAS = 'bench.streams';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const platform = await startPlatform({
  managementPort: 28490,
  nodePort: 28491,
  mediaPorts: '48800-48899',
  // The defaults of node-agent/client-api/ClientApiLimits.ts, not the test suites' raised ones.
  nodeEnv: LIFTED
    ? { NODE_REQUEST_TOKEN_PER_ADDRESS: '100000', NODE_STREAMS_PER_ADDRESS: '100000' }
    : { NODE_REQUEST_TOKEN_PER_ADDRESS: '20', NODE_STREAMS_PER_ADDRESS: '50' },
});
const api = (path: string, init: { body?: unknown; token?: string } = {}) =>
  fetch(`${platform.nodeUrl}/api/client/v2/conferences/${ALIAS}/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(init.token ? { token: init.token } : {}) },
    body: JSON.stringify(init.body ?? {}),
  });
const count = (m: Record<string, number>, k: string | number) => (m[k] = (m[k] ?? 0) + 1);

/** An event stream whose reader never reads: resolves with its status once the head arrived. */
const openStream = (token: string, held: ClientRequest[]) =>
  new Promise<number | string>((resolve) => {
    const req = request(`${platform.nodeUrl}/api/client/v2/conferences/${ALIAS}/events?token=${token}`);
    held.push(req);
    req.on('response', (res) => {
      res.pause();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', (err) => resolve((err as NodeJS.ErrnoException).code ?? err.message));
    req.end();
  });

try {
  await createVmr(platform, { name: 'Stream bench', aliases: [{ alias: ALIAS }] });
  // The node has the room once its configuration arrived (404 before); this first join counts in the rate.
  let talker: string | undefined;
  for (let i = 0; !talker && i < 100; i++) {
    const r = await api('request_token', { body: { display_name: 'Talker' } });
    if (r.status === 200) talker = ((await r.json()) as { result: { token: string } }).result.token;
    else await sleep(200);
  }
  if (!talker) throw new Error('the node never offered the bench room');
  await sleep(2_000);
  const pid = platform.node.pid!;
  const before = rssMiB(pid);

  const tokenAnswers: Record<string, number> = {};
  const tokens: string[] = [];
  await Promise.all(
    Array.from({ length: ATTEMPTS }, async (_, i) => {
      const r = await api('request_token', { body: { display_name: `Flood ${i}` } });
      count(tokenAnswers, r.status);
      if (r.status === 200) tokens.push(((await r.json()) as { result: { token: string } }).result.token);
    }),
  );
  if (tokens.length === 0) throw new Error('no token granted');
  const held: ClientRequest[] = [];
  const streamAnswers: Record<string, number> = {};
  for (let i = 0; i < ATTEMPTS; i += 50) {
    const batch = await Promise.all(Array.from({ length: Math.min(50, ATTEMPTS - i) }, (_, j) => openStream(tokens[(i + j) % tokens.length]!, held)));
    for (const s of batch) count(streamAnswers, s);
  }
  await sleep(2_000);
  const afterAttempts = rssMiB(pid);
  // 300 chat messages of 10,000 characters to everyone: readers that never read fill their buffers.
  const chat: Record<string, number> = {};
  for (let i = 0; i < 300; i += 20) {
    const batch = await Promise.all(
      Array.from({ length: 20 }, () => api('message', { token: talker, body: { type: 'text/plain', payload: 'x'.repeat(10_000) } })),
    );
    for (const r of batch) count(chat, r.status);
  }
  await sleep(2_000);
  const afterFlood = rssMiB(pid);
  for (const req of held) req.destroy();
  await sleep(5_000);
  const afterClose = rssMiB(pid);
  console.log(
    JSON.stringify(
      {
        attempts: ATTEMPTS,
        limits: LIFTED ? 'per-address limits lifted' : 'defaults',
        requestTokenAnswers: tokenAnswers,
        streamAnswers,
        chatAnswers: chat,
        rssMiB: { before, afterAttempts, afterChatFlood: afterFlood, afterClose },
      },
      null,
      2,
    ),
  );
} finally {
  await platform.stop();
}
