import type { types } from 'mediasoup';
import type { Logger } from 'pino';
// Loaded on the first single-stream leg: the Opus codec (WebAssembly) costs nothing until then.
import type { AudioMixerApi } from '../audio/AudioMixerTypes.js';
import { DelayedLoopback } from '../DelayedLoopback.js';
import { chooseSpeakerSource, mayReceive } from '../ForwardingPolicy.js';
import type { CameraCodec, MediaMode, MediaParticipantState } from '../MediaTypes.js';
import { isKeyframe, RtpRewriter } from '../rtp/RtpRewriter.js';
import { rtpPayload } from '../rtp/RtpPacket.js';
import { VideoTranscoder, type TranscodableVideo } from '../video/VideoTranscoder.js';
import { isLiveVideo, type DirectMedia, type Feed, type Tap } from './DirectMedia.js';
import type { ProducerTag } from './MediasoupSession.js';

/** A single-stream leg as the hub sees it: whose it is and the two feeds it receives. */
export interface FedLeg {
  participantId: string;
  audio: Feed | null;
  video: Feed | null;
  /**
   * The leg takes only its video codec (a SIP room system: SIP answers VP8 whenever offered). A
   * browser's single-stream leg could take either, so it does not decide the conference's codec.
   */
  onlyItsCodec?: boolean;
}

interface LegState {
  leg: FedLeg;
  /** Whose camera the leg's video shows now (voice switching). */
  videoSource: string | undefined;
  /** Whose camera it switches to at that camera's next keyframe; the current one plays until then. */
  pendingSource: string | undefined;
  video: RtpRewriter | null;
  /** A prompt plays on the leg's audio feed: the mix is not sent meanwhile. */
  mixPaused?: boolean;
  /** The leg's video codec, lower case (`video/vp8`, `video/h264`). */
  codec: string | undefined;
  /** Test Call Service: the caller's own media, delayed. */
  loop: { audio: DelayedLoopback<Buffer>; video: DelayedLoopback<Buffer>; audioRewriter: RtpRewriter } | null;
}

/** A camera in another codec, for the legs that take only that one. */
interface Transcode {
  transcoder: VideoTranscoder | null;
  closed: boolean;
}

/**
 * How long a camera may send nothing before it is no longer shown: a browser closed without hanging
 * up stays a participant until its token expires, and its last picture would be the speaker's meanwhile.
 */
const CAMERA_STOPPED_MS = 5_000;
/** A transcoder whose ffmpeg died is started again after this, while a leg still needs it. */
const TRANSCODER_RESTART_MS = 1_000;

const TRANSCODABLE: Record<string, TranscodableVideo> = { 'video/vp8': 'video/VP8', 'video/h264': 'video/H264' };

interface Context {
  mode: MediaMode;
  loopbackDelayMs: number;
  stateOf(participantId: string): MediaParticipantState;
  /** Participant ids, most recent dominant speaker first. */
  speakerOrder(): string[];
  hostSendsVideo(): boolean;
  /** The codec cameras should come in changed (see SingleStreamHub.cameraCodec). */
  cameraCodecChanged?(codec: CameraCodec): void;
}

/**
 * What single-stream legs (Pexip-style clients, SIP) receive: a mix of the others' audio (Opus
 * decoded, mixed per listener without themselves, re-encoded) and the active speaker's video
 * (voice-switched: one continuous RTP stream whose source changes, with a keyframe requested at
 * each switch; the speaker sees the previous speaker). Participants' streams reach the node
 * through DirectTransport taps, only while at least one single-stream leg needs them.
 */
