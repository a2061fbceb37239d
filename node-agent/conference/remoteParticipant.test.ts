import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import type { BackplaneParticipant, ServiceConfig } from '../../shared/node-protocol/messages.js';
import { serviceConfigSchema } from '../../shared/node-protocol/messages.js';
import { MediasoupConferenceMedia } from '../media/mediasoup/MediasoupConferenceMedia.js';
import { MediasoupEngine } from '../media/mediasoup/MediasoupEngine.js';
import { Conference } from './Conference.js';
import { remoteClientObject, type RemoteParticipant } from './remoteParticipant.js';

const log = pino({ level: 'silent' });
const engine = new MediasoupEngine(log, { workers: 1 });
afterAll(() => engine.close());

const service: ServiceConfig = serviceConfigSchema.parse({
  id: 1,
  name: 'Room',
  serviceType: 'conference',
  pin: '',
  guestPin: '',
  allowGuests: false,
  participantLimit: null,
  aliases: ['room'],
});

describe("another node's participants in a conference's roster (backplanes)", () => {
  it('lists them as they come, updates them when their state changes, and drops them when their backplane no longer brings them', () => {
    const media = new MediasoupConferenceMedia(engine, { announcedAddress: '127.0.0.1', portRange: [48500, 48599] }, log);
    const conf = new Conference(service, media);
    const events: string[] = [];
    conf.on('remoteJoined', (r) => events.push(`joined ${r.displayName}`));
    conf.on('remoteUpdated', (r) => events.push(`updated ${r.displayName}`));
    conf.on('remoteLeft', (r) => events.push(`left ${r.displayName}`));
    const carol: BackplaneParticipant = { id: 'c1', displayName: 'Carol', role: 'chair', protocol: 'webrtc' };
    const dave: BackplaneParticipant = { id: 'd1', displayName: 'Dave', role: 'guest', protocol: 'sip' };

    conf.setRemoteParticipants('bp1', [carol, dave]);
    conf.setRemoteParticipants('bp1', [carol, dave]); // the same list again: nothing new
    expect(events).toEqual(['joined Carol', 'joined Dave']);
    expect(conf.isRemote('c1')).toBe(true);
    expect(conf.participants).toHaveLength(0); // listed, not served here

    conf.setRemoteParticipants('bp1', [{ ...carol, isMuted: true }, dave]);
    expect(events.at(-1)).toBe('updated Carol');
    const shown = remoteClientObject(
      conf.remoteParticipants.find((r) => r.id === 'c1')!,
      conf.clientServiceType(),
    );
    expect(shown).toMatchObject({ uuid: 'c1', display_name: 'Carol', role: 'chair', protocol: 'api', is_muted: 'YES', disconnect_supported: 'YES' });
    expect(remoteClientObject(conf.remoteParticipants.find((r) => r.id === 'd1') as RemoteParticipant, 'conference')).toMatchObject({
      protocol: 'sip',
      role: 'guest',
      is_muted: 'NO',
    });

    // Another backplane's list leaves this one's participants alone; an empty list (closed) drops them.
    conf.setRemoteParticipants('bp2', []);
    expect(conf.remoteParticipants).toHaveLength(2);
    conf.setRemoteParticipants('bp1', [{ ...carol, isMuted: true }]);
    expect(events.at(-1)).toBe('left Dave');
    conf.setRemoteParticipants('bp1', []);
    expect(events.at(-1)).toBe('left Carol');
    expect(conf.remoteParticipants).toEqual([]);
    media.close();
  });

  it('counts them against the room’s participant limit: the conference is full across its nodes', () => {
    const media = new MediasoupConferenceMedia(engine, { announcedAddress: '127.0.0.1', portRange: [48500, 48599] }, log);
    const conf = new Conference({ ...service, participantLimit: 3 }, media);
    conf.setRemoteParticipants('bp1', [
      { id: 'c1', displayName: 'Carol', role: 'chair', protocol: 'webrtc' },
      { id: 'd1', displayName: 'Dave', role: 'guest', protocol: 'sip' },
    ]);
    expect(conf.isFull()).toBe(false);
    conf.setRemoteParticipants('bp2', [{ id: 'e1', displayName: 'Erin', role: 'guest', protocol: 'sip' }]);
    // Three in the conference, none of them here: a fourth caller on this node is refused.
    expect(conf.participants).toHaveLength(0);
    expect(conf.isFull()).toBe(true);
    conf.setRemoteParticipants('bp1', []);
    expect(conf.isFull()).toBe(false);
    media.close();
  });
});
