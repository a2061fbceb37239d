import { describe, expect, it } from 'vitest';
import { AddressRateLimiter } from './AddressRateLimiter.js';
import { DEFAULT_CLIENT_API_LIMITS, resolveClientApiLimits } from './ClientApiLimits.js';

describe('AddressRateLimiter', () => {
  it('lets a burst of the capacity through, refills over the window, and keeps addresses apart', () => {
    let now = 0;
    const limiter = new AddressRateLimiter(3, 3_000, () => now);
    try {
      expect([1, 2, 3, 4].map(() => limiter.take('a'))).toEqual([true, true, true, false]);
      expect(limiter.take('b')).toBe(true);
      now = 999;
      expect(limiter.take('a')).toBe(false);
      now = 1_000; // one call's worth refilled
      expect([limiter.take('a'), limiter.take('a')]).toEqual([true, false]);
    } finally {
      limiter.close();
    }
  });
});

describe('resolveClientApiLimits', () => {
  it('takes defaults, then the environment, then the options', () => {
    expect(resolveClientApiLimits({}, {})).toEqual(DEFAULT_CLIENT_API_LIMITS);
    expect(resolveClientApiLimits({ streamsPerAddress: 7 }, { NODE_STREAMS_PER_ADDRESS: '9', NODE_REQUEST_TOKEN_PER_ADDRESS: '40' })).toMatchObject({
      streamsPerAddress: 7,
      requestTokenPerAddress: 40,
    });
  });

  it('refuses a bad value naming the setting and its variable', () => {
    expect(() => resolveClientApiLimits({}, { NODE_REQUEST_TOKEN_PER_ADDRESS: 'lots' })).toThrow(/requestTokenPerAddress \(NODE_REQUEST_TOKEN_PER_ADDRESS\)/);
    expect(() => resolveClientApiLimits({ streamBufferBytes: 10 })).toThrow(/streamBufferBytes/);
  });
});
