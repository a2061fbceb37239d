import { useEffect, useState } from 'react';
import type { MediaSession } from './MediaSession.js';
import type { LocalMediaState, PresentationState, RemoteTrack, StageEntry } from './types.js';

/** What the UI shows of a media session, refreshed on each of its events. */
export interface MediaView {
  tracks: RemoteTrack[];
  stage: StageEntry[];
  /** Speakers seen speaking, most recent first. */
  recent: string[];
  presentation: PresentationState;
  local: LocalMediaState;
}

const EMPTY: MediaView = {
  tracks: [],
  stage: [],
  recent: [],
  presentation: { active: false },
  local: { micMuted: false, cameraOff: false, screen: null, hasMic: false, hasCamera: false },
};

function snapshot(media: MediaSession): MediaView {
  return { tracks: media.remoteTracks(), stage: media.stage, recent: media.recentSpeakers, presentation: media.presentation, local: media.localState() };
}

export function useMediaSession(media: MediaSession | null): MediaView {
  const [view, setView] = useState<MediaView>(() => (media ? snapshot(media) : EMPTY));
  useEffect(() => {
    if (!media) {
      setView(EMPTY);
      return;
    }
    const update = () => setView(snapshot(media));
    update();
    const offs = (['trackadded', 'trackremoved', 'trackupdated', 'stage', 'presentation', 'local'] as const).map((e) => media.on(e, update));
    return () => offs.forEach((off) => off());
  }, [media]);
  return view;
}

/** Whether a CSS media query matches, following changes (e.g. a phone's width). */
export function useMediaQuery(query: string): boolean {
  const [matches, setMatches] = useState(() => typeof matchMedia === 'function' && matchMedia(query).matches);
  useEffect(() => {
    if (typeof matchMedia !== 'function') return;
    const mq = matchMedia(query);
    const on = () => setMatches(mq.matches);
    on();
    mq.addEventListener('change', on);
    return () => mq.removeEventListener('change', on);
  }, [query]);
  return matches;
}
