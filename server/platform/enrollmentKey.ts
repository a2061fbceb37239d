import { eq } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { platformSetting } from '../../db/schema.js';

/** The key nodes must present, as stored now (a restored backup may have replaced it). */
export async function readEnrollmentKey(db: Database): Promise<string | null> {
  const [row] = await db.select({ value: platformSetting.value }).from(platformSetting).where(eq(platformSetting.key, 'node_enrollment_key'));
  return row?.value ?? null;
}
