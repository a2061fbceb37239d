import type { BrowserContext, Page } from '@playwright/test';

/**
 * Fake camera, microphone and screen for a Playwright page, distinguishable per participant:
 * the camera is a canvas of one colour, the screen a canvas of another colour with a grid, the
 * microphone a sine tone of its own frequency. Plus probes run in the page: the centre colour of
 * each remote tile's video and the energy of each known tone in the remote audio received.
 *
 *   await context.addInitScript(installFakeMedia, PARTICIPANTS[0].media);
 *   await page.evaluate(() => window.__fakeMedia!.setTone(false));
 */
export type Rgb = [number, number, number];

export interface FakeMediaOptions {
  /** Camera colour. */
  color: Rgb;
  /** Screen share colour (a grid of thin white lines on it; the centre is this colour). */
  screenColor: Rgb;
  /** Microphone tone, Hz. */
  toneHz: number;
  /** Tone on at the start (default true). */
  toneOn?: boolean;
}

export interface FakeMediaControl {
  readonly options: FakeMediaOptions;
  /** Switches the microphone's tone on or off (silence when off). */
  setTone(on: boolean): void;
  /** getUserMedia / getDisplayMedia calls so far. */
  readonly calls: { user: number; display: number };
}

declare global {
  interface Window {
    __fakeMedia?: FakeMediaControl;
  }
}

/** Named colours for the participants' cameras and screens, far enough apart to tell after VP8. */
export const COLORS = {
  red: [220, 40, 40],
  green: [40, 190, 70],
  blue: [40, 70, 220],
  yellow: [230, 210, 40],
  magenta: [210, 50, 210],
  cyan: [40, 200, 210],
  orange: [240, 140, 30],
  white: [235, 235, 235],
} as const satisfies Record<string, Rgb>;
export type ColorName = keyof typeof COLORS;

/** Tones (Hz) none of which is a harmonic of another. */
export const TONES = [440, 620, 820, 1060] as const;

/**
 * The init script (runs in the page before its own scripts): replaces getUserMedia and
 * getDisplayMedia. Self-contained: Playwright serialises it into the page.
 */
export function installFakeMedia(options: FakeMediaOptions): void {
  if (window.__fakeMedia) return;
  const md = navigator.mediaDevices;
  if (!md) return;
  let toneOn = options.toneOn ?? true;
  const calls = { user: 0, display: 0 };
  const LEVEL = 0.3;
  let audio: { ctx: AudioContext; gain: GainNode; dest: MediaStreamAudioDestinationNode } | null = null;

  const audioTrack = (): MediaStreamTrack => {
    if (!audio) {
      const ctx = new AudioContext({ sampleRate: 48_000 });
      const osc = ctx.createOscillator();
      osc.type = 'sine';
      osc.frequency.value = options.toneHz;
      const gain = ctx.createGain();
      gain.gain.value = toneOn ? LEVEL : 0;
      const dest = ctx.createMediaStreamDestination();
      osc.connect(gain).connect(dest);
      osc.start();
      audio = { ctx, gain, dest };
    }
    void audio.ctx.resume().catch(() => undefined);
    return audio.dest.stream.getAudioTracks()[0]!.clone();
  };

  const rgb = (c: readonly number[]) => `rgb(${c[0]}, ${c[1]}, ${c[2]})`;
  /** A canvas painted `fps` times a second (a frame counter in its top-left corner keeps the encoder busy). */
  const canvasTrack = (width: number, height: number, fps: number, paint: (g: CanvasRenderingContext2D, frame: number) => void): MediaStreamTrack => {
    const canvas = document.createElement('canvas');
    canvas.width = width;
    canvas.height = height;
    const g = canvas.getContext('2d')!;
    let frame = 0;
    const draw = () => paint(g, frame++);
    draw();
    const stream = canvas.captureStream(fps);
    const track = stream.getVideoTracks()[0]!;
    const timer = window.setInterval(() => {
      if (track.readyState === 'ended') window.clearInterval(timer);
      else draw();
    }, 1000 / fps);
    return track;
  };

  const cameraTrack = () =>
    canvasTrack(640, 360, 15, (g, frame) => {
      g.fillStyle = rgb(options.color);
      g.fillRect(0, 0, 640, 360);
      g.fillStyle = frame % 2 ? '#000' : '#fff';
      g.fillRect((frame * 8) % 600, 0, 40, 40);
    });

  const screenTrack = () =>
    canvasTrack(1280, 720, 5, (g, frame) => {
      g.fillStyle = rgb(options.screenColor);
      g.fillRect(0, 0, 1280, 720);
      g.fillStyle = '#fff';
      // Thin lines at 80 + 160k: none crosses the centre (640, 360).
      for (let x = 80; x < 1280; x += 160) g.fillRect(x - 2, 0, 4, 720);
      for (let y = 80; y < 720; y += 160) g.fillRect(0, y - 2, 1280, 4);
      g.fillStyle = '#000';
      g.fillRect((frame * 16) % 1200, 0, 60, 30);
    });

  md.getUserMedia = async (constraints?: MediaStreamConstraints) => {
    calls.user++;
    const tracks: MediaStreamTrack[] = [];
    if (constraints?.audio) tracks.push(audioTrack());
    if (constraints?.video) tracks.push(cameraTrack());
    if (!tracks.length) throw new TypeError('getUserMedia: audio or video is required');
    return new MediaStream(tracks);
  };
  md.getDisplayMedia = async () => {
    calls.display++;
    return new MediaStream([screenTrack()]);
  };

  window.__fakeMedia = {
    options,
    calls,
    setTone(on: boolean) {
      toneOn = on;
      if (audio) audio.gain.gain.setValueAtTime(on ? LEVEL : 0, audio.ctx.currentTime);
    },
  };
}

