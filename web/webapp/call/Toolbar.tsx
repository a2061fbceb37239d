import { useEffect, useState } from 'react';
import type { MediaSession } from '../media/MediaSession.js';
import { LAYOUTS, parseLayout, type LayoutKind } from '../media/layout.js';
import type { LocalMediaState } from '../media/types.js';
import { CameraIcon, ChatIcon, HandIcon, LeaveIcon, MicIcon, PeopleIcon, ScreenIcon } from './icons.js';
import { friendlyReason } from './reasons.js';

interface Props {
  media: MediaSession;
  local: LocalMediaState;
  layout: LayoutKind;
  onLayout: (layout: LayoutKind, everyone: boolean) => void;
  /** Presenting, hands and layouts make sense in a conference only (not a Test Call, reception or waiting room). */
  conference: boolean;
  /** A Host may set the layout for everyone. */
  isHost: boolean;
  /** Muted by a Host: unmuting asks the node (a Guest only if Guests may unmute). */
  mutedByHost: boolean;
  onMic: (muted: boolean) => Promise<void>;
  handRaised: boolean;
  onHand: (raise: boolean) => Promise<unknown>;
  participantsOpen: boolean;
  participantCount: number;
  onParticipants: () => void;
  chat: boolean;
  chatOpen: boolean;
  unread: number;
  onChat: () => void;
  onLeave: () => void;
}

/** Microphone, camera, screen share, participants, chat, raise hand, layout and leave. */
export function Toolbar(props: Props) {
  const { media, local, layout, onLayout, conference, isHost, mutedByHost } = props;
  const [error, setError] = useState('');
  const [sharing, setSharing] = useState(false);
  const [everyone, setEveryone] = useState(false);
  useEffect(() => {
    if (!error) return;
    const t = window.setTimeout(() => setError(''), 6_000);
    return () => window.clearTimeout(t);
  }, [error]);
  const attempt = (p: Promise<unknown>) => p.catch((err: unknown) => setError(friendlyReason(err instanceof Error ? err.message : String(err))));

  const share = async () => {
    setError('');
    setSharing(true);
    try {
      if (local.screen) await media.stopScreenShare();
      else await media.startScreenShare();
    } catch (err) {
      // Closing the browser's picker is no error.
      if (!(err instanceof DOMException && err.name === 'NotAllowedError')) setError(friendlyReason(err instanceof Error ? err.message : String(err)));
    } finally {
      setSharing(false);
    }
  };

  const micOff = local.micMuted || mutedByHost;
  return (
    <div className="toolbar" role="toolbar" aria-label="Call controls">
      <button
        type="button"
        className={micOff ? 'tool off' : 'tool'}
        aria-pressed={micOff}
        disabled={!local.hasMic}
        title={mutedByHost ? 'A Host muted you' : undefined}
        onClick={() => void attempt(props.onMic(!micOff))}
      >
        <MicIcon off={micOff} />
        <span>{micOff ? 'Unmute' : 'Mute'}</span>
      </button>
      <button
        type="button"
        className={local.cameraOff ? 'tool off' : 'tool'}
        aria-pressed={local.cameraOff}
        disabled={!local.hasCamera}
        onClick={() => void media.setCameraOff(!local.cameraOff)}
      >
        <CameraIcon off={local.cameraOff} />
        <span>{local.cameraOff ? 'Start camera' : 'Stop camera'}</span>
      </button>
      {conference && (
        <button
          type="button"
          className={local.screen ? 'tool sharing' : 'tool'}
          aria-pressed={Boolean(local.screen)}
          disabled={sharing}
          onClick={() => void share()}
        >
          <ScreenIcon />
          <span>{local.screen ? 'Stop sharing' : 'Share screen'}</span>
        </button>
      )}
      <button type="button" className="tool" aria-pressed={props.participantsOpen} aria-controls="panel-participants" onClick={props.onParticipants}>
        <PeopleIcon />
        <span>
          People <span className="count">{props.participantCount}</span>
        </span>
      </button>
      {props.chat && (
        <button type="button" className="tool" aria-pressed={props.chatOpen} aria-controls="panel-chat" onClick={props.onChat}>
          <ChatIcon />
          <span>
            Chat
            {props.unread > 0 && (
              <span className="count unread">
                {' '}
                {props.unread}
                <span className="sr-only"> unread</span>
              </span>
            )}
          </span>
        </button>
      )}
      {conference && (
        <button
          type="button"
          className={props.handRaised ? 'tool raised' : 'tool'}
          aria-pressed={props.handRaised}
          onClick={() => void attempt(props.onHand(!props.handRaised))}
        >
          <HandIcon />
          <span>{props.handRaised ? 'Lower hand' : 'Raise hand'}</span>
        </button>
      )}
      {conference && (
        <div className="layout-picker">
          <label>
            Layout
            <select
              value={layout}
              onChange={(e) => {
                const l = parseLayout(e.target.value) ?? layout;
                onLayout(l, isHost && everyone);
              }}
            >
              {LAYOUTS.map((l) => (
                // Pexip's layout set (what the node can give everyone) has no gallery: it stays this client's own.
                <option key={l.value} value={l.value} disabled={isHost && everyone && l.value === 'auto' && layout !== 'auto'}>
                  {l.value === 'auto' && isHost && everyone ? `${l.label} (only for you)` : l.label}
                </option>
              ))}
            </select>
          </label>
          {isHost && (
            <label className="check">
              <input type="checkbox" checked={everyone} onChange={(e) => setEveryone(e.target.checked)} />
              For everyone
            </label>
          )}
        </div>
      )}
      <button type="button" className="tool leave" onClick={props.onLeave}>
        <LeaveIcon />
        <span>Leave</span>
      </button>
      {error && (
        <p className="toolbar-error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
