import type { CallStatistics, CallStream, ClientStatisticsBody, ParticipantStatistics } from '../../shared/client-api/conference.js';
import type { ParticipantMedia } from '../../shared/node-protocol/mediaStatus.js';
import type { ClientReported } from '../status/ParticipantMeter.js';

/**
 * The node's figures for a participant in the SDK's `statistics` shape, seen from the participant:
 * its rx_ is what the node sends it (our tx), its tx_ what the node receives from it (our rx, with
 * our jitter and losses as the receiver-reported tx_rb_ figures). Fields the node did not measure
 * are left out, as the SDK leaves out what the browser did not report.
 */
export function callStatisticsOf(media: ParticipantMedia): CallStatistics {
  const out: CallStatistics = {};
  for (const s of media.streams) {
    const st: CallStream = {};
    const toThem = s.tx;
    const fromThem = s.rx;
    if (toThem) {
      st.rx_bitrate = toThem.bitrate;
      if (toThem.codec) st.rx_codec = toThem.codec;
      if (toThem.fps !== undefined) st.rx_fps = toThem.fps;
      if (toThem.resolution) st.rx_resolution = toThem.resolution;
      st.rx_historic_packet_loss = toThem.packetLoss;
      st.rx_windowed_packet_loss = toThem.windowedPacketLoss;
      st.rx_packets_lost = toThem.packetsLost;
      st.rx_packets_received = Math.max(0, toThem.packets - toThem.packetsLost);
    }
    if (fromThem) {
      st.tx_bitrate = fromThem.bitrate;
      if (fromThem.codec) st.tx_codec = fromThem.codec;
      if (fromThem.fps !== undefined) st.tx_fps = fromThem.fps;
      if (fromThem.resolution) st.tx_resolution = fromThem.resolution;
      st.tx_historic_packet_loss = fromThem.packetLoss;
      st.tx_windowed_packet_loss = fromThem.windowedPacketLoss;
      st.tx_packets_sent = fromThem.packets + fromThem.packetsLost;
      st.tx_rb_packetslost = fromThem.packetsLost;
      if (fromThem.jitter !== undefined) st.tx_rb_jitter = fromThem.jitter;
    }
    out[s.type] = st;
  }
  return out;
}

export function participantStatisticsOf(media: ParticipantMedia): ParticipantStatistics {
  return {
    call_quality: media.callQuality,
    quality_windows: media.qualityWindows.map((w) => ({ end: w.end, quality: w.quality, packet_loss: w.packetLoss, jitter: w.jitter })),
    media: callStatisticsOf(media),
  };
}

/** What only the client knows (resolution and frame rate of what it sends and receives), from its POST. */
export function clientReports(body: ClientStatisticsBody): [type: 'audio' | 'video' | 'presentation', ClientReported][] {
  const out: [type: 'audio' | 'video' | 'presentation', ClientReported][] = [];
  for (const type of ['audio', 'video', 'presentation'] as const) {
    const s = body[type];
    if (!s) continue;
    out.push([
      type,
      {
        sent: { ...(s.tx_resolution ? { resolution: s.tx_resolution } : {}), ...(s.tx_fps !== undefined ? { fps: s.tx_fps } : {}) },
        received: { ...(s.rx_resolution ? { resolution: s.rx_resolution } : {}), ...(s.rx_fps !== undefined ? { fps: s.rx_fps } : {}) },
      },
    ]);
  }
  return out;
}
