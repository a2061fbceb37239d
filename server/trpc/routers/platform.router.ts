import { z } from 'zod';
import { nodeEnrollmentDownload } from '../../platform/bundle/nodeBundle.service.js';
import { listNodes, setNodeLocation } from '../../platform/node.service.js';
import { permittedProcedure, router } from '../trpc.js';

/** Conferencing nodes; system locations are configuration objects (config router, `system_location`). */
export const nodeRouter = router({
  list: permittedProcedure('system', 'view').query(({ ctx }) => listNodes(ctx.dom, ctx.registry.isLive)),
  setLocation: permittedProcedure('system', 'modify')
    .input(z.object({ id: z.number().int(), systemLocationId: z.number().int() }))
    .mutation(async ({ ctx, input }) => {
      await setNodeLocation(ctx.dom, input.id, input.systemLocationId);
      return true;
    }),
  /** The administrator revokes the node's credential: refused from now on, it stops serving. */
  revoke: permittedProcedure('system', 'modify')
    .input(z.object({ id: z.number().int() }))
    .mutation(async ({ ctx, input }) => {
      await ctx.registry.revoke(input.id, ctx.dom);
      return true;
    }),
  /** The node's configuration with a new one-time enrollment token: alone, as a Dockerfile, or in its deployment bundle. */
  enrollmentDownload: permittedProcedure('system', 'modify')
    .input(z.object({ id: z.number().int(), format: z.enum(['bundle', 'config', 'dockerfile']), managementUrl: z.string().url('Enter a valid URL.') }))
    .mutation(async ({ ctx, input }) => {
      const file = await nodeEnrollmentDownload(ctx.dom, input.id, input.format, {
        managementUrl: input.managementUrl,
        tls: ctx.registry.managementTls(),
        otherManagementUrls: ctx.registry.cluster?.peerUrls() ?? [],
      });
      return { fileName: file.filename, base64: file.data.toString('base64') };
    }),
});
