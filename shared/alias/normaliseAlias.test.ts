import { describe, expect, it } from 'vitest';
import { normaliseAlias } from './normalise.js';

describe('normaliseAlias (guide §19.2)', () => {
  it.each([
    ['meet.alice', 'meet.alice'],
    ['Meet.Alice', 'meet.alice'],
    ['sip:meet.alice', 'meet.alice'],
    ['SIPS:Meet.Alice', 'meet.alice'],
    ['h323:meet.alice', 'meet.alice'],
    ['meet.alice@10.0.0.5', 'meet.alice'],
    ['meet.alice@10.0.0.5:5060', 'meet.alice'],
    ['sip:meet.alice@[2001:db8::1]', 'meet.alice'],
    ['sip:meet.alice@[2001:db8::1]:5061', 'meet.alice'],
    ['sip:meet.alice@example.com;transport=tcp', 'meet.alice@example.com'],
    ['  meet.alice  ', 'meet.alice'],
  ])('%s → %s', (raw, expected) => {
    expect(normaliseAlias(raw)).toBe(expected);
  });

  it('keeps the domain significant', () => {
    expect(normaliseAlias('meet.alice@example.com')).not.toBe(normaliseAlias('meet.alice'));
    expect(normaliseAlias('Meet.Alice@Example.com')).toBe('meet.alice@example.com');
  });
});
