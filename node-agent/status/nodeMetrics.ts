import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { ConferenceManager } from '../conference/ConferenceManager.js';
import type { NodeLoad } from '../../shared/node-protocol/mediaStatus.js';
import type { MediaStatistics } from './MediaStatistics.js';

/**
 * The node's `/metrics` in Prometheus text: live conferences and participants, media load,
 * ports and calls, packets received and sent for participants and those lost, participants by
 * call quality, and Node's own process metrics (event-loop lag, CPU, memory). A registry per
 * node: several nodes can share a process (tests).
 */
export function nodeMetrics(node: string, manager: ConferenceManager, statistics: MediaStatistics, load: () => NodeLoad | null): Registry {
  const register = new Registry();
  register.setDefaultLabels({ node });
  collectDefaultMetrics({ register, eventLoopMonitoringPrecision: 10 });
  new Gauge({
    name: 'openmeet_node_conferences',
    help: 'Conference instances live on this node.',
    registers: [register],
    collect() {
      this.set(manager.conferences().length);
    },
  });
  new Gauge({
    name: 'openmeet_node_participants',
    help: 'Participants on this node, by protocol and role.',
    labelNames: ['protocol', 'role'],
    registers: [register],
    collect() {
      this.reset();
      for (const c of manager.conferences()) for (const p of c.participants) this.inc({ protocol: p.protocol, role: p.role === 'HOST' ? 'chair' : 'guest' });
    },
  });
  new Gauge({
    name: 'openmeet_node_video_transcodes',
    help: 'Cameras transcoded now for participants that take only another codec (one ffmpeg process each), by codec.',
    labelNames: ['from', 'to'],
    registers: [register],
    collect() {
      this.reset();
      // Both directions always reported, 0 when idle.
      for (const from of ['video/vp8', 'video/h264']) for (const to of ['video/vp8', 'video/h264']) if (from !== to) this.set({ from, to }, 0);
      for (const c of manager.conferences()) for (const t of c.media.videoTranscodes()) this.inc(t);
    },
  });
  const fromLoad = (name: string, help: string, value: (l: NodeLoad) => number) =>
    new Gauge({
      name,
      help,
      registers: [register],
      collect() {
        const l = load();
        if (l) this.set(value(l));
      },
    });
  fromLoad('openmeet_node_media_load_percent', 'Media load, percent of capacity (100 in maintenance mode).', (l) => l.mediaLoad);
  fromLoad('openmeet_node_media_tokens_used', 'Media tokens in use (HD call = 12, SD = 6, audio = 1).', (l) => l.mediaTokensUsed);
  fromLoad('openmeet_node_media_tokens_max', 'Media tokens this node can carry.', (l) => l.capacity.maxMediaTokens);
  fromLoad('openmeet_node_media_ports_in_use', 'UDP media ports in use.', (l) => l.mediaPorts.inUse);
  fromLoad('openmeet_node_cpu_percent', 'CPU of the node process and its media workers, percent of all cores.', (l) => l.cpu.percent);
  // prom-client counters only go up: each scrape adds what the statistics counted since the last.
  const counted = { packets: { rx: 0, tx: 0 }, lost: { rx: 0, tx: 0 } };
  const counter = (name: string, help: string, field: 'packets' | 'lost') =>
    new Counter({
      name,
      help,
      labelNames: ['direction'],
      registers: [register],
      collect() {
        const t = statistics.totals();
        for (const d of ['rx', 'tx'] as const) {
          const add = t[d][field] - counted[field][d];
          if (add > 0) this.inc({ direction: d }, add);
          else this.inc({ direction: d }, 0);
          counted[field][d] = Math.max(counted[field][d], t[d][field]);
        }
      },
    });
  counter('openmeet_node_media_packets_total', 'RTP packets the node received from participants (rx) and that reached them (tx).', 'packets');
  counter('openmeet_node_media_packets_lost_total', 'RTP packets lost on the way from participants (rx) and to them (tx, as their receivers report).', 'lost');
  new Gauge({
    name: 'openmeet_node_participants_by_call_quality',
    help: "Participants by current call quality (the guide's 20-s windows).",
    labelNames: ['quality'],
    registers: [register],
    collect() {
      this.reset();
      for (const p of statistics.all()) this.inc({ quality: p.callQuality });
    },
  });
  return register;
}
