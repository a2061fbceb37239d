/**
 * Long work on the event loop in slices of about `ms`: call the returned function between small
 * steps; it gives other requests a turn (setImmediate) once a slice is used up. Slicing by time,
 * not by a fixed count, keeps both the waits of other requests and the work's own overhead small
 * whatever the machine's load. A request needs several turns (read, query, answer), so slices are
 * short: 4 ms measured best (15 ms made reads wait ~50 ms each).
 */
export function pacer(ms = 4): () => Promise<boolean> {
  let sliceStart = performance.now();
  return async () => {
    if (performance.now() - sliceStart < ms) return false;
    await new Promise<void>((resolve) => setImmediate(resolve));
    sliceStart = performance.now();
    return true;
  };
}
