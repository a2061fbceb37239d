import { useEffect, useReducer, useRef, useState, useSyncExternalStore } from 'react';
import { ClientApi, type TokenResult } from './client/ClientApi.js';
import { MeetingCall } from './call/MeetingCall.js';
import { callReducer, initialCallView } from './call/callState.js';
import { friendlyReason, hasDetail } from './call/reasons.js';
import { parseLayout } from './media/layout.js';
import { LocalPreview } from './prejoin/LocalPreview.js';
import { PreviewSlot } from './prejoin/PreviewSlot.js';
import { Ended } from './stages/Ended.js';
import { InCall } from './stages/InCall.js';
import { PinEntry } from './stages/PinEntry.js';
import { PreJoin } from './stages/PreJoin.js';

/** The guide: 3 PIN attempts, then the caller is told and disconnected (§20.3). */
export const MAX_PIN_ATTEMPTS = 3;
const INVALID_PIN = 'The PIN is invalid for this conference.';
const TOO_MANY = 'Participant exceeded PIN entry retries.';
const NAME_KEY = 'openmeet.displayName';

type Stage =
  | { kind: 'start'; message?: string }
  | { kind: 'pin'; hostPin: boolean; guestPin: boolean; attempts: number; message?: string; referToken?: string }
  | { kind: 'joining'; from: 'start' | 'pin' }
  | { kind: 'in_call'; call: MeetingCall }
  | { kind: 'left'; reason: string };

declare global {
  interface Window {
    /** For tests and diagnostics: the live call (`pc` gives its media's getStats() and getConfiguration(); `media` the session). */
    meeting?: MeetingCall;
  }
}

function rememberedName(): string {
  try {
    return localStorage.getItem(NAME_KEY) ?? '';
  } catch {
    return '';
  }
}

