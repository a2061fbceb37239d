import { z } from 'zod';
import { themePatchSchema } from '../../../shared/theme/theme.schema.js';
import { createTheme, deleteTheme, getTheme, listThemes, updateTheme } from '../../theme/theme.service.js';
import { discardSpool } from '../../theme/themeStorage.js';
import { ThemeUploads } from '../../theme/ThemeUploads.js';
import { permittedProcedure, router } from '../trpc.js';

/** The id of a ZIP the console sent to THEME_UPLOAD_PATH (spooled there; never carried in JSON). */
const uploadId = z.string().max(64);

export const themeListSchema = z.object({
  search: z.string().max(250).optional(),
  offset: z.number().int().min(0).default(0),
  limit: z.number().int().min(1).max(500).default(100),
  orderBy: z.enum(['name', '-name', 'id', '-id']).default('name'),
});

const id = z.object({ id: z.number().int() });

/**
 * Themes (Services > Themes). The ZIPs go over plain HTTP (themeConsole.routes.ts), spooled and
 * streamed; here they are named by upload id. Create takes plain strings: the service checks name and description
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
    .input(z.object({ name: z.string(), description: z.string().default(''), upload: uploadId.optional() }))
    .mutation(async ({ ctx, input }) => {
      const pkg = input.upload === undefined ? undefined : ThemeUploads.of(ctx.dom.db).take(input.upload, ctx.admin.username);
      return createTheme(ctx.dom, { name: input.name, description: input.description, package: pkg }).finally(() => discardSpool(pkg));
    }),
  update: permittedProcedure('theme', 'modify')
    .input(z.object({ id: z.number().int(), patch: themePatchSchema.extend({ upload: uploadId.optional() }) }))
    .mutation(async ({ ctx, input }) => {
      const { upload, ...fields } = input.patch;
      const pkg = upload === undefined ? undefined : ThemeUploads.of(ctx.dom.db).take(upload, ctx.admin.username);
      return updateTheme(ctx.dom, input.id, { ...fields, package: pkg }).finally(() => discardSpool(pkg));
    }),
  delete: permittedProcedure('theme', 'add_remove')
    .input(id)
    .mutation(async ({ ctx, input }) => {
      await deleteTheme(ctx.dom, input.id);
      return true;
    }),
});
