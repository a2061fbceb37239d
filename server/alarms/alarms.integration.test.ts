import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { TEST_DATABASES } from '../../db/testing.js';
import { ManualClock } from '../../shared/time/ManualClock.js';
import { until } from '../../shared/testing/until.js';
import { createServer } from 'node:net';
import { streamReceiver, udpReceiver } from '../../node-agent/testing/syslogReceivers.js';
import { generateSelfSigned } from '../certificate/pem.js';
import { ManagementServer } from '../ManagementServer.js';
import { AlarmManager } from './AlarmManager.js';

const KEY = 'alarm-test-key';
const DAY = 86_400_000;
const children: ChildProcess[] = [];
const auth = { authorization: `Basic ${Buffer.from('admin:pw').toString('base64')}`, 'content-type': 'application/json' };

/** A logger whose JSON lines the test reads (the administrator.alarm lines). */
function capturedLogger() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: pino({ level: 'info' }, stream) };
}

/** Starts the real node agent process and resolves with the URL it prints. */
function launchNode(env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'node-agent/main.ts'], {
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (d: Buffer) => {
      out += String(d);
      if (/conferencing node at (http:\/\/\S+) /.test(out)) resolve(child);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => (out += String(d)));
    child.on('exit', (code) => reject(new Error(`node exited (${code}): ${out.slice(-2_000)}`)));
  });
}

afterAll(() => {
  for (const c of children) {
    c.kill('SIGCONT');
    c.kill('SIGKILL');
  }
});

