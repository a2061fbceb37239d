/**
 * A token bucket per remote address: `capacity` calls at once, refilled evenly over `windowMs`.
 * Full buckets are forgotten, so the map holds only addresses seen recently.
 */
export class AddressRateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly sweep: NodeJS.Timeout;

  constructor(
    private readonly capacity: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.sweep = setInterval(() => this.forgetFull(), windowMs).unref();
  }

  /** Takes one call from the address's bucket; false when it is empty. */
  take(address: string): boolean {
    const t = this.now();
    const b = this.buckets.get(address) ?? { tokens: this.capacity, at: t };
    b.tokens = Math.min(this.capacity, b.tokens + ((t - b.at) * this.capacity) / this.windowMs);
    b.at = t;
    if (b.tokens < 1) {
      this.buckets.set(address, b);
      return false;
    }
    b.tokens -= 1;
    this.buckets.set(address, b);
    return true;
  }

  /** Addresses tracked now (tests check that the map does not grow without end). */
  get size(): number {
    return this.buckets.size;
  }

  close(): void {
    clearInterval(this.sweep);
  }

  private forgetFull(): void {
    const t = this.now();
    for (const [address, b] of this.buckets) if (b.tokens + ((t - b.at) * this.capacity) / this.windowMs >= this.capacity) this.buckets.delete(address);
  }
}
