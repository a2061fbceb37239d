/**
 * A meeting-control request the conference refuses. `reason` is the client API's wording
 * (client-api-v2 §3: "Invalid role", "Participant not found", "transfer failed"…); the routes turn
 * every ControlError into Pexip's answer in one place (`403 {status:'success', result: reason}`,
 * or 400 for a malformed body).
 */
export class ControlError extends Error {
  constructor(
    readonly reason: string,
    readonly httpStatus: 400 | 403 | 404 = 403,
  ) {
    super(reason);
    this.name = 'ControlError';
  }
}

/** Reasons of refusal, as Pexip words them. */
export const REFUSAL = {
  invalidRole: 'Invalid role',
  notFound: 'Participant not found',
  chatDisabled: 'Chat is disabled',
  /** Also the disconnect reason of a participant whose transfer failed (#pex115). */
  transferFailed: 'transfer failed',
  /** A participant whose call cannot move (an SRTP SIP call): refused before anything happens, it stays. */
  transferNotSupported: 'Transfer is not supported for this participant',
  inLobby: 'Participant is waiting to be admitted',
  liveCaptionsUnavailable: 'Live captions are not available',
  personalMixUnavailable: 'Personal mixes are not available',
  /** The guide's reason string for a dial-out that did not happen (#pex152). */
  dialOutFailed: 'Gateway dial out failed',
  breakoutsUnavailable: 'Breakout rooms are not available',
  /** What a Host cannot do to a participant connected to another conferencing node (e.g. a transfer). */
  notOnThisNode: 'Not supported for a participant on another conferencing node',
} as const;
