import { z } from 'zod';

/**
 * Bounds on what one client may hold on a node through the client API (issue 11, finding 4):
 * without them a single address could open event streams or request tokens until the node ran
 * out of memory. Set per node (NodeAgentOptions.clientApiLimits) or by environment variable.
 */
export const clientApiLimits = z.object({
  /** Event streams one participant may hold; a further one replaces the oldest (a reconnect). */
  streamsPerParticipant: z.number().int().min(1).max(100),
  /** Event streams open from one remote address, all participants together. */
  streamsPerAddress: z.number().int().min(1).max(100_000),
  /** Bytes a stream may have waiting for its reader; a reader that falls further behind is dropped. */
  streamBufferBytes: z
    .number()
    .int()
    .min(16 * 1024)
    .max(64 * 1024 * 1024),
  /** `request_token` calls allowed from one address per window (a token bucket refilled over the window). */
  requestTokenPerAddress: z.number().int().min(1).max(100_000),
  requestTokenWindowMs: z.number().int().min(100).max(3_600_000),
});
export type ClientApiLimits = z.infer<typeof clientApiLimits>;

export const DEFAULT_CLIENT_API_LIMITS: ClientApiLimits = {
  streamsPerParticipant: 3,
  streamsPerAddress: 50,
  streamBufferBytes: 1024 * 1024,
  requestTokenPerAddress: 20,
  requestTokenWindowMs: 10_000,
};

const ENV: Record<keyof ClientApiLimits, string> = {
  streamsPerParticipant: 'NODE_STREAMS_PER_PARTICIPANT',
  streamsPerAddress: 'NODE_STREAMS_PER_ADDRESS',
  streamBufferBytes: 'NODE_STREAM_BUFFER_BYTES',
  requestTokenPerAddress: 'NODE_REQUEST_TOKEN_PER_ADDRESS',
  requestTokenWindowMs: 'NODE_REQUEST_TOKEN_WINDOW_MS',
};

/** Defaults, then the environment, then the given options; a bad value stops the node with the setting's name. */
export function resolveClientApiLimits(given: Partial<ClientApiLimits> = {}, env: NodeJS.ProcessEnv = process.env): ClientApiLimits {
  const fromEnv: Partial<Record<keyof ClientApiLimits, number>> = {};
  for (const [key, name] of Object.entries(ENV) as [keyof ClientApiLimits, string][]) {
    const v = env[name];
    if (v !== undefined && v !== '') fromEnv[key] = Number(v);
  }
  const r = clientApiLimits.safeParse({ ...DEFAULT_CLIENT_API_LIMITS, ...fromEnv, ...given });
  if (!r.success) {
    const issue = r.error.issues[0];
    const key = issue?.path[0] as keyof ClientApiLimits | undefined;
    throw new Error(`Client API limit ${key ? `${key} (${ENV[key]})` : ''}: ${issue?.message ?? 'invalid'}`);
  }
  return r.data;
}
