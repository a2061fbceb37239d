import { useCallback, useEffect, useMemo, useRef, useState, type CSSProperties, type ReactNode } from 'react';
import type { MediaSession } from '../media/MediaSession.js';
import { computeLayout, gridPlacement, videoPlan, type LayoutKind } from '../media/layout.js';
import { initials, mediaByParticipant, tileParticipants, type RosterEntry } from '../media/tiles.js';
import type { RemoteTrack } from '../media/types.js';
import { useMediaQuery, type MediaView } from '../media/useMediaSession.js';

interface Props {
  media: MediaSession;
  view: MediaView;
  roster: readonly RosterEntry[];
  selfUuid: string;
  selfName: string;
  layout: LayoutKind;
  /** Test Call: no self view (your own video comes back as the main tile). */
  testCall: boolean;
  /** An Auditorium Guest sees Hosts only. */
  hostsOnly: boolean;
  /** An Auditorium Host sees Hosts first. */
  hostsFirst?: boolean;
  /** Spotlit participants, earliest first: they lead the stage. */
  spotlight?: readonly string[];
  /** Muted by a Host or by themselves (the roster's flags): the tile shows it as a paused microphone does. */
  muted?: ReadonlySet<string>;
  /** A Host stopped the presentation being sent to this participant (denyrxpresentation). */
  presentationDenied?: boolean;
  /** Shown while nobody has a tile (none in a Test Call or reception, or under a splash screen). */
  emptyMessage?: string;
  /** Splash screens and the keypad, drawn over the tiles. */
  children?: ReactNode;
}

/**
 * The tiles: every other participant's video (or initials) and name, drawn in the chosen layout
 * from the stage (most recent speakers first), the active speaker highlighted; a presentation
 * large with the people beside it; the self view small and mirrored; every remote microphone
 * played. The layout's last-N and tile sizes go to the node as consumer preferences.
 */
