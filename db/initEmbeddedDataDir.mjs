// Creates an embedded database (PGlite initdb) in the directory given and applies the committed
// migrations, then exits: run as a child process by db/embeddedPostgres.ts so that the server's own
// heap never grows to the size creating a database needs.
// Usage: node db/initEmbeddedDataDir.mjs <dataDir> <postgresql.conf lines as JSON> <migrations folder>
import { PGlite } from '@electric-sql/pglite';
import { drizzle } from 'drizzle-orm/pglite';
import { migrate } from 'drizzle-orm/pglite/migrator';

const [dataDir, conf, migrationsFolder] = process.argv.slice(2);
if (!dataDir || !conf || !migrationsFolder) {
  console.error('usage: node db/initEmbeddedDataDir.mjs <dataDir> <conf-json> <migrations folder>');
  process.exit(2);
}
const client = new PGlite(dataDir, { postgresqlconf: JSON.parse(conf) });
await migrate(drizzle(client), { migrationsFolder });
await client.close();
