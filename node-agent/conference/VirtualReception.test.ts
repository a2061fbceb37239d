import { describe, expect, it } from 'vitest';
import { nodeConfigSnapshotSchema, type ServiceConfig } from '../../shared/node-protocol/messages.js';
import type { CallContext } from '../../shared/routing/callRouting.js';
import { ServiceDirectory } from './ServiceDirectory.js';
import { TransferTokens } from './TransferTokens.js';
import { destinationAlias, DigitEntry, dtmfBody, resolveEntry } from './VirtualReception.js';

const service = (s: Partial<ServiceConfig> & Pick<ServiceConfig, 'id' | 'name' | 'aliases'>) => ({
  serviceType: 'conference',
  pin: '',
  guestPin: '',
  allowGuests: false,
  participantLimit: null,
  ...s,
});

const directory = (vr: { matchString: string; replaceString: string }) => {
  const d = new ServiceDirectory();
  d.load(
    nodeConfigSnapshotSchema.parse({
      version: 'v1',
      generatedAt: new Date().toISOString(),
      node: { id: 1, name: 'node1', systemLocation: 'Oslo' },
      services: [
        service({ id: 1, name: 'Reception', serviceType: 'two_stage_dialing', aliases: ['ivr', '5000'], ...vr }),
        service({ id: 2, name: 'Alice', aliases: ['meet.alice', '1234'] }),
        service({ id: 3, name: 'Town hall', serviceType: 'lecture', aliases: ['881234'] }),
      ],
      routingRules: [{ id: 9, name: 'PSTN out', priority: 10, match_string: '00\\d+' }],
    }),
  );
  return d;
};
const call: CallContext = { direction: 'incoming', protocol: 'webrtc', location: 'Oslo', registered: false };

describe('destinationAlias (Destination alias regex match / replace, guide §12)', () => {
  it('allows any alias unchanged when the match string is blank, even with a replace string', () => {
    expect(destinationAlias('', '', '1234')).toBe('1234');
    expect(destinationAlias('', '88\\1', '1234')).toBe('1234');
  });
  it('requires a full, case-insensitive match', () => {
    expect(destinationAlias('8(.*)', '', '8123')).toBe('8123');
    expect(destinationAlias('8(.*)', '', '1238')).toBeNull();
    expect(destinationAlias('(\\d{4})', '', '12345')).toBeNull();
    expect(destinationAlias('meet\\.(.*)', '', 'MEET.alice')).toBe('MEET.alice');
  });
  it('applies the replace string with group references only when the match is set and matches', () => {
    expect(destinationAlias('(\\d{4})', '88\\1', '1234')).toBe('881234');
    expect(destinationAlias('(\\d{4})', '\\1@example.com', '1234')).toBe('1234@example.com');
    expect(destinationAlias('(1111|1112|1113)', '', '1112')).toBe('1112');
    expect(destinationAlias('(1111|1112|1113)', '', '1114')).toBeNull();
  });
  it('treats an invalid regex as no match', () => {
    expect(destinationAlias('(\\d{4}', '', '1234')).toBeNull();
  });
});

describe('DigitEntry', () => {
  it("completes an entry on '#', across several DTMF requests", () => {
    const e = new DigitEntry();
    expect(e.press('12')).toEqual([]);
    expect(e.pending).toBe('12');
    expect(e.press('34#5')).toEqual(['1234']);
    expect(e.pending).toBe('5');
    expect(e.press('#')).toEqual(['5']);
    expect(e.press('1#2#')).toEqual(['1', '2']);
    expect(e.pending).toBe('');
  });
});

describe('dtmfBody', () => {
  it('accepts 0-9 * # A-D up to 32 characters, nothing else', () => {
    expect(dtmfBody.safeParse({ digits: '0123456789*#ABCD' }).success).toBe(true);
    expect(dtmfBody.safeParse({ digits: '1'.repeat(32) }).success).toBe(true);
    expect(dtmfBody.safeParse({ digits: '1'.repeat(33) }).success).toBe(false);
    expect(dtmfBody.safeParse({ digits: '' }).success).toBe(false);
    expect(dtmfBody.safeParse({ digits: '12a' }).success).toBe(false);
    expect(dtmfBody.safeParse({}).success).toBe(false);
  });
});

describe('resolveEntry: the entered alias as a new incoming call (guide §11)', () => {
  it('transfers to the service the (transformed) alias reaches', () => {
    const d = directory({ matchString: '', replaceString: '' });
    const vr = d.byServiceId(1)!;
    expect(resolveEntry(vr, '1234', d, call)).toMatchObject({ kind: 'transfer', alias: '1234', service: { name: 'Alice' } });
    const d2 = directory({ matchString: '(\\d{4})', replaceString: '88\\1' });
    expect(resolveEntry(d2.byServiceId(1)!, '1234', d2, call)).toMatchObject({ kind: 'transfer', alias: '881234', service: { name: 'Town hall' } });
  });
  it('refuses what the regex does not allow, unknown aliases, the reception itself and gateway calls', () => {
    const d = directory({ matchString: '(\\d{4})', replaceString: '' });
    const vr = d.byServiceId(1)!;
    expect(resolveEntry(vr, '881234', d, call)).toMatchObject({ kind: 'invalid', alias: null });
    expect(resolveEntry(vr, '9999', d, call)).toMatchObject({ kind: 'invalid', alias: '9999', why: 'no service or Call Routing Rule matches' });
    expect(resolveEntry(vr, '5000', d, call)).toMatchObject({ kind: 'invalid', why: 'the alias is this Virtual Reception' });
    const open = directory({ matchString: '', replaceString: '' });
    expect(resolveEntry(open.byServiceId(1)!, '0047123', open, call)).toMatchObject({ kind: 'invalid', why: expect.stringContaining('PSTN out') });
  });
});

describe('TransferTokens', () => {
  it('is bound to one service, expires and is single use', () => {
    let now = 1_000;
    const t = new TransferTokens(60_000, () => now);
    const token = t.issue({ serviceId: 2, alias: '1234', fromService: 'Reception', fromParticipant: 'p', displayName: 'Ann' });
    expect(t.check(token, 3)).toEqual({ ok: false });
    expect(t.check('bogus', 2)).toEqual({ ok: false });
    // A check (e.g. answered with "PIN required") does not use the token up.
    expect(t.check(token, 2)).toMatchObject({ ok: true, grant: { alias: '1234' } });
    expect(t.check(token, 2).ok).toBe(true);
    t.consume(token);
    expect(t.check(token, 2).ok).toBe(false);

    const late = t.issue({ serviceId: 2, alias: '1234', fromService: 'Reception', fromParticipant: 'p', displayName: 'Ann' });
    now += 59_999;
    expect(t.check(late, 2).ok).toBe(true);
    now += 1;
    expect(t.check(late, 2).ok).toBe(false);
    expect(t.size).toBe(0);
  });
});
