import { join } from 'node:path';
import { DataDirLockedError } from '../db/DataDirLock.js';
import { ManagementServer } from './ManagementServer.js';

/** Runs the management server alone (the start script runs it together with a local node). */
const server = await ManagementServer.start({
  port: Number(process.env.PORT ?? 8080),
  host: process.env.HOST ?? '127.0.0.1',
  databaseUrl: process.env.DATABASE_URL,
  // DATA_DIR holds everything the product writes (the start command's folder); the database is db/ in it.
  dataDir: process.env.DATA_DIR ? join(process.env.DATA_DIR, 'db') : undefined,
  adminPassword: process.env.ADMIN_PASSWORD,
  enrollmentKey: process.env.NODE_ENROLLMENT_KEY,
  metricsToken: process.env.METRICS_TOKEN || undefined,
  // HTTPS_PORT (default 9443: the node's own HTTPS is 8443), `off` for HTTP only. The certificate is
  // the Management Node's from the certificate store, else a self-signed one kept in DATA_DIR/tls.
  httpsPort: process.env.HTTPS_PORT === 'off' ? undefined : Number(process.env.HTTPS_PORT ?? 9443),
  // The default port taken by something else must not stop the quick start; a chosen one must.
  httpsOptional: process.env.HTTPS_PORT === undefined,
  // CONSOLE_ORIGINS: comma-separated public origins of a reverse proxy that rewrites Host (e.g. https://meet.example.com).
  allowedOrigins: process.env.CONSOLE_ORIGINS?.split(',')
    .map((o) => o.trim())
    .filter(Boolean),
  tlsDir: process.env.DATA_DIR ? join(process.env.DATA_DIR, 'tls') : undefined,
  // PUBLIC_URL: where nodes reach this server, told to the other servers on the database (node downloads list them all).
  publicUrl: process.env.PUBLIC_URL || undefined,
}).catch((err: unknown) => {
  // Another server already has this database: say so in one line, not a stack trace.
  if (err instanceof DataDirLockedError) {
    console.error(err.message);
    process.exit(1);
  }
  throw err;
});
if (server.generatedAdminPassword) console.log(`\n  admin password (shown once): ${server.generatedAdminPassword}\n`);
console.log(`management server at ${server.url}`);
if (server.https) console.log(`HTTPS at ${server.https.url} (${server.https.certificate.source} certificate, SHA-256 ${server.https.certificate.fingerprint})`);
if (!server.generatedAdminPassword && !process.env.ADMIN_PASSWORD) console.log('admin password: unchanged (set ADMIN_PASSWORD to reset it)');
const stop = () => void server.stop().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
