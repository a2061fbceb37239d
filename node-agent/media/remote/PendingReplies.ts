/** Requests sent to another node awaiting its answer, by sequence number, each with a deadline. */
export class PendingReplies<T> {
  private readonly pending = new Map<number, { resolve: (v: T | PromiseLike<T>) => void; reject: (err: Error) => void; timer: NodeJS.Timeout }>();

  /** The answer to request `seq`; rejected with `timeoutMessage` after `timeoutMs`. */
  wait(seq: number, timeoutMs: number, timeoutMessage: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(seq);
        reject(new Error(timeoutMessage));
      }, timeoutMs);
      this.pending.set(seq, { resolve, reject, timer });
    });
  }

  has(seq: number): boolean {
    return this.pending.has(seq);
  }

  /** Settles request `seq` (false when none waits): with a value, or an error. */
  settle(seq: number, outcome: { value: T | PromiseLike<T> } | { error: Error }): boolean {
    const p = this.pending.get(seq);
    if (!p) return false;
    this.pending.delete(seq);
    clearTimeout(p.timer);
    if ('error' in outcome) p.reject(outcome.error);
    else p.resolve(outcome.value);
    return true;
  }

  failAll(err: Error): void {
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
  }
}
