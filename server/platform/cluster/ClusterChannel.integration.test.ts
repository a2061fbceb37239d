import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../../../shared/testing/until.js';
import { CLUSTER_CHANNEL, ClusterChannel } from './ClusterChannel.js';
import type { LiveParticipant } from '../../../shared/node-protocol/messages.js';
import type { ClusterMessage } from './clusterMessages.js';

const BASE_URL = process.env.TEST_DATABASE_URL;
const silent = pino({ level: 'silent' });

/** A conference with `n` participants: a node's `status` far over NOTIFY's 8000-byte payload limit. */
function bigStatus(n: number): ClusterMessage {
  const participants: LiveParticipant[] = [...Array(n)].map((_, i) => ({
    id: `participant-${i}-${'x'.repeat(20)}`,
    displayName: `Participant ${i} — Zoë Ångström 日本語`,
    role: 'guest',
    alias: 'big.room',
    protocol: 'webrtc',
    node: 'node-a',
    remoteAddress: '10.0.0.1',
    connectTime: new Date(0).toISOString(),
    isMuted: false,
    isPresenting: false,
  }));
  return {
    kind: 'node_message',
    node: { id: 1, name: 'node-a', location: 'Oslo' },
    msg: {
      type: 'status',
      conferences: [{ id: 'c1', name: 'Big room', serviceType: 'conference', startTime: new Date(0).toISOString(), participants, activeSpeaker: null }],
    },
  };
}

describe.skipIf(!BASE_URL)('the cluster channel (Postgres LISTEN/NOTIFY)', () => {
  const dbName = `om_channel_${process.pid}_${Date.now()}`;
  let url = '';
  let a: ClusterChannel;
  let b: ClusterChannel;
  const gotB: ClusterMessage[] = [];
  const gotA: ClusterMessage[] = [];

  beforeAll(async () => {
    const admin = new pg.Client({ connectionString: BASE_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${dbName}`);
    await admin.end();
    const u = new URL(BASE_URL!);
    u.pathname = `/${dbName}`;
    url = u.toString();
    a = new ClusterChannel(url, 'server-a', silent);
    b = new ClusterChannel(url, 'server-b', silent);
    await Promise.all([a.start(), b.start()]);
    a.on('message', (m) => gotA.push(m));
    b.on('message', (m) => gotB.push(m));
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    const admin = new pg.Client({ connectionString: BASE_URL });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin.end();
  });

  it('carries a message far over the payload limit whole, in order with small ones, and not back to its sender', async () => {
    const big = bigStatus(400);
    expect(JSON.stringify(big).length).toBeGreaterThan(50_000);
    await a.publish({ kind: 'config_changed', what: 'before' });
    await a.publish(big);
    await a.publish({ kind: 'config_changed', what: 'after' });
    await until(
      () => gotB.length,
      (n) => n >= 3,
      5_000,
    );
    expect(gotB[0]).toEqual({ kind: 'config_changed', what: 'before' });
    expect(gotB[1]).toEqual(big);
    expect(gotB[2]).toEqual({ kind: 'config_changed', what: 'after' });
    expect(gotA).toHaveLength(0);
  });

  it('ignores what is not a cluster message (another program on the channel), and goes on', async () => {
    const other = new pg.Client({ connectionString: url });
    await other.connect();
    const before = gotB.length;
    for (const payload of [
      'hello',
      'x|y|0|1|{"kind":"nonsense"}',
      'x|y|0|1|not json',
      'x|y|5|2|{}',
      `x|y|0|1|${JSON.stringify({ kind: 'node_down', nodeId: 'one' })}`,
    ])
      await other.query('SELECT pg_notify($1, $2)', [CLUSTER_CHANNEL, payload]);
    await other.end();
    await a.publish({ kind: 'goodbye' });
    await until(
      () => gotB.slice(before),
      (ms) => ms.length >= 1,
      5_000,
    );
    expect(gotB.slice(before)).toEqual([{ kind: 'goodbye' }]);
  });

  it('listens again after Postgres ended its connection, and asks peers to resync', async () => {
    let resynced = false;
    b.once('reconnected', () => (resynced = true));
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND query LIKE 'LISTEN%' AND pid <> pg_backend_pid()`, [
      dbName,
    ]);
    await admin.end();
    await until(
      () => resynced,
      (v) => v,
      10_000,
    );
    const before = gotB.length;
    // a's own connection was ended too: it reconnects on its own; wait until a message gets through.
    await until(
      async () => {
        await a.publish({ kind: 'alarms_changed' });
        return gotB.length > before;
      },
      (v) => v,
      10_000,
      200,
    );
  });
});
