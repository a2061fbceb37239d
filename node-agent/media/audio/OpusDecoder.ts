/*
 * Opus library: `opusscript` (libopus 1.4 compiled to WebAssembly by Emscripten; ~1.9 M weekly
 * npm downloads, MIT). Chosen over the alternatives tried on this machine (Node 20, 2-core EPYC):
 *
 * - `@discordjs/opus` (native N-API, 0.10.0): ~2× faster (encode ~75 µs, decode ~15 µs per 20 ms
 *   mono frame), but it installs through node-pre-gyp, which first tries to download a prebuilt
 *   binary from GitHub and otherwise compiles libopus with node-gyp (1.5 min here), which in turn
 *   downloads Node's headers unless `--nodedir=/usr` is passed. Using it would mean allowing its
 *   install script under npm 11 and committing a nodedir setting for every install: too fragile.
 * - `@evan/opus` (1.0.3): fastest (native ~50 µs / ~14 µs), no install script, but it ships
 *   prebuilt .node binaries of unverifiable origin from one author with a small user base.
 * - `opusscript`: no install script, no native build, runs on every OS/arch Node runs on, and a
 *   bug in libopus triggered by a hostile packet stays inside the WebAssembly sandbox (a trap is a
 *   catchable JS exception) instead of corrupting the node process. It costs ~2-3× the native CPU
 *   (measured: encode ~85-110 µs at complexity 5-9, decode ~25-45 µs per 20 ms mono frame), which
 *   is affordable for the mixer (see bench/audio-mixer.ts); OpusEncoder/OpusDecoder are the only
 *   files that touch it, so a native backend can be swapped in later.
 *
 * Caveats of opusscript handled here: decode() takes a Buffer ≤ 3828 bytes (larger throws a
 * RangeError: we check first); an empty packet runs libopus PLC for its maximum frame (60 ms), of
 * which we keep one frame; it has no FEC decode; instances hold WebAssembly memory that is freed
 * only by delete() (close() below), never by the garbage collector.
 */
import OpusScript from 'opusscript';

/** Largest Opus payload accepted (three maximum-size frames; opusscript's input buffer is 3828). */
export const MAX_OPUS_PAYLOAD = 1275 * 3;

/** Decodes one source's Opus packets to interleaved 16-bit PCM. */
export class OpusDecoder {
  private handle: OpusScript | null;

  constructor(
    readonly sampleRate: 8000 | 12000 | 16000 | 24000 | 48000,
    readonly channels: 1 | 2,
  ) {
    this.handle = new OpusScript(sampleRate, channels, OpusScript.Application.AUDIO);
  }

  /** PCM of one packet (all its frames). Throws on a corrupt packet (libopus error). */
  decode(payload: Buffer): Int16Array {
    if (!this.handle) throw new Error('decoder closed');
    if (payload.length === 0 || payload.length > MAX_OPUS_PAYLOAD) throw new Error('bad Opus payload size');
    return toInt16(this.handle.decode(payload));
  }

  /** Packet-loss concealment: `samples` per channel continuing the last decoded audio. */
  conceal(samples: number): Int16Array {
    if (!this.handle) throw new Error('decoder closed');
    const pcm = toInt16(this.handle.decode(EMPTY));
    const want = samples * this.channels;
    if (pcm.length >= want) return pcm.subarray(0, want);
    const out = new Int16Array(want);
    out.set(pcm);
    return out;
  }

  close(): void {
    if (!this.handle) return;
    try {
      this.handle.delete();
    } catch {
      /* already gone with its WebAssembly module */
    }
    this.handle = null;
  }
}

const EMPTY = Buffer.alloc(0);

function toInt16(buf: Buffer): Int16Array {
  if (buf.byteOffset % 2 === 0) return new Int16Array(buf.buffer, buf.byteOffset, buf.length >> 1);
  const copy = new Int16Array(buf.length >> 1);
  new Uint8Array(copy.buffer).set(buf.subarray(0, copy.length * 2));
  return copy;
}
