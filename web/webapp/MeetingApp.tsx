import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import { ClientApi, type ClientParticipant, type ServiceType, type Theme, type TokenResult } from './client/ClientApi.js';
import { MeetingCall, type Splash } from './call/MeetingCall.js';
import { CANVAS, splashView, type SplashView } from './call/splash.js';
import { MediaStage } from './call/MediaStage.js';
import { Toolbar } from './call/Toolbar.js';
import { DEFAULT_LAYOUT, parseLayout, type LayoutKind } from './media/layout.js';
import { useMediaSession } from './media/useMediaSession.js';

/** The guide: 3 PIN attempts, then the caller is told and disconnected (§20.3). */
export const MAX_PIN_ATTEMPTS = 3;
const INVALID_PIN = 'The PIN is invalid for this conference.';
const TOO_MANY = 'Participant exceeded PIN entry retries.';
const KEYPAD = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '0', '#'];

type Stage =
  | { kind: 'start'; message?: string }
  | { kind: 'pin'; hostPin: boolean; guestPin: boolean; attempts: number; message?: string; referToken?: string }
  | { kind: 'joining' }
  | { kind: 'in_call'; call: MeetingCall }
  | { kind: 'left'; reason: string };

interface ChatLine {
  id: number;
  origin: string;
  text: string;
  own: boolean;
}

declare global {
  interface Window {
    /** For tests and diagnostics: the live call (`pc` gives its media's getStats() and getConfiguration(); `media` the session). */
    meeting?: MeetingCall;
  }
}

