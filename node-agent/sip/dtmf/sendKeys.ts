/** The guide's DTMF timing for keys we send (ADP DTMF sequences): first key 3 s after the answer, one every 0.5 s, a comma pauses 2 s. */
export const DTMF_TIMING = { startMs: 3_000, everyMs: 500, pauseMs: 2_000, toneMs: 250 } as const;

/** Where keys go: an in-dialog INFO; false when the call is gone. */
export type SendInfo = (callId: string, contentType: string, body: Buffer) => boolean;

/**
 * Keys to a SIP call as SIP INFO (`application/dtmf-relay`, what room systems and baresip take
 * beside RFC 4733), one every `everyMs`, a comma pausing `pauseMs`; other characters are skipped.
 * Stops when the call is gone. INFO rather than RFC 4733 in the media: the node's audio to a phone
 * is its mix, which carries no telephone-event stream.
 */
export async function sendKeysByInfo(
  send: SendInfo,
  callId: string,
  keys: string,
  gone: () => boolean = () => false,
  timing: Omit<typeof DTMF_TIMING, 'startMs'> = DTMF_TIMING,
): Promise<void> {
  const wait = (ms: number) => new Promise((r) => setTimeout(r, ms).unref());
  let first = true;
  for (const key of keys) {
    if (gone()) return;
    if (key === ',') {
      await wait(timing.pauseMs);
      continue;
    }
    if (!/^[0-9*#A-D]$/i.test(key)) continue;
    if (!first) await wait(timing.everyMs);
    first = false;
    if (gone() || !send(callId, 'application/dtmf-relay', Buffer.from(`Signal=${key.toUpperCase()}\r\nDuration=${timing.toneMs}\r\n`))) return;
  }
}
