import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { nodeConfigSnapshotSchema, type NodeConfigSnapshot, type ServiceConfig } from '../../shared/node-protocol/messages.js';
import { EventEmitter } from 'node:events';
import type { CallLeg, ConferenceMedia, MediaEngineOptions, MediaParticipantState, MultiStreamSession, StagePosition } from '../media/MediaTypes.js';
import { REASON, type Conference } from './Conference.js';
import { ConferenceManager, type ConferenceManagerOptions, type JoinResult, type MediaSetup } from './ConferenceManager.js';
import type { Participant } from './Participant.js';
import { REFUSAL } from './ControlError.js';
import { ManualClock } from '../../shared/time/ManualClock.js';

const silent = pino({ level: 'silent' });

/** Conference rules are tested without an engine: this records what the media plane is told. */
class RecordingMedia extends EventEmitter implements ConferenceMedia {
  readonly told: [string, MediaParticipantState][] = [];
  constructor(
    readonly setup: MediaSetup,
    readonly opts: MediaEngineOptions,
  ) {
    super();
  }
  setParticipant(id: string, state: MediaParticipantState): void {
    this.told.push([id, { role: state.role, held: state.held }]);
  }
  createLeg(): CallLeg {
    throw new Error('no media in this test');
  }
  openSession(): MultiStreamSession {
    throw new Error('no media in this test');
  }
  session(): undefined {
    return undefined;
  }
  async capabilities() {
    return {};
  }
  videoCodec() {
    return 'video/VP8' as const;
  }
  videoTranscodes() {
    return [];
  }
  stopPresentation(): void {}
  hasPresentationStream(): boolean {
    return false;
  }
  stage(): StagePosition[] {
    return [];
  }
  removeParticipant(): void {}
  close(): void {}
}

const service = (over: Partial<ServiceConfig> & { id: number; aliases: string[] }): ServiceConfig => ({
  name: `svc-${over.id}`,
  serviceType: 'conference',
  pin: '',
  guestPin: '',
  allowGuests: false,
  participantLimit: null,
  guestsCanPresent: true,
  chatEnabled: null,
  cryptoMode: null,
  matchString: '',
  replaceString: '',
  themeId: null,
  tag: '',
  hostView: 'one_main_seven_pips',
  guestView: 'one_main_seven_pips',
  muteAllGuests: false,
  automaticParticipants: [],
  ...over,
});

const snapshot = (over: Record<string, unknown> = {}, settings: Record<string, unknown> = {}): NodeConfigSnapshot =>
  nodeConfigSnapshotSchema.parse({
    version: 'v',
    generatedAt: new Date().toISOString(),
    node: { id: 1, name: 'n', systemLocation: 'here' },
    settings,
    services: [
      service({ id: 1, aliases: ['room'], pin: '1234', allowGuests: true }),
      service({ id: 2, aliases: ['open'] }),
      service({ id: 3, aliases: ['lecture'], serviceType: 'lecture' }),
      service({ id: 4, aliases: ['test_call'], serviceType: 'test_call' }),
      service({ id: 5, aliases: ['reception'], serviceType: 'two_stage_dialing' }),
    ],
    ...over,
  });

