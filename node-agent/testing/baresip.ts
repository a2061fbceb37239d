import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** What a baresip call left behind: its console output and the audio it decoded (mono 16-bit PCM). */
export interface BaresipCallResult {
  out: string;
  /** Decoded audio baresip played (its sndfile dump), or null when it wrote none. */
  heard: { sampleRate: number; samples: Int16Array } | null;
  /** What the `during` step threw, kept whole so a test can fail with its own message. */
  duringError?: unknown;
}

export interface BaresipCallOptions {
  /** The tone baresip sends (its ausine source), in Hz. */
  toneHz: number;
  /** baresip's audio codecs in its account's order, e.g. `opus/48000/2` or `PCMU/8000/1`. */
  audioCodecs?: string;
  /**
   * Send and receive video (fakevideo): VP8, or with `videoCodec: 'H264'` what avcodec offers as a
   * room system does (H.264 in packetization modes 0 and 1, H.263, MPEG-4, H.265; no VP8).
   */
  video?: boolean;
  videoCodec?: 'VP8' | 'H264';
  /** The account's media encryption (srtp module): `srtp` (best effort), `srtp-mand` (RTP/SAVP), `srtp-mandf` (RTP/SAVPF). */
  mediaenc?: 'srtp' | 'srtp-mand' | 'srtp-mandf';
  /** How long the call lasts before baresip hangs up. */
  holdMs: number;
  /** Runs mid-call (after the dial); the hang-up waits for it. */
  during?: (phone: BaresipKeys) => Promise<void>;
}

/** The phone's keypad during a call: baresip sends each key as RFC 4733 telephone-event. */
export interface BaresipKeys {
  /** Presses the keys one by one, `gapMs` apart (baresip's stdio releases a key after a while). */
  press(keys: string, gapMs?: number): Promise<void>;
  /**
   * Saves the picture baresip decodes now as a PNG (its snapshot module; needs `video`). Resolves
   * with the file's path once written, or null.
   */
  snapshot(): Promise<string | null>;
}

const MODULES: Record<string, string> = { opus: 'opus.so', pcmu: 'g711.so', pcma: 'g711.so', g722: 'g722.so' };

/**
 * A real SIP phone, headless: baresip 1.0 dials `uri` with a sine tone as its microphone (and
 * VP8 fake video if asked), dumps what it decodes with its sndfile module, and hangs up.
 */
