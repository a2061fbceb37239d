/**
 * Child process: one MultiStreamTestClient, driven over rpc.ts, its signalling sent to the parent
 * (ipcSignalling.ts). Run under `ip netns exec` so that its media crosses a shaped link.
 */
import type { MediaKind } from '../media/MediaTypes.js';
import { parentSignalling } from './ipcSignalling.js';
import { MultiStreamTestClient } from './MultiStreamTestClient.js';
import { serve } from './rpc.js';

let client: MultiStreamTestClient | null = null;
const the = () => {
  if (!client) throw new Error('no client: call join first');
  return client;
};

serve({
  async join(p: { name: string; toneHz: number; address: string; portRange: [number, number] }) {
    client = new MultiStreamTestClient(p.name, { toneHz: p.toneHz, address: p.address, portRange: p.portRange });
    await client.join(parentSignalling());
  },
  async receive(p: { count: number }) {
    await the().receive(p.count);
  },
  startSending: () => the().startSending(),
  figures: (p: { from: string; kind: MediaKind; since: number; until: number }) => the().figures(p.from, p.kind, p.since, p.until),
  toneLevelDb: (p: { from: string; hz: number }) => the().toneLevelDb(p.from, p.hz),
  async close() {
    await client?.close();
    setTimeout(() => process.exit(0), 100);
  },
});
