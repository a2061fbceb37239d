import { eq } from 'drizzle-orm';
import { platformSetting } from '../../db/schema.js';
import type { Domain } from '../domain.js';
import { AppError } from '../errors/AppError.js';
import { createObject } from './config.service.js';

/** The guide's shipped Test Call Service (guide-digest-2 §15): "Test Call Service", alias test_call. */
export const SHIPPED_TEST_CALL = { name: 'Test Call Service', aliases: [{ alias: 'test_call' }] } as const;
/** The guide's pre-configured STUN server (guide-digest-1 §17), assignable to locations as a client STUN server. */
export const SHIPPED_STUN = { name: 'stun.l.google.com', address: 'stun.l.google.com', port: 19_302 } as const;

/** What a new install ships with; each is added once per database (its platform setting marks it). */
const SHIPPED = [
  { key: 'shipped_test_call_service', resource: 'test_call', values: SHIPPED_TEST_CALL },
  { key: 'shipped_stun_server', resource: 'stun_server', values: SHIPPED_STUN },
] as const;

/**
 * Adds what a fresh install ships with, each object once per database: deleting one later is the
 * administrator's choice. An install whose name or alias is already taken keeps its own objects
 * (the validation error is the answer, not a failure).
 */
export async function addShippedObjects(dom: Domain): Promise<void> {
  for (const { key, resource, values } of SHIPPED) {
    const [done] = await dom.db.select().from(platformSetting).where(eq(platformSetting.key, key));
    if (done) continue;
    try {
      await createObject(dom, resource, values);
    } catch (err) {
      if (!(err instanceof AppError && err.code === 'BAD_REQUEST')) throw err;
    }
    await dom.db.insert(platformSetting).values({ key, value: new Date().toISOString() }).onConflictDoNothing();
  }
}
