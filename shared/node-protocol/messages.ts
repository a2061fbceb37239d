import { z } from 'zod';
import { routingRuleConfigSchema } from '../routing/call-routing.js';

/**
 * The typed contract between a conferencing node agent and the management server
 * (WebSocket at `/api/node/v1/ws`, JSON text frames). Both ends validate every frame.
 */

export const serviceConfigSchema = z.object({
  id: z.number().int(),
  name: z.string(),
  serviceType: z.enum(['conference', 'lecture', 'two_stage_dialing', 'test_call']),
  pin: z.string(),
  guestPin: z.string(),
  allowGuests: z.boolean(),
  participantLimit: z.number().int().nullable(),
  /** Normalised aliases (see shared/alias/normalise.ts). */
  aliases: z.array(z.string()),
});
export type ServiceConfig = z.infer<typeof serviceConfigSchema>;

export const nodeConfigSnapshotSchema = z.object({
  /** Changes whenever anything in the snapshot changes. */
  version: z.string(),
  generatedAt: z.string(),
  node: z.object({ id: z.number().int(), name: z.string(), systemLocation: z.string() }),
  services: z.array(serviceConfigSchema),
  /** Call Routing Rules for gateway calls (all of them; the node filters and orders). */
  routingRules: z.array(routingRuleConfigSchema).default([]),
});
export type NodeConfigSnapshot = z.infer<typeof nodeConfigSnapshotSchema>;

export const liveParticipantSchema = z.object({
  id: z.string(),
  displayName: z.string(),
  role: z.enum(['chair', 'guest']),
  /** The alias the participant dialled. */
  alias: z.string(),
  protocol: z.enum(['api', 'webrtc', 'sip']),
  connectTime: z.string(),
  node: z.string(),
  remoteAddress: z.string(),
});
export type LiveParticipant = z.infer<typeof liveParticipantSchema>;

export const liveConferenceSchema = z.object({
  id: z.string(),
  name: z.string(),
  serviceType: z.string(),
  startTime: z.string(),
  participants: z.array(liveParticipantSchema),
});
export type LiveConference = z.infer<typeof liveConferenceSchema>;

export const nodeToServerSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('hello'),
    name: z.string().min(1).max(32),
    hostname: z.string().min(1).max(63),
    address: z.string().min(1),
    clientApiUrl: z.string().url(),
    enrollmentKey: z.string().min(1),
    version: z.string(),
    /** Version of the configuration the node already holds (from disk), if any. */
    configVersion: z.string().nullable(),
  }),
  /** Everything live on the node: sent after every (re)connection so the server resynchronises. */
  z.object({ type: z.literal('status'), conferences: z.array(liveConferenceSchema) }),
  z.object({ type: z.literal('conference_started'), conference: liveConferenceSchema }),
  z.object({ type: z.literal('conference_ended'), conferenceId: z.string() }),
  z.object({ type: z.literal('participant_joined'), conferenceId: z.string(), participant: liveParticipantSchema }),
  z.object({ type: z.literal('participant_left'), conferenceId: z.string(), participantId: z.string() }),
  z.object({ type: z.literal('config_applied'), version: z.string() }),
]);
export type NodeToServer = z.infer<typeof nodeToServerSchema>;

export const serverToNodeSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('welcome'), nodeId: z.number().int() }),
  z.object({ type: z.literal('config'), snapshot: nodeConfigSnapshotSchema }),
  z.object({ type: z.literal('rejected'), reason: z.string() }),
]);
export type ServerToNode = z.infer<typeof serverToNodeSchema>;

export const NODE_WS_PATH = '/api/node/v1/ws';
