/**
 * Worker-thread side of WorkerAudioMixer: one AudioMixer, driven by messages (workerProtocol.ts).
 * Its frame clock runs here, so decoding, mixing and encoding never touch the node's event loop;
 * each frame's packets go back to the parent in one transferred buffer.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { AudioMixer } from './AudioMixer.js';
import { forEachPacket, packBatch, type FromWorker, type ToWorker, type WorkerInit } from './workerProtocol.js';

const LEVELS_EVERY_FRAMES = 5;
const STATS_EVERY_FRAMES = 25;

const port = parentPort;
if (!port) throw new Error('audioMixerWorker must run in a worker thread');
const { options } = workerData as WorkerInit;

function post(msg: FromWorker, transfer?: ArrayBuffer[]): void {
  try {
    port!.postMessage(msg, transfer);
  } catch {
    /* parent gone */
  }
}

const mixer = new AudioMixer({
  ...options,
  log: options.forwardLogs
    ? ({
        debug: (obj: Record<string, unknown>, msg?: string) => post({ t: 'log', obj: cloneable(obj), msg: msg ?? '' }),
        warn: (obj: Record<string, unknown>, msg?: string) => post({ t: 'log', obj: cloneable(obj), msg: msg ?? '' }),
      } as never)
    : undefined,
});
mixer.observer.on('overload', (info) => post({ t: 'overload', ...info }));

const includeSets = new Map<string, Set<string>>();
let outIds: string[] = [];
let outBufs: Buffer[] = [];
let flushQueued = false;
let lastFrames = 0;

function flushOut(): void {
  flushQueued = false;
  if (outIds.length > 0) {
    const batch = packBatch(outIds, outBufs);
    outIds = [];
    outBufs = [];
    post({ t: 'out', ...batch }, [batch.buf]);
  }
  const frames = mixer.stats().frames;
  if (Math.floor(frames / LEVELS_EVERY_FRAMES) !== Math.floor(lastFrames / LEVELS_EVERY_FRAMES)) {
    const withStats = Math.floor(frames / STATS_EVERY_FRAMES) !== Math.floor(lastFrames / STATS_EVERY_FRAMES);
    postStatus(withStats);
  }
  lastFrames = frames;
}

function postStatus(withStats: boolean): void {
  post({ t: 'status', levels: [...mixer.levels()], stats: withStats ? mixer.stats() : undefined });
}

function sender(id: string): (rtp: Buffer) => void {
  return (rtp) => {
    outIds.push(id);
    outBufs.push(rtp);
    if (!flushQueued) {
      flushQueued = true;
      queueMicrotask(flushOut);
    }
  };
}

port.on('message', (msg: ToWorker) => {
  try {
    switch (msg.t) {
      case 'rtp':
        forEachPacket(msg, (id, packet) => mixer.pushRtp(id, packet));
        break;
      case 'addSource':
        mixer.addSource(msg.id, msg.opts);
        break;
      case 'removeSource':
        mixer.removeSource(msg.id);
        break;
      case 'addListener': {
        const set = new Set(msg.sources);
        includeSets.set(msg.id, set);
        mixer.addListener(
          msg.id,
          {
            payloadType: msg.payloadType,
            ...(msg.codec ? { codec: msg.codec } : {}),
            ssrc: msg.ssrc,
            initialSeq: msg.initialSeq,
            initialTimestamp: msg.initialTimestamp,
            includes: (s) => includeSets.get(msg.id)?.has(s) === true,
          },
          sender(msg.id),
        );
        break;
      }
      case 'updateListener':
        mixer.updateListener(msg.id, { payloadType: msg.payloadType, ssrc: msg.ssrc });
        break;
      case 'includes':
        if (includeSets.has(msg.id)) includeSets.set(msg.id, new Set(msg.sources));
        break;
      case 'removeListener':
        includeSets.delete(msg.id);
        mixer.removeListener(msg.id);
        break;
      case 'tick':
        mixer.tick(msg.frames);
        break;
      case 'ping':
        flushOut();
        postStatus(true);
        post({ t: 'pong', n: msg.n });
        break;
    }
  } catch (err) {
    post({ t: 'log', obj: cloneable({ err, msg: msg.t }), msg: 'audio mixer worker: message failed' });
  }
});

/** Log objects must survive structured cloning. */
function cloneable(obj: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    out[k] = v instanceof Error ? { message: v.message, stack: v.stack } : typeof v === 'function' ? String(v) : v;
  }
  return out;
}
