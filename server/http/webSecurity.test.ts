import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { isLoopback, sameOrigin } from './webSecurity.js';

/** A request as Node's HTTP server makes it, with these headers. */
const req = (host: string, origin?: string) => {
  const m = new IncomingMessage(new Socket());
  m.headers = { host, ...(origin === undefined ? {} : { origin }) };
  return m;
};

describe('sameOrigin', () => {
  it('accepts no Origin (not a browser) and a page from the host and port the request went to', () => {
    expect(sameOrigin(req('127.0.0.1:8080'))).toBe(true);
    expect(sameOrigin(req('127.0.0.1:8080', 'http://127.0.0.1:8080'))).toBe(true);
    // Behind a TLS-terminating proxy that keeps Host, the page is https and the request plain HTTP.
    expect(sameOrigin(req('meet.example.com', 'https://meet.example.com'))).toBe(true);
  });

  it('refuses other hosts and ports, "null", non-web schemes and garbage', () => {
    for (const origin of [
      'http://127.0.0.1:8081',
      'http://localhost:8080',
      'https://evil.example',
      'null',
      'chrome-extension://127.0.0.1:8080',
      'file://',
      '%%%',
    ]) {
      expect(sameOrigin(req('127.0.0.1:8080', origin)), origin).toBe(false);
    }
  });

  it('accepts the configured public origins of a proxy that rewrites Host', () => {
    expect(sameOrigin(req('127.0.0.1:8080', 'https://meet.example.com'), ['https://meet.example.com'])).toBe(true);
    expect(sameOrigin(req('127.0.0.1:8080', 'https://meet.example.com:444'), ['https://meet.example.com'])).toBe(false);
  });
});

describe('isLoopback', () => {
  it('knows 127/8, ::1 and their IPv4-mapped forms', () => {
    for (const a of ['127.0.0.1', '127.9.9.9', '::1', '::ffff:127.0.0.1']) expect(isLoopback(a), a).toBe(true);
    for (const a of ['192.0.2.2', '::ffff:192.0.2.2', 'fd00::2', '', undefined, '128.0.0.1']) expect(isLoopback(a), String(a)).toBe(false);
  });
});
