import { z } from 'zod';
import {
  caCertificateCreateSchema,
  tlsCertificateCreateSchema,
  tlsCertificateGenerateSchema,
  tlsCertificatePatchSchema,
} from '../../../shared/certificate/certificate.schema.js';
import {
  certificateAlarms,
  createCaCertificates,
  createTlsCertificate,
  deleteCaCertificate,
  deleteTlsCertificate,
  generateTlsCertificate,
  getTlsCertificate,
  listCaCertificates,
  listTlsCertificates,
  updateTlsCertificate,
} from '../../certificate/certificate.service.js';
import { permittedProcedure, router } from '../trpc.js';

const listInput = z.object({ search: z.string().max(250).optional() }).default({});
const byId = z.object({ id: z.number().int() });

/** Platform > TLS Certificates and Platform > Trusted CA Certificates. Private keys never leave the server. */
export const certificateRouter = router({
  tls: router({
    list: permittedProcedure('system', 'view')
      .input(listInput)
      .query(({ ctx, input }) => listTlsCertificates(ctx.dom, input)),
    get: permittedProcedure('system', 'view')
      .input(byId)
      .query(({ ctx, input }) => getTlsCertificate(ctx.dom, input.id)),
    create: permittedProcedure('system', 'add_remove')
      .input(tlsCertificateCreateSchema)
      .mutation(({ ctx, input }) => createTlsCertificate(ctx.dom, input)),
    generate: permittedProcedure('system', 'add_remove')
      .input(tlsCertificateGenerateSchema)
      .mutation(({ ctx, input }) => generateTlsCertificate(ctx.dom, input)),
    update: permittedProcedure('system', 'modify')
      .input(z.object({ id: z.number().int(), patch: tlsCertificatePatchSchema }))
      .mutation(({ ctx, input }) => updateTlsCertificate(ctx.dom, input.id, input.patch)),
    delete: permittedProcedure('system', 'add_remove')
      .input(byId)
      .mutation(async ({ ctx, input }) => {
        await deleteTlsCertificate(ctx.dom, input.id);
        return true;
      }),
  }),
  ca: router({
    list: permittedProcedure('system', 'view')
      .input(listInput)
      .query(({ ctx, input }) => listCaCertificates(ctx.dom, input)),
    create: permittedProcedure('system', 'add_remove')
      .input(caCertificateCreateSchema)
      .mutation(({ ctx, input }) => createCaCertificates(ctx.dom, input)),
    delete: permittedProcedure('system', 'add_remove')
      .input(byId)
      .mutation(async ({ ctx, input }) => {
        await deleteCaCertificate(ctx.dom, input.id);
        return true;
      }),
  }),
  /** TLS / trusted CA certificates expiring within 30 days or expired (the guide's alarms 7 and 6). */
  alarms: permittedProcedure('system', 'view').query(({ ctx }) => certificateAlarms(ctx.dom)),
});