describe.each(TEST_DATABASES)('alarms ($name)', ({ open }) => {
  it(
    'a node frozen with SIGSTOP raises "Connectivity lost between nodes" within 15 s, SIGCONT lowers it; logged and in status/history; a brief freeze across a configuration change raises and lowers "Configuration not synchronized"',
    { timeout: 90_000 },
    async () => {
      const { lines, logger } = capturedLogger();
      const server = await ManagementServer.start({
        port: 0,
        database: await open(),
        adminPassword: 'pw',
        enrollmentKey: KEY,
        webRoot: '/nonexistent',
        logger,
        // A node given 1.5 s (not the guide's 3 minutes) to apply what it is sent.
        alarms: { managementName: 'mgr', configSyncMs: 1_500 },
      });
      const get = async (path: string) =>
        (await fetch(`${server.url}${path}`, { headers: auth })).json() as Promise<{ meta: { total_count: number }; objects: Record<string, unknown>[] }>;
      const lost = (objects: Record<string, unknown>[]) => objects.filter((a) => a.name === 'Connectivity lost between nodes');
      try {
        const node = await launchNode({
          NODE_NAME: 'frozen-node',
          MANAGEMENT_URL: server.url,
          NODE_ENROLLMENT_KEY: KEY,
          NODE_PORT: '0',
          NODE_HTTPS_PORT: 'off',
          NODE_SIP_PORT: 'off',
          NODE_DATA_DIR: mkdtempSync(join(tmpdir(), 'om-alarm-')),
          MEDIA_PORTS: '38100-38199',
        });
        await until(
          () => server.registry.nodeNames().size,
          (n) => n === 1,
          15_000,
        );
        expect(lost((await get('/api/admin/status/v1/alarm/')).objects)).toEqual([]);

        node.kill('SIGSTOP');
        const frozenAt = Date.now();
        const raised = await until(
          async () => lost((await get('/api/admin/status/v1/alarm/')).objects),
          (a) => a.length === 1,
          20_000,
          200,
        );
        const raisedAfterMs = Date.now() - frozenAt;
        console.log(`"Connectivity lost between nodes" raised ${raisedAfterMs} ms after SIGSTOP`);
        expect(raisedAfterMs).toBeLessThan(15_000);
        expect(raised[0]).toEqual({
          id: expect.any(Number),
          name: 'Connectivity lost between nodes',
          identifier: 19,
          level: 'warning',
          details: 'Unable to contact node.',
          instance: 'Source=mgr, Destination=frozen-node',
          node: 'frozen-node',
          time_raised: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}$/),
          acknowledged: false,
          resource_uri: `/api/admin/status/v1/alarm/${String(raised[0]!.id)}/`,
        });
        expect(lines).toContainEqual(
          expect.objectContaining({ module: 'administrator.alarm', msg: 'Alarm raised', Alarm: 'connectivity_lost', Node: 'frozen-node', level: 40 }),
        );

        node.kill('SIGCONT');
        await until(
          async () => lost((await get('/api/admin/status/v1/alarm/')).objects).length,
          (n) => n === 0,
          20_000,
          200,
        );
        const history = lost((await get('/api/admin/history/v1/alarm/')).objects);
        expect(history).toHaveLength(1);
        expect(history[0]).toMatchObject({ id: raised[0]!.id, time_raised: raised[0]!.time_raised, time_lowered: expect.stringMatching(/^\d{4}-/) });
        expect(history[0]).not.toHaveProperty('acknowledged');
        expect(lines).toContainEqual(
          expect.objectContaining({ module: 'administrator.alarm', msg: 'Alarm lowered', Alarm: 'connectivity_lost', Node: 'frozen-node' }),
        );
        // Frozen once, raised once: the heartbeats that follow did not raise it again.
        expect(lines.filter((l) => l.msg === 'Alarm raised' && l.Alarm === 'connectivity_lost')).toHaveLength(1);

        // Frozen briefly (well within the heartbeat's limit) while the configuration changes: not replicated.
        const notSynced = async () => (await get('/api/admin/status/v1/alarm/?name=Configuration%20not%20synchronized')).objects;
        expect(await notSynced()).toEqual([]);
        node.kill('SIGSTOP');
        const vmr = await fetch(`${server.url}/api/admin/configuration/v1/conference/`, {
          method: 'POST',
          headers: auth,
          body: JSON.stringify({ name: 'Sync room', aliases: [{ alias: 'sync@example.com' }] }),
        });
        expect(vmr.status).toBe(201);
        const [stale] = await until(notSynced, (a) => a.length === 1, 5_000, 100);
        expect(stale).toMatchObject({ identifier: 18, level: 'error', node: 'frozen-node' });
        node.kill('SIGCONT');
        // It reads the configuration waiting in its socket, applies it and says so: lowered.
        await until(notSynced, (a) => a.length === 0, 10_000, 100);
        expect(lost((await get('/api/admin/status/v1/alarm/')).objects)).toEqual([]);
      } finally {
        await server.stop();
      }
    },
  );

  it(
    'certificates expiring within 30 days raise the guide alarm, found by the periodic check as time passes; deleting the certificate lowers it',
    { timeout: 60_000 },
    async () => {
      const clock = new ManualClock();
      const server = await ManagementServer.start({
        port: 0,
        database: await open(),
        adminPassword: 'pw',
        webRoot: '/nonexistent',
        logger: pino({ level: 'silent' }),
        alarms: { clock, certificateCheckMs: 10 * DAY },
      });
      const api = (path: string, init: RequestInit = {}) => fetch(`${server.url}${path}`, { ...init, headers: auth });
      const active = async () =>
        (
          (await (await api('/api/admin/status/v1/alarm/?name=TLS%20certificates%20expiring')).json()) as {
            objects: { instance: string; details: string; level: string; identifier: number }[];
          }
        ).objects;
      try {
        const c = generateSelfSigned({ commonName: 'later.example.com', days: 45 });
        const created = await api('/api/admin/configuration/v1/tls_certificate/', {
          method: 'POST',
          body: JSON.stringify({ certificate: c.certificate, private_key: c.privateKey }),
        });
        expect(created.status).toBe(201);
        const uri = created.headers.get('location')!;
        expect(uri).toMatch(/tls_certificate\/\d+\/$/);
        // 45 days left: no alarm yet (the next check runs after the upload's configuration change).
        await new Promise((r) => setTimeout(r, 1_000));
        expect(await active()).toEqual([]);

        // Twenty days on, the hourly-style check finds 25 days left.
        await clock.advance(20 * DAY);
        const found = await until(active, (a) => a.length === 1, 10_000);
        expect(found[0]).toMatchObject({ instance: 'later.example.com', level: 'warning', identifier: 7 });
        expect(found[0]!.details).toMatch(/^TLS certificate "later.example.com" expires on \d{4}-\d{2}-\d{2}\.$/);
        // Checked again once it has expired: still one alarm, not two, saying so.
        await clock.advance(30 * DAY);
        await until(active, (a) => a.length === 1 && a[0]!.details.includes('expired on'), 10_000);

        // DELETE carries no body, so no content-type either.
        const deleted = await fetch(new URL(uri, server.url), { method: 'DELETE', headers: { authorization: auth.authorization } });
        expect(deleted.status).toBe(204);
        await until(active, (a) => a.length === 0, 10_000);
      } finally {
        await server.stop();
      }
    },
  );

  it(
    'alarm lines reach the syslog servers as administrator.alarm; a TCP server that refuses raises "Syslog server inaccessible" for the management node',
    { timeout: 30_000 },
    async () => {
      const server = await ManagementServer.start({
        port: 0,
        database: await open(),
        adminPassword: 'pw',
        webRoot: '/nonexistent',
        logger: pino({ level: 'silent' }),
      });
      const api = (path: string, init: RequestInit = {}) => fetch(`${server.url}${path}`, { ...init, headers: auth });
      const udp = await udpReceiver();
      const probe = createServer();
      await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
      const tcpPort = (probe.address() as { port: number }).port;
      await new Promise((r) => probe.close(r));
      try {
        for (const body of [
          { address: '127.0.0.1', port: udp.port, transport: 'udp', support_log: true },
          { address: '127.0.0.1', port: tcpPort, transport: 'tcp', support_log: true },
        ]) {
          expect((await api('/api/admin/configuration/v1/syslog_server/', { method: 'POST', body: JSON.stringify(body) })).status).toBe(201);
        }
        const raised = await until(
          () => udp.messages.filter((m) => m.includes('Message="Alarm raised"')),
          (m) => m.length === 1,
          10_000,
        );
        expect(raised[0]).toMatch(
          /WARNING administrator\.alarm Message="Alarm raised" Node="" Alarm="syslog_inaccessible" Time="\d{4}-\d{2}-\d{2} [\d:]{8},\d{3}" Instance="tcp:\/\/127\.0\.0\.1:\d+" Detail="[^"]*ECONNREFUSED/,
        );
        const active = (await (await api('/api/admin/status/v1/alarm/')).json()) as { objects: { name: string; node: string; instance: string }[] };
        expect(active.objects).toEqual([expect.objectContaining({ name: 'Syslog server inaccessible', node: '', instance: `tcp://127.0.0.1:${tcpPort}` })]);

        // The TCP server comes up: lowered, and the lowering reaches both servers.
        const tcp = await streamReceiver({ port: tcpPort });
        try {
          await until(
            () => [...udp.messages, ...tcp.messages].filter((m) => m.includes('Message="Alarm lowered"') && m.includes('syslog_inaccessible')).length,
            (n) => n >= 2,
            15_000,
          );
        } finally {
          await tcp.close();
        }
      } finally {
        await server.stop();
        await udp.close();
      }
    },
  );

  it(
    'status/v1 and history/v1 alarm: Tastypie envelope, filters, paging, ordering; refused without credentials; raising twice is one alarm',
    { timeout: 30_000 },
    async () => {
      const database = await open();
      const server = await ManagementServer.start({ port: 0, database, adminPassword: 'pw', webRoot: '/nonexistent', logger: pino({ level: 'silent' }) });
      const api = (path: string, headers: Record<string, string> = auth) => fetch(`${server.url}${path}`, { headers });
      type Page = {
        meta: { limit: number; offset: number; total_count: number; next: string | null; previous: string | null };
        objects: Record<string, unknown>[];
      };
      try {
        const clock = new ManualClock(Date.parse('2026-01-10T12:00:00Z'));
        const alarms = new AlarmManager(database.db, pino({ level: 'silent' }), clock);
        const first = await alarms.raise({ alarm: 'capacity_exhausted', node: 'n1', instance: 'n1', details: 'out of transcoding resource' });
        expect((await alarms.raise({ alarm: 'capacity_exhausted', node: 'n1', instance: 'n1' })).id).toBe(first.id);
        await clock.advance(60_000);
        await alarms.raise({ alarm: 'eventsink_maximum_backoff', node: 'n2', instance: 'sink-a' });
        await clock.advance(60_000);
        await alarms.raise({ alarm: 'configuration_sync_failure', node: 'n3', instance: 'n3' });
        await alarms.lower({ alarm: 'capacity_exhausted', node: 'n1', instance: 'n1' });
        // Raised again after being lowered: a new alarm, the old one stays in the history.
        await alarms.raise({ alarm: 'capacity_exhausted', node: 'n1', instance: 'n1' });

        const status = (await (await api('/api/admin/status/v1/alarm/')).json()) as Page;
        expect(status.meta).toEqual({ limit: 20, offset: 0, total_count: 3, next: null, previous: null });
        expect(status.objects.map((a) => [a.name, a.level])).toEqual([
          ['Call capacity limit reached', 'warning'],
          ['Configuration not synchronized', 'error'],
          ['Eventsink Reached Maximum Backoff', 'critical'],
        ]);
        const history = (await (await api('/api/admin/history/v1/alarm/?order_by=time_raised')).json()) as Page;
        expect(history.meta.total_count).toBe(4);
        expect(history.objects[0]).toMatchObject({ id: first.id, time_raised: '2026-01-10T12:00:00.000000', time_lowered: '2026-01-10T12:02:00.000000' });

        const filtered = async (q: string) => ((await (await api(`/api/admin/history/v1/alarm/?${q}`)).json()) as Page).objects.map((a) => a.identifier);
        expect(await filtered('level=critical')).toEqual([36]);
        expect(await filtered('name=Configuration%20not%20synchronized')).toEqual([18]);
        expect(await filtered('time_raised__gte=2026-01-10T12:01:00&time_raised__lt=2026-01-10T12:02:00')).toEqual([36]);
        expect(await filtered('time_lowered__isnull=false')).toEqual([1]);

        const page = (await (await api('/api/admin/history/v1/alarm/?limit=3&offset=0')).json()) as Page;
        expect(page.meta).toMatchObject({ limit: 3, total_count: 4, previous: null });
        const next = (await (await api(page.meta.next!)).json()) as Page;
        expect(next.objects).toHaveLength(1);
        expect(next.meta.previous).toContain('offset=0');

        const one = (await (await api(`/api/admin/history/v1/alarm/${first.id}/`)).json()) as Record<string, unknown>;
        expect(one.id).toBe(first.id);
        // Lowered: no longer a status alarm.
        expect((await api(`/api/admin/status/v1/alarm/${first.id}/`)).status).toBe(404);

        expect((await api('/api/admin/history/v1/alarm/?time_raised__gte=yesterday')).status).toBe(400);
        expect((await api('/api/admin/history/v1/alarm/?order_by=secret')).status).toBe(400);
        // An API user whose role does not include viewing status is refused.
        const config = (path: string, body: object) =>
          fetch(`${server.url}/api/admin/configuration/v1/${path}/`, { method: 'POST', headers: auth, body: JSON.stringify(body) });
        const role = await config('role', { name: 'No status', permissions: ['is_administrator', 'may_use_api', 'view_system'] });
        expect(role.status).toBe(201);
        const user = await config('user', {
          username: 'nostatus',
          password: 'nostatus-pw-1',
          password_confirm: 'nostatus-pw-1',
          roles: [role.headers.get('location')],
        });
        expect(user.status).toBe(201);
        const other = { authorization: `Basic ${Buffer.from('nostatus:nostatus-pw-1').toString('base64')}` };
        for (const path of ['/api/admin/status/v1/alarm/', '/api/admin/history/v1/alarm/', `/api/admin/history/v1/alarm/${first.id}/`]) {
          const refused = await api(path, other);
          expect(refused.status).toBe(403);
          expect(JSON.stringify(await refused.json())).not.toContain('Call capacity');
        }
        for (const path of ['/api/admin/status/v1/alarm/', '/api/admin/history/v1/alarm/']) {
          expect((await api(path, {})).status).toBe(401);
          expect((await api(path, { authorization: `Basic ${Buffer.from('admin:wrong').toString('base64')}` })).status).toBe(401);
        }
      } finally {
        await server.stop();
      }
    },
  );
});