export class SingleStreamHub {
  private readonly legs = new Map<string, LegState>();
  /** participantId → taps on its microphone and camera. */
  private readonly mics = new Map<string, Tap>();
  private readonly cameras = new Map<string, Tap>();
  /** Producers the hub knows (taps are made when legs need them). */
  private readonly producers = new Map<string, { producer: types.Producer; tag: ProducerTag }>();
  /** participantId → target codec → its camera transcoded (a leg showing it takes only that codec). */
  private readonly transcodes = new Map<string, Map<string, Transcode>>();
  private warnedNoTranscoder = false;
  /** Participants whose camera tap has had no packet for CAMERA_STOPPED_MS: not shown until it sends again. */
  private readonly stoppedCameras = new Set<string>();
  /** participantId → when its camera tap last had a packet. */
  private readonly cameraHeardAt = new Map<string, number>();
  private silenceCheck: NodeJS.Timeout | null = null;
  private chosenCodec: CameraCodec = 'video/VP8';
  private mixer: AudioMixerApi | null = null;
  private mixerLoad: Promise<AudioMixerApi> | null = null;
  private closed = false;

  constructor(
    private readonly direct: DirectMedia,
    private readonly ctx: Context,
    private readonly log: Logger,
  ) {}

  get active(): boolean {
    return this.legs.size > 0;
  }

  /**
   * The conference's codec choice: cameras should come in H.264 while a leg takes only H.264 (a room
   * system, FedLeg.onlyItsCodec), else VP8. Browsers then send H.264 (multi-stream clients re-send
   * their camera; single-stream legs are answered in it) and its picture is forwarded, not
   * transcoded; cameras still in VP8 (single-stream calls answered before) go through a transcoder.
   */
  get cameraCodec(): CameraCodec {
    return this.chosenCodec;
  }

  /** Cameras being transcoded now (one ffmpeg each, per target codec): from and to codec, lower case. */
  get transcodeList(): { from: string; to: string }[] {
    const out: { from: string; to: string }[] = [];
    for (const [pid, byCodec] of this.transcodes) for (const to of byCodec.keys()) out.push({ from: this.cameras.get(pid)?.codec ?? 'unknown', to });
    return out;
  }

  private chooseCameraCodec(): void {
    if (this.closed) return;
    const codec: CameraCodec = [...this.legs.values()].some((s) => s.codec === 'video/h264' && s.leg.onlyItsCodec) ? 'video/H264' : 'video/VP8';
    if (codec === this.chosenCodec) return;
    this.chosenCodec = codec;
    this.log.info({ codec }, 'conference camera codec');
    this.ctx.cameraCodecChanged?.(codec);
  }

  addLeg(leg: FedLeg): void {
    this.dropLeg(leg.participantId);
    const state: LegState = { leg, videoSource: undefined, pendingSource: undefined, video: null, codec: leg.video?.mimeType.toLowerCase(), loop: null };
    // Taps and feeds both use the router's payload types. A camera in the leg's codec is forwarded as
    // it comes; one in another codec goes through a transcoder (syncTranscodes).
    if (leg.video)
      state.video = new RtpRewriter({
        ssrc: leg.video.ssrc,
        payloadTypes: { [leg.video.payloadType]: leg.video.payloadType },
        codecs: { [leg.video.payloadType]: leg.video.mimeType },
        clockRate: 90_000,
      });
    if (this.ctx.mode === 'test_call') {
      const pt = leg.audio?.payloadType ?? 0;
      const audioRewriter = new RtpRewriter({ ssrc: leg.audio?.ssrc ?? 0, payloadTypes: { [pt]: pt }, clockRate: 48_000, waitForKeyframe: false });
      audioRewriter.switchTo(leg.participantId);
      state.video?.switchTo(leg.participantId);
      state.loop = {
        audio: new DelayedLoopback<Buffer>(this.ctx.loopbackDelayMs, (rtp) => {
          const out = audioRewriter.rewrite(leg.participantId, rtp);
          if (out) leg.audio?.send(out);
        }),
        video: new DelayedLoopback<Buffer>(this.ctx.loopbackDelayMs, (rtp) => this.sendVideo(state, leg.participantId, rtp)),
        audioRewriter,
      };
    } else if (this.ctx.mode !== 'reception' && leg.audio) this.listenToMix(state);
    this.legs.set(leg.participantId, state);
    for (const [, p] of this.producers) void this.ensureTap(p.producer, p.tag);
    this.update();
    if (this.ctx.mode !== 'test_call' && this.ctx.mode !== 'reception') this.chooseCameraCodec();
  }

