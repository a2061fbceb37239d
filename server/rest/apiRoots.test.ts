import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../db/client.js';
import { alarm } from '../../db/schema.js';
import { ManagementServer } from '../ManagementServer.js';

interface Root {
  [resource: string]: { list_endpoint: string; schema: string };
}
interface Schema {
  fields: Record<string, { type: string }>;
  filtering: Record<string, unknown>;
  ordering: string[];
}

describe('status/v1 and history/v1 roots list every resource served, each with its list and schema (issue 12, item 2)', () => {
  let server: ManagementServer;
  const get = async <T>(path: string, auth = 'admin:pw') => {
    const r = await fetch(`${server.url}${path}`, { headers: { authorization: `Basic ${Buffer.from(auth).toString('base64')}` } });
    return { status: r.status, body: (await r.json()) as T };
  };

  beforeAll(async () => {
    server = await ManagementServer.start({
      port: 0,
      database: await openDatabase({ dataDir: 'memory://' }),
      adminPassword: 'pw',
      enrollmentKey: 'k',
      webRoot: '/nonexistent',
      logger: pino({ level: 'silent' }),
    });
    // One lowered and one active alarm, so both alarm lists have objects to hold against their schemas.
    await server.database.db.insert(alarm).values([
      { name: 'Conferencing Node not responding', identifier: 1, level: 'error', instance: 'node-a', node: 'node-a', timeLowered: new Date() },
      { name: 'Syslog server inaccessible', identifier: 2, level: 'warning', instance: 'syslog.example.com' },
    ]);
  });
  afterAll(() => server?.stop());

  it.each([
    [
      '/api/admin/status/v1',
      [
        'conference',
        'conference_shard',
        'participant',
        'participant_media_stream',
        'worker_vm',
        'system_location',
        'registration_alias',
        'alarm',
        'backplane',
        'break_in_block',
      ],
    ],
    ['/api/admin/history/v1', ['conference', 'participant', 'media_stream', 'backplane', 'alarm']],
  ])('%s/: every listed list_endpoint and schema answers 200, and every field an object carries is in its schema', async (base, expected) => {
    const root = await get<Root>(`${base}/`);
    expect(root.status).toBe(200);
    expect(Object.keys(root.body).sort()).toEqual([...expected].sort());
    for (const [name, { list_endpoint, schema }] of Object.entries(root.body)) {
      expect(list_endpoint).toBe(`${base}/${name}/`);
      expect(schema).toBe(`${base}/${name}/schema/`);
      const list = await get<{ meta: { total_count: number }; objects: Record<string, unknown>[] }>(list_endpoint);
      expect(list.status, list_endpoint).toBe(200);
      expect(list.body.meta.total_count, list_endpoint).toBe(list.body.objects.length);
      const s = await get<Schema>(schema);
      expect(s.status, schema).toBe(200);
      expect(s.body.fields.resource_uri, schema).toBeDefined();
      for (const o of list.body.objects)
        expect(
          Object.keys(o).filter((k) => !(k in s.body.fields)),
          list_endpoint,
        ).toEqual([]);
      // What the schema says may be ordered on, the list takes.
      for (const f of s.body.ordering) expect((await get(`${list_endpoint}?order_by=-${f}`)).status, `${list_endpoint}?order_by=-${f}`).toBe(200);
    }
  });

  it('the alarm schemas follow their objects: active alarms with acknowledged, history with time_lowered', async () => {
    const active = await get<Schema>('/api/admin/status/v1/alarm/schema/');
    const all = await get<Schema>('/api/admin/history/v1/alarm/schema/');
    expect(active.body.fields).toHaveProperty('acknowledged.type', 'boolean');
    expect(active.body.fields).not.toHaveProperty('time_lowered');
    expect(all.body.fields).toHaveProperty('time_lowered.type', 'datetime');
    expect(all.body.fields).toHaveProperty('time_raised.type', 'datetime');
    expect(all.body.ordering).toContain('time_raised');
    expect((await get<{ objects: unknown[] }>('/api/admin/status/v1/alarm/')).body.objects).toHaveLength(1);
    expect((await get<{ objects: unknown[] }>('/api/admin/history/v1/alarm/')).body.objects).toHaveLength(2);
  });

  it('refuses the roots and schemas without credentials', async () => {
    for (const path of [
      '/api/admin/status/v1/',
      '/api/admin/history/v1/',
      '/api/admin/history/v1/alarm/schema/',
      '/api/admin/status/v1/break_in_block/schema/',
    ])
      expect((await get(path, 'admin:wrong')).status, path).toBe(401);
  });
});
