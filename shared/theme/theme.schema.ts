import { z } from 'zod';

/**
 * Themes (Services > Themes; management API `ivr_theme`). Shared by the console, tRPC and the
 * management REST API so the field rules and messages live here only. The package (the theme ZIP)
 * is validated on the server, where its files can be read.
 */
export const THEME_MESSAGES = {
  nameTaken: 'A theme with this name already exists.',
  packageRequired: 'This field is required.',
  notZip: 'The uploaded file is not a valid ZIP file.',
  /** The guide's upload error, e.g. "Invalid file in theme: themeconfig.json". */
  invalidFile: (name: string) => `Invalid file in theme: ${name}`,
} as const;

/** The guide gives no size limit; ours keeps a theme well inside one request. */
export const MAX_THEME_PACKAGE_BYTES = 50 * 1024 * 1024;

/** Where the console sends a theme ZIP (the raw file, streamed to disk); tRPC then names it by id. */
export const THEME_UPLOAD_PATH = '/upload/theme/';
/** Where the console downloads a theme's ZIP (streamed), or the Base theme's with `base`. */
export const themeDownloadPath = (id: number | 'base') => `/download/theme/${id}/`;

export const themeFieldsSchema = z.object({
  name: z.string().trim().min(1, 'This field is required.').max(250, 'Ensure this value has at most 250 characters.'),
  description: z.string().max(250, 'Ensure this value has at most 250 characters.').default(''),
});
export type ThemeFields = z.output<typeof themeFieldsSchema>;

export const themePatchSchema = z.object({
  name: themeFieldsSchema.shape.name.optional(),
  description: z.string().max(250, 'Ensure this value has at most 250 characters.').optional(),
});
export type ThemePatch = z.output<typeof themePatchSchema>;

export interface Theme {
  id: number;
  name: string;
  description: string;
  uuid: string;
  /** File names in the theme's ZIP. */
  files: string[];
  /** `"theme_version": 2` in its themeconfig.json; otherwise a legacy (v1) theme. */
  theme_version: 1 | 2;
  /** Size of the ZIP in bytes. */
  package_size: number;
  creation_time: string;
  last_updated: string;
}
