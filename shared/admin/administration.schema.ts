import { z } from 'zod';
import { ALL_PERMISSIONS, type Permission } from './permissions.js';

/**
 * Administrator roles and accounts (guide: Users & Devices > Administrator Roles / administrator
 * accounts). One schema each, shared by the console forms, tRPC and the management REST API.
 */
export const ADMINISTRATION_MESSAGES = {
  required: 'This field is required.',
  roleNameTaken: 'A role with this name already exists.',
  usernameTaken: 'An administrator with this username already exists.',
  builtinRole: 'Built-in roles cannot be changed.',
  roleInUse: 'This role is assigned to administrator accounts; remove it from them first.',
  selectRole: 'Select at least one role.',
  passwordShort: 'Ensure this value has at least 8 characters.',
  passwordMismatch: "The two password fields didn't match.",
  username: 'Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters.',
  email: 'Enter a valid email address.',
  deleteSelf: 'You cannot delete your own administrator account.',
  deleteAdmin: 'The "admin" account cannot be deleted.',
  invalidRole: (id: unknown) => `Select a valid choice. ${String(id)} is not one of the available choices.`,
} as const;

const max = (n: number) => `Ensure this value has at most ${n} characters.`;

const roleName = z.string().trim().min(1, ADMINISTRATION_MESSAGES.required).max(250, max(250));
const permissionList = z
  .array(
    z.enum(ALL_PERMISSIONS as [Permission, ...Permission[]], {
      error: (i) => `Select a valid choice. ${String(i.input)} is not one of the available choices.`,
    }),
  )
  // A set: the same permission twice means nothing more.
  .transform((ps) => [...new Set(ps)]);

export const roleCreateSchema = z.object({
  name: roleName,
  permissions: permissionList.default([]),
});
export type RoleCreateInput = z.input<typeof roleCreateSchema>;
export type RoleCreate = z.output<typeof roleCreateSchema>;

export const rolePatchSchema = z.object({
  name: roleName.optional(),
  permissions: permissionList.optional(),
});
export type RolePatch = z.output<typeof rolePatchSchema>;

export interface AdminRoleView {
  id: number;
  name: string;
  permissions: Permission[];
  /** Read-only and Read-write: shipped with the product, never changed or deleted. */
  builtin: boolean;
}

const username = z
  .string()
  .trim()
  .min(1, ADMINISTRATION_MESSAGES.required)
  .max(150, max(150))
  .regex(/^[\w.@+-]+$/, ADMINISTRATION_MESSAGES.username);
const password = z.string().min(8, ADMINISTRATION_MESSAGES.passwordShort).max(1024, max(1024));
const fullName = z.string().trim().max(250, max(250));
const email = z
  .string()
  .trim()
  .max(250, max(250))
  .refine((v) => v === '' || /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v), ADMINISTRATION_MESSAGES.email);
const roleIds = z.array(z.number().int().min(1)).min(1, ADMINISTRATION_MESSAGES.selectRole);

/** The confirmation is checked even when other fields fail, so a form shows every error at once. */
function passwordsMatch(v: { password?: unknown; password_confirm?: unknown }, ctx: z.RefinementCtx): void {
  if (typeof v.password === 'string' && v.password !== '' && v.password !== v.password_confirm) {
    ctx.addIssue({ code: 'custom', path: ['password_confirm'], message: ADMINISTRATION_MESSAGES.passwordMismatch });
  }
}

export const accountCreateSchema = z
  .object({
    username,
    password: z.string().min(1, ADMINISTRATION_MESSAGES.required).pipe(password),
    password_confirm: z.string().default(''),
    full_name: fullName.default(''),
    email: email.default(''),
    roles: roleIds,
  })
  .superRefine(passwordsMatch, { when: () => true });
export type AccountCreateInput = z.input<typeof accountCreateSchema>;
export type AccountCreate = z.output<typeof accountCreateSchema>;

/** A partial update; a blank or missing password keeps the current one. */
export const accountPatchSchema = z
  .object({
    username: username.optional(),
    password: z
      .string()
      .max(1024, max(1024))
      .refine((v) => v === '' || v.length >= 8, ADMINISTRATION_MESSAGES.passwordShort)
      .optional(),
    password_confirm: z.string().optional(),
    full_name: fullName.optional(),
    email: email.optional(),
    roles: roleIds.optional(),
  })
  .superRefine(passwordsMatch, { when: () => true });
export type AccountPatchInput = z.input<typeof accountPatchSchema>;
export type AccountPatch = z.output<typeof accountPatchSchema>;

/** An administrator account as every caller sees it: never the password or its hash. */
export interface AdminAccountView {
  id: number;
  username: string;
  full_name: string;
  email: string;
  roles: { id: number; name: string }[];
}
