import { describe, expect, it } from 'vitest';
import { ActiveSpeakerDetector } from './ActiveSpeakerDetector.js';

/** Runs intervals of 200 ms; `talking` lists who speaks in each. Returns the speaker after each. */
function run(d: ActiveSpeakerDetector, intervals: string[][], everyone = ['a', 'b', 'c']): (string | undefined)[] {
  return intervals.map((talking) => {
    d.update(new Set(talking), everyone);
    return d.speaker;
  });
}
const times = (n: number, who: string[]) => Array.from({ length: n }, () => who);

describe('ActiveSpeakerDetector', () => {
  it('someone who talks becomes the speaker within a second, not at once', () => {
    const d = new ActiveSpeakerDetector();
    const out = run(d, times(5, ['a']));
    expect(out.slice(0, 2)).toEqual([undefined, undefined]);
    expect(out.at(-1)).toBe('a');
    expect(out.indexOf('a')).toBeLessThanOrEqual(4);
  });

  it('a cough (two intervals) does not take the floor from the speaker', () => {
    const d = new ActiveSpeakerDetector();
    run(d, times(6, ['a']));
    expect(run(d, [['a', 'b'], ['a', 'b'], ['a'], ['a'], ['a'], ['a']]).every((s) => s === 'a')).toBe(true);
  });

  it('when the speaker stops and another talks, the floor moves within a second', () => {
    const d = new ActiveSpeakerDetector();
    run(d, times(6, ['a']));
    const out = run(d, times(6, ['b']));
    const switchedAt = out.indexOf('b');
    expect(switchedAt).toBeGreaterThanOrEqual(1);
    expect((switchedAt + 1) * 200).toBeLessThanOrEqual(1_000);
  });

  it('the speaker keeps the floor while talking as much as a challenger', () => {
    const d = new ActiveSpeakerDetector();
    run(d, times(6, ['a']));
    expect(run(d, times(10, ['a', 'b'])).every((s) => s === 'a')).toBe(true);
  });

  it('silence changes nothing; leaving clears the speaker', () => {
    const d = new ActiveSpeakerDetector();
    run(d, times(6, ['a']));
    expect(run(d, times(20, [])).every((s) => s === 'a')).toBe(true);
    d.update(new Set(), ['b', 'c']);
    expect(d.speaker).toBeUndefined();
  });

  it('reports a change once', () => {
    const d = new ActiveSpeakerDetector();
    const changes = times(10, ['c'])
      .map((t) => d.update(new Set(t), ['a', 'b', 'c']))
      .filter((x) => x !== undefined);
    expect(changes).toEqual(['c']);
  });
});
