/** Polls `fn` until `ok` accepts its value (tests): resolves with that value, or fails after `timeoutMs`. */
export async function until<T>(fn: () => T | Promise<T>, ok: (v: T) => boolean, timeoutMs = 5_000, intervalMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms (last: ${JSON.stringify(v)?.slice(0, 500)})`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
