/** Outcome of JitterBuffer.push(), for the mixer's counters. */
export type JitterPushResult = 'ok' | 'late' | 'duplicate' | 'overflow' | 'resync';

export interface JitterBufferOptions {
  /** Packets held before playout starts, and again after an underrun. Default 2. */
  targetPackets?: number;
  /** Most packets held; older ones are dropped to make room. Default 10. */
  maxPackets?: number;
  /** A sequence jump (either way) larger than this restarts the buffer. Default 100. */
  resyncPackets?: number;
  /** A timestamp jump larger than this (forward), or backwards by more than 1 s, while the
   * sequence moves forward, restarts the buffer. Default 60 s at 48 kHz. */
  resyncTimestamp?: number;
}

interface Slot {
  seq: number;
  payload: Buffer;
}

/** Packets popped between two checks of the buffer's standing delay. */
const SHRINK_WINDOW = 50;

/**
 * One source's receive buffer, ordered by RTP sequence number: reorders, drops duplicates and
 * late packets, reports gaps as losses (pop() → null) so the caller conceals them, and bounds its
 * size and delay. Payloads are copied on push (the caller may reuse its buffers).
 *
 * Playout starts once targetPackets are held. When it runs dry pop() returns undefined (underrun)
 * and playout waits for targetPackets again, so a late packet is played late rather than lost: the
 * delay grows to cover the jitter. It shrinks again when the buffer stood above its target for a
 * whole window (sender clock faster than ours, or a burst that has passed): one packet is dropped.
 */
export class JitterBuffer {
  private readonly ring: (Slot | undefined)[];
  private readonly mask: number;
  private readonly target: number;
  private readonly max: number;
  private readonly resyncPackets: number;
  private readonly resyncTimestamp: number;
  private started = false;
  private playing = false;
  private ssrc = 0;
  /** Sequence number of the next packet to play (16 bits). */
  private next = 0;
  private highestSeq = 0;
  private highestTs = 0;
  private held = 0;
  /** Whether pop() already waited one frame for the missing head packet. */
  private waitedForHead = false;
  /** Nothing popped since the (re)start. */
  private pristine = false;
  private windowPops = 0;
  private windowMin = Infinity;
  /** Packets lost (gaps reported by pop()) since construction. */
  lost = 0;
  /** Packets dropped by push() or by the delay control since construction. */
  overflowDrops = 0;

  constructor(opts: JitterBufferOptions = {}) {
    this.target = Math.max(1, opts.targetPackets ?? 2);
    this.max = Math.max(this.target + 1, opts.maxPackets ?? 10);
    this.resyncPackets = Math.max(this.max, opts.resyncPackets ?? 100);
    this.resyncTimestamp = opts.resyncTimestamp ?? 48_000 * 60;
    let size = 16;
    while (size < this.max * 2) size *= 2;
    this.ring = new Array<Slot | undefined>(size).fill(undefined);
    this.mask = size - 1;
  }

  /** Packets currently held. */
  get depth(): number {
    return this.held;
  }

  push(seq: number, ts: number, ssrc: number, payload: Buffer): JitterPushResult {
    seq &= 0xffff;
    ts >>>= 0;
    if (!this.started || ssrc !== this.ssrc) {
      const wasStarted = this.started;
      this.restart(seq, ts, ssrc, payload);
      return wasStarted ? 'resync' : 'ok';
    }
    const d = int16(seq - this.next);
    if (d < -this.resyncPackets || d > this.resyncPackets) {
      this.restart(seq, ts, ssrc, payload);
      return 'resync';
    }
    const fromHighest = int16(seq - this.highestSeq);
    if (fromHighest > 0) {
      const dts = (ts - this.highestTs) | 0;
      if (dts < -48_000 || dts > this.resyncTimestamp) {
        this.restart(seq, ts, ssrc, payload);
        return 'resync';
      }
    }
    if (d < 0) {
      // Before anything was played, an earlier packet moves the start back (the first to arrive
      // was reordered) as long as the window still fits.
      if (!this.pristine || int16(this.highestSeq - seq) >= this.max) return 'late';
      this.next = seq;
    }
    const slotIndex = seq & this.mask;
    const existing = this.ring[slotIndex];
    if (existing && existing.seq === seq) return 'duplicate';
    let result: JitterPushResult = 'ok';
    if (d >= this.max) {
      // Too far ahead: give up the oldest packets so this one fits.
      const newNext = (seq - this.max + 1) & 0xffff;
      this.dropUntil(newNext);
      result = 'overflow';
    }
    this.ring[slotIndex] = { seq, payload: Buffer.from(payload) };
    this.held++;
    if (fromHighest > 0) {
      this.highestSeq = seq;
      this.highestTs = ts;
    }
    return result;
  }

