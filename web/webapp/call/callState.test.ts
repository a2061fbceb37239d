import { describe, expect, it } from 'vitest';
import { callReducer, initialCallView, MAX_TOASTS, type CallAction, type CallView } from './callState.js';

const run = (actions: CallAction[], from: CallView = initialCallView()) => actions.reduce(callReducer, from);

describe('the call screen state', () => {
  it("applies the node's layout when it first comes and when it changes, keeping the participant's own pick otherwise", () => {
    let s = run([
      { type: 'node_layout', layout: '1:7' },
      { type: 'layout', layout: 'auto' },
    ]);
    expect(s.layout).toBe('auto');
    s = run([{ type: 'node_layout', layout: '1:7' }], s);
    expect(s.layout).toBe('auto');
    s = run([{ type: 'node_layout', layout: '4:0' }], s);
    expect(s.layout).toBe('4:0');
  });

  it('counts chat lines that arrive while the chat is closed, not own ones, and clears on opening', () => {
    let s = run([
      { type: 'message', origin: 'Ann', text: 'hi', own: false, at: 1 },
      { type: 'message', origin: 'Me', text: 'hello', own: true, at: 2 },
      { type: 'message', origin: 'Ann', text: 'there?', own: false, at: 3 },
    ]);
    expect(s.unread).toBe(2);
    expect(s.chat.map((l) => [l.origin, l.text, l.at])).toEqual([
      ['Ann', 'hi', 1],
      ['Me', 'hello', 2],
      ['Ann', 'there?', 3],
    ]);
    s = run(
      [
        { type: 'chat_open', open: true },
        { type: 'message', origin: 'Ann', text: 'ok', own: false, at: 4 },
      ],
      s,
    );
    expect(s.unread).toBe(0);
  });

  it('keeps the chat across a transfer only, and the last few notices', () => {
    const withChat = run([{ type: 'message', origin: 'Ann', text: 'hi', own: false, at: 1 }]);
    expect(run([{ type: 'reset', layout: null, serviceType: 'conference', keepChat: true }], withChat).chat).toHaveLength(1);
    expect(run([{ type: 'reset', layout: '1:0', serviceType: 'conference', keepChat: false }], withChat)).toMatchObject({ chat: [], layout: '1:0' });
    const many = run(
      Array.from({ length: MAX_TOASTS + 2 }, (_, i) => ({ type: 'notice', notice: { kind: 'joined', uuid: `p${i}`, text: `P${i} joined` } }) as CallAction),
    );
    expect(many.toasts.map((t) => t.uuid)).toEqual(['p2', 'p3', 'p4', 'p5']);
    expect(run([{ type: 'dismiss', id: many.toasts[0]!.id }], many).toasts).toHaveLength(MAX_TOASTS - 1);
  });

  it('lets the waiting screen go once the participant is let in', () => {
    const held = run([{ type: 'splash', splash: { screen_key: 'inlobby' } }]);
    expect(run([{ type: 'service_type', serviceType: 'waiting_room' }], held).splash).not.toBeNull();
    expect(run([{ type: 'service_type', serviceType: 'conference' }], held).splash).toBeNull();
    const other = run([
      { type: 'splash', splash: { screen_key: 'no_presentation' } },
      { type: 'service_type', serviceType: 'conference' },
    ]);
    expect(other.splash?.screen_key).toBe('no_presentation');
  });
});