  /** The leg's audio feed takes the conference's mix (again). */
  private listenToMix(state: LegState): void {
    const { leg } = state;
    const audio = leg.audio;
    if (!audio) return;
    void this.mixerFor().then((mixer) => {
      if (this.legs.get(leg.participantId) !== state || state.mixPaused) return;
      mixer.addListener(
        leg.participantId,
        { payloadType: audio.payloadType, codec: audio.mixCodec, ssrc: audio.ssrc, includes: (src: string) => this.hears(leg.participantId, src) },
        (rtp: Buffer) => audio.sendFrom('mix', rtp),
      );
    });
  }

  /**
   * Stops (`true`) or restarts the mix to a leg's audio feed: a voice prompt played on the same feed
   * (waiting for the Host) would otherwise interleave with the mix's packets, silence included.
   */
  pauseMix(participantId: string, paused: boolean): void {
    const state = this.legs.get(participantId);
    if (!state || state.mixPaused === paused || this.ctx.mode === 'test_call' || this.ctx.mode === 'reception') return;
    state.mixPaused = paused;
    if (paused) this.mixer?.removeListener(participantId);
    else this.listenToMix(state);
  }

  removeLeg(participantId: string): void {
    if (!this.dropLeg(participantId)) return;
    if (this.ctx.mode !== 'test_call' && this.ctx.mode !== 'reception') this.chooseCameraCodec();
  }

  private dropLeg(participantId: string): boolean {
    const state = this.legs.get(participantId);
    if (!state) return false;
    this.legs.delete(participantId);
    this.mixer?.removeListener(participantId);
    state.loop?.audio.close();
    state.loop?.video.close();
    if (this.legs.size === 0) this.releaseTaps();
    else this.syncTranscodes();
    return true;
  }

  producerAdded(producer: types.Producer, tag: ProducerTag): void {
    if (tag.source === 'screen') return;
    this.producers.set(producer.id, { producer, tag });
    producer.observer.once('close', () => this.producerRemoved(producer));
    if (tag.source === 'camera') {
      // A camera going live, silent, off or on changes who can be shown.
      let wasLive = false;
      const recheck = () => {
        const isLive = isLiveVideo(producer);
        if (isLive !== wasLive) {
          wasLive = isLive;
          this.update();
        }
      };
      producer.on('score', recheck);
      producer.observer.on('pause', recheck);
      producer.observer.on('resume', recheck);
    }
    if (this.legs.size > 0) void this.ensureTap(producer, tag);
  }

  /**
   * Cameras that stopped sending are not shown (see CAMERA_STOPPED_MS). mediasoup does not score a
   * single stream's inactivity (only simulcast layers'), so the hub watches its own taps.
   */
  private checkSilentCameras(): void {
    const now = Date.now();
    let changed = false;
    for (const pid of this.cameras.keys()) {
      if (this.stoppedCameras.has(pid) || now - (this.cameraHeardAt.get(pid) ?? now) < CAMERA_STOPPED_MS) continue;
      this.stoppedCameras.add(pid);
      changed = true;
      this.log.debug({ participant: pid }, 'camera stopped sending: not shown');
    }
    if (changed) this.update();
  }

