import { z } from 'zod';
import type { Conference } from '../conference/Conference.js';
import type { Participant } from '../conference/Participant.js';

/**
 * What a conferencing node POSTs to an event sink (System > Event sinks, guide §14.9), modelled on
 * Pexip Infinity's event sink API v1. The full Pexip schema is not in our reference; this is our shape:
 *
 * ```
 * { "event": "participant_connected",   // one of SINK_EVENT_NAMES
 *   "node": "node-a",                   // the conferencing node's name
 *   "seq": 3,                           // per sink, +1 for every event (a gap = events dropped while the sink was down)
 *   "version": 1,                       // the sink's configured "Version"
 *   "time": 1712345678.123,             // when the event happened, unix seconds (float)
 *   "data": { ... } }
 * ```
 *
 * `data` per event:
 * - eventsink_started / eventsink_stopped: `{ name }` (the sink's name);
 * - conference_started / conference_ended: {@link ConferenceEventData};
 * - participant_connected / participant_updated / participant_disconnected: {@link ParticipantEventData}
 *   (`disconnect_reason` on participant_disconnected only).
 *
 * Without "Bulk support" each request's body is one event object; with it, a JSON array of up to
 * {@link MAX_BATCH} events, oldest first. Times are from the node's perspective (guide §14.9).
 */
export const SINK_EVENT_NAMES = [
  'eventsink_started',
  'eventsink_stopped',
  'conference_started',
  'conference_ended',
  'participant_connected',
  'participant_updated',
  'participant_disconnected',
] as const;
export type SinkEventName = (typeof SINK_EVENT_NAMES)[number];

/** Events per request with "Bulk support". */
export const MAX_BATCH = 100;

export const conferenceEventDataSchema = z.object({
  name: z.string(),
  conference: z.string(),
  /** conference | lecture | two_stage_dialing | test_call */
  service_type: z.string(),
  /** The service's "Service tag" ('' when none). */
  tag: z.string(),
  /** Unix seconds. */
  start_time: z.number(),
  /** Set on conference_ended. */
  end_time: z.number().optional(),
});
export type ConferenceEventData = z.infer<typeof conferenceEventDataSchema>;

export const participantEventDataSchema = z.object({
  uuid: z.string(),
  conference: z.string(),
  display_name: z.string(),
  role: z.enum(['chair', 'guest']),
  /** WebRTC | SIP | API */
  protocol: z.string(),
  remote_address: z.string(),
  /** The alias the participant dialled. */
  destination_alias: z.string(),
  call_tag: z.string(),
  call_direction: z.literal('in'),
  /** The conference's service type, or `waiting_room` for a Guest held until a Host joins. */
  service_type: z.string(),
  system_location: z.string(),
  is_muted: z.boolean(),
  /** Unix seconds. */
  connect_time: z.number(),
  disconnect_reason: z.string().optional(),
});
export type ParticipantEventData = z.infer<typeof participantEventDataSchema>;

export const sinkEventSchema = z.object({
  event: z.enum(SINK_EVENT_NAMES),
  node: z.string(),
  seq: z.number().int().min(1),
  version: z.number().int(),
  time: z.number(),
  data: z.record(z.string(), z.unknown()),
});
export type SinkEvent = z.infer<typeof sinkEventSchema>;

/** An event before a sink numbers it: the same one goes to every sink of the location. */
export interface PendingEvent {
  event: SinkEventName;
  time: number;
  data: Record<string, unknown>;
}

const unixSeconds = (d: Date | number) => (typeof d === 'number' ? d : d.getTime()) / 1000;

export function conferenceData(c: Conference, ended = false): ConferenceEventData {
  return {
    name: c.service.name,
    conference: c.service.name,
    service_type: c.service.serviceType,
    tag: c.service.tag,
    start_time: unixSeconds(c.startTime),
    ...(ended ? { end_time: unixSeconds(Date.now()) } : {}),
  };
}

const PROTOCOL: Record<Participant['protocol'], string> = { webrtc: 'WebRTC', sip: 'SIP', api: 'API' };

export function participantData(c: Conference, p: Participant, location: string, disconnectReason?: string): ParticipantEventData {
  return {
    uuid: p.id,
    conference: c.service.name,
    display_name: p.displayName,
    role: p.role === 'HOST' ? 'chair' : 'guest',
    protocol: PROTOCOL[p.protocol] ?? p.protocol,
    remote_address: p.remoteAddress,
    destination_alias: p.alias,
    call_tag: p.callTag,
    call_direction: 'in',
    service_type: p.held ? 'waiting_room' : c.service.serviceType,
    system_location: location,
    is_muted: p.isMuted,
    connect_time: unixSeconds(p.connectTime),
    ...(disconnectReason !== undefined ? { disconnect_reason: disconnectReason } : {}),
  };
}

export function pendingEvent(event: SinkEventName, data: object, now = Date.now()): PendingEvent {
  return { event, time: now / 1000, data: data as Record<string, unknown> };
}