export function MediaStage({
  media,
  view,
  roster,
  selfUuid,
  selfName,
  layout,
  testCall,
  hostsOnly,
  hostsFirst,
  spotlight,
  muted,
  presentationDenied,
  emptyMessage,
  children,
}: Props) {
  const narrow = useMediaQuery('(max-width: 640px)');
  const byParticipant = useMemo(() => mediaByParticipant(view.tracks), [view.tracks]);
  // The tile shows the overlay text a Host set (Pexip's overlay_text), else the display name.
  const names = useMemo(() => new Map(roster.map((p) => [p.uuid, p.overlay_text || p.display_name])), [roster]);
  const nameOf = (uuid: string | undefined): string => {
    if (!uuid) return 'Participant';
    if (uuid === selfUuid) return testCall ? selfName : `${selfName} (you)`;
    return names.get(uuid) || 'Participant';
  };

  const participants = useMemo(() => tileParticipants(roster, view.tracks, selfUuid, { hostsOnly }), [roster, view.tracks, selfUuid, hostsOnly]);
  // The presentation: someone else's screen, else this client's own.
  const remoteScreen = useMemo(() => view.tracks.filter((t) => t.source === 'screen' && t.kind === 'video').at(-1), [view.tracks]);
  const localScreen = view.local.screen;
  const presenting = Boolean(remoteScreen || localScreen || view.presentation.active);
  // The viewer is left out of the layout, unless their own media comes back as a tile (Test Call).
  const viewer = participants.includes(selfUuid) ? '' : selfUuid;
  const hosts = useMemo(() => (hostsFirst ? new Set(roster.filter((p) => p.role === 'chair').map((p) => p.uuid)) : undefined), [hostsFirst, roster]);
  const spotKey = (spotlight ?? []).join(',');
  const result = useMemo(
    () =>
      computeLayout({
        layout,
        selfUuid: viewer,
        participants,
        stage: view.stage,
        recent: view.recent,
        presentation: presenting,
        hostsFirst: hosts,
        spotlight: spotKey ? spotKey.split(',') : [],
      }),
    [layout, viewer, participants, view.stage, view.recent, presenting, hosts, spotKey],
  );

  // Last-N and tile sizes: only a changed plan is handed over (the session sends only changes).
  const plan = useMemo(() => videoPlan(result), [result]);
  const sentPlan = useRef<{ media: MediaSession; key: string } | null>(null);
  useEffect(() => {
    const key = JSON.stringify([...plan]);
    if (sentPlan.current?.media === media && sentPlan.current.key === key) return;
    sentPlan.current = { media, key };
    media.setVideoPlan(plan);
  }, [media, plan]);

  const placement = gridPlacement(result, narrow || presenting);
  const slots = new Map([...result.mains, ...result.thumbs].map((s) => [s.uuid, s]));
  const selfActive = result.activeSpeaker === selfUuid;
  const selfSpeaking = result.speaking.includes(selfUuid);

  const presenterUuid = remoteScreen?.participant_uuid ?? view.presentation.presenterUuid ?? (localScreen ? selfUuid : undefined);
  const presenterName = presenterUuid ? nameOf(presenterUuid) : view.presentation.presenterName || 'Someone';

  const tiles = placement.tiles.map((p) => {
    const style: CSSProperties = presenting ? {} : { gridColumn: p.column, gridRow: p.row };
    if (p.uuid === null) {
      return (
        <div key="+overflow" className="tile overflow" data-testid="overflow" style={style} aria-label={`${result.overflow} more participants`}>
          +{result.overflow}
        </div>
      );
    }
    const uuid = p.uuid;
    const slot = slots.get(uuid);
    const m = byParticipant.get(uuid);
    return (
      <Tile
        key={uuid}
        uuid={uuid}
        name={nameOf(uuid)}
        area={slot?.area ?? 'thumb'}
        camera={m?.camera}
        micMuted={(m?.mic?.producerPaused ?? false) || (muted?.has(uuid) ?? false)}
        active={result.activeSpeaker === uuid}
        speaking={result.speaking.includes(uuid)}
        style={style}
      />
    );
  });

  return (
    <div className={`media-stage${presenting ? ' presenting' : ''}`} data-layout={layout} data-testid="media-stage">
      {presenting && (
        <div className="presentation" data-testid="presentation" data-presenter-uuid={presenterUuid ?? ''}>
          {remoteScreen ? (
            <TrackVideo track={remoteScreen.track} testId="presentation-video" className="contain" />
          ) : localScreen ? (
            <TrackVideo track={localScreen} testId="local-presentation-video" className="contain" />
          ) : presentationDenied ? (
            <div className="presentation-waiting" data-testid="presentation-withheld">
              A Host stopped the presentation being sent to you
            </div>
          ) : (
            <div className="presentation-waiting">Waiting for the presentation…</div>
          )}
          <span className="presentation-label" data-testid="presenter-name">
            {localScreen && !remoteScreen ? 'You are presenting' : `${presenterName} is presenting`}
          </span>
        </div>
      )}
      <div
        className={presenting ? 'tiles strip' : 'tiles'}
        data-testid="tiles"
        style={presenting ? undefined : { gridTemplateColumns: `repeat(${placement.columns}, minmax(0, 1fr))`, gridTemplateRows: placement.rows }}
      >
        {tiles}
        {!presenting && result.overflow > 0 && !result.overflowTile && (
          <div className="count-icon" data-testid="overflow" aria-label={`${result.overflow} more participants`}>
            +{result.overflow}
          </div>
        )}
        {participants.length === 0 && emptyMessage && (
          <p className="alone" data-testid="alone">
            {emptyMessage}
          </p>
        )}
      </div>
      {!testCall && <SelfView stream={media} name={selfName} cameraOff={view.local.cameraOff} active={selfActive} speaking={selfSpeaking} />}
      <RemoteAudio tracks={view.tracks} />
      {children}
    </div>
  );
}

function Tile(props: {
  uuid: string;
  name: string;
  area: 'main' | 'thumb';
  camera: RemoteTrack | undefined;
  micMuted: boolean;
  active: boolean;
  speaking: boolean;
  style: CSSProperties;
}) {
  const { uuid, name, area, camera, micMuted, active, speaking, style } = props;
  const showVideo = camera && !camera.producerPaused;
  return (
    <div
      className={`tile ${area}${active ? ' active' : ''}${speaking ? ' speaking' : ''}`}
      style={style}
      data-testid="participant-tile"
      data-participant-uuid={uuid}
      data-display-name={name}
      data-area={area}
      data-active-speaker={active ? 'true' : 'false'}
      data-speaking={speaking ? 'true' : 'false'}
      data-video={showVideo ? 'on' : 'off'}
    >
      {showVideo ? (
        <TrackVideo track={camera.track} testId="remote-video" className={area === 'main' ? 'contain' : 'cover'} />
      ) : (
        <div className="avatar" aria-hidden="true">
          <span>{initials(name)}</span>
        </div>
      )}
      <span className="tile-name" data-testid="tile-name">
        {micMuted && <MicOffIcon />}
        {name}
      </span>
    </div>
  );
}

