import { describe, expect, it } from 'vitest';
import { unsupportedNode } from './node-version.mjs';

describe('supported Node versions', () => {
  it('accepts 20.19+ and 22.12+ (Vite 8 floor), including the Node this suite runs on', () => {
    for (const v of ['20.19.0', '20.20.2', '22.12.0', '24.1.0', process.versions.node]) expect(unsupportedNode(v), v).toBeNull();
  });
  it('refuses older and odd in-between versions with a clear message naming the version', () => {
    for (const v of ['18.20.4', '20.18.1', '21.7.3', '22.11.0']) {
      expect(unsupportedNode(v), v).toContain(`this is Node ${v}`);
      expect(unsupportedNode(v), v).toContain('20.19');
    }
  });
});