describe('conference rules on the node (guide §15, §20.4, §24)', () => {
  let manager: ConferenceManager;
  let media: RecordingMedia[];
  const left: [string, string][] = [];
  // The conferences' timeouts run on a clock each test moves by hand.
  let clock: ManualClock;
  const wait = (ms: number) => clock.advance(ms);

  const make = (opts: ConferenceManagerOptions = {}) => {
    media = [];
    clock = new ManualClock();
    left.length = 0;
    manager = new ConferenceManager(
      (_s, setup) => {
        const m = new RecordingMedia(setup, { announcedAddress: '127.0.0.1', portRange: setup.portRange, mode: setup.mode });
        media.push(m);
        return m;
      },
      'n',
      silent,
      { clock, ...opts },
    );
    manager.on('participantLeft', (_c, p, reason) => left.push([p.displayName, reason]));
    return manager;
  };
  const join = (alias: string, displayName: string, pin?: string) => manager.join({ alias, displayName, pin, remoteAddress: '127.0.0.1', protocol: 'api' });
  const joined = (r: JoinResult): { conference: Conference; participant: Participant } => {
    if (r.kind !== 'joined') throw new Error(`not joined: ${r.kind}`);
    return r;
  };
  afterEach(() => manager?.close());

  it('gives new instances the media mode of their service type and the configured media port range', () => {
    make();
    manager.applyConfig(snapshot({}, { mediaPorts: [42000, 42999] }));
    for (const alias of ['open', 'lecture', 'test_call', 'reception']) joined(join(alias, alias));
    expect(media.map((m) => m.setup)).toEqual([
      { mode: 'conference', portRange: [42000, 42999] },
      { mode: 'lecture', portRange: [42000, 42999] },
      { mode: 'test_call', portRange: [42000, 42999] },
      { mode: 'reception', portRange: [42000, 42999] },
    ]);
    // A changed range is for instances started afterwards; a running one keeps its ports.
    manager.applyConfig(snapshot({}, { mediaPorts: [43000, 43999] }));
    joined(join('open', 'second'));
    expect(media).toHaveLength(4);
    joined(join('test_call', 'another tester'));
    expect(media[4]!.setup.portRange).toEqual([43000, 43999]);
    // Each tester has their own instance.
    expect(manager.conferences().filter((c) => c.service.serviceType === 'test_call')).toHaveLength(2);
  });

  it('lets a local media port range override the global setting', () => {
    make({ mediaPortRange: [41000, 41099] });
    manager.applyConfig(snapshot({}, { mediaPorts: [42000, 42999] }));
    joined(join('open', 'a'));
    expect(media[0]!.setup.portRange).toEqual([41000, 41099]);
  });

  it('refuses joins in maintenance mode while conferences in progress continue', () => {
    make();
    manager.applyConfig(snapshot());
    const { conference, participant } = joined(join('open', 'before'));
    manager.applyConfig(snapshot({ node: { id: 1, name: 'n', systemLocation: 'here', maintenanceMode: true } }));
    expect(join('open', 'after')).toEqual({ kind: 'maintenance' });
    expect(join('room', 'guest', 'none')).toEqual({ kind: 'maintenance' });
    expect(conference.isEnded).toBe(false);
    expect(conference.get(participant.id)).toBe(participant);
    manager.applyConfig(snapshot());
    expect(join('open', 'later').kind).toBe('joined');
  });

  it('counts other nodes’ participants against the participant limit before any backplane lists them (a node’s first caller)', () => {
    make();
    manager.applyConfig(snapshot({ services: [service({ id: 2, aliases: ['open'], participantLimit: 3 })] }));
    // Node 2 signals two of this room's participants; this node (1) has none and no instance yet.
    const platform = (here: number, there: number) => [
      { id: 1, participants: [{ conference: 'svc-2', count: here }] },
      {
        id: 2,
        participants: [
          { conference: 'svc-2', count: there },
          { conference: 'other', count: 9 },
        ],
      },
    ];
    manager.setPlatformParticipants(platform(0, 3));
    expect(join('open', 'fourth')).toEqual({ kind: 'full' });
    expect(manager.conferences()).toHaveLength(0);
    manager.setPlatformParticipants(platform(0, 2));
    const { conference } = joined(join('open', 'third'));
    // This node's own count in the relay is not counted twice: its members are counted instead.
    manager.setPlatformParticipants(platform(1, 2));
    expect(join('open', 'fourth')).toEqual({ kind: 'full' });
    // One of node 2's participants leaves: room for one more here.
    manager.setPlatformParticipants(platform(1, 1));
    expect(joined(join('open', 'fourth')).conference).toBe(conference);
    expect(join('open', 'fifth')).toEqual({ kind: 'full' });
    // A node no longer listed (gone) counts for nothing.
    manager.setPlatformParticipants([{ id: 1, participants: [{ conference: 'svc-2', count: 2 }] }]);
    expect(joined(join('open', 'fifth')).conference).toBe(conference);
  });

  it('holds Guests until a Host joins, then releases them; every participant passes its role to the media', () => {
    make();
    manager.applyConfig(snapshot());
    const g = joined(join('room', 'Gus', 'none'));
    const conf = g.conference;
    const events: string[] = [];
    conf.on('splashScreen', (p) => events.push(`splash:${p.displayName}:${p.splash?.screen_key ?? null}`));
    conf.on('participantUpdated', (p) => events.push(`update:${p.displayName}:${p.toClientObject(conf.clientServiceType())['service_type']}`));
    conf.on('statusChanged', () => events.push('status'));
    expect(g.participant.held).toBe(true);
    expect(g.participant.splash).toEqual({ screen_key: 'waiting_for_host', display_duration: 0 });
    expect(conf.clientServiceType(g.participant)).toBe('waiting_room');
    expect(g.participant.toClientObject(conf.clientServiceType()).service_type).toBe('waiting_room');
    expect(media[0]!.told).toEqual([[g.participant.id, { role: 'guest', held: true }]]);

    const h = joined(join('room', 'Hilda', '1234'));
    expect(g.participant.held).toBe(false);
    expect(conf.clientServiceType(g.participant)).toBe('conference');
    expect(media[0]!.told.slice(1)).toEqual([
      [h.participant.id, { role: 'host', held: false }],
      [g.participant.id, { role: 'guest', held: false }],
    ]);
    expect(events).toEqual(['splash:Gus:null', 'update:Gus:conference', 'status']);

    // A Guest arriving while a Host is present is not held.
    const g2 = joined(join('room', 'Gwen', 'none'));
    expect(g2.participant.held).toBe(false);
    expect(g2.participant.splash).toBeNull();
  });

  it('disconnects a Guest who waited the Waiting for Host timeout, per participant', async () => {
    make();
    manager.applyConfig(snapshot({}, { waitingForHostTimeout: 1 }));
    const a = joined(join('room', 'Early', 'none'));
    await wait(500);
    joined(join('room', 'Late', 'none'));
    await wait(700);
    expect(left).toEqual([['Early', REASON.waitingForHost]]);
    expect(a.conference.isEnded).toBe(false);
    await wait(600);
    expect(left.map((l) => l[0])).toEqual(['Early', 'Late']);
    expect(a.conference.isEnded).toBe(true);
  });

  it('ends the conference once only Guests remain: at once with a Guests-only timeout of 0', () => {
    make();
    manager.applyConfig(snapshot({}, { guestsOnlyTimeout: 0 }));
    const h = joined(join('room', 'Host', '1234'));
    joined(join('room', 'G1', 'none'));
    joined(join('room', 'G2', 'none'));
    h.conference.remove(h.participant.id, 'Participant released token');
    expect(h.conference.isEnded).toBe(true);
    expect(left).toEqual([
      ['Host', 'Participant released token'],
      ['G1', REASON.guestsOnly],
      ['G2', REASON.guestsOnly],
    ]);
  });

  it('ends the conference after the Guests-only timeout unless a Host comes back', async () => {
    make();
    manager.applyConfig(snapshot({}, { guestsOnlyTimeout: 1 }));
    const h = joined(join('room', 'Host', '1234'));
    const conf = h.conference;
    joined(join('room', 'G1', 'none'));
    joined(join('room', 'G2', 'none'));
    conf.remove(h.participant.id, 'left');
    await wait(600);
    const h2 = joined(join('room', 'Host again', '1234'));
    await wait(700);
    expect(conf.isEnded).toBe(false);
    conf.remove(h2.participant.id, 'left');
    await wait(1_200);
    expect(conf.isEnded).toBe(true);
    expect(left.slice(-2)).toEqual([
      ['G1', REASON.guestsOnly],
      ['G2', REASON.guestsOnly],
    ]);
  });

  it('removes the last participant after the backstop timeout, never with 0', async () => {
    make();
    manager.applyConfig(snapshot({}, { lastParticipantBackstopTimeout: 0 }));
    const alone = joined(join('open', 'Alone'));
    await wait(1_100);
    expect(alone.conference.isEnded).toBe(false);
    alone.conference.end();

    manager.applyConfig(snapshot({}, { lastParticipantBackstopTimeout: 1 }));
    const a = joined(join('open', 'A'));
    const b = joined(join('open', 'B'));
    await wait(1_100);
    // Two participants: the backstop does not apply.
    expect(a.conference.isEnded).toBe(false);
    a.conference.remove(b.participant.id, 'left');
    await wait(1_100);
    expect(a.conference.isEnded).toBe(true);
    expect(left.at(-1)).toEqual(['A', REASON.backstop]);
  });

  it('runs the Test Call Service sequence and hangs up', async () => {
    make({ testCallTimings: { welcomeMs: 100, inProgressMs: 200, completeMs: 100 } });
    manager.applyConfig(snapshot());
    const t = joined(join('test_call', 'Tester'));
    expect(t.conference.clientServiceType(t.participant)).toBe('test_call');
    const screens: (string | null)[] = [t.participant.splash?.screen_key ?? null];
    t.conference.on('splashScreen', (p) => screens.push(p.splash?.screen_key ?? null));
    await wait(550);
    expect(screens).toEqual(['test_call_welcome', 'test_call_in_progress', 'test_call_complete']);
    expect(left).toEqual([['Tester', REASON.testCallFinished]]);
    expect(manager.conferences()).toHaveLength(0);
  });

  it('takes chat from the service, else the global setting', () => {
    make();
    manager.applyConfig(snapshot({}, { chatEnabled: false }));
    expect(manager.chatEnabled(service({ id: 9, aliases: [] }))).toBe(false);
    expect(manager.chatEnabled(service({ id: 9, aliases: [], chatEnabled: true }))).toBe(true);
    manager.applyConfig(snapshot());
    expect(manager.chatEnabled(service({ id: 9, aliases: [], chatEnabled: false }))).toBe(false);
  });

  describe('one conference across nodes (meeting control over backplanes)', () => {
    const remoteHost = { id: 'r-host', displayName: 'Rita', role: 'chair', protocol: 'webrtc' } as const;
    const remoteGuest = { id: 'r-guest', displayName: 'Rob', role: 'guest', protocol: 'sip' } as const;

    it("a Host on another node lets this node's Guests in; a held one does not; its leaving counts as the last Host leaving", async () => {
      make();
      manager.applyConfig(snapshot({}, { guestsOnlyTimeout: 1 }));
      const g = joined(join('room', 'Gus', 'none'));
      const conf = g.conference;
      conf.setRemoteParticipants('bp', [{ ...remoteHost, held: true }]);
      expect(g.participant.held).toBe(true);
      expect(conf.hasHost).toBe(false);
      conf.setRemoteParticipants('bp', [remoteHost]);
      expect(g.participant.held).toBe(false);
      expect(conf.hasHost).toBe(true);
      // A Guest arriving now is not held either.
      expect(joined(join('room', 'Gwen', 'none')).participant.held).toBe(false);
      // The backplane no longer brings the Host: only Guests remain, the Guests-only timeout runs.
      conf.setRemoteParticipants('bp', [remoteGuest]);
      await wait(1_000);
      expect(left).toEqual([
        ['Gus', REASON.guestsOnly],
        ['Gwen', REASON.guestsOnly],
      ]);
    });

    it('shares lock and mute-all-Guests with the other nodes, where the newest change wins and is not sent back', () => {
      make();
      manager.applyConfig(snapshot());
      const h = joined(join('room', 'Hilda', '1234'));
      const g = joined(join('room', 'Gus', 'none'));
      const conf = h.conference;
      const shared: unknown[] = [];
      conf.on('shareControl', (control, backplane) => shared.push([control, backplane]));
      manager.control.conference(conf, h.participant, 'lock');
      expect(shared).toEqual([[{ kind: 'state', locked: true, guestsMuted: false, guestsCanUnmute: false, changedAt: expect.any(Number) }, null]]);
      const lockedAt = conf.sharedState.changedAt;
      // An older state from another node changes nothing.
      conf.applySharedState({ kind: 'state', locked: false, guestsMuted: true, guestsCanUnmute: false, changedAt: lockedAt - 1 });
      expect(conf.locked).toBe(true);
      expect(g.participant.isMuted).toBe(false);
      // A newer one applies here (Guests muted, unlocked) and goes nowhere else.
      conf.applySharedState({ kind: 'state', locked: false, guestsMuted: true, guestsCanUnmute: true, changedAt: lockedAt + 10 });
      expect([conf.locked, conf.guestsMuted, conf.guestsCanUnmute, g.participant.isMuted]).toEqual([false, true, true, true]);
      expect(shared).toHaveLength(1);
      expect(conf.sharedState.changedAt).toBe(lockedAt + 10);
      // A later local change is newer than what came from elsewhere.
      manager.control.conference(conf, h.participant, 'unmuteguests');
      expect(shared).toHaveLength(2);
      expect(conf.sharedState.changedAt).toBeGreaterThan(lockedAt + 10);
    });

    it("sends a Host's control of another node's participant to that node, refuses a Guest's and what only that node can do, and ends the conference everywhere", () => {
      make();
      manager.applyConfig(snapshot());
      const h = joined(join('room', 'Hilda', '1234'));
      const g = joined(join('room', 'Gus', 'none'));
      const conf = h.conference;
      conf.setRemoteParticipants('bp-7', [remoteGuest]);
      const shared: unknown[] = [];
      conf.on('shareControl', (control, backplane) => shared.push([control, backplane]));
      manager.control.participant(conf, h.participant, 'r-guest', 'mute');
      manager.control.participant(conf, h.participant, 'r-guest', 'disconnect');
      manager.control.setRole(conf, h.participant, 'r-guest', 'chair');
      expect(shared).toEqual([
        [{ kind: 'participant', participantId: 'r-guest', action: 'mute' }, 'bp-7'],
        [{ kind: 'participant', participantId: 'r-guest', action: 'disconnect' }, 'bp-7'],
        [{ kind: 'role', participantId: 'r-guest', role: 'chair' }, 'bp-7'],
      ]);
      expect(() => manager.control.participant(conf, g.participant, 'r-guest', 'mute')).toThrow(REFUSAL.invalidRole);
      expect(() => manager.control.participant(conf, h.participant, 'r-guest', 'buzz')).toThrow(REFUSAL.notOnThisNode);
      expect(() => manager.control.transfer(conf, h.participant, 'r-guest', { conference_alias: 'open', role: 'guest' })).toThrow(REFUSAL.notOnThisNode);
      expect(() => manager.control.participant(conf, h.participant, 'nobody', 'mute')).toThrow(REFUSAL.notFound);
      expect(shared).toHaveLength(3);
      manager.control.conference(conf, h.participant, 'disconnect');
      expect(shared.at(-1)).toEqual([{ kind: 'end', reason: REASON.conferenceByParticipant }, null]);
      expect(conf.isEnded).toBe(true);
    });
  });
});