function MicOffIcon() {
  return (
    <svg className="muted-icon" role="img" aria-label="Microphone muted" viewBox="0 0 24 24" width="14" height="14">
      <path
        fill="currentColor"
        d="M12 14a3 3 0 0 0 3-3V5a3 3 0 0 0-6 0v6a3 3 0 0 0 3 3Zm5-3a5 5 0 0 1-10 0H5a7 7 0 0 0 6 6.92V21h2v-3.08A7 7 0 0 0 19 11h-2Z"
      />
      <path stroke="#ff6b6b" strokeWidth="2.4" strokeLinecap="round" d="M4 4l16 16" />
    </svg>
  );
}

/** The local camera, small and mirrored; initials while the camera is off. */
function SelfView({
  stream,
  name,
  cameraOff,
  active,
  speaking,
}: {
  stream: MediaSession;
  name: string;
  cameraOff: boolean;
  active: boolean;
  speaking: boolean;
}) {
  const local = stream.localStream;
  const track = local.getVideoTracks()[0];
  return (
    <div
      className={`self-view${active ? ' active' : ''}${speaking ? ' speaking' : ''}`}
      data-testid="self-view"
      data-active-speaker={active ? 'true' : 'false'}
      data-speaking={speaking ? 'true' : 'false'}
    >
      {track && !cameraOff ? (
        <TrackVideo track={track} testId="local-video" className="mirror cover" />
      ) : (
        <div className="avatar" aria-hidden="true">
          <span>{initials(name)}</span>
        </div>
      )}
    </div>
  );
}

function TrackVideo({ track, testId, className }: { track: MediaStreamTrack; testId: string; className?: string }) {
  const ref = useRef<HTMLVideoElement>(null);
  const stream = useMemo(() => new MediaStream([track]), [track]);
  useEffect(() => {
    const v = ref.current;
    if (!v) return;
    if (v.srcObject !== stream) v.srcObject = stream;
    v.play().catch(() => undefined);
  }, [stream]);
  return <video ref={ref} data-testid={testId} className={className} autoPlay playsInline muted />;
}

/** One <audio> per remote microphone (the node forwards each participant's own). */
function RemoteAudio({ tracks }: { tracks: readonly RemoteTrack[] }) {
  const [blocked, setBlocked] = useState(false);
  const onBlocked = useCallback(() => setBlocked(true), []);
  const audios = tracks.filter((t) => t.kind === 'audio');
  const container = useRef<HTMLDivElement>(null);
  return (
    <div className="audio-sinks" ref={container}>
      {audios.map((t) => (
        <TrackAudio key={t.consumerId} track={t.track} uuid={t.participant_uuid} onBlocked={onBlocked} />
      ))}
      {blocked && (
        <button
          type="button"
          className="enable-sound"
          onClick={() => {
            container.current?.querySelectorAll('audio').forEach((a) => void a.play().catch(() => undefined));
            setBlocked(false);
          }}
        >
          Enable sound
        </button>
      )}
    </div>
  );
}

function TrackAudio({ track, uuid, onBlocked }: { track: MediaStreamTrack; uuid: string; onBlocked: () => void }) {
  const ref = useRef<HTMLAudioElement>(null);
  const stream = useMemo(() => new MediaStream([track]), [track]);
  useEffect(() => {
    const a = ref.current;
    if (!a) return;
    if (a.srcObject !== stream) a.srcObject = stream;
    a.play().catch((err: unknown) => {
      if (err instanceof DOMException && err.name === 'NotAllowedError') onBlocked();
    });
  }, [stream, onBlocked]);
  return <audio ref={ref} data-testid="remote-audio" data-participant-uuid={uuid} autoPlay />;
}
