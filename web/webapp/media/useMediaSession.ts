import { useEffect, useMemo, useState, useSyncExternalStore } from 'react';
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

/** The session as an external store: its view, refreshed on each of its events. */
function mediaStore(media: MediaSession | null): { subscribe: (onChange: () => void) => () => void; view: () => MediaView } {
  let current = media ? snapshot(media) : EMPTY;
  return {
    subscribe(onChange) {
      if (!media) return () => undefined;
      const update = () => {
        current = snapshot(media);
        onChange();
      };
      const offs = (['trackadded', 'trackremoved', 'trackupdated', 'stage', 'presentation', 'local'] as const).map((e) => media.on(e, update));
      // Anything that changed before the subscription is picked up now (React reads the view again after subscribing).
      current = snapshot(media);
      return () => offs.forEach((off) => off());
    },
    view: () => current,
  };
}

export function useMediaSession(media: MediaSession | null): MediaView {
  const store = useMemo(() => mediaStore(media), [media]);
  return useSyncExternalStore(store.subscribe, store.view);
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
