import { z } from 'zod';

/**
 * A conferencing node's configuration file (`node.json`), as the console offers it for download
 * alone or inside the node's deployment bundle. The node agent reads it with `NODE_CONFIG=<path>`;
 * environment variables override its fields.
 */
export const nodeBundleConfigSchema = z.object({
  /** The node's name as added in the console. */
  name: z.string().min(1).max(32),
  /** The management servers' URLs as the node reaches them, comma-separated when several share one database (tried in turn). */
  managementUrl: z
    .string()
    .max(4_000)
    .refine((list) => list.split(',').every((u) => z.string().url().safeParse(u.trim()).success), 'Each management server address must be a URL.'),
  /** SHA-256 fingerprint of the management server's certificate (colon-separated hex), when it serves HTTPS. */
  managementCertificateFingerprint: z.string().optional(),
  /** One-time enrollment token: single use, expires (see `tokenExpires`). */
  enrollmentToken: z.string().min(1),
  tokenExpires: z.string().optional(),
  /** Listen and media address of the node. */
  address: z.string().min(1),
  /** Client API port. */
  port: z.number().int().min(0).max(65_535).default(8081),
});
export type NodeBundleConfig = z.infer<typeof nodeBundleConfigSchema>;
