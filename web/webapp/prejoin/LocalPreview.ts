import { Emitter } from '../media/types.js';

const VIDEO: MediaTrackConstraints = { width: { ideal: 640 }, height: { ideal: 360 } };
const KEY = { mic: 'openmeet.microphone', camera: 'openmeet.camera' } as const;

function remembered(key: string): string | undefined {
  try {
    return localStorage.getItem(key) ?? undefined;
  } catch {
    return undefined;
  }
}

function remember(key: string, value: string): void {
  try {
    localStorage.setItem(key, value);
  } catch {
    /* private mode: not remembered */
  }
}

/**
 * The camera and microphone before joining: the preview, on/off for each, the device pickers
 * (the chosen devices are remembered). The stream is handed to the call with take(); until then
 * dispose() stops it.
 */
export class LocalPreview extends Emitter<{ change: [] }> {
  stream: MediaStream = new MediaStream();
  microphones: MediaDeviceInfo[] = [];
  cameras: MediaDeviceInfo[] = [];
  micOn = true;
  cameraOn = true;
  /** Why there is no camera or microphone (permission refused, no device). */
  problem = '';
  private readonly opening: Promise<MediaStream>;
  private done = false;

  constructor() {
    super();
    this.opening = this.open();
  }

  /** The stream once the browser has answered (possibly without camera or microphone). */
  ready(): Promise<MediaStream> {
    return this.opening;
  }

  get micId(): string | undefined {
    return this.stream.getAudioTracks()[0]?.getSettings().deviceId;
  }

  get cameraId(): string | undefined {
    return this.stream.getVideoTracks()[0]?.getSettings().deviceId;
  }

  private async open(): Promise<MediaStream> {
    const mic = remembered(KEY.mic);
    const cam = remembered(KEY.camera);
    const audio: MediaTrackConstraints | boolean = mic ? { deviceId: { ideal: mic } } : true;
    const video: MediaTrackConstraints = cam ? { ...VIDEO, deviceId: { ideal: cam } } : VIDEO;
    // Without a camera (or permission for it), the microphone alone, then nothing: still able to join, receiving only.
    let stream: MediaStream | null = null;
    for (const c of [{ audio, video }, { audio }, { video }] as MediaStreamConstraints[]) {
      try {
        stream = await navigator.mediaDevices.getUserMedia(c);
        break;
      } catch {
        /* try with less */
      }
    }
    if (this.done) {
      stream?.getTracks().forEach((t) => t.stop());
      return this.stream;
    }
    this.stream = stream ?? new MediaStream();
    if (!stream) this.problem = 'Your camera and microphone are not available. You can still join to watch and listen.';
    else if (!stream.getVideoTracks().length) this.problem = 'No camera is available. You can join with sound only.';
    else if (!stream.getAudioTracks().length) this.problem = 'No microphone is available. Others will not hear you.';
    await this.listDevices();
    this.emit('change');
    return this.stream;
  }

  private async listDevices(): Promise<void> {
    try {
      const all = await navigator.mediaDevices.enumerateDevices();
      this.microphones = all.filter((d) => d.kind === 'audioinput' && d.deviceId);
      this.cameras = all.filter((d) => d.kind === 'videoinput' && d.deviceId);
    } catch {
      /* no pickers */
    }
  }

  setMicOn(on: boolean): void {
    this.micOn = on;
    this.stream.getAudioTracks().forEach((t) => (t.enabled = on));
    this.emit('change');
  }

  setCameraOn(on: boolean): void {
    this.cameraOn = on;
    this.stream.getVideoTracks().forEach((t) => (t.enabled = on));
    this.emit('change');
  }

  /** Switches to another microphone or camera; the old track stops. */
  async choose(kind: 'audio' | 'video', deviceId: string): Promise<void> {
    await this.opening;
    const constraints: MediaStreamConstraints =
      kind === 'audio' ? { audio: { deviceId: { exact: deviceId } } } : { video: { ...VIDEO, deviceId: { exact: deviceId } } };
    let fresh: MediaStreamTrack | undefined;
    try {
      fresh = (await navigator.mediaDevices.getUserMedia(constraints)).getTracks()[0];
    } catch {
      this.problem = kind === 'audio' ? 'That microphone could not be opened.' : 'That camera could not be opened.';
      this.emit('change');
      return;
    }
    if (!fresh) return;
    if (this.done) return fresh.stop();
    const keep = this.stream.getTracks().filter((t) => t.kind !== kind);
    this.stream.getTracks().forEach((t) => t.kind === kind && t.stop());
    fresh.enabled = kind === 'audio' ? this.micOn : this.cameraOn;
    this.stream = new MediaStream([...keep, fresh]);
    remember(kind === 'audio' ? KEY.mic : KEY.camera, deviceId);
    this.problem = '';
    this.emit('change');
  }

  /** Hands the stream to the call (which stops it when it ends). */
  async take(): Promise<MediaStream> {
    const s = await this.opening;
    this.done = true;
    return this.stream ?? s;
  }

  dispose(): void {
    if (this.done) return;
    this.done = true;
    this.stream.getTracks().forEach((t) => t.stop());
  }
}
