import { z } from 'zod';
import { ALIAS_PATTERN, normaliseAlias } from '../alias/normalise.js';
import { validatePins } from './pin.js';

/**
 * One schema per configuration object, shared by the console form, tRPC and the management REST
 * API, so each field's rule and message live here only. Field names are the management API's.
 */
export const ALIAS_MESSAGES = {
  required: 'This field is required.',
  format: 'Aliases may contain only letters, numbers, dashes, dots, underscores, spaces and @.',
  duplicateInService: 'This alias appears more than once for this service.',
  inUse: (service: string) => `This alias is already in use by the service "${service}".`,
} as const;

export const aliasInputSchema = z.object({
  alias: z
    .string()
    .trim()
    .min(1, ALIAS_MESSAGES.required)
    .max(250, 'Ensure this value has at most 250 characters.')
    .regex(ALIAS_PATTERN, ALIAS_MESSAGES.format),
  description: z.string().max(250, 'Ensure this value has at most 250 characters.').default(''),
});
export type AliasInput = z.infer<typeof aliasInputSchema>;

const vmrFields = {
  name: z
    .string()
    .trim()
    .min(1, 'This field is required.')
    .max(250, 'Ensure this value has at most 250 characters.'),
  description: z.string().max(250, 'Ensure this value has at most 250 characters.').default(''),
  service_type: z.literal('conference').default('conference'),
  aliases: z.array(aliasInputSchema).default([]),
  pin: z.string().trim().default(''),
  guest_pin: z.string().trim().default(''),
  allow_guests: z.boolean().default(false),
  participant_limit: z
    .number()
    .int('Enter a whole number.')
    .min(0, 'Ensure this value is greater than or equal to 0.')
    .max(1_000_000, 'Ensure this value is less than or equal to 1000000.')
    .nullable()
    .default(null),
};

type VmrShape = { pin: string; guest_pin: string; allow_guests: boolean; aliases: AliasInput[] };

/**
 * Cross-field rules: the guide's PIN rules and aliases not repeated within one service. They run
 * even when other fields failed (`when`), so a form shows every error at once; hence the guards.
 */
function refineVmr(v: VmrShape, ctx: z.RefinementCtx): void {
  const str = (x: unknown) => (typeof x === 'string' ? x.trim() : '');
  const errs = validatePins({ pin: str(v.pin), guestPin: str(v.guest_pin), allowGuests: v.allow_guests === true });
  for (const [field, messages] of Object.entries(errs)) {
    for (const message of messages ?? []) ctx.addIssue({ code: 'custom', path: [field], message });
  }
  const seen = new Set<string>();
  (Array.isArray(v.aliases) ? v.aliases : []).forEach((a, i) => {
    if (typeof a?.alias !== 'string' || a.alias.trim() === '') return;
    const key = normaliseAlias(a.alias);
    if (seen.has(key)) {
      ctx.addIssue({ code: 'custom', path: ['aliases', i, 'alias'], message: ALIAS_MESSAGES.duplicateInService });
    }
    seen.add(key);
  });
}

export const vmrCreateSchema = z.object(vmrFields).superRefine(refineVmr, { when: () => true });
export type VmrCreateInput = z.input<typeof vmrCreateSchema>;
export type VmrCreate = z.output<typeof vmrCreateSchema>;

/** A partial update: omitted fields keep their stored values; rules are checked on the merged result. */
export const vmrPatchSchema = z.object({
  name: vmrFields.name.optional(),
  description: z.string().max(250, 'Ensure this value has at most 250 characters.').optional(),
  service_type: z.literal('conference').optional(),
  aliases: z.array(aliasInputSchema).optional(),
  pin: z.string().trim().optional(),
  guest_pin: z.string().trim().optional(),
  allow_guests: z.boolean().optional(),
  participant_limit: vmrFields.participant_limit.optional(),
});
export type VmrPatch = z.output<typeof vmrPatchSchema>;

export const vmrMergedSchema = vmrCreateSchema;

export interface Vmr {
  id: number;
  name: string;
  description: string;
  service_type: 'conference';
  aliases: { id: number; alias: string; description: string }[];
  pin: string;
  guest_pin: string;
  allow_guests: boolean;
  participant_limit: number | null;
  creation_time: string;
}

/** zod issues → `{ field: [messages] }`, the management API's error body and the console's field errors. */
export function fieldErrors(issues: readonly z.core.$ZodIssue[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const issue of issues) {
    const key = issue.path.length ? issue.path.join('.') : '__all__';
    (out[key] ??= []).push(issue.message);
  }
  return out;
}
