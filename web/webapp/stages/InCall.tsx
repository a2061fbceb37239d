import { useCallback, useEffect, useRef, useState, type Dispatch } from 'react';
import { layoutShort } from '../../../shared/client-api/conference.js';
import type { MeetingCall } from '../call/MeetingCall.js';
import type { CallAction, CallView } from '../call/callState.js';
import { CallStatisticsPanel } from '../call/CallStatisticsPanel.js';
import { ChatPanel } from '../call/ChatPanel.js';
import { startStatisticsReport } from '../call/statisticsReport.js';
import { Keypad, KEYPAD } from '../call/Keypad.js';
import { MediaStage } from '../call/MediaStage.js';
import { ParticipantList } from '../call/ParticipantList.js';
import { flagsOf } from '../call/roster.js';
import { splashView } from '../call/splash.js';
import { SplashOverlay } from '../call/SplashOverlay.js';
import { Toasts } from '../call/Toasts.js';
import { Toolbar } from '../call/Toolbar.js';
import { useMediaQuery, useMediaSession } from '../media/useMediaSession.js';

interface Props {
  call: MeetingCall;
  view: CallView;
  dispatch: Dispatch<CallAction>;
  alias: string;
  name: string;
}

/** In the meeting: the stage, the toolbar, the participants and chat panels, notices. */
export function InCall({ call, view, dispatch, alias, name }: Props) {
  const token = call.token;
  const selfUuid = token.participant_uuid;
  const { roster, layout, splash, serviceType, theme } = view;
  const narrow = useMediaQuery('(max-width: 640px)');
  // Side panels: open beside the stage on a wide screen, closed (an overlay when opened) on a phone.
  const [peopleOpen, setPeopleOpen] = useState(!narrow);
  const chatOpen = view.chatOpen;
  // Adjusted while rendering, not in an effect, so the panel never shows one frame in the old state.
  const [panelsFor, setPanelsFor] = useState(narrow);
  if (panelsFor !== narrow) {
    setPanelsFor(narrow);
    setPeopleOpen(!narrow);
  }
  useEffect(() => {
    dispatch({ type: 'chat_open', open: !narrow });
  }, [narrow, dispatch]);
  const [typed, setTyped] = useState('');
  // The digits typed into a Virtual Reception start afresh with each prompt.
  const [typedFor, setTypedFor] = useState(splash);
  if (typedFor !== splash) {
    setTypedFor(splash);
    if (splash && /virtual_reception_(welcome|conference_id_invalid)|timeout/.test(splash.screen_key)) setTyped('');
  }

  useEffect(() => {
    const onUnload = () => call.releaseOnUnload();
    window.addEventListener('pagehide', onUnload);
    return () => window.removeEventListener('pagehide', onUnload);
  }, [call]);

  // The state of the meeting (locked, Guests muted) before its first change.
  useEffect(() => {
    call.api.conferenceStatus().then(
      (status) => status && typeof status === 'object' && dispatch({ type: 'conference', status }),
      () => null,
    );
  }, [call, dispatch]);

  // A splash with a display duration goes after it.
  useEffect(() => {
    const seconds = splash?.display_duration;
    if (!splash || typeof seconds !== 'number' || !(seconds > 0)) return;
    const t = window.setTimeout(() => dispatch({ type: 'splash', splash: null }), seconds * 1000);
    return () => window.clearTimeout(t);
  }, [splash, dispatch]);

  const inIvr = serviceType === 'ivr';
  const testCall = serviceType === 'test_call';
  const inConference = !testCall && !inIvr && serviceType !== 'waiting_room';
  const mediaView = useMediaSession(call.media);
  // Resolution and frame rate, which only this browser knows, for the node's statistics.
  useEffect(() => startStatisticsReport(call.media, call.api, selfUuid), [call, selfUuid]);

  /** DTMF digits go one POST at a time, in order. */
  const dtmfQueue = useRef<Promise<unknown>>(Promise.resolve());
  const press = useCallback(
    (key: string) => {
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
      if (target && (target.tagName === 'INPUT' || target.tagName === 'TEXTAREA' || target.tagName === 'SELECT' || target.isContentEditable)) return;
      if (e.ctrlKey || e.metaKey || e.altKey || !KEYPAD.includes(e.key)) return;
      e.preventDefault();
      press(e.key);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [inIvr, press]);

  const dismiss = useCallback((id: number) => dispatch({ type: 'dismiss', id }), [dispatch]);

  const me = roster.find((p) => p.uuid === selfUuid);
  const myFlags = me ? flagsOf(me) : null;
  // The role can change during the call (make Host / Guest): the own participant record says which.
  const isHost = myFlags ? myFlags.host : token.role === 'HOST';
  const mutedByHost = myFlags?.muted ?? false;
  const handRaised = myFlags?.handRaised ?? false;

  const onMic = async (mute: boolean) => {
    if (!mute && mutedByHost) {
      // Muted by a Host: the node must let this participant's sound through again (a Guest may
      // only when the Host lets Guests unmute themselves).
      try {
        await call.api.participantControl(selfUuid, 'unmute');
      } catch {
        throw new Error('A Host muted you and Guests cannot unmute themselves here. Raise your hand to ask to speak.');
      }
    }
    await call.media.setMicMuted(mute);
    void call.api.participantControl(selfUuid, mute ? 'client_mute' : 'client_unmute').catch(() => null);
  };

  const conferenceName = token.conference_name ?? alias;
  // What the node said to show; otherwise what the participant's situation implies.
  const key = splash?.screen_key ?? (serviceType === 'waiting_room' ? 'waiting_for_host' : inIvr ? 'virtual_reception_welcome' : null);
  const splashShown = key
    ? splashView(key, theme, {
        conference_name: splash?.conference_name ?? (key === 'virtual_reception_connecting' ? 'the meeting' : conferenceName),
        conference_id: splash?.conference_id ?? typed,
      })
    : null;
  const others = roster.filter((p) => p.uuid !== selfUuid && !flagsOf(p).inLobby && !flagsOf(p).atPin).length;
  const alone = inConference && others === 0 && roster.length > 0;
  const iceServers = call.pc.getConfiguration();
  const chatEnabled = Boolean(token.chat_enabled) && !testCall && !inIvr;
  const spotlight = roster
    .filter((p) => flagsOf(p).spotlight)
    .sort((a, b) => (a.spotlight ?? 0) - (b.spotlight ?? 0))
    .map((p) => p.uuid);
  const muted = new Set(roster.filter((p) => flagsOf(p).muted || flagsOf(p).clientMuted).map((p) => p.uuid));
  const panels = peopleOpen || (chatEnabled && chatOpen);
  /** Closes the panels (a phone's overlay) and gives the focus back to the toolbar. */
  const closePanels = () => {
    const back = peopleOpen ? 'panel-participants' : 'panel-chat';
    setPeopleOpen(false);
    dispatch({ type: 'chat_open', open: false });
    requestAnimationFrame(() => document.querySelector<HTMLElement>(`[aria-controls="${back}"]`)?.focus());
  };

  return (
    <main className={`call${panels ? '' : ' no-panels'}`}>
      <header>
        <h1>{testCall ? 'Test call' : inIvr ? 'Virtual Reception' : conferenceName}</h1>
        {view.conference?.locked && inConference && (
          <span className="pill" data-testid="locked">
            Locked
          </span>
        )}
        {!testCall && !inIvr && <span className="role">{isHost ? 'Host' : 'Guest'}</span>}
      </header>
      <section className="stage" aria-label="Video">
        <MediaStage
          media={call.media}
          view={mediaView}
          roster={roster}
          selfUuid={selfUuid}
          selfName={token.display_name || name}
          layout={layout}
          testCall={testCall}
          hostsOnly={serviceType === 'lecture' && !isHost}
          hostsFirst={serviceType === 'lecture' && isHost}
          spotlight={spotlight}
          muted={muted}
          presentationDenied={myFlags?.presentationDenied ?? false}
          emptyMessage={
            splashShown || testCall || inIvr ? undefined : alone ? 'You are the only one here. Waiting for others to join…' : 'Waiting for others to join…'
          }
        >
          {testCall && (
            <p className="video-label" data-testid="test-call-label">
              Test call: this is your own video and sound, looped back by the conferencing node
            </p>
          )}
          {splashShown && <SplashOverlay view={splashShown} api={call.api} caption={splashShown.key === 'test_call_in_progress'} />}
          {inIvr && <Keypad onPress={press} typed={typed} />}
        </MediaStage>
        <Toasts toasts={view.toasts} onDismiss={dismiss} />
      </section>
      <Toolbar
        media={call.media}
        local={mediaView.local}
        layout={layout}
        onLayout={(l, everyone) => {
          dispatch({ type: 'layout', layout: l });
          // The gallery is this client's own: the node's layouts are Pexip's named ones.
          const named = layoutShort.safeParse(l);
          if (everyone && named.success) void call.api.transformLayout(named.data).catch(() => null);
        }}
        conference={inConference}
        isHost={isHost}
        mutedByHost={mutedByHost}
        onMic={onMic}
        handRaised={handRaised}
        onHand={(raise) => call.api.participantControl(selfUuid, raise ? 'buzz' : 'clearbuzz')}
        participantsOpen={peopleOpen}
        participantCount={roster.length}
        onParticipants={() => {
          setPeopleOpen(!peopleOpen);
          // On a phone the panel opens over the stage: move the focus into it.
          if (!peopleOpen && narrow) requestAnimationFrame(() => document.getElementById('panel-participants')?.focus());
        }}
        chat={chatEnabled}
        chatOpen={chatOpen}
        unread={view.unread}
        onChat={() => {
          dispatch({ type: 'chat_open', open: !chatOpen });
          if (!chatOpen && narrow) requestAnimationFrame(() => document.getElementById('panel-chat')?.focus());
        }}
        onLeave={() => void call.end()}
      />
      <aside
        className={`panels${panels ? '' : ' closed'}${narrow ? ' overlay' : ''}`}
        aria-label="Participants and chat"
        onKeyDown={(e) => {
          // On a phone the panels cover the stage: Escape closes them (unless a menu inside took it).
          if (narrow && e.key === 'Escape' && !e.defaultPrevented && !(e.target as HTMLElement).closest('details[open]')) closePanels();
        }}
      >
        {narrow && panels && (
          <button type="button" className="small panel-close" onClick={closePanels}>
            Close
          </button>
        )}
        <div id="panel-participants" hidden={!peopleOpen} tabIndex={-1}>
          <ParticipantList api={call.api} participants={roster} selfUuid={selfUuid} isHost={isHost} conference={view.conference} plain={testCall || inIvr} />
        </div>
        {chatEnabled && (
          <div id="panel-chat" hidden={!chatOpen} tabIndex={-1}>
            <ChatPanel
              lines={view.chat}
              onSend={async (text) => {
                await call.sendMessage(text);
                dispatch({ type: 'message', origin: token.display_name || name, text, own: true, at: Date.now() });
              }}
            />
          </div>
        )}
        {!inIvr && <CallStatisticsPanel api={call.api} selfUuid={selfUuid} />}
        <p className="ice" data-testid="ice-servers">
          ICE servers: {iceServers.iceServers?.length ?? 0}
          {iceServers.iceTransportPolicy === 'relay' ? ' (relay only)' : ''}
        </p>
      </aside>
    </main>
  );
}
