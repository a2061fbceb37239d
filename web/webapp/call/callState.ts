import type { ClientParticipant, ConferenceStatus, ServiceType, Theme } from '../client/ClientApi.js';
import { DEFAULT_LAYOUT, type LayoutKind } from '../media/layout.js';
import type { Splash } from './MeetingCall.js';
import type { Notice } from './roster.js';

export interface ChatLine {
  id: number;
  origin: string;
  text: string;
  own: boolean;
  /** When it arrived (ms since the epoch). */
  at: number;
}

export interface Toast extends Notice {
  id: number;
}

/** What the call screen shows, built from the call's events. */
export interface CallView {
  roster: ClientParticipant[];
  layout: LayoutKind;
  /** The last layout the node gave (Pexip's `layout` event): a change from it is applied, the same again is not. */
  nodeLayout: LayoutKind | null;
  splash: Splash | null;
  serviceType: ServiceType | undefined;
  theme: Theme | null;
  chat: ChatLine[];
  /** Chat lines that arrived while the chat was closed. */
  unread: number;
  chatOpen: boolean;
  toasts: Toast[];
  conference: ConferenceStatus | null;
  nextId: number;
}

export type CallAction =
  | { type: 'reset'; layout: LayoutKind | null; serviceType: ServiceType | undefined; keepChat: boolean }
  | { type: 'participants'; list: ClientParticipant[] }
  | { type: 'splash'; splash: Splash | null }
  | { type: 'service_type'; serviceType: ServiceType }
  | { type: 'message'; origin: string; text: string; own: boolean; at: number }
  | { type: 'node_layout'; layout: LayoutKind }
  | { type: 'layout'; layout: LayoutKind }
  | { type: 'theme'; theme: Theme | null }
  | { type: 'notice'; notice: Notice }
  | { type: 'dismiss'; id: number }
  | { type: 'conference'; status: ConferenceStatus }
  | { type: 'chat_open'; open: boolean };

/** At most this many notices are on screen; older ones go first. */
export const MAX_TOASTS = 4;

export function initialCallView(): CallView {
  return {
    roster: [],
    layout: DEFAULT_LAYOUT,
    nodeLayout: null,
    splash: null,
    serviceType: undefined,
    theme: null,
    chat: [],
    unread: 0,
    chatOpen: false,
    toasts: [],
    conference: null,
    nextId: 1,
  };
}

export function callReducer(s: CallView, a: CallAction): CallView {
  switch (a.type) {
    case 'reset':
      return {
        ...initialCallView(),
        layout: a.layout ?? DEFAULT_LAYOUT,
        serviceType: a.serviceType,
        chat: a.keepChat ? s.chat : [],
        chatOpen: s.chatOpen,
        nextId: s.nextId,
      };
    case 'participants':
      return { ...s, roster: a.list };
    case 'splash':
      return { ...s, splash: a.splash };
    case 'service_type':
      // Released from the waiting room (a Host joined, or admitted from the lobby): the holding screen goes.
      return {
        ...s,
        serviceType: a.serviceType,
        splash: a.serviceType !== 'waiting_room' && s.splash && /^(waiting_for_host|inlobby)/.test(s.splash.screen_key) ? null : s.splash,
      };
    case 'message':
      return {
        ...s,
        chat: [...s.chat, { id: s.nextId, origin: a.origin, text: a.text, own: a.own, at: a.at }],
        unread: s.chatOpen || a.own ? s.unread : s.unread + 1,
        nextId: s.nextId + 1,
      };
    case 'node_layout':
      // The role's view from the node: applied when it first comes and whenever it changes (a
      // Host changed it); the participant's own pick stays otherwise.
      return s.nodeLayout === a.layout ? s : { ...s, nodeLayout: a.layout, layout: a.layout };
    case 'layout':
      return { ...s, layout: a.layout };
    case 'theme':
      return { ...s, theme: a.theme };
    case 'notice':
      return { ...s, toasts: [...s.toasts, { ...a.notice, id: s.nextId }].slice(-MAX_TOASTS), nextId: s.nextId + 1 };
    case 'dismiss':
      return { ...s, toasts: s.toasts.filter((t) => t.id !== a.id) };
    case 'conference':
      return { ...s, conference: a.status };
    case 'chat_open':
      return { ...s, chatOpen: a.open, unread: a.open ? 0 : s.unread };
  }
}
