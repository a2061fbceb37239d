import { z } from 'zod';
import { MAX_THEME_PACKAGE_BYTES, themePatchSchema } from '../../../shared/theme/theme.schema.js';
import { basePackage } from '../../theme/baseTheme.js';
import { createTheme, deleteTheme, downloadTheme, getTheme, listThemes, updateTheme } from '../../theme/theme.service.js';
import { permittedProcedure, router } from '../trpc.js';

/** The theme ZIP as base64 (JSON carries no bytes); the limit is the package limit plus base64's 4/3. */
const packageBase64 = z
  .string()
  .max(Math.ceil(MAX_THEME_PACKAGE_BYTES / 3) * 4 + 4, `The theme ZIP file must be no larger than ${MAX_THEME_PACKAGE_BYTES / 1024 / 1024} MB.`)
  .transform((s) => Buffer.from(s, 'base64'));

export const themeListSchema = z.object({
  search: z.string().max(250).optional(),
  offset: z.number().int().min(0).default(0),
  limit: z.number().int().min(1).max(500).default(100),
  orderBy: z.enum(['name', '-name', 'id', '-id']).default('name'),
});

const id = z.object({ id: z.number().int() });

/**
 * Themes (Services > Themes). Create takes plain strings: the service checks name and description
 * (shared schema) together with the package, so the form shows all errors at once.
 */
export const themeRouter = router({
  list: permittedProcedure('theme', 'view')
    .input(themeListSchema)
    .query(({ ctx, input }) => listThemes(ctx.dom, input)),
  get: permittedProcedure('theme', 'view')
    .input(id)
    .query(({ ctx, input }) => getTheme(ctx.dom, input.id)),
  create: permittedProcedure('theme', 'add_remove')
    .input(z.object({ name: z.string(), description: z.string().default(''), package: packageBase64 }))
    .mutation(({ ctx, input }) => createTheme(ctx.dom, input)),
  update: permittedProcedure('theme', 'modify')
    .input(z.object({ id: z.number().int(), patch: themePatchSchema.extend({ package: packageBase64.optional() }) }))
    .mutation(({ ctx, input }) => updateTheme(ctx.dom, input.id, input.patch)),
  delete: permittedProcedure('theme', 'add_remove')
    .input(id)
    .mutation(async ({ ctx, input }) => {
      await deleteTheme(ctx.dom, input.id);
      return true;
    }),
  /** "Download theme": the theme's ZIP as base64. */
  download: permittedProcedure('theme', 'view')
    .input(id)
    .query(async ({ ctx, input }) => {
      const { fileName, stream } = await downloadTheme(ctx.dom, input.id);
      const parts: Buffer[] = [];
      for await (const part of stream()) parts.push(part as Buffer);
      return { fileName, base64: Buffer.concat(parts).toString('base64') };
    }),
  /** "Download Base theme": the shipped Base theme's ZIP as base64. */
  basePackage: permittedProcedure('theme', 'view').query(() => ({ fileName: 'base_theme.zip', base64: Buffer.from(basePackage()).toString('base64') })),
});
