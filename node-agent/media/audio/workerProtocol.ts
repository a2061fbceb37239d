import type { AudioMixerOptions, AudioMixerStats, MixCodec, MixSourceOptions } from './AudioMixerTypes.js';

/** Options the worker's AudioMixer is built with (no logger: logs come back as messages). */
export type WorkerMixerOptions = Omit<AudioMixerOptions, 'log'> & { forwardLogs: boolean };

export interface WorkerInit {
  options: WorkerMixerOptions;
  /** Module the boot script imports (the worker entry). */
  entry: string;
}

/** Packets batched into one transferable buffer: packet i is buf[ends[i-1] ?? 0, ends[i]). */
export interface PacketBatch {
  ids: string[];
  ends: number[];
  buf: ArrayBuffer;
}

export type ToWorker =
  | { t: 'addSource'; id: string; opts: MixSourceOptions }
  | { t: 'removeSource'; id: string }
  | { t: 'addListener'; id: string; payloadType: number; codec?: MixCodec; ssrc: number; initialSeq?: number; initialTimestamp?: number; sources: string[] }
  | { t: 'updateListener'; id: string; payloadType?: number; ssrc?: number }
  | { t: 'includes'; id: string; sources: string[] }
  | { t: 'removeListener'; id: string }
  | ({ t: 'rtp' } & PacketBatch)
  | { t: 'tick'; frames: number }
  | { t: 'ping'; n: number };

export type FromWorker =
  | ({ t: 'out' } & PacketBatch)
  | { t: 'status'; levels: [string, number][]; stats?: AudioMixerStats }
  | { t: 'overload'; tickMs: number; frameMs: number }
  | { t: 'log'; obj: Record<string, unknown>; msg: string }
  | { t: 'pong'; n: number };

/** Packs buffers into one ArrayBuffer (to transfer, not clone). */
export function packBatch(ids: string[], bufs: Uint8Array[]): PacketBatch {
  let total = 0;
  for (const b of bufs) total += b.length;
  const buf = new ArrayBuffer(total);
  const view = new Uint8Array(buf);
  const ends: number[] = [];
  let o = 0;
  for (const b of bufs) {
    view.set(b, o);
    o += b.length;
    ends.push(o);
  }
  return { ids, ends, buf };
}

/** Calls fn for each packet of a batch (views into batch.buf). */
export function forEachPacket(batch: PacketBatch, fn: (id: string, packet: Buffer) => void): void {
  let start = 0;
  for (let i = 0; i < batch.ids.length; i++) {
    const end = batch.ends[i]!;
    fn(batch.ids[i]!, Buffer.from(batch.buf, start, end - start));
    start = end;
  }
}
