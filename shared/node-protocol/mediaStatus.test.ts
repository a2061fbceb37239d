import { describe, expect, it } from 'vitest';
import { callQualityColour, jitterColour, packetLossColour, toPexipMediaStream, toPexipWorkerVmLoad } from './mediaStatus.js';

describe('media status: the guide colours and the Pexip media_stream shape', () => {
  it("colours packet loss, jitter and quality at the guide's thresholds", () => {
    expect([0.19, 0.2, 1.99, 2].map(packetLossColour)).toEqual(['green', 'orange', 'orange', 'red']);
    expect([9.9, 10, 49.9, 50].map(jitterColour)).toEqual(['green', 'orange', 'orange', 'red']);
    expect((['0_unknown', '1_good', '2_ok', '3_bad', '4_terrible'] as const).map(callQualityColour)).toEqual(['grey', 'green', 'green', 'red', 'red']);
  });

  it('flattens rx/tx with Pexip names and omits what was not measured', () => {
    const s = toPexipMediaStream(
      {
        id: 'v1',
        type: 'video',
        startTime: 't0',
        rx: { codec: 'VP8', resolution: '640x480', fps: 30, bitrate: 512.4, packets: 900, packetsLost: 9, packetLoss: 0.994, windowedPacketLoss: 0.5 },
      },
      'node-1',
    );
    expect(s).toEqual({
      id: 'v1',
      type: 'video',
      node: 'node-1',
      start_time: 't0',
      end_time: null,
      rx_bitrate: 512,
      rx_codec: 'VP8',
      rx_resolution: '640x480',
      rx_fps: 30,
      rx_packet_loss: 0.99,
      rx_windowed_packet_loss: 0.5,
      rx_packets_lost: 9,
      rx_packets_received: 900,
    });
    expect(Object.keys(s).some((k) => k.startsWith('tx_') || k === 'rx_jitter')).toBe(false);
  });
});

describe("media status: a node's load in Pexip's worker_vm fields", () => {
  it('maps load, tokens, capacity and the machine', () => {
    const load = {
      at: 't',
      mediaLoad: 37.5,
      mediaTokensUsed: 36,
      capacity: { maxFullHdCalls: 6, maxHdCalls: 12, maxSdCalls: 24, maxAudioCalls: 144, maxMediaTokens: 144 },
      cpu: { percent: 12, count: 4, model: 'EPYC' },
      memory: { usedBytes: 1, totalBytes: 8 * 1024 * 1024 },
      mediaPorts: { inUse: 3, total: 10 },
      signalingCount: 3,
      calls: { fullHd: 0, hd: 3, sd: 0, audio: 0 },
      maintenanceMode: false,
    };
    expect(toPexipWorkerVmLoad(load)).toEqual({
      media_load: 38,
      media_tokens_used: 36,
      max_media_tokens: 144,
      max_full_hd_calls: 6,
      max_hd_calls: 12,
      max_sd_calls: 24,
      max_audio_calls: 144,
      signaling_count: 3,
      maintenance_mode: false,
      cpu_count: 4,
      cpu_model: 'EPYC',
      total_ram: 8192,
    });
  });
});
