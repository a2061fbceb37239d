import { z } from 'zod';

/** Utilities > Regular Expression Tester: the form and `regexTester.test` (each field at most 250 characters, as the guide's form). */
export const regexTesterInputSchema = z.object({
  input: z.string().max(250),
  regex: z.string().max(250),
  replace: z.string().max(250).default(''),
});
export type RegexTesterInput = z.input<typeof regexTesterInputSchema>;
