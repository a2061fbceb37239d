import { z } from 'zod';

/** The console's sign-in form and `auth.login` (the messages are Django's, as Pexip's console shows them). */
export const loginSchema = z.object({
  username: z.string().min(1, 'This field is required.').max(150),
  password: z.string().min(1, 'This field is required.').max(1024),
});
export type LoginInput = z.input<typeof loginSchema>;