  /**
   * The next packet's payload; null when it is lost (later packets are here: conceal it);
   * undefined when there is nothing to play yet (not started, prefilling, or ran dry).
   */
  pop(): Buffer | null | undefined {
    if (!this.started) return undefined;
    if (!this.playing) {
      if (this.held < this.target) return undefined;
      this.playing = true;
    }
    if (this.held === 0) {
      this.playing = false;
      return undefined;
    }
    this.pristine = false;
    const slotIndex = this.next & this.mask;
    const slot = this.ring[slotIndex];
    if (slot && slot.seq === this.next) {
      this.ring[slotIndex] = undefined;
      this.held--;
      this.next = (this.next + 1) & 0xffff;
      this.waitedForHead = false;
      this.controlDelay();
      return slot.payload;
    }
    // The head is missing. With only one packet beyond it, it may just be reordered: wait one frame.
    if (!this.waitedForHead && int16(this.highestSeq - this.next) < 2) {
      this.waitedForHead = true;
      return undefined;
    }
    this.waitedForHead = false;
    this.next = (this.next + 1) & 0xffff;
    this.lost++;
    return null;
  }

  /** Drops the oldest packets until at most `packets` are held (after a stall of the consumer). */
  trimTo(packets: number): void {
    while (this.held > Math.max(0, packets)) this.dropUntil((this.next + 1) & 0xffff);
  }

  reset(): void {
    this.ring.fill(undefined);
    this.started = false;
    this.playing = false;
    this.held = 0;
    this.waitedForHead = false;
    this.windowPops = 0;
    this.windowMin = Infinity;
  }

  private restart(seq: number, ts: number, ssrc: number, payload: Buffer): void {
    this.reset();
    this.started = true;
    this.pristine = true;
    this.ssrc = ssrc;
    this.next = seq;
    this.highestSeq = seq;
    this.highestTs = ts;
    this.ring[seq & this.mask] = { seq, payload: Buffer.from(payload) };
    this.held = 1;
  }

  /** Drops every held packet before newNext and moves playout there. */
  private dropUntil(newNext: number): void {
    while (this.next !== newNext) {
      const slotIndex = this.next & this.mask;
      const slot = this.ring[slotIndex];
      if (slot && slot.seq === this.next) {
        this.ring[slotIndex] = undefined;
        this.held--;
        this.overflowDrops++;
      }
      this.next = (this.next + 1) & 0xffff;
    }
    this.waitedForHead = false;
  }

  /**
   * Called after each successful pop. On time, a buffer that started with `target` packets holds
   * target - 1 after a pop; if it never fell below `target` for a whole window, it is a frame
   * later than it needs to be: drop one packet.
   */
  private controlDelay(): void {
    if (this.held < this.windowMin) this.windowMin = this.held;
    if (++this.windowPops < SHRINK_WINDOW) return;
    const late = this.windowMin >= this.target;
    this.windowPops = 0;
    this.windowMin = Infinity;
    if (late && this.held > 0) this.dropUntil((this.next + 1) & 0xffff);
  }
}

function int16(x: number): number {
  return (x << 16) >> 16;
}
