import { describe, expect, it } from 'vitest';
import { lastContactedColour } from './lastContacted.js';

describe('Last contacted colour (guide: orange after 2 missed replication intervals, red after 5 minutes)', () => {
  const now = Date.parse('2026-12-04T14:00:00Z');
  const ago = (s: number) => new Date(now - s * 1000).toISOString();
  it('is green within two intervals', () => {
    expect(lastContactedColour(ago(10), now)).toBe('green');
    expect(lastContactedColour(ago(119), now)).toBe('green');
  });
  it('is orange past two intervals, red past five minutes', () => {
    expect(lastContactedColour(ago(121), now)).toBe('orange');
    expect(lastContactedColour(ago(299), now)).toBe('orange');
    expect(lastContactedColour(ago(301), now)).toBe('red');
  });
  it('is never for a node that never checked in', () => {
    expect(lastContactedColour(null, now)).toBe('never');
  });
  it('follows a shorter interval (tests) but stays red only past five minutes', () => {
    expect(lastContactedColour(ago(3), now, 1000)).toBe('orange');
  });
});
