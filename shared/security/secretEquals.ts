import { createHash, timingSafeEqual } from 'node:crypto';

/** Compares two secrets (PINs, keys) in constant time, hashing first so lengths do not leak. */
export function secretEquals(given: string, expected: string): boolean {
  return timingSafeEqual(createHash('sha256').update(given).digest(), createHash('sha256').update(expected).digest());
}
