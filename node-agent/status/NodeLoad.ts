import { availableParallelism, cpus, totalmem } from 'node:os';
import { nodeLoadSchema, type NodeCapacity, type NodeLoad, type ParticipantMedia } from '../../shared/node-protocol/mediaStatus.js';

/**
 * Media tokens per call type, in twelfths of an HD call (guide digest 1 §7.3: Full HD = 2 HD,
 * SD = 0.5 HD, audio-only = 1/12 HD; a WebRTC participant sending a presentation costs 0.5 HD
 * more, receiving one 1 HD more).
 */
export const TOKENS = { fullHd: 24, hd: 12, sd: 6, audio: 1, presentationSend: 6, presentationReceive: 12 } as const;

/**
 * HD calls one core can carry. Pexip measures capacity at startup; our estimate comes from the
 * mediasoup figures in DESIGN.md (≈ 640 streams of 100 pkt/s per core) with room for the
 * single-stream audio mix: an HD call here is two streams in and, in a conference of a dozen,
 * about twenty out.
 */
export const HD_CALLS_PER_CORE = 25;

export function capacityFor(cores: number, hdCallsPerCore = HD_CALLS_PER_CORE): NodeCapacity {
  return capacityOf(Math.max(1, cores) * hdCallsPerCore * TOKENS.hd);
}

/** A capacity of so many media tokens, in calls of each type. */
export function capacityOf(maxMediaTokens: number): NodeCapacity {
  return {
    maxFullHdCalls: Math.floor(maxMediaTokens / TOKENS.fullHd),
    maxHdCalls: Math.floor(maxMediaTokens / TOKENS.hd),
    maxSdCalls: Math.floor(maxMediaTokens / TOKENS.sd),
    maxAudioCalls: Math.floor(maxMediaTokens / TOKENS.audio),
    maxMediaTokens,
  };
}

/** "1280x720" → 720. */
const heightOf = (resolution: string | undefined) => Number(resolution?.split('x')[1]) || undefined;

/**
 * What one participant costs, from the streams the node carries for it: audio only is an audio
 * call; with video, the resolution the client reported decides Full HD (1080 lines), SD (576 or
 * fewer) or HD (otherwise, and when unknown: HD is the guide's default Maximum call quality).
 */
export function callType(p: Pick<ParticipantMedia, 'streams'>): { type: 'fullHd' | 'hd' | 'sd' | 'audio' | null; tokens: number } {
  const has = (t: string) => p.streams.some((s) => s.type === t && (s.rx || s.tx));
  if (!has('audio') && !has('video') && !has('presentation')) return { type: null, tokens: 0 };
  let type: 'fullHd' | 'hd' | 'sd' | 'audio' = 'audio';
  if (has('video')) {
    const video = p.streams.find((s) => s.type === 'video');
    const h = Math.max(heightOf(video?.rx?.resolution) ?? 0, heightOf(video?.tx?.resolution) ?? 0) || undefined;
    type = h === undefined ? 'hd' : h >= 1080 ? 'fullHd' : h <= 576 ? 'sd' : 'hd';
  }
  const pres = p.streams.find((s) => s.type === 'presentation');
  const tokens = TOKENS[type] + (pres?.rx ? TOKENS.presentationSend : 0) + (pres?.tx ? TOKENS.presentationReceive : 0);
  return { type, tokens };
}

/** Where the node's load figures come from (NodeAgent wires the engine, the manager and the statistics). */
export interface LoadSources {
  /** mediasoup workers' CPU time so far (ms) and resident memory (bytes). */
  workers(): Promise<{ cpuMs: number; rssBytes: number; pid: number }[]>;
  mediaPortsInUse(): number;
  mediaPortRange(): [number, number];
  maintenanceMode(): boolean;
  /** Participants with signalling on this node. */
  signalingCount(): number;
  /** Every participant's current media (to count calls by type). */
  participants(): ParticipantMedia[];
  /** Media tokens in use and capacity as admission counts them (held calls included, configured capacity); default: measured, from the cores. */
  mediaTokens?(): { used: number; max: number };
}

/**
 * The node's load: CPU over the interval since the last measurement (this process and its media
 * workers, as a share of all cores), memory, media ports, calls by type and media load as a share
 * of capacity; 100 % in maintenance mode (the guide: a node in maintenance takes no new calls).
 */
export class NodeLoadMeter {
  private last: { at: number; cpuMs: number } | null = null;
  private readonly cores: number;
  readonly capacity: NodeCapacity;

  constructor(
    private readonly sources: LoadSources,
    opts: { cores?: number; hdCallsPerCore?: number; now?: () => number } = {},
  ) {
    this.cores = opts.cores ?? availableParallelism();
    this.capacity = capacityFor(this.cores, opts.hdCallsPerCore);
    this.now = opts.now ?? Date.now;
  }

  private readonly now: () => number;

  async measure(): Promise<NodeLoad> {
    const at = this.now();
    const workers = await this.sources.workers();
    const self = process.cpuUsage();
    const cpuMs = (self.user + self.system) / 1000 + workers.reduce((n, w) => n + w.cpuMs, 0);
    const percent = this.last && at > this.last.at ? Math.max(0, ((cpuMs - this.last.cpuMs) / ((at - this.last.at) * this.cores)) * 100) : 0;
    this.last = { at, cpuMs };
    const calls = { fullHd: 0, hd: 0, sd: 0, audio: 0 };
    let tokens = 0;
    for (const p of this.sources.participants()) {
      const c = callType(p);
      if (c.type) calls[c.type]++;
      tokens += c.tokens;
    }
    const maintenance = this.sources.maintenanceMode();
    const [min, max] = this.sources.mediaPortRange();
    const admitted = this.sources.mediaTokens?.();
    if (admitted) tokens = Math.max(tokens, admitted.used);
    const capacity = admitted ? capacityOf(admitted.max) : this.capacity;
    return nodeLoadSchema.parse({
      at: new Date(at).toISOString(),
      mediaLoad: maintenance ? 100 : capacity.maxMediaTokens === 0 ? 100 : Math.min(100, Math.round((tokens / capacity.maxMediaTokens) * 1000) / 10),
      mediaTokensUsed: tokens,
      capacity,
      cpu: { percent: Math.round(percent * 10) / 10, count: this.cores, model: cpus()[0]?.model ?? 'unknown' },
      memory: { usedBytes: process.memoryUsage().rss + workers.reduce((n, w) => n + w.rssBytes, 0), totalBytes: totalmem() },
      mediaPorts: { inUse: this.sources.mediaPortsInUse(), total: Math.max(0, max - min + 1) },
      signalingCount: this.sources.signalingCount(),
      calls,
      maintenanceMode: maintenance,
    });
  }
}
