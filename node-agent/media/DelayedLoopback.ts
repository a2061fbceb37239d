/**
 * A delay line for the Test Call Service (guide §15: the caller's own audio and video come back
 * after `test_call_service_media_delay`, 2 s by default). Items are queued with their arrival time
 * and delivered, in arrival order, once `delayMs` has passed. One timer at a time, armed for the
 * oldest item; memory is bounded by `maxItems` (the oldest items are dropped first when full).
 */
export class DelayedLoopback<T> {
  private queue: { due: number; item: T }[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Items dropped because the queue was full. */
  dropped = 0;

  constructor(
    readonly delayMs: number,
    private readonly deliver: (item: T) => void,
    private readonly maxItems = 8_192,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.queue.length - this.head;
  }

  push(item: T): void {
    if (this.closed) return;
    if (this.size >= this.maxItems) {
      this.head++;
      this.dropped++;
      this.compact();
    }
    this.queue.push({ due: this.now() + this.delayMs, item });
    this.arm();
  }

  /** Drops whatever is still queued; nothing is delivered afterwards. */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.queue = [];
    this.head = 0;
  }

  private arm(): void {
    if (this.timer || this.closed || this.size === 0) return;
    const wait = Math.max(0, this.queue[this.head]!.due - this.now());
    this.timer = setTimeout(() => this.drain(), wait);
    // A pending replay must not keep the process alive on shutdown.
    this.timer.unref();
  }

  private drain(): void {
    this.timer = undefined;
    // Timers fire a little late under load: deliver everything due within the next 2 ms too, so a
    // 50 pps stream does not need one timer per packet.
    const limit = this.now() + 2;
    while (!this.closed && this.size > 0 && this.queue[this.head]!.due <= limit) {
      const { item } = this.queue[this.head]!;
      this.head++;
      try {
        this.deliver(item);
      } catch {
        // One bad packet must not stop the replay.
      }
    }
    this.compact();
    this.arm();
  }

  /** Drops the consumed prefix once it dominates the array (keeps memory bounded). */
  private compact(): void {
    if (this.head > 1_024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }
}
