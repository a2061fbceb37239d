import { useEffect, useState } from 'react';
import type { MediaSession } from '../media/MediaSession.js';
import { LAYOUTS, parseLayout, type LayoutKind } from '../media/layout.js';
import type { LocalMediaState } from '../media/types.js';

interface Props {
  media: MediaSession;
  local: LocalMediaState;
  layout: LayoutKind;
  onLayout: (layout: LayoutKind) => void;
  /** Presenting and layouts make sense in a conference only (not a Test Call, reception or waiting room). */
  conference: boolean;
}

/** Microphone, camera, screen share and the layout picker. */
export function Toolbar({ media, local, layout, onLayout, conference }: Props) {
  const [error, setError] = useState('');
  const [sharing, setSharing] = useState(false);
  useEffect(() => {
    if (!error) return;
    const t = window.setTimeout(() => setError(''), 6_000);
    return () => window.clearTimeout(t);
  }, [error]);

  const share = async () => {
    setError('');
    setSharing(true);
    try {
      if (local.screen) await media.stopScreenShare();
      else await media.startScreenShare();
    } catch (err) {
      // Closing the browser's picker is no error.
      if (!(err instanceof DOMException && err.name === 'NotAllowedError')) setError(err instanceof Error ? err.message : String(err));
    } finally {
      setSharing(false);
    }
  };

  return (
    <div className="toolbar" role="toolbar" aria-label="Call controls">
      <button
        type="button"
        className={local.micMuted ? 'toggle off' : 'toggle'}
        aria-pressed={local.micMuted}
        disabled={!local.hasMic}
        onClick={() => void media.setMicMuted(!local.micMuted)}
      >
        {local.micMuted ? 'Unmute' : 'Mute'}
      </button>
      <button
        type="button"
        className={local.cameraOff ? 'toggle off' : 'toggle'}
        aria-pressed={local.cameraOff}
        disabled={!local.hasCamera}
        onClick={() => void media.setCameraOff(!local.cameraOff)}
      >
        {local.cameraOff ? 'Start camera' : 'Stop camera'}
      </button>
      {conference && (
        <>
          <button type="button" className={local.screen ? 'toggle sharing' : 'toggle'} aria-pressed={Boolean(local.screen)} disabled={sharing} onClick={() => void share()}>
            {local.screen ? 'Stop sharing' : 'Share screen'}
          </button>
          <label className="layout-picker">
            Layout
            <select value={layout} onChange={(e) => onLayout(parseLayout(e.target.value) ?? layout)}>
              {LAYOUTS.map((l) => (
                <option key={l.value} value={l.value}>
                  {l.label}
                </option>
              ))}
            </select>
          </label>
        </>
      )}
      {error && (
        <p className="toolbar-error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