export function baresipCall(uri: string, opts: BaresipCallOptions): Promise<BaresipCallResult> {
  const dir = mkdtempSync(join(tmpdir(), 'om-baresip-'));
  const audioCodecs = opts.audioCodecs ?? 'opus/48000/2';
  const codecModules = new Set(audioCodecs.split(',').map((c) => MODULES[c.split('/')[0]!.toLowerCase()] ?? 'opus.so'));
  writeFileSync(
    join(dir, 'config'),
    [
      'sip_listen 127.0.0.1:0',
      `audio_source ausine,${opts.toneHz}`,
      // ausine and the player run at 48 kHz; baresip resamples for an 8-kHz codec.
      'ausrc_srate 48000',
      'ausrc_channels 2',
      'auplay_srate 48000',
      'audio_player aufile,/dev/null',
      `snd_path ${dir}`,
      ...(opts.video ? ['video_source fakevideo,nil', 'video_display fakevideo,nil'] : []),
      'module_path /usr/lib/baresip/modules',
      'module stdio.so',
      ...[...codecModules].map((m) => `module ${m}`),
      ...(opts.video ? [opts.videoCodec === 'H264' ? 'module avcodec.so' : 'module vp8.so', 'module fakevideo.so', 'module snapshot.so'] : []),
      ...(opts.videoCodec === 'H264' ? ['avcodec_h264enc libx264', 'avcodec_h264dec h264'] : []),
      ...(opts.mediaenc ? ['module srtp.so'] : []),
      'module ausine.so',
      'module aufile.so',
      'module sndfile.so',
      'module_app account.so',
      'module_app menu.so',
      '',
    ].join('\n'),
  );
  const params = [
    `audio_codecs=${audioCodecs}`,
    ...(opts.video && opts.videoCodec !== 'H264' ? ['video_codecs=VP8'] : []),
    ...(opts.mediaenc ? [`mediaenc=${opts.mediaenc}`] : []),
  ];
  writeFileSync(join(dir, 'accounts'), `<sip:phone@127.0.0.1>;regint=0;${params.join(';')}\n`);
  return new Promise((resolve) => {
    const child = spawn('baresip', ['-f', dir, '-e', `/dial ${uri}`], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const hangUp = () => {
      child.stdin.write('/hangup\n');
      setTimeout(() => child.stdin.write('/quit\n'), 1500);
    };
    let duringError: unknown;
    let snapshots = 0;
    const keys: BaresipKeys = {
      press: async (digits, gapMs = 600) => {
        for (const key of digits) {
          child.stdin.write(key);
          await new Promise((r) => setTimeout(r, gapMs));
        }
      },
      snapshot: async () => {
        const file = join(dir, `snapshot-${++snapshots}.png`);
        child.stdin.write(`/snapshot_recv ${file}\n`);
        for (let i = 0; i < 50; i++) {
          await new Promise((r) => setTimeout(r, 100));
          if (existsSync(file) && statSync(file).size > 0) {
            // Written once the next decoded frame arrived; give the writer a moment to finish.
            await new Promise((r) => setTimeout(r, 200));
            return file;
          }
        }
        return null;
      },
    };
    // A backstop in case baresip never quits: 60 s after the hang-up, and never past 5 minutes.
    let killer = setTimeout(() => child.kill('SIGKILL'), opts.holdMs + 60_000);
    const cap = setTimeout(() => child.kill('SIGKILL'), opts.holdMs + 300_000);
    setTimeout(() => {
      // The keypad step takes what it takes (a slow machine); the backstop starts again when it ends.
      clearTimeout(killer);
      void (opts.during?.(keys) ?? Promise.resolve())
        .catch((err: unknown) => {
          duringError = err;
          out += `\nDURING FAILED: ${String(err)}`;
        })
        .finally(() => {
          hangUp();
          killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
        });
    }, opts.holdMs);
    child.on('exit', () => {
      clearTimeout(killer);
      clearTimeout(cap);
      const heard = readDecodedDump(dir);
      rmSync(dir, { recursive: true, force: true });
      resolve(duringError === undefined ? { out, heard } : { out, heard, duringError });
    });
  });
}

/** The sndfile module writes `dump-<call>-dec.wav` (what it decoded) beside `-enc.wav` (what it sent). */
function readDecodedDump(dir: string): BaresipCallResult['heard'] {
  const file = readdirSync(dir).find((f) => f.endsWith('-dec.wav'));
  if (!file) return null;
  return parseWav(readFileSync(join(dir, file)));
}

/** A 16-bit PCM WAV's first channel; only what sndfile writes is expected. */
export function parseWav(buf: Buffer): { sampleRate: number; samples: Int16Array } | null {
  if (buf.length < 44 || buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE') return null;
  let offset = 12;
  let sampleRate = 0;
  let channels = 1;
  while (offset + 8 <= buf.length) {
    const id = buf.toString('ascii', offset, offset + 4);
    const size = buf.readUInt32LE(offset + 4);
    if (id === 'fmt ') {
      channels = buf.readUInt16LE(offset + 10);
      sampleRate = buf.readUInt32LE(offset + 12);
    } else if (id === 'data') {
      const end = Math.min(buf.length, offset + 8 + size);
      const frames = Math.floor((end - offset - 8) / (2 * channels));
      const samples = new Int16Array(frames);
      for (let i = 0; i < frames; i++) samples[i] = buf.readInt16LE(offset + 8 + i * 2 * channels);
      return { sampleRate, samples };
    }
    offset += 8 + size + (size % 2);
  }
  return null;
}

export { toneLevelDb } from './toneLevel.js';
