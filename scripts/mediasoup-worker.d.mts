/** scripts/mediasoup-worker.mjs: where this recipe's worker build lives, and building it when missing. */
export function mediasoupVersion(): string;
export function cachedWorkerPath(): string;
export function ensureMediasoupWorker(): string;
