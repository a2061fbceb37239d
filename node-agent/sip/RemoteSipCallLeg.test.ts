import { describe, expect, it } from 'vitest';
import type { RemoteLegMessage } from '../../shared/node-protocol/remoteMedia.js';
import { RemoteSipCallLeg } from './RemoteSipCallLeg.js';

const ANSWER = ['v=0', 'o=openmeet 1 1 IN IP4 10.0.0.2', 's=-', 'c=IN IP4 10.0.0.2', 't=0 0', 'm=audio 40010 RTP/AVP 0', 'a=sendonly', ''].join('\r\n');

/** A SIP call's leg on its signalling node, the media node played by the test through the messages. */
function leg() {
  const sent: RemoteLegMessage[] = [];
  const l = new RemoteSipCallLeg({
    mediaNode: { id: 2, name: 'node-2' },
    conference: 'Room',
    participant: { id: 'p1', displayName: 'Desk', role: 'guest', held: false },
    call: 'audio',
    send: (m) => sent.push(m),
    sip: { encryption: 'off' },
  });
  return { l, sent };
}

describe('a SIP call whose media is on another node, on its signalling node', () => {
  it('opens with the phone’s offer as a SIP leg and gives the phone the media node’s answer; a re-INVITE without an offer gets it again, newer and sending', async () => {
    const { l, sent } = leg();
    const answered = l.negotiate('v=0 offer');
    expect(sent[0]).toMatchObject({ kind: 'open', sdp: 'v=0 offer', sip: { encryption: 'off' }, call: 'audio' });
    l.receive({ kind: 'answer', legId: l.id, seq: 0, sdp: ANSWER });
    expect(await answered).toBe(ANSWER);
    expect(l.encrypted).toBe(false);
    const again = l.reoffer();
    expect(again).toMatch(/^o=openmeet 1 2 IN IP4 10\.0\.0\.2$/m);
    expect(again).toMatch(/^a=sendrecv$/m);
    expect(l.reoffer()).toMatch(/^o=openmeet 1 3 /m);
  });

  it('emits the keys the media node heard, and keys by SIP INFO the same way', async () => {
    const { l } = leg();
    const keys: string[] = [];
    l.keypad.on('dtmf', (d) => keys.push(d));
    void l.negotiate('v=0 offer');
    l.receive({ kind: 'answer', legId: l.id, seq: 0, sdp: ANSWER });
    l.receive({ kind: 'dtmf', legId: l.id, digit: '*' });
    l.keyed('7');
    expect(keys).toEqual(['*', '7']);
  });

  it('asks the media node to play a prompt by name and waits until it has', async () => {
    const { l, sent } = leg();
    void l.negotiate('v=0 offer');
    l.receive({ kind: 'answer', legId: l.id, seq: 0, sdp: ANSWER });
    let done = false;
    const played = l.remotePrompt('conf-getpin_48kHz_mono.wav').then(() => (done = true));
    const ask = sent.find((m) => m.kind === 'prompt');
    expect(ask).toMatchObject({ kind: 'prompt', name: 'conf-getpin_48kHz_mono.wav' });
    await new Promise((r) => setTimeout(r, 20));
    expect(done).toBe(false);
    l.receive({ kind: 'prompted', legId: l.id, seq: (ask as { seq: number }).seq });
    await played;
    expect(done).toBe(true);
  });

  it('a late offer (an INVITE without SDP): the media node offers, and the phone’s answer in its ACK goes there', async () => {
    const { l, sent } = leg();
    const offered = l.offer();
    expect(sent[0]).toMatchObject({ kind: 'open', sdp: '', sip: { encryption: 'off', late: true } });
    l.receive({ kind: 'answer', legId: l.id, seq: 0, sdp: ANSWER });
    expect(await offered).toBe(ANSWER);
    await l.answered('v=0 answer');
    expect(sent[1]).toEqual({ kind: 'answered', legId: l.id, sdp: 'v=0 answer' });
    await expect(l.offer()).rejects.toThrow(/after the call opened/);
  });
});