  /** Roles, hold, speakers or producers changed: re-choose every leg's video source. */
  update(): void {
    if (this.closed || this.ctx.mode === 'test_call' || this.ctx.mode === 'reception') return;
    // Cameras that have sent (mediasoup keeps a scored stream once packets arrived): an offered
    // but silent video m-line is not shown.
    const live = new Set(
      [...this.producers.values()]
        .filter((p) => p.tag.source === 'camera' && isLiveVideo(p.producer) && !this.stoppedCameras.has(p.tag.participantId))
        .map((p) => p.tag.participantId),
    );
    const publishers = [...this.cameras.keys()].filter((pid) => live.has(pid));
    const hostSendsVideo = this.ctx.hostSendsVideo();
    for (const state of this.legs.values()) {
      if (!state.video) continue;
      const source = chooseSpeakerSource({
        mode: this.ctx.mode,
        viewer: state.leg.participantId,
        speakerOrder: this.ctx.speakerOrder(),
        publishers,
        hostSendsVideo,
        stateOf: (pid) => this.ctx.stateOf(pid),
      });
      if (source === undefined || source === state.videoSource) {
        // Keep showing whoever is on (or nobody, as before) and forget a switch nobody needs now.
        if (source === state.videoSource) state.pendingSource = undefined;
        continue;
      }
      const current = state.videoSource;
      const currentLive = current !== undefined && this.cameras.has(current);
      if (source === state.pendingSource && currentLive) continue;
      if (!currentLive) {
        this.switchNow(state, source);
        continue;
      }
      // The picture never stops at a switch: the current speaker's video plays until the new
      // speaker's keyframe arrives (a receiver that sees no video for a second may restart ICE).
      state.pendingSource = source;
      this.cameras.get(source)?.requestKeyFrame();
    }
    this.syncTranscodes();
  }

  /** A single-stream leg's receiver asked for a keyframe: ask whoever it is watching. */
  keyframeWanted(participantId: string): void {
    const state = this.legs.get(participantId);
    if (!state) return;
    const source = this.ctx.mode === 'test_call' ? participantId : state.videoSource;
    if (source !== undefined) this.cameras.get(source)?.requestKeyFrame();
  }

  close(): void {
    this.closed = true;
    for (const pid of [...this.legs.keys()]) this.removeLeg(pid);
    this.releaseTaps();
    this.mixer?.close();
    this.mixer = null;
  }

  /**
   * Starts a transcoder for each camera a leg shows (or is about to show) in another codec than the
   * leg's, and stops those no leg needs any more.
   */
  private syncTranscodes(): void {
    const wanted = new Map<string, Set<string>>();
    for (const s of this.legs.values()) {
      if (!s.codec || this.ctx.mode === 'test_call') continue;
      for (const pid of [s.videoSource, s.pendingSource]) {
        const camera = pid === undefined ? undefined : this.cameras.get(pid);
        if (!camera || camera.codec === s.codec) continue;
        let codecs = wanted.get(pid!);
        if (!codecs) wanted.set(pid!, (codecs = new Set()));
        codecs.add(s.codec);
      }
    }
    for (const [pid, byCodec] of this.transcodes) {
      for (const [codec, t] of byCodec) {
        if (wanted.get(pid)?.has(codec)) continue;
        t.closed = true;
        t.transcoder?.close();
        byCodec.delete(codec);
      }
      if (byCodec.size === 0) this.transcodes.delete(pid);
    }
    for (const [pid, codecs] of wanted) for (const codec of codecs) if (!this.transcodes.get(pid)?.has(codec)) this.startTranscode(pid, codec);
  }

