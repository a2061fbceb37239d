import { eq } from 'drizzle-orm';
import { platformSetting } from '../../db/schema.js';
import type { Domain } from '../domain.js';
import { AppError } from '../errors/AppError.js';
import { createObject } from './config.service.js';

/** Marks that the shipped objects were added once: deleting them later is the administrator's choice. */
const SHIPPED_KEY = 'shipped_test_call_service';

/** The guide's shipped Test Call Service (guide-digest-2 §15): "Test Call Service", alias test_call. */
export const SHIPPED_TEST_CALL = { name: 'Test Call Service', aliases: [{ alias: 'test_call' }] } as const;

/**
 * Adds what a fresh install ships with, once per database. An existing install whose name or alias
 * is already taken keeps its own objects (the validation error is the answer, not a failure).
 */
export async function addShippedObjects(dom: Domain): Promise<void> {
  const [done] = await dom.db.select().from(platformSetting).where(eq(platformSetting.key, SHIPPED_KEY));
  if (done) return;
  try {
    await createObject(dom, 'test_call', SHIPPED_TEST_CALL);
  } catch (err) {
    if (!(err instanceof AppError && err.code === 'BAD_REQUEST')) throw err;
  }
  await dom.db.insert(platformSetting).values({ key: SHIPPED_KEY, value: new Date().toISOString() }).onConflictDoNothing();
}
