import { describe, expect, it } from 'vitest';
import { nodeConfigSnapshotSchema } from '../../shared/node-protocol/messages.js';
import { ServiceDirectory } from './ServiceDirectory.js';

const snapshot = (routingRules?: unknown[]) =>
  nodeConfigSnapshotSchema.parse({
    version: 'v1',
    generatedAt: new Date().toISOString(),
    node: { id: 1, name: 'node1', systemLocation: 'Oslo' },
    services: [{ id: 7, name: 'Alice', serviceType: 'conference', pin: '', guestPin: '', allowGuests: false, participantLimit: null, aliases: ['meet.alice'] }],
    ...(routingRules ? { routingRules } : {}),
  });

describe('ServiceDirectory', () => {
  it('accepts a snapshot without routing rules (saved by an older server)', () => {
    const d = new ServiceDirectory();
    d.load(snapshot());
    expect(d.routingRules).toEqual([]);
    expect(d.lookup('sip:Meet.Alice@10.0.0.1')?.id).toBe(7);
    expect(d.route('bob@example.com', { direction: 'incoming', protocol: 'sip', location: 'Oslo', registered: false })).toEqual({ kind: 'none' });
  });

  it('routes to services first, then through the rules; lookup() still returns services only', () => {
    const d = new ServiceDirectory();
    d.load(snapshot([{ id: 1, name: 'to SIP', priority: 10, match_string: '(.+)@example\\.com', replace_string: '\\1@sip.example.com' }]));
    const call = { direction: 'incoming', protocol: 'webrtc', location: 'Oslo', registered: false } as const;
    expect(d.route('meet.alice', call)).toMatchObject({ kind: 'service', service: { id: 7 } });
    expect(d.route('sip:bob@example.com', call)).toMatchObject({ kind: 'gateway', destination: 'bob@sip.example.com', rule: { name: 'to SIP' } });
    expect(d.lookup('bob@example.com')).toBeUndefined();
    expect(d.size).toBe(1);
  });
});
