import { strToU8, zipSync, type Zippable } from 'fflate';
import { z } from 'zod';
import { isWriteOnly } from '../../shared/config/field.js';
import { RESOURCES } from '../../shared/config/registry.js';
import { listAdminLog } from '../audit/adminLog.service.js';
import { getSingletonRecord, listObjects } from '../config/config.service.js';
import type { Domain } from '../domain.js';
import type { NodeRegistry } from '../platform/NodeRegistry.js';
import { toApi } from '../rest/resource.routes.js';
import type { LiveStatus } from '../status/LiveStatus.js';
import { supportLogLine, type SupportLog } from '../supportLog/SupportLog.js';

/** `platform/snapshot/` (management-api.md §9): `limit` = hours of logs back from `end_limit` (hours before now). */
export const snapshotBody = z.object({
  limit: z.coerce
    .number()
    .int('limit must be a whole number of hours.')
    .min(1)
    .max(24 * 365)
    .default(24),
  end_limit: z.coerce
    .number()
    .int()
    .min(0)
    .max(24 * 365)
    .default(0),
  include_diagnostic_metrics: z.boolean().default(false),
  /** Pexip's background request: the snapshot is made at once here, so it is accepted and ignored. */
  request: z.boolean().optional(),
});
export type SnapshotRequest = z.infer<typeof snapshotBody>;

const HOUR_MS = 3_600_000;
/** Every secret and PIN is left out, whatever the resource says about reading it back. */
const SECRET_NAME = /pin|password|secret|passphrase|community|private_key|token|credential/i;

const json = (v: unknown) => strToU8(`${JSON.stringify(v, null, 2)}\n`);

/**
 * A diagnostic snapshot: a ZIP of the configuration (API-shaped, without any secret or PIN), the
 * live status (conferences, participants, nodes, break-in blocks), the administrator log and the
 * support log (the management node's and each conferencing node's, one file each) of the requested
 * window and, when asked, the server's Prometheus metrics. For support, safe to hand over.
 */
export async function createSnapshot(
  dom: Domain,
  status: LiveStatus,
  registry: NodeRegistry,
  req: SnapshotRequest,
  metrics?: () => Promise<string>,
  supportLog?: SupportLog,
): Promise<{ fileName: string; archive: Uint8Array }> {
  const now = new Date();
  const until = new Date(now.getTime() - req.end_limit * HOUR_MS);
  const since = new Date(until.getTime() - req.limit * HOUR_MS);
  const files: Zippable = {};
  for (const def of RESOURCES) {
    const items = def.singleton ? [await getSingletonRecord(dom, def)] : (await listObjects(dom, def.name, { limit: 10_000 })).items;
    files[`configuration/${def.name}.json`] = json(
      items.map((r) => {
        const o = toApi(def, r);
        for (const [k, f] of Object.entries(def.fields)) if (isWriteOnly(f) || ('secret' in f && f.secret) || SECRET_NAME.test(k)) delete o[k];
        return o;
      }),
    );
  }
  files['status/conferences.json'] = json(status.conferences());
  files['status/nodes.json'] = json(registry.liveNodes());
  files['status/break_in_blocks.json'] = json(status.breakIn.list());
  const log = await listAdminLog(dom, { since, until, limit: 100_000 });
  files['logs/administrator_log.json'] = json(log.items);
  if (supportLog)
    for (const source of supportLog.sources()) {
      const lines = supportLog.window(source, since.getTime(), until.getTime()).map(supportLogLine);
      files[`logs/support_log/${source.replace(/[^\w.-]+/g, '_')}.log`] = strToU8(lines.length > 0 ? `${lines.join('\n')}\n` : '');
    }
  if (req.include_diagnostic_metrics && metrics) files['metrics/management.prom'] = strToU8(await metrics());
  files['snapshot.json'] = json({ created: now.toISOString(), logs_from: since.toISOString(), logs_until: until.toISOString(), by: dom.actor ?? 'system' });
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, '');
  return { fileName: `diagnostic_snapshot_${stamp}.zip`, archive: zipSync(files, { level: 6 }) };
}
