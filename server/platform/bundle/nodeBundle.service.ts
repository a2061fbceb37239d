import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { and, eq, isNull } from 'drizzle-orm';
import { nodeEnrollmentToken } from '../../../db/schema.js';
import { workerVmResource } from '../../../shared/config/resources/platform.js';
import { nodeBundleConfigSchema, type NodeBundleConfig } from '../../../shared/node-protocol/nodeBundleConfig.js';
import { cachedWorkerPath } from '../../../scripts/mediasoup-worker.mjs';
import { getRecord } from '../../config/config.service.js';
import type { Domain } from '../../domain.js';
import { issueEnrollmentToken } from '../nodeIdentity.service.js';
import { tarGz, type TarEntry } from './tarball.js';

/** The repository the management server runs from: the node agent's sources come from here. */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** What the node agent needs to run: its code, the shared contract, the worker recipe, the meeting client. */
const SOURCE_DIRS = ['node-agent', 'shared', 'scripts/mediasoup-build', 'dist/web/webapp', 'dist/web/assets'];
const SOURCE_FILES = ['package.json', 'package-lock.json', 'tsconfig.json', 'scripts/mediasoup-worker.mjs', 'scripts/mediasoup-worker.d.mts'];

function walk(dir: string, out: string[]): void {
  if (!existsSync(dir)) return;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (e.isFile() && !e.name.endsWith('.test.ts')) out.push(p);
  }
}

function sourceEntries(prefix: string): TarEntry[] {
  const files: string[] = [];
  for (const d of SOURCE_DIRS) walk(join(ROOT, d), files);
  for (const f of SOURCE_FILES) if (existsSync(join(ROOT, f))) files.push(join(ROOT, f));
  return files.map((f) => ({ path: `${prefix}/${relative(ROOT, f).split(sep).join('/')}`, data: readFileSync(f), mode: statSync(f).mode & 0o777 }));
}

/**
 * The mediasoup worker this server's nodes run (MEDIASOUP_WORKER_BIN, else this checkout's build),
 * carried in the bundle as bin/mediasoup-worker so a Debian 12 node need not build its own (about
 * 4 minutes); a node where its libraries are missing builds one as before.
 */
function builtWorker(): Buffer | null {
  const candidates = [process.env.MEDIASOUP_WORKER_BIN, cachedWorkerPath()];
  for (const p of candidates) if (p && existsSync(p) && statSync(p).isFile()) return readFileSync(p);
  return null;
}

/** Uses the bundled worker when its shared libraries resolve here, else builds one; prints its path. */
const WORKER_PATH_SH = `if [ -x bin/mediasoup-worker ] && ! ldd bin/mediasoup-worker 2>&1 | grep -q 'not found'; then echo "$PWD/bin/mediasoup-worker"; else node scripts/mediasoup-worker.mjs --quiet; fi`;

export type EnrollmentDownload = 'bundle' | 'config' | 'dockerfile';

const START_SH = `#!/bin/sh
# Starts this OpenMeet conferencing node. On first contact it enrolls with the one-time token in
# node.json; from then on its own key (in the data directory) identifies it.
set -e
cd "$(dirname "$0")"
if [ ! -e node_modules ]; then
  # OPENMEET_NODE_MODULES: an existing node_modules to use (e.g. a checkout's); else install from the lockfile.
  if [ -n "$OPENMEET_NODE_MODULES" ]; then ln -s "$OPENMEET_NODE_MODULES" node_modules
  else npm ci --omit=dev --ignore-scripts; fi
fi
# The mediasoup worker: MEDIASOUP_WORKER_BIN if set, else the bundled one when its libraries are
# here (libuv1 libssl3 libsrtp2-1 libusrsctp2 libabsl20220623), else built once (scripts/mediasoup-worker.mjs).
if [ -z "$MEDIASOUP_WORKER_BIN" ]; then MEDIASOUP_WORKER_BIN="$(${WORKER_PATH_SH})"; export MEDIASOUP_WORKER_BIN; fi
export NODE_CONFIG="\${NODE_CONFIG:-$PWD/node.json}"
export NODE_DATA_DIR="\${NODE_DATA_DIR:-$PWD/data}"
exec node --import tsx node-agent/main.ts
`;

const INSTALL_SH = `#!/bin/sh
# Installs this conferencing node as a systemd service (run as root): /opt/openmeet-node, user openmeet.
set -e
cd "$(dirname "$0")"
id openmeet >/dev/null 2>&1 || useradd --system --home /opt/openmeet-node --shell /usr/sbin/nologin openmeet
mkdir -p /opt/openmeet-node
cp -R . /opt/openmeet-node/
chown -R openmeet:openmeet /opt/openmeet-node
chmod 600 /opt/openmeet-node/node.json
cp openmeet-node.service /etc/systemd/system/openmeet-node.service
systemctl daemon-reload
systemctl enable --now openmeet-node.service
echo "openmeet-node started; it shows as live in the console once enrolled (journalctl -u openmeet-node)."
`;

function systemdUnit(name: string): string {
  return `[Unit]
Description=OpenMeet conferencing node ${name}
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
User=openmeet
WorkingDirectory=/opt/openmeet-node
ExecStart=/opt/openmeet-node/start.sh
Restart=on-failure
RestartSec=5
# 78: revoked or deleted by an administrator; restarting would not help.
RestartPreventExitStatus=78
LimitNOFILE=65536

[Install]
WantedBy=multi-user.target
`;
}

