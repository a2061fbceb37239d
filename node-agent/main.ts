import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { nodeBundleConfigSchema, type NodeBundleConfig } from '../shared/node-protocol/nodeBundleConfig.js';
import { NodeAgent } from './NodeAgent.js';

// A node must never die because one peer misbehaved: a rejection nobody handled is logged, not fatal.
process.on('unhandledRejection', (err) => console.error('unhandled rejection (ignored):', err));
// Same for a throw inside a media socket handler: log it, keep the other calls running.
process.on('uncaughtException', (err) => console.error('uncaught exception (ignored):', err));

// NODE_CONFIG: the node.json the console offers for this node (alone or in its deployment bundle).
let file: NodeBundleConfig | undefined;
if (process.env.NODE_CONFIG) {
  try {
    file = nodeBundleConfigSchema.parse(JSON.parse(readFileSync(process.env.NODE_CONFIG, 'utf8')));
  } catch (err) {
    console.error(
      `NODE_CONFIG ${process.env.NODE_CONFIG} is not a valid node configuration: ${err instanceof z.ZodError ? err.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') : (err as Error).message}`,
    );
    process.exit(2);
  }
}
// First contact needs a one-time enrollment token (console) or, on the management server's machine, the platform key.
// Once enrolled, the node's own key in its data directory is what identifies it.
const enrollmentKey = process.env.NODE_ENROLLMENT_KEY || undefined;
const enrollmentToken = process.env.NODE_ENROLLMENT_TOKEN || file?.enrollmentToken;
// MEDIA_PORTS overrides the global setting "Media port range" on this node only.
const range = process.env.MEDIA_PORTS ? (process.env.MEDIA_PORTS.split('-').map(Number) as [number, number]) : undefined;
// MEDIA_ROUTER_CONSUMERS / MEDIA_ROUTER_PARTICIPANTS: when a conference outgrows its router (MediasoupEngine's RouterLimits).
const limit = z.coerce.number().int().positive().optional();
const limits = z
  .object({ consumers: limit, participants: limit })
  .safeParse({ consumers: process.env.MEDIA_ROUTER_CONSUMERS, participants: process.env.MEDIA_ROUTER_PARTICIPANTS });
if (!limits.success) {
  console.error(`MEDIA_ROUTER_CONSUMERS and MEDIA_ROUTER_PARTICIPANTS must be positive whole numbers: ${limits.error.issues.map((i) => i.message).join('; ')}`);
  process.exit(2);
}
const mediaRouterLimits = Object.fromEntries(Object.entries(limits.data).filter(([, v]) => v !== undefined));
// An https:// MANAGEMENT_URL: trust the server's certificate from MANAGEMENT_CA_FILE (PEM, e.g. the
// self-signed DATA_DIR/tls/management.crt) or pin MANAGEMENT_CERT_FINGERPRINT (SHA-256, as the server prints it).
// A deployment bundle's node.json carries the fingerprint too.
const pinned = process.env.MANAGEMENT_CERT_FINGERPRINT || file?.managementCertificateFingerprint;
let managementTls: { ca?: string; fingerprint?: string } | undefined;
if (process.env.MANAGEMENT_CA_FILE || pinned) {
  try {
    managementTls = {
      ca: process.env.MANAGEMENT_CA_FILE ? readFileSync(process.env.MANAGEMENT_CA_FILE, 'utf8') : undefined,
      fingerprint: pinned || undefined,
    };
  } catch (err) {
    console.error(`MANAGEMENT_CA_FILE ${process.env.MANAGEMENT_CA_FILE} cannot be read: ${(err as Error).message}`);
    process.exit(2);
  }
}
const agent = await NodeAgent.start({
  managementTls,
  name: process.env.NODE_NAME ?? file?.name,
  managementUrl: process.env.MANAGEMENT_URL ?? file?.managementUrl,
  enrollmentKey,
  enrollmentToken,
  port: Number(process.env.NODE_PORT ?? file?.port ?? 8081),
  address: process.env.NODE_ADDRESS ?? file?.address,
  mediaPortRange: range,
  mediaRouterLimits,
  // HTTPS with the node's assigned TLS certificate: NODE_HTTPS_PORT (default 8443), `off` to disable.
  httpsPort: process.env.NODE_HTTPS_PORT === 'off' ? undefined : Number(process.env.NODE_HTTPS_PORT ?? 8443),
  dataDir: process.env.NODE_DATA_DIR,
  // SIP over UDP and TCP: NODE_SIP_PORT (default 5060), `off` to disable.
  sipPort: process.env.NODE_SIP_PORT === 'off' ? undefined : Number(process.env.NODE_SIP_PORT ?? 5060),
  // SIP over TLS with the node's certificate: NODE_SIP_TLS_PORT (default 5061), `off` to disable.
  sipTlsPort: process.env.NODE_SIP_TLS_PORT === 'off' ? undefined : Number(process.env.NODE_SIP_TLS_PORT ?? 5061),
});
console.log(`conferencing node at ${agent.url} (meeting client: ${agent.url}/webapp/)`);
const stop = () => void agent.stop().then(() => process.exit(0));
// Revoked or deleted: exit 78 (EX_CONFIG), which the systemd unit does not restart.
agent.link.on('decommissioned', (reason) => {
  console.error(`${reason}: this node stops serving`);
  void agent.stop().then(() => process.exit(78));
});
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
