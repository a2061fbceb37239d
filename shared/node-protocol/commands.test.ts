import { describe, expect, it } from 'vitest';
import { nodeToServerSchema, serverToNodeSchema } from './messages.js';

/** The command messages are checked both ways: a node drops what it cannot carry out, the server a malformed answer. */
describe('node protocol: command and command_result', () => {
  const mute = { type: 'command', requestId: 'r-1', command: { kind: 'participant', action: 'mute', conferenceId: 'c', participantId: 'p' } };

  it('takes the commands the server sends', () => {
    expect(serverToNodeSchema.parse(mute)).toEqual(mute);
    const transfer = {
      type: 'command',
      requestId: 'r-2',
      command: { kind: 'participant_transfer', conferenceId: 'c', participantId: 'p', transfer: { conference_alias: 'room', role: 'guest' } },
    };
    expect(serverToNodeSchema.safeParse(transfer).success).toBe(true);
    const layout = { type: 'command', requestId: 'r-3', command: { kind: 'conference_layout', conferenceId: 'c', transforms: { layout: '1:7' } } };
    expect(serverToNodeSchema.safeParse(layout).success).toBe(true);
  });

  it('refuses unknown actions, missing ids, a bad role or layout, an empty request id', () => {
    for (const bad of [
      { ...mute, command: { ...mute.command, action: 'explode' } },
      { ...mute, command: { kind: 'participant', action: 'mute', conferenceId: 'c' } },
      { ...mute, command: { kind: 'participant_role', conferenceId: 'c', participantId: 'p', role: 'king' } },
      { ...mute, command: { kind: 'conference_layout', conferenceId: 'c', transforms: { layout: '9:9' } } },
      { ...mute, requestId: '' },
    ])
      expect(serverToNodeSchema.safeParse(bad).success).toBe(false);
  });

  it("takes the node's answers, and refuses one with an unknown failure", () => {
    expect(nodeToServerSchema.safeParse({ type: 'command_result', requestId: 'r-1', ok: true }).success).toBe(true);
    expect(
      nodeToServerSchema.safeParse({ type: 'command_result', requestId: 'r-1', ok: false, failure: 'not_found', reason: 'Participant not found' }).success,
    ).toBe(true);
    expect(nodeToServerSchema.safeParse({ type: 'command_result', requestId: 'r-1', ok: false, failure: 'boom' }).success).toBe(false);
  });
});
