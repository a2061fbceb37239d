import { z } from 'zod';

/**
 * Inputs for TLS certificates and trusted CA certificates, shared by tRPC and the management REST
 * API (field names are the API's). PEM checks (decoding, key pairing, passphrase) happen in pem.ts.
 */
const atMost = (n: number) => `Ensure this value has at most ${n} characters.`;
const pem = (max: number) => z.string({ error: 'Enter PEM-formatted text.' }).max(max, atMost(max));

export const PEM_MAX = 100_000;
const nodeIds = z.array(z.number({ error: 'Select a valid choice.' }).int().positive(), { error: 'Enter a list of nodes.' });

export const tlsCertificateCreateSchema = z.object({
  certificate: pem(PEM_MAX).default(''),
  private_key: pem(20_000).default(''),
  private_key_passphrase: z.string().max(100, atMost(100)).default(''),
  parameters: pem(1_000).default(''),
  nodes: nodeIds.default([]),
});
export type TlsCertificateCreate = z.output<typeof tlsCertificateCreateSchema>;

/** PEM data, TLS parameters and nodes can change; a new private key only with a new certificate. */
export const tlsCertificatePatchSchema = z.object({
  certificate: pem(PEM_MAX).optional(),
  private_key: pem(20_000).optional(),
  private_key_passphrase: z.string().max(100, atMost(100)).optional(),
  parameters: pem(1_000).optional(),
  nodes: nodeIds.optional(),
});
export type TlsCertificatePatch = z.output<typeof tlsCertificatePatchSchema>;

export const tlsCertificateGenerateSchema = z.object({
  common_name: z.string().trim().min(1, 'This field is required.').max(64, atMost(64)),
  /** Extra SANs; the common name is always included. */
  subject_alt_names: z
    .array(z.string().trim().max(253, atMost(253)))
    .max(100)
    .default([]),
  days: z
    .number()
    .int('Enter a whole number.')
    .min(1, 'Ensure this value is between 1 and 825.')
    .max(825, 'Ensure this value is between 1 and 825.')
    .default(365),
  nodes: nodeIds.default([]),
});
export type TlsCertificateGenerate = z.output<typeof tlsCertificateGenerateSchema>;

export const caCertificateCreateSchema = z.object({
  /** One or more CA certificates, concatenated PEM; each becomes one trusted CA certificate. */
  certificate: pem(PEM_MAX * 10).default(''),
  trusted_intermediate: z.boolean().default(false),
});
export type CaCertificateCreate = z.output<typeof caCertificateCreateSchema>;

export const caCertificatePatchSchema = z.object({
  certificate: pem(PEM_MAX).optional(),
  trusted_intermediate: z.boolean().optional(),
});
export type CaCertificatePatch = z.output<typeof caCertificatePatchSchema>;
