import { z } from 'zod';
import { ALIAS_PATTERN } from './normalise.js';

/** The alias rules' messages, in the guide's words; used by every service with aliases. */
export const ALIAS_MESSAGES = {
  required: 'This field is required.',
  format: 'Aliases may contain only letters, numbers, dashes, dots, underscores, spaces and @.',
  duplicateInService: 'This alias appears more than once for this service.',
  inUse: (service: string) => `This alias is already in use by the service "${service}".`,
} as const;

/** One alias of a service as the console and the management API send it. */
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

/** An alias as a service holds it. */
export interface StoredAlias {
  id: number;
  alias: string;
  description: string;
}