/** Installs the fake media in every page of a context. */
export async function useFakeMedia(context: BrowserContext, options: FakeMediaOptions): Promise<void> {
  await context.addInitScript(installFakeMedia, options);
}

export async function setTone(page: Page, on: boolean): Promise<void> {
  await page.evaluate((v) => window.__fakeMedia!.setTone(v), on);
}

/** The named colour nearest to an RGB value, or null when none is close (no picture, or a blend). */
export function nearestColor(c: Rgb | null, maxDistance = 60): ColorName | null {
  if (!c) return null;
  let best: ColorName | null = null;
  let bestD = Infinity;
  for (const [name, ref] of Object.entries(COLORS) as [ColorName, Rgb][]) {
    const d = Math.hypot(c[0] - ref[0], c[1] - ref[1], c[2] - ref[2]);
    if (d < bestD) {
      bestD = d;
      best = name;
    }
  }
  return bestD <= maxDistance ? best : null;
}

export interface TileSample {
  uuid: string;
  name: string;
  /** The video's centre pixel, or null when the tile shows no decoded picture. */
  rgb: Rgb | null;
  active: boolean;
}

/** Every tile on the page: its participant, and the centre colour of its video as decoded. */
export async function sampleTiles(page: Page): Promise<TileSample[]> {
  return page.evaluate(() => {
    const centre = (v: HTMLVideoElement | null): [number, number, number] | null => {
      if (!v || v.videoWidth === 0 || v.videoHeight === 0 || v.readyState < 2) return null;
      const c = document.createElement('canvas');
      c.width = v.videoWidth;
      c.height = v.videoHeight;
      const g = c.getContext('2d', { willReadFrequently: true })!;
      g.drawImage(v, 0, 0);
      const d = g.getImageData(Math.floor(c.width / 2), Math.floor(c.height / 2), 1, 1).data;
      return [d[0]!, d[1]!, d[2]!];
    };
    return [...document.querySelectorAll<HTMLElement>('[data-testid="participant-tile"]')].map((tile) => ({
      uuid: tile.dataset.participantUuid ?? '',
      name: tile.dataset.displayName ?? '',
      rgb: centre(tile.querySelector<HTMLVideoElement>('video[data-testid="remote-video"]')),
      active: tile.dataset.activeSpeaker === 'true',
    }));
  });
}

/** Tile name → the named colour of its video (null: no picture, or no known colour). */
export async function tileColors(page: Page): Promise<Record<string, ColorName | null>> {
  const out: Record<string, ColorName | null> = {};
  for (const t of await sampleTiles(page)) out[t.name] = nearestColor(t.rgb);
  return out;
}

/** The centre colour of the presentation as decoded, or null. */
export async function presentationColor(page: Page): Promise<ColorName | null> {
  const rgb = await page.evaluate(() => {
    const v = document.querySelector<HTMLVideoElement>('video[data-testid="presentation-video"]');
    if (!v || v.videoWidth === 0 || v.readyState < 2) return null;
    const c = document.createElement('canvas');
    c.width = v.videoWidth;
    c.height = v.videoHeight;
    const g = c.getContext('2d', { willReadFrequently: true })!;
    g.drawImage(v, 0, 0);
    const d = g.getImageData(Math.floor(c.width / 2), Math.floor(c.height / 2), 1, 1).data;
    return [d[0]!, d[1]!, d[2]!] as [number, number, number];
  });
  return nearestColor(rgb);
}

/**
 * The energy (dB, as an AnalyserNode reports it: about -100 for silence, -20 for a loud tone)
 * at each frequency in each remote audio track the page plays, keyed by the sender's participant
 * uuid (`<audio data-testid="remote-audio" data-participant-uuid>`). The first call sets up the
 * analysers; poll.
 */
export async function toneLevels(page: Page, freqs: readonly number[]): Promise<Record<string, Record<number, number>>> {
  return page.evaluate(async (hz) => {
    type Probe = { ctx: AudioContext; nodes: Map<string, AnalyserNode> };
    const w = window as Window & { __toneProbe?: Probe };
    const probe = (w.__toneProbe ??= { ctx: new AudioContext(), nodes: new Map() });
    await probe.ctx.resume().catch(() => undefined);
    const out: Record<string, Record<number, number>> = {};
    for (const el of document.querySelectorAll<HTMLAudioElement>('audio[data-testid="remote-audio"]')) {
      const track = (el.srcObject as MediaStream | null)?.getAudioTracks()[0];
      if (!track || track.readyState !== 'live') continue;
      let an = probe.nodes.get(track.id);
      if (!an) {
        an = probe.ctx.createAnalyser();
        an.fftSize = 8192;
        an.smoothingTimeConstant = 0.3;
        probe.ctx.createMediaStreamSource(new MediaStream([track])).connect(an);
        probe.nodes.set(track.id, an);
      }
      const bins = new Float32Array(an.frequencyBinCount);
      an.getFloatFrequencyData(bins);
      const binHz = probe.ctx.sampleRate / an.fftSize;
      const uuid = el.dataset.participantUuid ?? '';
      const levels = (out[uuid] ??= {});
      for (const f of hz) {
        const centre = Math.round(f / binHz);
        let peak = -200;
        for (let i = centre - 3; i <= centre + 3; i++) if (Number.isFinite(bins[i]!)) peak = Math.max(peak, bins[i]!);
        levels[f] = Math.max(levels[f] ?? -200, peak);
      }
    }
    return out;
  }, freqs);
}
