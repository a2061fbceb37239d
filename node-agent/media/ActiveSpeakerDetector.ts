/**
 * Dominant-speaker detection from per-interval audio levels (RFC 6464 levels, as mediasoup's
 * AudioLevelObserver reports them), with hysteresis: someone becomes the speaker only after
 * talking for most of the recent window, so a cough or a short "mm" does not switch, and the
 * current speaker keeps the floor while they keep talking.
 *
 * Written here rather than taken from mediasoup's ActiveSpeakerObserver: in 3.19.3 that observer
 * reported a dominant speaker once and then never switched in our tests (see mediasoup issue
 * #1542), while the level observer it would be built on works.
 */
export interface ActiveSpeakerDetectorOptions {
  /** How often levels arrive (the level observer's interval); default 200 ms. */
  intervalMs?: number;
  /** The window speech is counted over; default 1 000 ms. */
  windowMs?: number;
  /** Speaking time within the window needed to take the floor; default 500 ms. */
  takeOverMs?: number;
  /** Below this much speech in the window the current speaker counts as having stopped; default 300 ms. */
  holdMs?: number;
}

export class ActiveSpeakerDetector {
  private readonly slots: number;
  private readonly takeOver: number;
  private readonly hold: number;
  /** participantId → 1/0 per recent interval (speaking or not), newest last. */
  private readonly history = new Map<string, number[]>();
  private current: string | undefined;

  constructor(opts: ActiveSpeakerDetectorOptions = {}) {
    const interval = opts.intervalMs ?? 200;
    this.slots = Math.max(1, Math.round((opts.windowMs ?? 1_000) / interval));
    this.takeOver = Math.max(1, Math.round((opts.takeOverMs ?? 500) / interval));
    this.hold = Math.max(1, Math.round((opts.holdMs ?? 300) / interval));
  }

  get speaker(): string | undefined {
    return this.current;
  }

  /**
   * One interval: who was speaking (above the level threshold) among `participants`. Returns the
   * new dominant speaker when it changed, else undefined.
   */
  update(speaking: ReadonlySet<string>, participants: Iterable<string>): string | undefined {
    const present = new Set(participants);
    for (const pid of [...this.history.keys()]) if (!present.has(pid)) this.history.delete(pid);
    if (this.current !== undefined && !present.has(this.current)) this.current = undefined;
    for (const pid of present) {
      const h = this.history.get(pid) ?? [];
      h.push(speaking.has(pid) ? 1 : 0);
      if (h.length > this.slots) h.shift();
      this.history.set(pid, h);
    }
    const talk = (pid: string) => (this.history.get(pid) ?? []).reduce((a, b) => a + b, 0);
    // The strongest challenger: most speech in the window, ties to whoever is speaking right now.
    let best: string | undefined;
    for (const pid of present) {
      if (pid === this.current || talk(pid) < this.takeOver) continue;
      if (best === undefined || talk(pid) > talk(best) || (talk(pid) === talk(best) && speaking.has(pid) && !speaking.has(best))) best = pid;
    }
    if (best === undefined) return undefined;
    const holder = this.current === undefined ? 0 : talk(this.current);
    // The speaker keeps the floor while still talking as much as the challenger.
    if (this.current !== undefined && holder >= this.hold && holder >= talk(best)) return undefined;
    this.current = best;
    return best;
  }

  forget(participantId: string): void {
    this.history.delete(participantId);
    if (this.current === participantId) this.current = undefined;
  }
}