/** The meeting client: pre-join → (PIN) → in the call → ended; a transfer (`refer`) moves the call to another alias. */
export function MeetingApp() {
  const params = new URLSearchParams(location.search);
  const [alias, setAlias] = useState(params.get('alias') ?? '');
  const [name, setName] = useState(params.get('name') ?? rememberedName());
  const [stage, setStage] = useState<Stage>({ kind: 'start' });
  const [view, dispatch] = useReducer(callReducer, undefined, initialCallView);
  const [previews] = useState(() => new PreviewSlot());
  const preview = useSyncExternalStore(previews.subscribe, previews.current);

  /** The call the UI shows; callbacks of a call that was handed over (transfer) are ignored. */
  const active = useRef<MeetingCall | null>(null);
  /** Camera and microphone kept from a transferred call while its target asks for a PIN. */
  const [carried, setCarried] = useState<MediaStream | null>(null);
  /** The same, as of now, for an attempt or a cancel that outlives the render that started it. */
  const carriedNow = useRef<MediaStream | null>(null);
  const carry = (stream: MediaStream | null) => {
    carriedNow.current = stream;
    setCarried(stream);
  };

  // The preview lives while joining is being prepared (not after a transfer, which keeps its media).
  const wantsPreview = (stage.kind === 'start' || stage.kind === 'pin' || stage.kind === 'joining') && !carried;
  useEffect(() => {
    if (!wantsPreview) return;
    const p = previews.open();
    return () => previews.close(p);
  }, [wantsPreview, previews]);

  // For tests and diagnostics: the live call.
  const live = stage.kind === 'in_call' ? stage.call : undefined;
  useEffect(() => {
    window.meeting = live;
  }, [live]);

  /** Starts the media call for a granted token; `previous` (a transfer) is handed over once this one is set up. */
  async function startCall(api: ClientApi, token: TokenResult, localStream: MediaStream, previous?: MeetingCall) {
    const call: MeetingCall = new MeetingCall(api, token, localStream, {
      participants: (list) => active.current === call && dispatch({ type: 'participants', list }),
      splash: (splash) => active.current === call && dispatch({ type: 'splash', splash }),
      serviceType: (serviceType) => active.current === call && dispatch({ type: 'service_type', serviceType }),
      message: (m) => active.current === call && dispatch({ type: 'message', origin: m.origin, text: m.payload, own: false, at: Date.now() }),
      notice: (notice) => active.current === call && dispatch({ type: 'notice', notice }),
      conference: (status) => active.current === call && dispatch({ type: 'conference', status }),
      refer: (r) => void transfer(call, r),
      layout: (layout) => active.current === call && dispatch({ type: 'node_layout', layout }),
      ended: (reason) => {
        if (active.current !== call) return;
        active.current = null;
        setStage({ kind: 'left', reason });
      },
    });
    active.current = call;
    carry(null);
    dispatch({ type: 'reset', layout: parseLayout(token.default_layout), serviceType: token.current_service_type, keepChat: Boolean(previous) });
    setStage({ kind: 'in_call', call });
    void api.theme().then((theme) => active.current === call && dispatch({ type: 'theme', theme }));
    const starting = call.start();
    if (previous) void previous.handOver();
    await starting;
  }

  async function attempt(withPin?: string, referToken?: string) {
    const api = new ClientApi(alias.trim());
    const prev = stage;
    setStage({ kind: 'joining', from: prev.kind === 'pin' ? 'pin' : 'start' });
    try {
      localStorage.setItem(NAME_KEY, name.trim());
    } catch {
      /* not remembered */
    }
    try {
      const outcome = await api.requestToken(name.trim(), withPin, referToken);
      if (outcome.kind === 'pin_required') {
        setStage({ kind: 'pin', hostPin: outcome.hostPin, guestPin: outcome.guestPin, attempts: 0, referToken });
        return;
      }
      if (outcome.kind === 'error') {
        if (outcome.message === 'Invalid PIN' && prev.kind === 'pin') {
          const attempts = prev.attempts + 1;
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
      const localStream = carriedNow.current ?? (await (previews.current() ?? new LocalPreview()).take());
      await startCall(api, outcome.token, localStream);
    } catch (err) {
      setStage({ kind: 'start', message: err instanceof Error ? err.message : String(err) });
    }
  }

  /**
   * SSE `refer` (a Host transferred this participant, or a Virtual Reception found the
   * conference): join the target alias with the one-time token, keeping camera and microphone;
   * the target's PIN rules still apply.
   */
  async function transfer(from: MeetingCall, refer: { alias: string; token: string }) {
    const api = new ClientApi(refer.alias);
    setAlias(refer.alias);
    const localStream = from.localStream;
    try {
      const outcome = await api.requestToken(from.token.display_name || name.trim(), undefined, refer.token);
      if (outcome.kind === 'joined') return await startCall(api, outcome.token, localStream, from);
      active.current = null;
      await from.handOver();
      if (outcome.kind === 'pin_required') {
        carry(localStream); // reused once the PIN is accepted
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

  const backToStart = () => {
    carriedNow.current?.getTracks().forEach((t) => t.stop());
    carry(null);
    setStage({ kind: 'start' });
  };

  switch (stage.kind) {
    case 'in_call':
      return <InCall call={stage.call} view={view} dispatch={dispatch} alias={alias} name={name} />;
    case 'left':
      return <Ended reason={stage.reason} onRejoin={() => void attempt()} onStart={backToStart} />;
    case 'pin':
    case 'joining':
      if (stage.kind === 'pin' || stage.from === 'pin') {
        const pin = stage.kind === 'pin' ? stage : null;
        return (
          <PinEntry
            hostPin={pin?.hostPin ?? false}
            guestPin={pin?.guestPin ?? false}
            message={pin?.message}
            joining={stage.kind === 'joining'}
            onSubmit={(p) => void attempt(p, pin?.referToken)}
            onCancel={backToStart}
          />
        );
      }
    // falls through: joining from the start page shows it, busy
    case 'start': {
      const message = stage.kind === 'start' ? stage.message : undefined;
      return (
        <PreJoin
          alias={alias}
          name={name}
          onAlias={setAlias}
          onName={setName}
          preview={preview}
          joining={stage.kind === 'joining'}
          message={message ? { text: friendlyReason(message), detail: hasDetail(message) ? message : undefined } : undefined}
          onJoin={() => void attempt()}
        />
      );
    }
  }
}
