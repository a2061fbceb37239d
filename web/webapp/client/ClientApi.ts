import { z } from 'zod';
import {
  type OverlayTextBody,
  conferenceStatus,
  participant,
  type ConferenceStatus,
  type LayoutShortName,
  type RoleBody,
  type SetGuestsCanUnmuteBody,
  type TransferBody,
  type TransformLayoutBody,
  type ConferenceAction,
  type ParticipantAction,
} from '../../../shared/client-api/conference.js';

/**
 * A small client of the node's Pexip-compatible client REST API v2 (client-api-v2.md §1):
 * request_token → events (SSE) → multi-stream media (shared/client-api/media.ts) → refresh → release.
 */
export interface TokenResult {
  token: string;
  expires: string;
  participant_uuid: string;
  role: 'HOST' | 'GUEST';
  display_name: string;
  conference_name?: string;
  service_name?: string;
  /** Where the participant is now: `conference`, `waiting_room` (held for a Host), `ivr` (Virtual Reception), `test_call`… */
  current_service_type?: ServiceType;
  service_type?: ServiceType;
  chat_enabled?: boolean;
  stun?: { url: string }[];
  turn?: { urls: string[] | string; username?: string; credential?: string }[];
  use_relay_candidates_only?: boolean;
  /** The service's default layout in the client API's short form (`1:7`, `4:0`…), from its Host or Guest view. */
  default_layout?: string;
}

export type ServiceType = 'conference' | 'gateway' | 'test_call' | 'waiting_room' | 'ivr' | 'lecture' | 'media_playback' | 'connecting';

/** One splash screen of the conference's theme (`GET …/theme/`), keyed by screen key. */
export interface ThemeScreen {
  layout_type?: string;
  background?: { path?: string; color?: string | number };
  elements?: { type: string; text?: string; label?: string; color?: number | string }[];
}
export type Theme = Record<string, ThemeScreen>;

/** SSE `message_received` (client-api-v2.md §5). */
export interface ChatMessage {
  type: string;
  payload: string;
  uuid: string;
  origin: string;
  direct?: boolean;
}

/**
 * The participant object of the event stream (shared/client-api/conference.ts; client-api-v2.md
 * §5.1). Pexip's clients do not reject an event for a missing flag, so neither do we: every field
 * present must have its type, and the identity must be there.
 */
export const clientParticipant = participant.partial().required({ uuid: true, display_name: true, role: true });
export type ClientParticipant = z.infer<typeof clientParticipant>;

export type { ConferenceStatus };

export type { ConferenceAction, ParticipantAction };

export type JoinOutcome =
  { kind: 'joined'; token: TokenResult } | { kind: 'pin_required'; hostPin: boolean; guestPin: boolean } | { kind: 'error'; message: string };

export class ClientApiError extends Error {
  constructor(
    message: string,
    /** The HTTP status of the answer (0: no answer). */
    readonly status = 0,
  ) {
    super(message);
    this.name = 'ClientApiError';
  }
}

export class ClientApi {
  private token = '';

  constructor(
    readonly alias: string,
    private readonly base = `${location.origin}/api/client/v2/conferences/${encodeURIComponent(alias)}`,
  ) {}

  get currentToken(): string {
    return this.token;
  }

  /** `joinToken`: the one-time token of an SSE `refer` (a Virtual Reception transferring the caller). */
  async requestToken(displayName: string, pin?: string, joinToken?: string): Promise<JoinOutcome> {
    const headers: Record<string, string> = { 'Content-Type': 'application/json' };
    if (pin !== undefined) headers.pin = pin;
    const body: Record<string, unknown> = { display_name: displayName, chosen_idp: 'none', direct_media: false, node: location.host };
    if (joinToken) body.token = joinToken;
    const res = await fetch(`${this.base}/request_token`, { method: 'POST', headers, body: JSON.stringify(body) });
    const parsed = (await res.json().catch(() => ({}))) as { result?: unknown };
    if (res.ok) {
      const token = parsed.result as TokenResult;
      this.token = token.token;
      return { kind: 'joined', token };
    }
    const r = parsed.result;
    if (res.status === 403 && r && typeof r === 'object' && 'pin' in r) {
      const shape = r as { pin: string; guest_pin: string };
      return { kind: 'pin_required', hostPin: shape.pin === 'required', guestPin: shape.guest_pin === 'required' };
    }
    return { kind: 'error', message: typeof r === 'string' ? r : `Unexpected status ${res.status}` };
  }

