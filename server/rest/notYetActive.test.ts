import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../db/client.js';
import type { FieldSpec } from '../../shared/config/field.js';
import { globalResource } from '../../shared/config/resources/platform.js';
import { ManagementServer } from '../ManagementServer.js';

/** Settings nothing in OpenMeet acts on yet say so in the API schema (the console shows a badge from the same flag). */
describe('settings not acted on yet', () => {
  const fields: Record<string, FieldSpec> = globalResource.fields;
  let server: ManagementServer;
  const auth = { authorization: `Basic ${Buffer.from('admin:pw').toString('base64')}` };
  beforeAll(async () => {
    server = await ManagementServer.start({
      port: 0,
      database: await openDatabase({ dataDir: 'memory://' }),
      adminPassword: 'pw',
      enrollmentKey: 'k',
      webRoot: '/nonexistent',
      logger: pino({ level: 'silent' }),
    });
  });
  afterAll(() => server?.stop());

  it('are flagged in the global settings schema; settings the nodes use are not', async () => {
    const schema = await (await fetch(`${server.url}/api/admin/configuration/v1/global/schema/`, { headers: auth })).json();
    for (const key of ['enable_h323', 'enable_rtmp', 'bursting_enabled', 'cloud_provider']) {
      expect(schema.fields[key], key).toMatchObject({ not_yet_active: true });
      expect(schema.fields[key].help_text, key).toContain('Not acted on yet by OpenMeet');
    }
    for (const key of [
      'enable_sip',
      'enable_sip_udp',
      'enable_chat',
      'guests_only_timeout',
      'media_ports_start',
      'bdpm_pin_checks_enabled',
      'default_theme',
      'crypto_mode',
    ]) {
      expect(schema.fields[key], key).not.toHaveProperty('not_yet_active');
      expect(fields[key]?.notYetActive, key).toBeUndefined();
    }
  });
});