/** A container recipe; its build context is the unpacked bundle (or a checkout of the repository). */
export function dockerfile(config: NodeBundleConfig): string {
  const env = (v: string) => JSON.stringify(v);
  return `# OpenMeet conferencing node ${config.name}: docker build -t openmeet-node-${config.name} . (in the unpacked bundle)
# Run with host networking so its media ports are reachable: docker run --network host -v openmeet-${config.name}:/var/lib/openmeet-node ...
FROM node:20-bookworm
WORKDIR /opt/openmeet-node
COPY . .
# The bundled mediasoup worker's libraries and ffmpeg (the video transcoder for H.264 room systems);
# without a usable bundled worker one is built here (about 4 minutes).
RUN apt-get update \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libuv1 libssl3 libsrtp2-1 libusrsctp2 libabsl20220623 ffmpeg \\
 && rm -rf /var/lib/apt/lists/* node_modules \\
 && npm ci --omit=dev --ignore-scripts \\
 && (${WORKER_PATH_SH}) > worker-path
ENV NODE_NAME=${env(config.name)} \\
    MANAGEMENT_URL=${env(config.managementUrl)} \\
    NODE_ENROLLMENT_TOKEN=${env(config.enrollmentToken)} \\
    NODE_ADDRESS=${env(config.address)} \\
    NODE_PORT=${env(String(config.port))} \\
${config.managementCertificateFingerprint ? `    MANAGEMENT_CERT_FINGERPRINT=${env(config.managementCertificateFingerprint)} \\\n` : ''}    NODE_DATA_DIR=/var/lib/openmeet-node
VOLUME /var/lib/openmeet-node
EXPOSE ${config.port} 8443 5060 5060/udp 5061 40000-49999/udp
CMD ["sh", "-c", "MEDIASOUP_WORKER_BIN=$(cat /opt/openmeet-node/worker-path) exec node --import tsx node-agent/main.ts"]
`;
}

/**
 * What the console offers for a node it added: its configuration (with a new one-time enrollment
 * token; older unused ones stop working), alone, as a Dockerfile, or in the deployment bundle.
 */
export async function nodeEnrollmentDownload(
  dom: Domain,
  nodeId: number,
  format: EnrollmentDownload,
  opts: {
    managementUrl: string;
    tls?: { port: number; fingerprint: string } | null;
    nodePort?: number;
    /** The other management servers on the same database, as nodes reach them (listed after this one). */
    otherManagementUrls?: readonly string[];
  },
): Promise<{ filename: string; contentType: string; data: Buffer }> {
  // With HTTPS on, a node elsewhere must use it (plain HTTP is for this machine only), pinning the certificate.
  let managementUrl = opts.managementUrl.replace(/\/$/, '');
  if (opts.tls && managementUrl.startsWith('http:')) {
    const u = new URL(managementUrl);
    u.protocol = 'https:';
    u.port = String(opts.tls.port);
    managementUrl = u.origin;
  }
  // Scale-out: the node moves to the next server whenever its link ends, so it is given them all.
  const others = (opts.otherManagementUrls ?? []).map((u) => u.replace(/\/$/, '')).filter((u) => u !== managementUrl);
  if (others.length > 0) managementUrl = [managementUrl, ...new Set(others)].join(',');
  const node = await getRecord(dom, workerVmResource, nodeId);
  // One token in force per node: a new download replaces what an earlier one carried.
  await dom.db
    .update(nodeEnrollmentToken)
    .set({ usedAt: new Date() })
    .where(and(eq(nodeEnrollmentToken.nodeId, nodeId), isNull(nodeEnrollmentToken.usedAt)));
  const { token, expiresAt } = await issueEnrollmentToken(dom, nodeId);
  const config = nodeBundleConfigSchema.parse({
    name: node.name,
    managementUrl,
    ...(opts.tls ? { managementCertificateFingerprint: opts.tls.fingerprint } : {}),
    enrollmentToken: token,
    tokenExpires: expiresAt.toISOString(),
    address: node.address,
    port: opts.nodePort ?? 8081,
  });
  const json = `${JSON.stringify(config, null, 2)}\n`;
  if (format === 'config') return { filename: `${node.name}.node.json`, contentType: 'application/json', data: Buffer.from(json) };
  if (format === 'dockerfile') return { filename: `${node.name}.Dockerfile`, contentType: 'text/plain; charset=utf-8', data: Buffer.from(dockerfile(config)) };
  const dir = `openmeet-node-${node.name}`;
  const worker = builtWorker();
  const data = tarGz([
    ...sourceEntries(dir),
    ...(worker ? [{ path: `${dir}/bin/mediasoup-worker`, data: worker, mode: 0o755 }] : []),
    { path: `${dir}/node.json`, data: json, mode: 0o600 },
    { path: `${dir}/start.sh`, data: START_SH, mode: 0o755 },
    { path: `${dir}/install.sh`, data: INSTALL_SH, mode: 0o755 },
    { path: `${dir}/openmeet-node.service`, data: systemdUnit(node.name) },
    { path: `${dir}/Dockerfile`, data: dockerfile(config) },
  ]);
  return { filename: `${dir}.tar.gz`, contentType: 'application/gzip', data };
}
