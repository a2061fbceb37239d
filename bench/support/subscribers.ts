/**
 * Child process: the receive-only subscribers, real werift RTCPeerConnections (ICE, DTLS, SRTP
 * decryption, RTCP receiver reports and NACK/PLI as any WebRTC receiver), kept out of the SFU's
 * process so that their CPU is not counted. Each peer counts the RTP packets it receives.
 *
 * Two ways in: `offer` (the subscriber offers two recvonly m-lines, as a Pexip-style client
 * joining a werift leg does) then `accept`; or `answer` (the SFU offers, as mediasoup does).
 */
import './loopbackInterfaces.js';
import { RTCPeerConnection } from 'werift';
import { weriftPeerConfig } from '../../node-agent/testing/MediaTestClient.js';
import { serve } from '../../node-agent/testing/rpc.js';

const portRange = (process.env.BENCH_PORTS ?? '42000-43999').split('-').map(Number) as [number, number];

interface Peer {
  pc: RTCPeerConnection;
  audio: number;
  video: number;
  connected: Promise<void>;
}

const peers = new Map<string, Peer>();

function newPeer(id: string): Peer {
  const pc = new RTCPeerConnection(weriftPeerConfig('127.0.0.1', portRange));
  const peer: Peer = {
    pc,
    audio: 0,
    video: 0,
    connected: new Promise((resolve, reject) => {
      pc.connectionStateChange.subscribe((s) => {
        if (s === 'connected') resolve();
        if (s === 'failed') reject(new Error(`subscriber ${id}: connection failed`));
      });
    }),
  };
  peer.connected.catch(() => undefined);
  pc.onTrack.subscribe((track) => {
    const kind = track.kind === 'audio' ? 'audio' : 'video';
    track.onReceiveRtp.subscribe(() => peer[kind]++);
  });
  peers.set(id, peer);
  return peer;
}

function gathered(pc: RTCPeerConnection): Promise<void> {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 3_000);
    pc.iceGatheringStateChange.subscribe((s) => {
      if (s === 'complete') {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}

function peer(id: string): Peer {
  const p = peers.get(id);
  if (!p) throw new Error(`no subscriber ${id}`);
  return p;
}

serve({
  async offer({ id }: { id: string }) {
    const { pc } = newPeer(id);
    pc.addTransceiver('audio', { direction: 'recvonly' });
    pc.addTransceiver('video', { direction: 'recvonly' });
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc);
    return pc.localDescription!.sdp;
  },
  async accept({ id, answer }: { id: string; answer: string }) {
    await peer(id).pc.setRemoteDescription({ type: 'answer', sdp: answer });
  },
  async answer({ id, offer }: { id: string; offer: string }) {
    const { pc } = newPeer(id);
    await pc.setRemoteDescription({ type: 'offer', sdp: offer });
    await pc.setLocalDescription(await pc.createAnswer());
    await gathered(pc);
    return pc.localDescription!.sdp;
  },
  /** Resolves once peer `id` is connected (ICE + DTLS). */
  async waitConnected({ id, timeoutMs = 20_000 }: { id: string; timeoutMs?: number }) {
    const p = peer(id);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`subscriber ${id}: not connected after ${timeoutMs} ms (ICE ${p.pc.iceConnectionState}, ${p.pc.connectionState})`)),
        timeoutMs,
      );
    });
    try {
      await Promise.race([p.connected, timeout]);
    } finally {
      clearTimeout(timer);
    }
  },
  /** Resolves once every peer in `ids` has received audio and video. */
  async waitMedia({ ids, timeoutMs = 20_000 }: { ids: string[]; timeoutMs?: number }) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const missing = ids.filter((id) => peer(id).audio === 0 || peer(id).video === 0);
      if (missing.length === 0) return;
      if (Date.now() > deadline) throw new Error(`no media at ${missing.join(', ')} after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  },
  async drop({ id }: { id: string }) {
    const p = peers.get(id);
    peers.delete(id);
    await p?.pc.close().catch(() => undefined);
  },
  /** RTP packets received so far, summed over all peers, and per peer. */
  counters() {
    let packets = 0;
    const perPeer: Record<string, number> = {};
    for (const [id, p] of peers) {
      packets += p.audio + p.video;
      perPeer[id] = p.audio + p.video;
    }
    return { packets, perPeer };
  },
  async closeAll() {
    const all = [...peers.values()];
    peers.clear();
    await Promise.all(all.map((p) => p.pc.close().catch(() => undefined)));
  },
  async close() {
    const all = [...peers.values()];
    peers.clear();
    await Promise.all(all.map((p) => p.pc.close().catch(() => undefined)));
    setTimeout(() => process.exit(0), 200);
  },
});
