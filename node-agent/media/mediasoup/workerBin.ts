import { existsSync } from 'node:fs';
import { cachedWorkerPath } from '../../../scripts/mediasoup-worker.mjs';

/**
 * Points mediasoup at our worker build before mediasoup is loaded (it reads MEDIASOUP_WORKER_BIN
 * once, at import): the one the operator gave, else the cached build of scripts/mediasoup-worker.mjs
 * (which both README commands run). Import this module before 'mediasoup'.
 */
if (!process.env.MEDIASOUP_WORKER_BIN) {
  const cached = cachedWorkerPath();
  if (existsSync(cached)) process.env.MEDIASOUP_WORKER_BIN = cached;
}

export const workerBinPath = (): string | undefined => process.env.MEDIASOUP_WORKER_BIN;