  private startTranscode(pid: string, codec: string): void {
    const camera = this.cameras.get(pid);
    const from = camera && TRANSCODABLE[camera.codec];
    const to = TRANSCODABLE[codec];
    const toPt = [...this.legs.values()].find((s) => s.codec === codec)?.leg.video?.payloadType;
    if (!camera || !from || !to || toPt === undefined) return;
    if (!VideoTranscoder.ffmpeg()) {
      if (!this.warnedNoTranscoder)
        this.log.warn({ from, to }, 'ffmpeg is not installed: a leg that takes only another video codec than the speaker sends gets no video');
      this.warnedNoTranscoder = true;
      return;
    }
    let byCodec = this.transcodes.get(pid);
    if (!byCodec) this.transcodes.set(pid, (byCodec = new Map()));
    const entry: Transcode = { transcoder: null, closed: false };
    byCodec.set(codec, entry);
    VideoTranscoder.start({
      from: { mimeType: from, payloadType: camera.payloadType },
      to: { mimeType: to, payloadType: toPt },
      onRtp: (rtp) => this.deliver(pid, codec, rtp),
      log: this.log,
    }).then(
      (t) => {
        if (entry.closed || this.closed) return t.close();
        entry.transcoder = t;
        // The decoder starts at a keyframe, and asks again while it has none.
        this.cameras.get(pid)?.requestKeyFrame();
        t.on('keyframeWanted', () => this.cameras.get(pid)?.requestKeyFrame());
        t.once('closed', () => {
          if (this.transcodes.get(pid)?.get(codec) !== entry) return;
          // ffmpeg died (it exits when no picture came to probe): another starts if a leg still needs one.
          this.transcodes.get(pid)!.delete(codec);
          if (entry.closed) return;
          entry.closed = true;
          setTimeout(() => !this.closed && this.syncTranscodes(), TRANSCODER_RESTART_MS).unref();
        });
        this.log.info({ participant: pid, from, to }, 'video transcoded for single-stream legs of another codec');
      },
      (err: unknown) => {
        entry.closed = true;
        this.log.warn({ err, participant: pid, from, to }, 'video transcoder could not start');
      },
    );
  }

  private closeTranscodes(pid?: string): void {
    for (const [p, byCodec] of this.transcodes) {
      if (pid !== undefined && p !== pid) continue;
      for (const t of byCodec.values()) {
        t.closed = true;
        t.transcoder?.close();
      }
      this.transcodes.delete(p);
    }
  }

  private hears(listener: string, source: string): boolean {
    return mayReceive({
      mode: this.ctx.mode,
      viewer: listener,
      sender: source,
      kind: 'audio',
      presentation: false,
      hostSendsVideo: true,
      stateOf: (pid) => this.ctx.stateOf(pid),
    });
  }

  /** The conference's mixer, in a worker thread: decoding, mixing and encoding stay off the node's event loop. */
  private mixerFor(): Promise<AudioMixerApi> {
    this.mixerLoad ??= import('../audio/WorkerAudioMixer.js').then(({ WorkerAudioMixer }) => {
      const mixer = new WorkerAudioMixer({ log: this.log });
      if (this.closed) mixer.close();
      else {
        this.mixer = mixer;
        for (const [pid, tap] of this.mics) mixer.addSource(pid, { codec: tap.mixCodec });
      }
      return mixer;
    });
    this.mixerLoad.catch((err) => this.log.error({ err }, 'audio mixer could not load'));
    return this.mixerLoad;
  }

  private switchNow(state: LegState, source: string): void {
    const before = state.videoSource;
    state.videoSource = source;
    state.pendingSource = undefined;
    state.video?.switchTo(source);
    this.cameras.get(source)?.requestKeyFrame();
    this.log.debug({ viewer: state.leg.participantId, source }, 'single-stream video switched');
    // The previous speaker's transcoder may have no viewer left.
    if (before !== undefined && this.transcodes.has(before)) this.syncTranscodes();
  }

  private sendVideo(state: LegState, source: string, rtp: Buffer): void {
    if (!state.video || !state.leg.video) return;
    const out = state.video.rewrite(source, rtp);
    if (out) state.leg.video.send(out);
    else if (state.video.wantsKeyframe) this.cameras.get(source)?.requestKeyFrame();
  }

