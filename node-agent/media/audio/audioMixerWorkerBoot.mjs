// Worker bootstrap for WorkerAudioMixer when the node runs from TypeScript sources
// (`node --import tsx`): a worker thread does not inherit tsx's module hooks, so it imports the
// worker entry through tsx's API. Compiled JavaScript would load the entry directly instead.
import { workerData } from 'node:worker_threads';
import { tsImport } from 'tsx/esm/api';

await tsImport(workerData.entry, import.meta.url);
