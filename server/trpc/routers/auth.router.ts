import { serialize } from 'cookie';
import { TRPCError } from '@trpc/server';
import { loginSchema } from '../../../shared/auth/signIn.schema.js';
import { createSession, endSession } from '../../auth/admin.service.js';
import { loginHistory, signIn, THROTTLED } from '../../auth/signIn.service.js';
import { adminProcedure, permittedProcedure, publicProcedure, router, SESSION_COOKIE } from '../trpc.js';

export const authRouter = router({
  login: publicProcedure.input(loginSchema).mutation(async ({ ctx, input }) => {
    const r = await signIn(ctx.dom.db, { ...input, address: ctx.client?.address ?? '', port: ctx.client?.port, channel: 'web' });
    if (!r.ok && r.reason === 'throttled') throw new TRPCError({ code: 'TOO_MANY_REQUESTS', message: THROTTLED(r.retryAfterMs) });
    if (!r.ok && r.reason === 'no_access') throw new TRPCError({ code: 'FORBIDDEN', message: 'This account may not use the web interface.' });
    if (!r.ok) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'Please enter a correct username and password.' });
    const admin = r.admin;
    const token = await createSession(ctx.dom.db, admin.id);
    ctx.setCookie(serialize(SESSION_COOKIE, token, { httpOnly: true, secure: ctx.secure === true, sameSite: 'strict', path: '/', maxAge: 12 * 3600 }));
    return { username: admin.username, permissions: admin.permissions };
  }),
  logout: publicProcedure.mutation(async ({ ctx }) => {
    await endSession(ctx.dom.db, ctx.sessionToken);
    ctx.setCookie(serialize(SESSION_COOKIE, '', { httpOnly: true, secure: ctx.secure === true, sameSite: 'strict', path: '/', maxAge: 0 }));
    return true;
  }),
  me: publicProcedure.query(({ ctx }) => (ctx.admin ? { username: ctx.admin.username, permissions: ctx.admin.permissions } : null)),
  /** History & Logs > Login History: the 100 most recent sign-in attempts. */
  loginHistory: permittedProcedure('logs', 'view').query(({ ctx }) => loginHistory(ctx.dom.db, 100)),
  /** Used by adminProcedure-only pages to fail fast. */
  check: adminProcedure.query(() => true),
});
