import { z } from 'zod';
import { NodeAgent } from './NodeAgent.js';

// A node must never die because one peer misbehaved: a rejection nobody handled is logged, not fatal.
process.on('unhandledRejection', (err) => console.error('unhandled rejection (ignored):', err));
// Same for a throw inside a media socket handler: log it, keep the other calls running.
process.on('uncaughtException', (err) => console.error('uncaught exception (ignored):', err));

const enrollmentKey = process.env.NODE_ENROLLMENT_KEY;
if (!enrollmentKey) {
  console.error('NODE_ENROLLMENT_KEY is required (the management server prints it, or set it for both).');
  process.exit(2);
}
// MEDIA_PORTS overrides the global setting "Media port range" on this node only.
const range = process.env.MEDIA_PORTS ? (process.env.MEDIA_PORTS.split('-').map(Number) as [number, number]) : undefined;
// MEDIA_ROUTER_CONSUMERS / MEDIA_ROUTER_PARTICIPANTS: when a conference outgrows its router (MediasoupEngine's RouterLimits).
const limit = z.coerce.number().int().positive().optional();
const limits = z.object({ consumers: limit, participants: limit }).safeParse({ consumers: process.env.MEDIA_ROUTER_CONSUMERS, participants: process.env.MEDIA_ROUTER_PARTICIPANTS });
if (!limits.success) {
  console.error(`MEDIA_ROUTER_CONSUMERS and MEDIA_ROUTER_PARTICIPANTS must be positive whole numbers: ${limits.error.issues.map((i) => i.message).join('; ')}`);
  process.exit(2);
}
const mediaRouterLimits = Object.fromEntries(Object.entries(limits.data).filter(([, v]) => v !== undefined));
const agent = await NodeAgent.start({
  name: process.env.NODE_NAME,
  managementUrl: process.env.MANAGEMENT_URL,
  enrollmentKey,
  port: Number(process.env.NODE_PORT ?? 8081),
  address: process.env.NODE_ADDRESS,
  mediaPortRange: range,
  mediaRouterLimits,
  // HTTPS with the node's assigned TLS certificate: NODE_HTTPS_PORT (default 8443), `off` to disable.
  httpsPort: process.env.NODE_HTTPS_PORT === 'off' ? undefined : Number(process.env.NODE_HTTPS_PORT ?? 8443),
  dataDir: process.env.NODE_DATA_DIR,
});
console.log(`conferencing node at ${agent.url} (meeting client: ${agent.url}/webapp/)`);
const stop = () => void agent.stop().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
