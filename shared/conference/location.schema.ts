import { z } from 'zod';

export const systemLocationSchema = z.object({
  name: z.string().trim().min(1, 'This field is required.').max(250, 'Ensure this value has at most 250 characters.'),
  description: z.string().max(250, 'Ensure this value has at most 250 characters.').default(''),
  mtu: z
    .number()
    .int('Enter a whole number.')
    .min(512, 'Ensure this value is greater than or equal to 512.')
    .max(1500, 'Ensure this value is less than or equal to 1500.')
    .default(1500),
});
export type SystemLocationInput = z.input<typeof systemLocationSchema>;
export const systemLocationPatchSchema = systemLocationSchema.partial();

export interface SystemLocation {
  id: number;
  name: string;
  description: string;
  mtu: number;
}