export function MeetingApp() {
  const params = new URLSearchParams(location.search);
  const [alias, setAlias] = useState(params.get('alias') ?? '');
  const [name, setName] = useState(params.get('name') ?? '');
  const [pin, setPin] = useState('');
  const [stage, setStage] = useState<Stage>({ kind: 'start' });

  const [roster, setRoster] = useState<ClientParticipant[]>([]);
  const [layout, setLayout] = useState<LayoutKind>(DEFAULT_LAYOUT);
  const [splash, setSplash] = useState<Splash | null>(null);
  const [serviceType, setServiceType] = useState<ServiceType | undefined>(undefined);
  const [theme, setTheme] = useState<Theme | null>(null);
  const [chat, setChat] = useState<ChatLine[]>([]);
  const [typed, setTyped] = useState('');

  // Camera and microphone are asked for once, while the token is requested, not after it.
  const media = useRef<Promise<MediaStream> | null>(null);
  const localMedia = () => (media.current ??= getLocalMedia());
  /** The call the UI shows; callbacks of a call that was handed over (transfer) are ignored. */
  const active = useRef<MeetingCall | null>(null);
  const chatIds = useRef(0);
  /** The last layout the node gave (Pexip's `layout` event). */
  const nodeLayout = useRef<LayoutKind | null>(null);

  /** Starts the media call for a granted token; `previous` (a transfer) is handed over once this one is set up. */
  async function startCall(api: ClientApi, token: TokenResult, localStream: MediaStream, previous?: MeetingCall) {
    const call: MeetingCall = new MeetingCall(api, token, localStream, {
      participants: (list) => active.current === call && setRoster(list),
      splash: (s) => active.current === call && setSplash(s),
      serviceType: (t) => {
        if (active.current !== call) return;
        setServiceType(t);
        // Released from the waiting room (a Host joined): the holding screen goes.
        if (t !== 'waiting_room') setSplash((s) => (s?.screen_key === 'waiting_for_host' ? null : s));
      },
      message: (m) => active.current === call && setChat((c) => [...c, { id: ++chatIds.current, origin: m.origin, text: m.payload, own: false }]),
      refer: (r) => void transfer(call, r),
      // The role's view from the node: applied when it first comes and whenever it changes (a
      // Host changed the layout); the participant's own pick stays otherwise.
      layout: (l) => {
        if (active.current !== call || nodeLayout.current === l) return;
        nodeLayout.current = l;
        setLayout(l);
      },
      ended: (reason) => {
        if (active.current !== call) return;
        active.current = null;
        window.meeting = undefined;
        setStage({ kind: 'left', reason });
      },
    });
    active.current = call;
    window.meeting = call;
    setRoster([]);
    nodeLayout.current = null;
    setLayout(parseLayout(token.default_layout) ?? DEFAULT_LAYOUT);
    setSplash(null);
    setServiceType(token.current_service_type);
    setTyped('');
    setTheme(null);
    if (!previous) setChat([]);
    setStage({ kind: 'in_call', call });
    void api.theme().then((t) => active.current === call && setTheme(t));
    const starting = call.start();
    if (previous) void previous.handOver();
    await starting;
  }

  async function attempt(withPin?: string, referToken?: string) {
    const api = new ClientApi(alias.trim());
    const prev = stage;
    setStage({ kind: 'joining' });
    try {
      void localMedia().catch(() => null);
      const outcome = await api.requestToken(name.trim(), withPin, referToken);
      if (outcome.kind === 'pin_required') {
        setStage({ kind: 'pin', hostPin: outcome.hostPin, guestPin: outcome.guestPin, attempts: 0, referToken });
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
      const localStream = await localMedia();
      media.current = null; // the call owns (and stops) these tracks from here on
      await startCall(api, outcome.token, localStream);
    } catch (err) {
      setStage({ kind: 'start', message: err instanceof Error ? err.message : String(err) });
    }
  }

  /**
   * SSE `refer` (a Virtual Reception found the conference): join the target alias with the
   * one-time token, keeping camera and microphone; the target's PIN rules still apply.
   */
  async function transfer(from: MeetingCall, refer: { alias: string; token: string }) {
    const api = new ClientApi(refer.alias);
    setAlias(refer.alias);
    const localStream = from.localStream;
    try {
      const outcome = await api.requestToken(from.token.display_name || name.trim(), undefined, refer.token);
      if (outcome.kind === 'joined') return await startCall(api, outcome.token, localStream, from);
      active.current = null;
      window.meeting = undefined;
      await from.handOver();
      if (outcome.kind === 'pin_required') {
        media.current = Promise.resolve(localStream); // reused once the PIN is accepted
        setPin('');
        setStage({ kind: 'pin', hostPin: outcome.hostPin, guestPin: outcome.guestPin, attempts: 0, referToken: refer.token });
      } else {
        localStream.getTracks().forEach((t) => t.stop());
        setStage({ kind: 'start', message: outcome.message });
      }
    } catch (err) {
      if (active.current === from) active.current = null;
      await from.handOver();
      localStream.getTracks().forEach((t) => t.stop());
      setStage({ kind: 'start', message: err instanceof Error ? err.message : String(err) });
    }
  }

  useEffect(() => {
    if (stage.kind !== 'in_call') return;
    const onUnload = () => stage.call.releaseOnUnload();
    window.addEventListener('pagehide', onUnload);
    return () => window.removeEventListener('pagehide', onUnload);
  }, [stage]);

  // A splash with a display duration goes after it.
  useEffect(() => {
    const seconds = splash?.display_duration;
    if (!splash || typeof seconds !== 'number' || !(seconds > 0)) return;
    const t = window.setTimeout(() => setSplash((s) => (s === splash ? null : s)), seconds * 1000);
    return () => window.clearTimeout(t);
  }, [splash]);

  // The digits typed into a Virtual Reception start afresh with each prompt.
  useEffect(() => {
    if (splash && /virtual_reception_(welcome|conference_id_invalid)|timeout/.test(splash.screen_key)) setTyped('');
  }, [splash]);

  const call = stage.kind === 'in_call' ? stage.call : null;
  const inIvr = serviceType === 'ivr';
  const mediaView = useMediaSession(call?.media ?? null);

  /** DTMF digits go one POST at a time, in order. */
  const dtmfQueue = useRef<Promise<unknown>>(Promise.resolve());
  const press = useCallback(
    (key: string) => {
      if (!call) return;
      setTyped((t) => (key === '#' ? t : (t + key).slice(-32)));
      dtmfQueue.current = dtmfQueue.current.then(() => call.sendDtmf(key)).catch(() => null);
    },
    [call],
  );

  // In a Virtual Reception the keyboard's digits, * and # are DTMF too (not while typing in a field).
  useEffect(() => {
    if (!inIvr) return;
    const onKey = (e: KeyboardEvent) => {
      const target = e.target as HTMLElement | null;
      if (target && (target.tagName === 'INPUT' || target.tagName === 'TEXTAREA' || target.isContentEditable)) return;
      if (e.ctrlKey || e.metaKey || e.altKey || !KEYPAD.includes(e.key)) return;
      e.preventDefault();
      press(e.key);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [inIvr, press]);

  const submitStart = (e: FormEvent) => {
    e.preventDefault();
    void attempt();
  };
  const submitPin = (e: FormEvent) => {
    e.preventDefault();
    void attempt(pin.trim() || 'none', stage.kind === 'pin' ? stage.referToken : undefined);
  };

  if (call) {
    const token = call.token;
    const conferenceName = token.conference_name ?? alias;
    // What the node said to show; otherwise what the participant's situation implies.
    const key = splash?.screen_key ?? (serviceType === 'waiting_room' ? 'waiting_for_host' : inIvr ? 'virtual_reception_welcome' : null);
    const view = key
      ? splashView(key, theme, {
          conference_name: splash?.conference_name ?? (key === 'virtual_reception_connecting' ? 'the meeting' : conferenceName),
          conference_id: splash?.conference_id ?? typed,
        })
      : null;
    const testCall = serviceType === 'test_call';
    const iceServers = call.pc.getConfiguration();
    return (
      <main className="call">
        <header>
          <h1>{testCall ? 'Test call' : inIvr ? 'Virtual Reception' : conferenceName}</h1>
          {!testCall && !inIvr && <span className="role">{token.role === 'HOST' ? 'Host' : 'Guest'}</span>}
          <button type="button" className="leave" onClick={() => void call.end()}>
            Leave
          </button>
        </header>
        <section className="stage">
          <MediaStage
            media={call.media}
            view={mediaView}
            roster={roster}
            selfUuid={token.participant_uuid}
            selfName={token.display_name || name}
            layout={layout}
            testCall={testCall}
            hostsOnly={serviceType === 'lecture' && token.role !== 'HOST'}
            hostsFirst={serviceType === 'lecture' && token.role === 'HOST'}
            emptyMessage={view || testCall || inIvr ? undefined : 'Waiting for others to join…'}
          >
            {testCall && (
              <p className="video-label" data-testid="test-call-label">
                Test call: this is your own video and sound, looped back by the conferencing node
              </p>
            )}
            {view && <SplashOverlay view={view} api={call.api} caption={view.key === 'test_call_in_progress'} />}
            {inIvr && <Keypad onPress={press} typed={typed} />}
          </MediaStage>
        </section>
        <Toolbar
          media={call.media}
          local={mediaView.local}
          layout={layout}
          onLayout={setLayout}
          conference={!testCall && !inIvr && serviceType !== 'waiting_room'}
        />
        <aside>
          <h2>Participants ({roster.length})</h2>
          <ul data-testid="roster">
            {roster.map((p) => (
              <li key={p.uuid}>
                {p.display_name} {!testCall && !inIvr && <small>{p.role === 'chair' ? 'Host' : 'Guest'}</small>}
              </li>
            ))}
          </ul>
          {token.chat_enabled && !testCall && !inIvr && (
            <Chat
              lines={chat}
              onSend={async (text) => {
                await call.sendMessage(text);
                setChat((c) => [...c, { id: ++chatIds.current, origin: token.display_name || name, text, own: true }]);
              }}
            />
          )}
          <p className="ice" data-testid="ice-servers">
            ICE servers: {iceServers.iceServers?.length ?? 0}
            {iceServers.iceTransportPolicy === 'relay' ? ' (relay only)' : ''}
          </p>
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

function SplashOverlay({ view, api, caption }: { view: SplashView; api: ClientApi; caption: boolean }) {
  const pct = (v: number, of: number) => `${(v / of) * 100}%`;
  return (
    <div
      className={caption ? 'splash caption' : 'splash'}
      data-testid="splash"
      data-screen={view.key}
      role="status"
      style={view.backgroundColor && !caption ? { background: view.backgroundColor } : undefined}
    >
      {view.background && !caption && <img className="splash-bg" data-testid="splash-background" alt="" src={api.themeAssetUrl(view.background)} />}
      {view.placed ? (
        <div className="splash-canvas">
          {view.placed.map((el, i) => {
            const box = { left: pct(el.x, CANVAS.width), top: pct(el.y, CANVAS.height), width: pct(el.width, CANVAS.width), height: pct(el.height, CANVAS.height) };
            return el.kind === 'icon' ? (
              <img key={i} className="splash-icon" alt="" src={api.themeAssetUrl(el.path!)} style={box} />
            ) : (
              <p
                key={i}
                className="splash-label"
                style={{ ...box, color: el.color, textAlign: el.align, fontSize: `${((el.fontSize ?? 66) / CANVAS.height) * 100}cqh` }}
              >
                {el.text}
              </p>
            );
          })}
        </div>
      ) : (
        <div className="splash-text">
          {view.lines.map((l, i) => (
            <p key={i} style={l.color ? { color: l.color } : undefined}>
              {l.text}
            </p>
          ))}
        </div>
      )}
    </div>
  );
}

function Keypad({ onPress, typed }: { onPress: (key: string) => void; typed: string }) {
  return (
    <div className="keypad" role="group" aria-label="Keypad">
      <output className="typed" aria-label="Digits entered">
        {typed}
      </output>
      {KEYPAD.map((k) => (
        <button key={k} type="button" onClick={() => onPress(k)} aria-label={k === '#' ? 'Pound' : k === '*' ? 'Star' : k}>
          {k}
        </button>
      ))}
    </div>
  );
}

function Chat({ lines, onSend }: { lines: ChatLine[]; onSend: (text: string) => Promise<void> }) {
  const [text, setText] = useState('');
  const [error, setError] = useState('');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const t = text.trim();
    if (!t) return;
    onSend(t).then(
      () => {
        setText('');
        setError('');
      },
      (err: unknown) => setError(err instanceof Error ? err.message : 'The message could not be sent'),
    );
  };
  return (
    <section className="chat" aria-label="Chat">
      <h2>Chat</h2>
      <ol data-testid="chat-messages">
        {lines.map((l) => (
          <li key={l.id} className={l.own ? 'own' : undefined}>
            <strong>{l.origin}</strong> <span>{l.text}</span>
          </li>
        ))}
      </ol>
      <form onSubmit={submit}>
        <label>
          Message
          <input value={text} maxLength={2000} onChange={(e) => setText(e.target.value)} autoComplete="off" />
        </label>
        {error && <p role="alert">{error}</p>}
        <button type="submit">Send</button>
      </form>
    </section>
  );
}

/**
 * Camera and microphone; without a camera (or without permission for it) the microphone alone,
 * then nothing: the participant still joins, receiving only.
 */
async function getLocalMedia(): Promise<MediaStream> {
  const video = { width: { ideal: 640 }, height: { ideal: 360 } };
  for (const constraints of [{ audio: true, video }, { audio: true }, { video }] as MediaStreamConstraints[]) {
    try {
      return await navigator.mediaDevices.getUserMedia(constraints);
    } catch {
      /* try with less */
    }
  }
  return new MediaStream();
}
