import { useEffect, useRef, useState, type FormEvent } from 'react';
import { ClientApi, type ClientParticipant } from './client/ClientApi.js';
import { MeetingCall } from './call/MeetingCall.js';

/** The guide: 3 PIN attempts, then the caller is told and disconnected (§20.3). */
export const MAX_PIN_ATTEMPTS = 3;
const INVALID_PIN = 'The PIN is invalid for this conference.';
const TOO_MANY = 'Participant exceeded PIN entry retries.';

type Stage =
  | { kind: 'start'; message?: string }
  | { kind: 'pin'; hostPin: boolean; guestPin: boolean; attempts: number; message?: string }
  | { kind: 'joining' }
  | { kind: 'in_call'; call: MeetingCall }
  | { kind: 'left'; reason: string };

declare global {
  interface Window {
    /** For tests and diagnostics: the live call (its RTCPeerConnection gives getStats()). */
    meeting?: MeetingCall;
  }
}

export function MeetingApp() {
  const params = new URLSearchParams(location.search);
  const [alias, setAlias] = useState(params.get('alias') ?? '');
  const [name, setName] = useState(params.get('name') ?? '');
  const [pin, setPin] = useState('');
  const [stage, setStage] = useState<Stage>({ kind: 'start' });

  // Camera and microphone are asked for once, while the token is requested, not after it.
  const media = useRef<Promise<MediaStream> | null>(null);
  const localMedia = () => (media.current ??= navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 640, height: 360 } }));

  async function attempt(withPin?: string) {
    const api = new ClientApi(alias.trim());
    const prev = stage;
    setStage({ kind: 'joining' });
    try {
      void localMedia().catch(() => null);
      const outcome = await api.requestToken(name.trim(), withPin);
      if (outcome.kind === 'pin_required') {
        setStage({ kind: 'pin', hostPin: outcome.hostPin, guestPin: outcome.guestPin, attempts: 0 });
        return;
      }
      if (outcome.kind === 'error') {
        if (outcome.message === 'Invalid PIN' && prev.kind === 'pin') {
          const attempts = prev.attempts + 1;
          setPin('');
          setStage(
            attempts >= MAX_PIN_ATTEMPTS
              ? { kind: 'start', message: TOO_MANY }
              : { ...prev, attempts, message: `${INVALID_PIN} ${MAX_PIN_ATTEMPTS - attempts} attempt(s) left.` },
          );
        } else {
          setStage({ kind: 'start', message: outcome.message });
        }
        return;
      }
      const local = await localMedia();
      media.current = null; // the call owns (and stops) these tracks from here on
      const call = new MeetingCall(api, outcome.token, local, {
        participants: (list) => setRoster(list),
        remoteStream: (s) => setRemote(s),
        ended: (reason) => {
          window.meeting = undefined;
          setStage({ kind: 'left', reason });
        },
      });
      window.meeting = call;
      setLocal(local);
      setStage({ kind: 'in_call', call });
      await call.start();
    } catch (err) {
      setStage({ kind: 'start', message: err instanceof Error ? err.message : String(err) });
    }
  }

  const [roster, setRoster] = useState<ClientParticipant[]>([]);
  const [remote, setRemote] = useState<MediaStream | null>(null);
  const [local, setLocal] = useState<MediaStream | null>(null);

  useEffect(() => {
    if (stage.kind !== 'in_call') return;
    const onUnload = () => stage.call.releaseOnUnload();
    window.addEventListener('pagehide', onUnload);
    return () => window.removeEventListener('pagehide', onUnload);
  }, [stage]);

  const submitStart = (e: FormEvent) => {
    e.preventDefault();
    void attempt();
  };
  const submitPin = (e: FormEvent) => {
    e.preventDefault();
    void attempt(pin.trim() || 'none');
  };

  if (stage.kind === 'in_call') {
    return (
      <main className="call">
        <header>
          <h1>{stage.call.token.conference_name ?? alias}</h1>
          <span className="role">{stage.call.token.role === 'HOST' ? 'Host' : 'Guest'}</span>
          <button type="button" className="leave" onClick={() => void stage.call.end()}>
            Leave
          </button>
        </header>
        <section className="stage">
          <Video stream={remote} muted={false} testId="remote-video" />
          <Video stream={local} muted testId="local-video" className="self" />
        </section>
        <aside>
          <h2>Participants ({roster.length})</h2>
          <ul data-testid="roster">
            {roster.map((p) => (
              <li key={p.uuid}>
                {p.display_name} <small>{p.role === 'chair' ? 'Host' : 'Guest'}</small>
              </li>
            ))}
          </ul>
        </aside>
      </main>
    );
  }

  return (
    <main className="join">
      <h1>Join a meeting</h1>
      {stage.kind === 'pin' ? (
        <form onSubmit={submitPin}>
          <p>
            This meeting is protected by a PIN.
            {stage.hostPin && !stage.guestPin ? ' Guests may leave it blank.' : ''}
          </p>
          <label>
            PIN
            <input autoFocus inputMode="numeric" autoComplete="off" value={pin} onChange={(e) => setPin(e.target.value)} />
          </label>
          {stage.message && <p role="alert">{stage.message}</p>}
          <button type="submit">Join</button>
        </form>
      ) : (
        <form onSubmit={submitStart}>
          <label>
            Meeting alias
            <input required value={alias} onChange={(e) => setAlias(e.target.value)} />
          </label>
          <label>
            Your name
            <input required value={name} onChange={(e) => setName(e.target.value)} />
          </label>
          {stage.kind === 'start' && stage.message && <p role="alert">{stage.message}</p>}
          {stage.kind === 'left' && <p role="status">{stage.reason}</p>}
          <button type="submit" disabled={stage.kind === 'joining'}>
            {stage.kind === 'joining' ? 'Joining…' : 'Join'}
          </button>
        </form>
      )}
    </main>
  );
}

function Video({ stream, muted, testId, className }: { stream: MediaStream | null; muted: boolean; testId: string; className?: string }) {
  const ref = useRef<HTMLVideoElement>(null);
  useEffect(() => {
    if (ref.current && ref.current.srcObject !== stream) ref.current.srcObject = stream;
  }, [stream]);
  return <video ref={ref} data-testid={testId} className={className} autoPlay playsInline muted={muted} />;
}