  private async post<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>('POST', path, body);
  }

  /** One request with the token; the answer's `result` (unvalidated: callers check its shape). */
  private async request<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const init: RequestInit = { method, headers: { token: this.token } };
    if (body !== undefined) {
      init.headers = { ...init.headers, 'Content-Type': 'application/json' };
      init.body = JSON.stringify(body);
    }
    const res = await fetch(`${this.base}/${path}`, init);
    const text = await res.text();
    let parsed: { result?: T } | undefined;
    try {
      parsed = JSON.parse(text) as { result?: T };
    } catch {
      /* text statuses */
    }
    if (!res.ok) throw new ClientApiError(typeof parsed?.result === 'string' ? parsed.result : text || `HTTP ${res.status}`, res.status);
    return parsed?.result as T;
  }

  /** `GET …/participants/{p}/{path}` (multi-stream media: shared/client-api/media.ts). */
  participantGet(participant: string, path: string): Promise<unknown> {
    return this.request('GET', `participants/${encodeURIComponent(participant)}/${path}`);
  }

  /** `POST …/participants/{p}/{path}` (multi-stream media, presentation floor). */
  participantPost(participant: string, path: string, body?: unknown): Promise<unknown> {
    return this.request('POST', `participants/${encodeURIComponent(participant)}/${path}`, body ?? {});
  }

  async refresh(): Promise<void> {
    const r = await this.post<{ token: string }>('refresh_token');
    this.token = r.token;
  }

  events(): EventSource {
    return new EventSource(`${this.base}/events?token=${encodeURIComponent(this.token)}`);
  }

  /** The conference's splash screens, or null when the node has no theme for it (204) or fails. */
  async theme(): Promise<Theme | null> {
    try {
      const res = await fetch(`${this.base}/theme/`, { headers: { token: this.token } });
      if (res.status !== 200) return null;
      const body = (await res.json()) as { result?: unknown };
      return body.result && typeof body.result === 'object' ? (body.result as Theme) : null;
    } catch {
      return null;
    }
  }

  /** A theme asset (splash background): the token goes in the query string, as image URLs cannot carry headers. */
  themeAssetUrl(path: string): string {
    return `${this.base}/theme/${path.split('/').map(encodeURIComponent).join('/')}?token=${encodeURIComponent(this.token)}`;
  }

  dtmf(participant: string, digits: string): Promise<boolean> {
    return this.post(`participants/${participant}/dtmf`, { digits });
  }

  /** Chat to everyone in the conference (SSE `message_received` at the others). */
  message(payload: string): Promise<boolean> {
    return this.post('message', { type: 'text/plain', payload });
  }

  /** Conference control (§6): lock, mute all Guests, lower all hands, end for everyone. */
  conferenceControl(action: ConferenceAction): Promise<unknown> {
    return this.post(action, {});
  }

  setGuestsCanUnmute(setting: boolean): Promise<unknown> {
    const body: SetGuestsCanUnmuteBody = { setting };
    return this.post('set_guests_can_unmute', body);
  }

  /** A Host's layout for everyone (§6 `transform_layout`, layout in the short form, e.g. `1:7`). */
  transformLayout(layout: LayoutShortName): Promise<unknown> {
    const body: TransformLayoutBody = { transforms: { layout } };
    return this.post('transform_layout', body);
  }

  /** Participant control (§7): mute, spotlight, admit from the lobby, raise hand, remove… */
  participantControl(participant: string, action: ParticipantAction): Promise<unknown> {
    return this.post(`participants/${encodeURIComponent(participant)}/${action}`, {});
  }

  /** Make Host (`chair`) or Guest (`guest`). */
  setRole(participant: string, role: RoleBody['role']): Promise<unknown> {
    const body: RoleBody = { role };
    return this.post(`participants/${encodeURIComponent(participant)}/role`, body);
  }

  /** Move a participant to another meeting (the role here is `host` / `guest`, as Pexip spells it). */
  transfer(participant: string, conferenceAlias: string, role: TransferBody['role'], pin?: string): Promise<unknown> {
    const body: TransferBody = { conference_alias: conferenceAlias, role };
    if (pin) body.pin = pin;
    return this.post(`participants/${encodeURIComponent(participant)}/transfer`, body);
  }

  /** The name shown on a participant's tile (§7 `overlaytext`, a Host's); empty gives back their display name. */
  overlayText(participant: string, text: string): Promise<unknown> {
    const body: OverlayTextBody = { text };
    return this.post(`participants/${encodeURIComponent(participant)}/overlaytext`, body);
  }

  async conferenceStatus(): Promise<ConferenceStatus> {
    return conferenceStatus.parse(await this.request('GET', 'conference_status'));
  }

  release(): Promise<boolean> {
    return this.post('release_token', {});
  }

  /** On page close: the beacon carries the token in the query string (as Pexip clients do). */
  releaseBeacon(): void {
    navigator.sendBeacon(`${this.base}/release_token?token=${encodeURIComponent(this.token)}`, new Blob(['{}'], { type: 'application/json' }));
  }
}
