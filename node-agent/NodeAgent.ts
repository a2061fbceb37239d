import { existsSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { hostname as osHostname } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import pino, { type DestinationStream, type Logger } from 'pino';
import { SipCalls } from './sip/SipCalls.js';
import { DialOut } from './sip/dialout/DialOut.js';
import { GatewayCalls } from './sip/gateway/GatewayCalls.js';
import { SipServer } from './sip/SipServer.js';
import { DEFAULT_REGISTRAR_SETTINGS, Registrar, type RegistrarDevice, type RegistrarSettings } from './sip/registrar/Registrar.js';
import { registerClientApi } from './client-api/clientApi.routes.js';
import { EventHub } from './client-api/EventHub.js';
import { resolveClientApiLimits, type ClientApiLimits } from './client-api/ClientApiLimits.js';
import { TrustedProxies } from './client-api/TrustedProxies.js';
import { registerMediaRoutes } from './client-api/media.routes.js';
import { registerVirtualReception } from './client-api/reception.routes.js';
import type { TestCallTimings } from './conference/Conference.js';
import { ConferenceManager } from './conference/ConferenceManager.js';
import { pinCallerLive } from './conference/PinCaller.js';
import { EventSinks } from './events/EventSinks.js';
import type { PublisherTimings } from './events/EventSinkPublisher.js';
import { NodeAlarms } from './alarms/NodeAlarms.js';
import { SyslogForwarder } from './logging/SyslogForwarder.js';
import { teeLogger } from './logging/teeLogger.js';
import { SupportLogShipper } from './logging/SupportLogShipper.js';
import { ActiveSpeaker } from './management/ActiveSpeaker.js';
import { reportStateChanges } from './status/stateReports.js';
import { ManagementLink, managementUrls } from './management/ManagementLink.js';
import { runNodeCommand } from './management/NodeCommands.js';
import { observeJoinLatency } from './status/joinLatency.js';
import { observeMediaBytes } from './status/mediaBytes.js';
import { NodeTlsListener } from './tls/NodeTlsListener.js';
import { registerNodeThemes } from './theme/theme.routes.js';
import { dtmfControls } from './theme/dtmfControls.js';
import { MediasoupConferenceMedia } from './media/mediasoup/MediasoupConferenceMedia.js';
import { SipCallLeg } from './sip/SipCallLeg.js';
import { themePrompt } from './sip/ivr/themePrompts.js';
import { MediasoupEngine, type RouterLimits } from './media/mediasoup/MediasoupEngine.js';
import { Backplanes } from './media/backplane/Backplanes.js';
import { RemoteLegs } from './media/remote/RemoteLegs.js';
import { MediaStatistics } from './status/MediaStatistics.js';
import { NodeLoadMeter } from './status/NodeLoad.js';
import { MediaAdmission } from './allocation/MediaAdmission.js';
import { nodeMetrics } from './status/nodeMetrics.js';
import type { NodeLoad } from '../shared/node-protocol/mediaStatus.js';
import { type NodeToServer, NODE_LOAD_INTERVAL_MS, nodeConfigSnapshotSchema } from '../shared/node-protocol/messages.js';
import type { Clock } from '../shared/time/Clock.js';

export const NODE_AGENT_VERSION = '0.1.0';

/** Participant and conference end records kept while the management server is unreachable (a 2-hour call's is about 30 kB). */
const MAX_UNSENT_RECORDS = 1_000;

const round2 = (n: number) => Math.round(n * 100) / 100;

export interface NodeAgentOptions {
  /** Node name, unique per platform (≤32); default `node-<hostname>`. */
  name?: string;
  /** Management server URL; default http://127.0.0.1:8080. Several servers on one database: comma-separated, tried in turn. */
  managementUrl?: string;
  /** The platform's enrollment key: enrolls a node started on the management server's machine (quick start, tests). */
  enrollmentKey?: string;
  /** A one-time enrollment token issued for this node in the console (first contact only). */
  enrollmentToken?: string;
  /** Trust for an https:// management URL: its certificate (PEM) or pinned SHA-256 fingerprint (ManagementLink). */
  managementTls?: { ca?: string; fingerprint?: string };
  /** Heartbeats towards the management server; default NODE_HEARTBEAT. */
  linkHeartbeat?: { intervalMs: number; timeoutMs: number };
  /** Event sink retry timings; default the guide's (1 s doubling, stopped past 30 minutes). */
  eventSinkTimings?: Partial<PublisherTimings>;
  /** The event sinks' clock (retry waits, request limits); default the system clock. */
  eventSinkClock?: Clock;
  /** The syslog forwarder's clock (reconnection backoff); default the system clock. */
  syslogClock?: Clock;
  /** The management link's clock (heartbeat, reconnection); default the system clock. */
  linkClock?: Clock;
  /** The conferences' clock (waiting for a Host, Guests-only, backstop, Test Call); default the system clock. */
  conferenceClock?: Clock;
  /** Client API / web app port; default 8081. 0 picks a free port. */
  port?: number;
  /** Listen and media address; default 127.0.0.1. */
  address?: string;
  /** UDP media port range overriding the global setting "Media port range" (several nodes on one host). */
  mediaPortRange?: [number, number];
  /** mediasoup worker processes; default one per core. */
  mediaWorkers?: number;
  /** When a conference's router is full and the next participants go to a router on another worker (MediasoupEngine). */
  mediaRouterLimits?: Partial<RouterLimits>;
  /** Test Call Service timeline (default about 20 s, guide §15); tests shorten it. */
  testCallTimings?: Partial<TestCallTimings>;
  /** External policy server timeout (default 5 s, then the node's own configuration is used); tests shorten it. */
  policyTimeoutMs?: number;
  /** HTTPS port served with the node's assigned TLS certificate (while one is assigned); unset = no HTTPS. 0 picks a free port. */
  httpsPort?: number;
  /** SIP over UDP and TCP on this port (5060 from main.ts); unset = no SIP. 0 picks a free port. */
  sipPort?: number;
  /** SIP over TLS on this port with the node's TLS certificate (5061 from main.ts); unset = no SIP TLS. 0 picks a free port. */
  sipTlsPort?: number;
  /** Configuration cache directory; default ./data/node-<name>. */
  dataDir?: string;
  /** Built web assets (the meeting client); default ./dist/web. */
  webRoot?: string;
  /** How often media statistics and node load are measured and reported; default 5 s each (tests shorten it). */
  statusIntervalMs?: { media?: number; load?: number };
  /** Client API bounds (streams per participant/address, stream buffer, request_token rate); defaults and env in ClientApiLimits.ts. */
  clientApiLimits?: Partial<ClientApiLimits>;
  logger?: Logger;
}

/** Pexip's answer to a refused request. */
const failed = (reply: FastifyReply, code: number, result: string) => reply.code(code).send({ status: 'failed', result });

/** One conferencing node: client API + meeting client over HTTP, WebRTC media, link to management. */
export class NodeAgent {
  private constructor(
    readonly app: FastifyInstance,
    readonly manager: ConferenceManager,
    readonly link: ManagementLink,
    /** The HTTPS port, when enabled. */
    readonly tls: NodeTlsListener | null = null,
    /** Sends the node's support log to its location's syslog servers. */
    readonly syslog: SyslogForwarder,
    /** The client API's event streams (tests check what it holds). */
    readonly hub: EventHub,
    /** Every participant's media streams and call quality. */
    readonly statistics: MediaStatistics,
    /** CPU, memory, media ports and load in the guide's units. */
    readonly load: NodeLoadMeter,
    /** SIP signalling, when enabled. */
    readonly sip: SipServer | null = null,
  ) {}

  get url(): string {
    const a = this.app.server.address() as AddressInfo;
    return `http://${a.address}:${a.port}`;
  }

  static async start(opts: NodeAgentOptions): Promise<NodeAgent> {
    const name = opts.name ?? `node-${osHostname()}`.slice(0, 32);
    // Everything the node logs goes where the logger writes (stdout, or the test's logger) and, at
    // info and above, to the location's syslog servers, whatever the given logger's level.
    const syslog = new SyslogForwarder({ hostname: name, ...(opts.syslogClock ? { clock: opts.syslogClock } : {}) });
    // ...and to the management server's support log (sent once the link is up; see below).
    const shipLink: { current?: ManagementLink } = {};
    const supportLog = new SupportLogShipper((msg) => {
      if (!shipLink.current?.connected) return false;
      shipLink.current.send(msg);
      return true;
    });
    const logStreams: DestinationStream = {
      write: (line: string) => {
        syslog.destination.write(line);
        supportLog.destination.write(line);
      },
    };
    const log = teeLogger(opts.logger ?? pino({ level: process.env.LOG_LEVEL ?? 'info' }), logStreams).child({ name: 'node', node: name });
    syslog.setLogger(log.child({ part: 'syslog' }));
    const address = opts.address ?? '127.0.0.1';
    const mediaLog = log.child({ part: 'media' });
    const engine = new MediasoupEngine(mediaLog, { workers: opts.mediaWorkers, routerLimits: opts.mediaRouterLimits });
    const manager = new ConferenceManager(
      (_service, setup) => new MediasoupConferenceMedia(engine, { announcedAddress: address, portRange: setup.portRange, mode: setup.mode }, mediaLog),
      name,
      log.child({ part: 'conference' }),
      {
        mediaPortRange: opts.mediaPortRange,
        testCallTimings: opts.testCallTimings,
        policyTimeoutMs: opts.policyTimeoutMs,
        ...(opts.conferenceClock ? { clock: opts.conferenceClock } : {}),
      },
    );

    // The client's address (break-in resistance, rate limits, status) is the socket's peer, or behind
    // a trusted reverse proxy the rightmost untrusted X-Forwarded-For hop (global setting).
    const trustedProxies = new TrustedProxies();
    const app = Fastify({
      loggerInstance: log.child({ part: 'http' }, { level: 'warn' }) as FastifyBaseLogger,
      bodyLimit: 1024 * 1024,
      trustProxy: trustedProxies.trusts,
      // A malformed or overlong path is refused before routing: in Pexip's shape too, without echoing it.
      frameworkErrors: (err, _req, reply) =>
        failed(reply as FastifyReply, err.statusCode ?? 400, err.statusCode === 414 ? 'Request path too long' : 'Malformed request path'),
    });
    // sendBeacon posts release_token as a blob: accept any body type as text and try JSON.
    app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => {
      try {
        done(null, body ? JSON.parse(body as string) : {});
      } catch {
        done(null, {});
      }
    });
    // Whatever goes wrong answers in Pexip's shape ({status, result}), never Fastify's own (clients
    // parse every body); a real fault is logged here and its detail never leaves the node.
    app.setNotFoundHandler((_req, reply) => failed(reply, 404, 'Not found'));
    app.setErrorHandler((err: { statusCode?: number; message?: string }, req, reply) => {
      const code = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
      if (code === 500) req.log.error({ err, url: req.url }, 'request failed');
      return failed(reply, code, code === 500 ? 'Internal error' : (err.message ?? 'Bad request'));
    });
    // Registered before the management link's listeners: a participant's meter exists before it is reported.
    const statistics = new MediaStatistics(
      () =>
        manager.conferences().flatMap((c) =>
          c.participants.map((p) => ({
            conferenceId: c.id,
            participantId: p.id,
            measure: async () => (await (p.leg?.mediaStreams?.() ?? (p.remoteSession ?? c.media.session(p.id))?.mediaStreams())) ?? [],
          })),
        ),
      { intervalMs: opts.statusIntervalMs?.media, log: log.child({ part: 'statistics' }) },
    );
    manager.on('participantJoined', (c, p) => statistics.track(c.id, p.id));
    const load = new NodeLoadMeter({
      workers: () => engine.resourceUsage(),
      mediaPortsInUse: () => engine.mediaPortsInUse,
      mediaPortRange: () => opts.mediaPortRange ?? manager.settings.mediaPorts,
      maintenanceMode: () => manager.maintenanceMode,
      signalingCount: () => manager.conferences().reduce((n, c) => n + c.size, 0),
      participants: () => statistics.all(),
      mediaTokens: () => ({ used: admission.tokensUsed, max: admission.maxMediaTokens }),
    });
    // Started once the management link exists; cleared on close (the hook must be added before listen).
    const timers: { load?: NodeJS.Timeout } = {};
    app.addHook('onClose', async () => {
      clearInterval(timers.load);
      statistics.stop();
    });
    const clientLimits = resolveClientApiLimits(opts.clientApiLimits);
    const hub = new EventHub(manager, clientLimits);
    // Conference and participant events to the location's event sinks; flushed best effort on close.
    // The node's own alarms (a sink at maximum backoff, a syslog server inaccessible), reported to the management server.
    const nodeAlarms = new NodeAlarms();
    // Capacity and media allocation at each call start (issue 14).
    const admission = new MediaAdmission({
      participants: () => statistics.all(),
      // Test calls, Virtual Receptions and gateway calls never span nodes: no backplane to reserve.
      conferencesHosted: () =>
        manager.conferences().filter((c) => !c.gateway && (c.service.serviceType === 'conference' || c.service.serviceType === 'lecture')).length,
      linked: () => link.connected,
      maintenanceMode: () => manager.maintenanceMode,
      alarms: nodeAlarms,
      log: log.child({ part: 'allocation' }),
      changed: () => reportLoadSoon(),
    });
    manager.admission = admission;
    manager.on('participantLeft', (_c, p) => admission.release(p.id));
    syslog.onReachability = (server, reachable, detail) =>
      reachable ? nodeAlarms.lower('syslog_inaccessible', server) : nodeAlarms.raise('syslog_inaccessible', server, detail);
    const eventSinks = new EventSinks({
      node: name,
      log: log.child({ part: 'event-sinks' }),
      alarms: nodeAlarms,
      timings: opts.eventSinkTimings,
      clock: opts.eventSinkClock,
    });
    eventSinks.attach(manager);
    app.addHook('onClose', async () => eventSinks.close());
    app.addHook('onClose', async () => supportLog.stop());
    app.addHook('onClose', async () => engine.close());
    registerClientApi(app, manager, hub, log.child({ part: 'client-api' }), clientLimits, statistics);
    registerMediaRoutes(app, manager, hub, log.child({ part: 'client-api' }));
    // Read by handlers registered before the link exists.
    const linkRef: { current?: ManagementLink } = {};
    const themes = await registerNodeThemes(app, manager, {
      // With several management servers, the one the link is connected to (its session is valid there only).
      managementUrl: () => linkRef.current?.managementUrl ?? managementUrls(opts.managementUrl ?? 'http://127.0.0.1:8080')[0]!,
      enrollmentKey: opts.enrollmentKey,
      session: () => linkRef.current?.session ?? null,
      managementTls: opts.managementTls,
      dataDir: opts.dataDir ?? join(process.cwd(), 'data', `node-${name}`),
      log: log.child({ part: 'themes' }),
    });
    // The Host keypad controls are the service's theme's (enable_dtmf_conference_control, dtmf_conference_control_commands).
    manager.control.dtmfCommands = (conf) => dtmfControls(themes.layersFor(conf.service).map((l) => l.config));
    const receptions = registerVirtualReception(
      app,
      manager,
      hub,
      log.child({ part: 'virtual-reception' }),
      () => linkRef.current?.config?.node.systemLocation ?? null,
    );
    // Event-loop lag: media never runs on this thread, so it should stay low while media flows.
    // Reported over the last complete 10 s window.
    const loopDelay = monitorEventLoopDelay({ resolution: 10 });
    loopDelay.enable();
    let lag = { p50: 0, p95: 0, max: 0, windowS: 10 };
    const lagWindow = setInterval(() => {
      lag = { p50: round2(loopDelay.percentile(50) / 1e6), p95: round2(loopDelay.percentile(95) / 1e6), max: round2(loopDelay.max / 1e6), windowS: 10 };
      loopDelay.reset();
    }, 10_000).unref();
    app.addHook('onClose', async () => {
      clearInterval(lagWindow);
      loopDelay.disable();
    });
    // Prometheus text: conferences, participants, load, packets and loss, event-loop lag.
    let lastLoad: NodeLoad | null = null;
    const metrics = nodeMetrics(name, manager, statistics, () => lastLoad);
    observeJoinLatency(app, manager, metrics);
    observeMediaBytes(metrics, engine.participantTransports);
    app.get('/metrics', async (_req, reply) => reply.type(metrics.contentType).send(await metrics.metrics()));
    app.get('/healthz', async () => ({
      ok: true,
      configured: (linkRef.current?.config ?? null) !== null,
      managementConnected: linkRef.current?.connected ?? false,
      decommissioned: linkRef.current?.decommissioned ?? false,
      services: manager.directory.size,
      conferences: manager.conferences().length,
      mediaWorkers: await engine.workers().catch(() => []),
      eventLoopLagMs: lag,
    }));

    const webRoot = opts.webRoot ?? join(process.cwd(), 'dist', 'web');
    if (existsSync(join(webRoot, 'webapp', 'index.html'))) {
      await app.register(fastifyStatic, { root: webRoot, prefix: '/', index: false });
      app.get('/webapp', (_req, reply) => reply.redirect('/webapp/'));
      app.get('/webapp/', (_req, reply) => reply.sendFile('webapp/index.html'));
    } else {
      log.warn({ webRoot }, 'meeting client not built (npm run build); serving the client API only');
    }

    await app.listen({ port: opts.port ?? 8081, host: address });
    const port = (app.server.address() as AddressInfo).port;

    /** Each live conference's current speaker, reported to the management server as it changes. */
    const speakers = new Map<string, ActiveSpeaker>();
    const link = new ManagementLink({
      managementUrl: opts.managementUrl ?? 'http://127.0.0.1:8080',
      enrollmentKey: opts.enrollmentKey,
      enrollmentToken: opts.enrollmentToken,
      managementTls: opts.managementTls,
      heartbeat: opts.linkHeartbeat,
      ...(opts.linkClock ? { clock: opts.linkClock } : {}),
      name,
      hostname: osHostname().slice(0, 63),
      address,
      clientApiUrl: `http://${address}:${port}`,
      version: NODE_AGENT_VERSION,
      dataDir: opts.dataDir ?? join(process.cwd(), 'data', `node-${name}`),
      liveStatus: () => manager.liveStatus().map((c) => ({ ...c, activeSpeaker: speakers.get(c.id)?.current ?? null })),
      log: log.child({ part: 'management-link' }),
    });
    linkRef.current = link;
    shipLink.current = link;
    supportLog.start();
    nodeAlarms.attach(link);
    link.on('config', (snapshot) => manager.applyConfig(snapshot));
    // Revoked or deleted by an administrator: end every call and serve nothing more.
    link.on('decommissioned', (reason) => {
      log.error({ reason }, 'this conferencing node was revoked or deleted; it stops serving');
      manager.close();
      manager.applyConfig(
        nodeConfigSnapshotSchema.parse({
          version: 'decommissioned',
          generatedAt: new Date().toISOString(),
          node: { id: 0, name, systemLocation: '' },
          services: [],
        }),
      );
    });
    link.on('config', (snapshot) => trustedProxies.apply(snapshot.settings.trustedProxies));
    // Break-in blocks to the management server (coalesced: a scan can start many at once), and lifts back.
    let blocksTimer: NodeJS.Timeout | null = null;
    const sendBlocks = () => link.send({ type: 'break_in_blocks', blocks: manager.breakIn.blocks() });
    manager.breakIn.on('blocks', () => {
      blocksTimer ??= setTimeout(() => {
        blocksTimer = null;
        sendBlocks();
      }, 100).unref();
    });
    link.on('connected', sendBlocks);
    link.on('liftBreakInBlock', (kind, key) => {
      // Nothing to lift (it ran out meanwhile): the list sent back lets the server forget it.
      if (!manager.breakIn.lift(kind, key)) sendBlocks();
    });
    // Backplanes to other nodes holding the same conference, as the management server pairs them (issue 14);
    // each closes with its conference (the node stopping ends them all).
    const backplanes = new Backplanes(manager, (msg) => link.send(msg), log.child({ part: 'backplanes' }));
    link.on('backplane', (msg) => backplanes.handle(msg));
    // Calls whose media is on another node than their signalling, both ways (media allocation's rule 7).
    const remoteLegs = new RemoteLegs(manager, {
      send: (msg) => link.send(msg),
      log: log.child({ part: 'remote-media' }),
      hold: (participantId, call) => admission.hold(participantId, call),
      release: (participantId) => admission.release(participantId),
      fits: (call, hostsConference) => admission.fits(call, hostsConference),
      selfId: () => manager.node?.id ?? null,
      // A proxying node's edge relays listen where its media would.
      relayAddress: address,
      relayPorts: () => opts.mediaPortRange ?? manager.settings.mediaPorts,
      // Another node's SIP call: its plain-RTP leg in this node's instance of the conference, prompts from its theme.
      sipLeg: (conference, participantId, encryption) =>
        conference.media instanceof MediasoupConferenceMedia ? new SipCallLeg(participantId, conference.media, log.child({ part: 'sip' }), encryption) : null,
      prompt: (conference, name) => themePrompt(themes, conference.service, name),
    });
    manager.remoteLegs = remoteLegs;
    admission.remoteMedia = () => link.connected;
    link.on('mediaRelay', (fromNode, message) => remoteLegs.handle(fromNode, message));
    link.on('platformLoad', (nodes) => remoteLegs.nodesLive(new Set(nodes.map((n) => n.id))));
    link.on('command', (requestId, command) => {
      link.send({ type: 'command_result', requestId, ...runNodeCommand(manager, command, log.child({ part: 'commands' })) });
    });
    link.on('config', (snapshot) => syslog.apply(snapshot.location?.syslogServers ?? []));
    link.on('config', (snapshot) => eventSinks.apply(snapshot.location?.eventSinks ?? []));
    link.on('config', (snapshot) => void themes.apply(snapshot));
    const tls = opts.httpsPort === undefined ? null : new NodeTlsListener(app, { port: opts.httpsPort, address, log: log.child({ part: 'tls' }) });
    if (tls) link.on('config', (snapshot) => void tls.apply(snapshot.tls));
    manager.on('conferenceStarted', (c) => {
      link.send({ type: 'conference_started', conference: c.toLive(name) });
      reportStateChanges(c, name, (msg) => link.send(msg));
      // Callers at the PIN entry screen are live with role Unknown; one that hangs up there leaves a record with that role.
      c.on('pinCallerJoined', (pc) => link.send({ type: 'participant_joined', conferenceId: c.id, participant: pinCallerLive(pc, name) }));
      c.on('pinCallerLeft', (pc, admitted) => {
        // Let in: the participant it became (same id) takes its place in the live status.
        if (admitted) return;
        sendRecord({ type: 'participant_left', conferenceId: c.id, participantId: pc.id, participant: pinCallerLive(pc, name), conference: c.toRecord() });
      });
      const speaker = new ActiveSpeaker();
      speakers.set(c.id, speaker);
      c.media.on('stage', (stage) => {
        if (speaker.update(stage) && speakers.get(c.id) === speaker) link.send({ type: 'active_speaker', conferenceId: c.id, participantId: speaker.current });
      });
    });
    // Participant and conference ends are the records (CDRs) the server keeps: kept while it is
    // unreachable and sent when the link is back (after the node's status resync), the oldest
    // dropped past a bound.
    const unsentRecords: NodeToServer[] = [];
    const sendRecord = (msg: NodeToServer) => {
      if (link.connected) return link.send(msg);
      unsentRecords.push(msg);
      if (unsentRecords.length > MAX_UNSENT_RECORDS) unsentRecords.shift();
    };
    manager.on('conferenceEnded', (c) => {
      speakers.delete(c.id);
      sendRecord({ type: 'conference_ended', conferenceId: c.id, endTime: new Date().toISOString(), conference: c.toRecord() });
    });
    manager.on('participantJoined', (c, p) => link.send({ type: 'participant_joined', conferenceId: c.id, participant: p.toLive(name) }));
    manager.on('participantLeft', (c, p, reason) => {
      const record = statistics.finish(p.id, reason);
      sendRecord({
        type: 'participant_left',
        conferenceId: c.id,
        participantId: p.id,
        ...(record ? { record } : {}),
        participant: p.toLive(name),
        conference: c.toRecord(),
        ...(p.callTag ? { callTag: p.callTag } : {}),
      });
    });
    link.on('connected', () => {
      for (const msg of unsentRecords.splice(0)) link.send(msg);
    });
    // Media statistics and node load, every few seconds (issue 12: at least every 5 s).
    statistics.on('report', (at, participants) => link.send({ type: 'media_statistics', at, participants }));
    statistics.start();
    const reportLoad = () =>
      void load.measure().then(
        (l) => {
          lastLoad = l;
          link.send({ type: 'node_load', load: l });
        },
        (err: unknown) => log.warn({ err }, 'node load could not be measured'),
      );
    timers.load = setInterval(() => {
      admission.checkAlarm();
      reportLoad();
    }, opts.statusIntervalMs?.load ?? NODE_LOAD_INTERVAL_MS).unref();
    link.on('connected', reportLoad);
    // The other nodes allocate media by this load: a join, a call held or freed is reported soon, not at the next interval.
    let loadSoon: NodeJS.Timeout | null = null;
    const reportLoadSoon = () => {
      loadSoon ??= setTimeout(() => {
        loadSoon = null;
        reportLoad();
      }, 200).unref();
    };
    manager.on('participantJoined', reportLoadSoon);
    link.on('config', (snapshot) => admission.configure(snapshot.node.id, snapshot.platform));
    link.on('platformLoad', (nodes) => {
      admission.setLoads(nodes);
      manager.setPlatformParticipants(nodes);
    });
    // The registrar answers REGISTER from the device allow-list of the latest snapshot and reports its registrations.
    let devices: RegistrarDevice[] = [];
    let registrarSettings: RegistrarSettings = DEFAULT_REGISTRAR_SETTINGS;
    link.on('config', (snapshot) => {
      devices = snapshot.devices;
      registrarSettings = snapshot.registrar;
    });
    const registrations = () =>
      registrar.list().map((r) => ({
        registrationId: r.registrationId,
        alias: r.alias,
        username: r.username,
        protocol: r.protocol,
        remoteAddress: r.remoteAddress,
        isNatted: r.isNatted,
        vendor: r.vendor,
        startTime: new Date(r.startTime).toISOString(),
        contact: r.contact,
        transport: r.transport,
        expiresAt: new Date(r.expiresAt).toISOString(),
      }));
    const registrar = new Registrar({
      devices: () => devices,
      settings: () => registrarSettings,
      maintenanceMode: () => manager.maintenanceMode,
      onChange: () => link.send({ type: 'registrations', registrations: registrations() }),
      log,
    });
    link.on('connected', () => link.send({ type: 'registrations', registrations: registrations() }));
    // SIP calls resolve aliases through the same directory and break-in counters as WebRTC.
    // SIP calls to a VMR join its conference with plain-RTP media (sip/SipCalls.ts).
    const sipCalls = new SipCalls(manager, log, receptions, themes);
    // Gateway calls (Call Routing Rules) need the server they place calls with: bound once it exists.
    const late: { gateway?: GatewayCalls } = {};
    const sip =
      opts.sipPort === undefined
        ? null
        : new SipServer({
            host: address,
            port: opts.sipPort,
            tlsPort: opts.sipTlsPort,
            directory: manager.directory,
            breakIn: manager.breakIn,
            registrar,
            log,
            // Session timers on the conferences' clock (tests drive it by hand).
            clock: manager.clock,
            onServiceInvite: (call) => sipCalls.invite(call),
            onUnmatchedInvite: (call) => late.gateway?.invite(call) ?? Promise.resolve(undefined),
          });
    if (sip) {
      sipCalls.hangUp = (callId) => sip.hangUp(callId);
      sipCalls.sendInfo = (callId, contentType, body) => sip.sendInfo(callId, contentType, body);
    }
    // Calls the node places (client API dial, command API, ADPs): sip/dialout/.
    if (sip) {
      const dialOut = new DialOut(manager, sip, log, address);
      manager.control.dialer = (conf, req) => dialOut.dial(conf, req);
      const gateway = (late.gateway = new GatewayCalls(manager, dialOut, log, address));
      gateway.hangUp = (callId) => sip.hangUp(callId);
      manager.gateway = (req, route) => gateway.joinWebRtc(req, route);
    }
    // A port already taken leaves the node serving WebRTC; the log says why SIP is not there.
    await sip?.start().catch((err: unknown) => log.error({ err, port: opts.sipPort }, 'SIP could not listen'));
    // Global settings Enable SIP / Enable SIP UDP switch the transports; TLS listens while the node has a certificate.
    link.on('config', ({ settings, tls }) => {
      void sip?.applyTransports({ udp: settings.enableSip && settings.enableSipUdp, tcp: settings.enableSip, tls: settings.enableSip ? tls : null });
    });
    await link.start();
    return new NodeAgent(app, manager, link, tls, syslog, hub, statistics, load, sip);
  }

  async stop(): Promise<void> {
    this.manager.remoteLegs?.closeAll();
    this.manager.close();
    this.link.stop();
    await this.sip?.stop();
    await this.tls?.close();
    await this.app.close();
    this.syslog.close();
  }
}
