/**
 * Plain-language text for the reasons the client API gives (the guide's strings, client-api-v2.md
 * §3). The API keeps the guide's wording; people are told what happened and what they can do.
 */
const FRIENDLY: Record<string, string> = {
  'Invalid role': 'Only a Host can do that.',
  'Invalid PIN': 'The PIN is invalid for this conference.',
  'Participant exceeded PIN entry retries.': 'Participant exceeded PIN entry retries.',
  'Participant exceeded PIN entry retries': 'Participant exceeded PIN entry retries.',
  'Out of proxying resource': 'The service is busy right now. Try again in a few minutes.',
  'System in maintenance mode': 'This service is down for maintenance. Try again later.',
  '502 Bad Gateway': 'The service could not be reached. Try again in a moment.',
  '503 Service Unavailable': 'The service is not available right now. Try again in a moment.',
  'Invalid token': 'Your connection to the meeting expired. Join again.',
  'Timer expired awaiting token refresh': 'Your connection to the meeting was lost. Join again.',
  'Out of resource': 'The meeting has no room for more people right now. Try again later.',
  'Out of transcoding resource': 'The meeting has no room for more people right now. Try again later.',
  'transfer failed': 'You could not be moved to the other meeting.',
  'Failed to forward request': 'The service could not pass your request on. Try again.',
  'Conference host ended the conference with a DTMF command': 'A Host ended the meeting.',
  'API initiated conference termination': 'The meeting was ended.',
  'API initiated participant disconnect': 'You were removed from the meeting.',
  'Conference terminated by an administrator': 'An administrator ended the meeting.',
  'Disconnected by an administrator': 'An administrator removed you from the meeting.',
  'Disconnected by another participant': 'A Host removed you from the meeting.',
  'Conference terminated by another participant': 'A Host ended the meeting for everyone.',
  'Timeout waiting for conference host to join or permit access to locked conference': 'Nobody let you in: no Host joined or admitted you in time.',
  Disabled: 'This meeting address is switched off.',
  'Signaling node disconnected': 'The conferencing node lost your call.',
  'Media process disconnected': 'The conferencing node lost your call.',
  'Media node disconnected': 'The conferencing node lost your call.',
  'Proxied participant disconnected': 'The conferencing node lost your call.',
  'No participants can keep conference alive': 'The meeting ended because nobody left in it could keep it going.',
  'All conference hosts departed hosted conference': 'The meeting ended because every Host left.',
  'Last remaining participant removed from conference after timeout': 'You were alone in the meeting for too long, so it ended.',
  'Test call finished': 'Test call finished. Your camera and microphone were checked.',
  'Call rejected': 'The call was turned down.',
  'Call disconnected': 'The call was disconnected.',
  'Neither conference nor gateway found': 'There is no meeting at that address. Check the alias.',
  'Resource unavailable': 'The service is busy right now. Try again in a few minutes.',
  'Invalid license': 'The service cannot take calls right now (licence problem).',
  'Participant limit reached': 'The meeting is full.',
  'Insufficient licenses': 'The service is full right now. Try again later.',
  'Ice failure': 'Your network blocked the audio and video connection.',
  'WebRTC connection failed': 'Your network blocked the audio and video connection.',
  'Could not reconnect to the meeting': 'Your connection to the meeting was lost and could not be restored.',
  'Failed to transfer into a multi-party conference': 'You could not be moved to the other meeting.',
  'Failed to transfer into a one-to-one conference': 'You could not be moved to the other meeting.',
  'Presentation rejected': 'You cannot present right now: someone else is presenting or presenting is not allowed.',
  'You left the meeting': 'You left the meeting.',
};

/** Title of the screen after a call, by how it ended. */
export function endedTitle(reason: string): string {
  if (reason === 'You left the meeting') return 'You left the meeting';
  if (/removed|Disconnected by/i.test(reason) || /removed you/.test(friendlyReason(reason))) return 'You were removed';
  return 'The meeting ended for you';
}

/** The plain-language text for a reason; a reason we do not know is shown as it came. */
export function friendlyReason(reason: string): string {
  const r = reason.trim();
  if (FRIENDLY[r]) return FRIENDLY[r];
  // The node may add detail after the guide's string (e.g. "Invalid token: expired").
  for (const [key, text] of Object.entries(FRIENDLY)) if (key.length > 6 && r.startsWith(key)) return text;
  if (/^Could not start media/.test(r)) return 'Your camera and microphone could not be connected to the meeting.';
  return r || 'The call ended.';
}

/** Whether the plain text says more than the guide's own string (then both are shown). */
export function hasDetail(reason: string): boolean {
  return friendlyReason(reason) !== reason.trim();
}
