import { validateConferenceStatus200, validateParticipants200 } from '@pexip/infinity-api/dist/conference/validation.js';

/**
 * Pexip's own response validators (ajv, from `@pexip/infinity-api`, the package the SDK uses) for
 * what the SDK does not validate itself: the SSE payloads, and the GET endpoints other Pexip
 * clients call. Each returns the validator's complaints (empty: valid). The validators strip
 * unknown properties from their input, so they get a copy.
 */
type Validator = ((data: unknown) => boolean) & { errors?: { instancePath?: string; message?: string; params?: unknown }[] | null };

function problems(validate: Validator, body: unknown): string[] {
  const copy: unknown = JSON.parse(JSON.stringify(body));
  if (validate(copy)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params ?? {})}`.trim());
}

/** Participant objects (SSE participant_create/update, or GET participants' result) against the participants 200 schema. */
export function participantProblems(participants: unknown[]): string[] {
  return problems(validateParticipants200 as Validator, { status: 'success', result: participants });
}

/** A conference_update payload (or GET conference_status's result) against the conference_status 200 schema. */
export function conferenceStatusProblems(status: unknown): string[] {
  return problems(validateConferenceStatus200 as Validator, { status: 'success', result: status });
}
