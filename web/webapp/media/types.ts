import type { MediaSource, PreferencesBody, StageEntry } from '../../../shared/client-api/media.js';

export type { MediaSource, PreferencesBody, StageEntry };

/** One stream this client receives: another participant's microphone, camera or screen. */
export interface RemoteTrack {
  consumerId: string;
  /** Whose media this is (in a Test Call: the caller's own, looped back). */
  participant_uuid: string;
  source: MediaSource;
  kind: 'audio' | 'video';
  track: MediaStreamTrack;
  /** The sender has it paused (camera off, microphone muted): show the initials instead. */
  producerPaused: boolean;
}

/** Who holds the presentation floor (Pexip's `presentation_start` / `presentation_stop`). */
export interface PresentationState {
  active: boolean;
  presenterUuid?: string;
  presenterName?: string;
}

/** What this client sends. */
export interface LocalMediaState {
  micMuted: boolean;
  cameraOff: boolean;
  /** The screen this client is presenting, or null. */
  screen: MediaStreamTrack | null;
  /** This client has a microphone / camera producer at all. */
  hasMic: boolean;
  hasCamera: boolean;
}

/** How this client wants one participant's camera video (last-N and tile size). */
export interface VideoWant {
  /** Off screen: the node sends nothing. */
  paused: boolean;
  /** 0 smallest … 2 largest simulcast layer. */
  spatialLayer?: 0 | 1 | 2;
  /** 1–255, higher gets bandwidth first. */
  priority?: number;
}

export interface MediaSessionEvents {
  trackadded: [RemoteTrack];
  trackremoved: [RemoteTrack];
  /** A track's sender paused or resumed it. */
  trackupdated: [RemoteTrack];
  /** The active-speaker order (validated `stage` event), most recent speaker first. */
  stage: [StageEntry[]];
  presentation: [PresentationState];
  /** This client's own media changed (mute, camera, screen share started or stopped). */
  local: [LocalMediaState];
  /** The media connection cannot be recovered: the call should end with this reason. */
  failed: [string];
}

/** A minimal typed event emitter (browser code: no Node `events`). */
export class Emitter<E extends { [K in keyof E]: unknown[] }> {
  // One set per event, each typed by that event's arguments.
  private readonly listeners: { [K in keyof E]?: Set<(...args: E[K]) => void> } = {};

  on<K extends keyof E>(event: K, fn: (...args: E[K]) => void): () => void {
    (this.listeners[event] ??= new Set()).add(fn);
    return () => this.off(event, fn);
  }

  off<K extends keyof E>(event: K, fn: (...args: E[K]) => void): void {
    this.listeners[event]?.delete(fn);
  }

  protected emit<K extends keyof E>(event: K, ...args: E[K]): void {
    for (const fn of [...(this.listeners[event] ?? [])]) {
      try {
        fn(...args);
      } catch (err) {
        console.error(err);
      }
    }
  }
}