  private async ensureTap(producer: types.Producer, tag: ProducerTag): Promise<void> {
    const taps = tag.source === 'mic' ? this.mics : this.cameras;
    if (taps.has(tag.participantId) || producer.closed) return;
    const pid = tag.participantId;
    try {
      const tap = await this.direct.tap(producer, tag.source === 'mic' ? (rtp) => this.onMic(pid, rtp) : (rtp) => this.onCamera(pid, rtp));
      if (this.closed || this.legs.size === 0 || producer.closed || taps.has(pid)) {
        tap.close();
        return;
      }
      taps.set(pid, tap);
      if (tag.source === 'camera') {
        this.cameraHeardAt.set(pid, Date.now());
        this.silenceCheck ??= setInterval(() => this.checkSilentCameras(), 1_000).unref();
      }
      if (tag.source === 'mic') this.mixer?.addSource(pid, { codec: tap.mixCodec });
      this.update();
      if (tag.source === 'camera') tap.requestKeyFrame();
    } catch (err) {
      this.log.debug({ err, participant: pid }, 'could not tap a stream for single-stream legs');
    }
  }

  private onMic(pid: string, rtp: Buffer): void {
    if (this.ctx.mode === 'test_call') this.legs.get(pid)?.loop?.audio.push(rtp);
    else this.mixer?.pushRtp(pid, rtp);
  }

  private onCamera(pid: string, rtp: Buffer): void {
    this.cameraHeardAt.set(pid, Date.now());
    if (this.stoppedCameras.delete(pid)) this.update();
    if (this.ctx.mode === 'test_call') {
      this.legs.get(pid)?.loop?.video.push(rtp);
      return;
    }
    const camera = this.cameras.get(pid);
    if (!camera) return;
    this.deliver(pid, camera.codec, rtp);
    const byCodec = this.transcodes.get(pid);
    if (byCodec) for (const t of byCodec.values()) t.transcoder?.push(rtp);
  }

  /** A packet of `pid`'s camera in `codec` (as sent, or transcoded) to the legs of that codec showing it. */
  private deliver(pid: string, codec: string, rtp: Buffer): void {
    let keyframe: boolean | undefined;
    for (const state of this.legs.values()) {
      if (state.codec !== codec) continue;
      if (state.pendingSource === pid) {
        keyframe ??= isKeyframe(codec, rtpPayload(rtp));
        if (keyframe) this.switchNow(state, pid);
        else this.cameras.get(pid)?.requestKeyFrame();
      }
      if (state.videoSource === pid) this.sendVideo(state, pid, rtp);
    }
  }

  private producerRemoved(producer: types.Producer): void {
    const entry = this.producers.get(producer.id);
    if (!entry) return;
    this.producers.delete(producer.id);
    const taps = entry.tag.source === 'mic' ? this.mics : this.cameras;
    const tap = taps.get(entry.tag.participantId);
    if (tap && tap.consumer.producerId === producer.id) {
      tap.close();
      taps.delete(entry.tag.participantId);
      if (entry.tag.source === 'camera') {
        this.closeTranscodes(entry.tag.participantId);
        this.stoppedCameras.delete(entry.tag.participantId);
        this.cameraHeardAt.delete(entry.tag.participantId);
      }
      if (entry.tag.source === 'mic') this.mixer?.removeSource(entry.tag.participantId);
      // A camera sent again in another codec: its new producer may have come before the old one closed.
      if (this.legs.size > 0)
        for (const p of this.producers.values())
          if (p.tag.participantId === entry.tag.participantId && p.tag.source === entry.tag.source) void this.ensureTap(p.producer, p.tag);
    }
    this.update();
  }

  private releaseTaps(): void {
    this.closeTranscodes();
    if (this.silenceCheck) clearInterval(this.silenceCheck);
    this.silenceCheck = null;
    this.stoppedCameras.clear();
    this.cameraHeardAt.clear();
    for (const t of [...this.mics.values(), ...this.cameras.values()]) t.close();
    for (const pid of this.mics.keys()) this.mixer?.removeSource(pid);
    this.mics.clear();
    this.cameras.clear();
  }
}