describe('alarms across a management server restart', () => {
  it(
    'a node that went down while the server was stopped is raised as lost after the start-up grace, and lowered when it connects',
    { timeout: 90_000 },
    async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'om-alarm-db-'));
      const nodeDir = mkdtempSync(join(tmpdir(), 'om-alarm-node-'));
      const start = () =>
        ManagementServer.start({
          port: 0,
          dataDir,
          adminPassword: 'pw',
          enrollmentKey: KEY,
          webRoot: '/nonexistent',
          logger: pino({ level: 'silent' }),
          alarms: { startupGraceMs: 1_000 },
        });
      const nodeEnv = (url: string) => ({
        NODE_NAME: 'restart-node',
        MANAGEMENT_URL: url,
        NODE_ENROLLMENT_KEY: KEY,
        NODE_PORT: '0',
        NODE_HTTPS_PORT: 'off',
        NODE_SIP_PORT: 'off',
        NODE_DATA_DIR: nodeDir,
        MEDIA_PORTS: '38400-38499',
      });
      let server = await start();
      let node = await launchNode(nodeEnv(server.url));
      await until(
        () => server.registry.nodeNames().size,
        (n) => n === 1,
        15_000,
      );
      // Seen (its last contact recorded), then the server stops and, meanwhile, the node too.
      await until(
        async () =>
          ((await (await fetch(`${server.url}/api/admin/status/v1/worker_vm/`, { headers: auth })).json()) as { objects: { last_updated?: string | null }[] })
            .objects[0]?.last_updated,
        (v) => typeof v === 'string',
        15_000,
      );
      await server.stop();
      node.kill('SIGKILL');

      server = await start();
      const lostAlarms = async () =>
        (
          (await (await fetch(`${server.url}/api/admin/status/v1/alarm/?name=Connectivity%20lost%20between%20nodes`, { headers: auth })).json()) as {
            objects: { node: string }[];
          }
        ).objects;
      try {
        const [raised] = await until(lostAlarms, (a) => a.length === 1, 10_000, 200);
        expect(raised!.node).toBe('restart-node');
        node = await launchNode(nodeEnv(server.url));
        await until(lostAlarms, (a) => a.length === 0, 20_000, 200);
      } finally {
        node.kill('SIGKILL');
        await server.stop();
      }
    },
  );
});
