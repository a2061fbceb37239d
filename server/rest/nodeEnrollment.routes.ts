import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Domain } from '../domain.js';
import { nodeEnrollmentDownload } from '../platform/bundle/nodeBundle.service.js';
import type { NodeRegistry } from '../platform/NodeRegistry.js';
import { requireApiPermission } from './basicAuth.js';
import { sendError } from './tastypie.js';

const COMMAND = '/api/admin/command/v1/conferencing_node';

const revokeInput = z.object({ conferencing_node_id: z.coerce.number().int().positive() });
const enrollmentInput = z.object({
  conferencing_node_id: z.coerce.number().int().positive(),
  /** bundle (.tar.gz), config (node.json alone) or dockerfile. */
  format: z.enum(['bundle', 'config', 'dockerfile']).default('bundle'),
  /** The management server's URL as the node will reach it; default the URL this request came to. */
  management_url: z.string().url().optional(),
});

/**
 * Node credentials in the command API (not in Pexip's API: named after its resources):
 * `conferencing_node/revoke/` refuses a node's credential from now on (it stops serving), and
 * `conferencing_node/enrollment/` answers the node's configuration with a new one-time enrollment
 * token, alone, as a Dockerfile or in its deployment bundle.
 */
export function registerNodeEnrollmentRoutes(app: FastifyInstance, dom: Domain, registry: NodeRegistry): void {
  app.post(`${COMMAND}/revoke/`, async (req, reply) => {
    const admin = await requireApiPermission(dom.db, req, reply, 'system', 'modify');
    if (!admin) return reply;
    const body = revokeInput.safeParse(req.body ?? {});
    if (!body.success) return reply.code(400).send({ status: 'error', message: 'conferencing_node_id is required.' });
    try {
      await registry.revoke(body.data.conferencing_node_id, { ...dom, actor: admin.username });
      return { status: 'success', message: 'Conferencing node credential revoked.' };
    } catch (err) {
      return sendError(reply, err);
    }
  });
  app.post(`${COMMAND}/enrollment/`, async (req, reply) => {
    const admin = await requireApiPermission(dom.db, req, reply, 'system', 'modify');
    if (!admin) return reply;
    const body = enrollmentInput.safeParse(req.body ?? {});
    if (!body.success) return reply.code(400).send({ status: 'error', message: body.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') });
    try {
      const managementUrl = body.data.management_url ?? `${req.protocol}://${req.host}`;
      const file = await nodeEnrollmentDownload({ ...dom, actor: admin.username }, body.data.conferencing_node_id, body.data.format, {
        managementUrl,
        tls: registry.managementTls(),
        otherManagementUrls: registry.cluster?.peerUrls() ?? [],
      });
      return reply
        .type(file.contentType)
        .header('content-disposition', `attachment; filename="${file.filename}"`)
        .header('cache-control', 'no-store')
        .send(file.data);
    } catch (err) {
      return sendError(reply, err);
    }
  });
}
