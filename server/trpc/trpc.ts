import { initTRPC, TRPCError } from '@trpc/server';
import type { EventEmitter } from 'node:events';
import { on } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { parse as parseCookie } from 'cookie';
import { ZodError } from 'zod';
import { fieldErrors } from '../../shared/config/fieldErrors.js';
import { ACCESS_DENIED, allows, type PermissionAction, type PermissionArea } from '../../shared/admin/permissions.js';
import { sessionAdmin, type Admin } from '../auth/admin.service.js';
import { AppError } from '../errors/AppError.js';
import { errorRequestId, INTERNAL_ERROR_MESSAGE } from '../errors/internalError.js';
import type { Domain } from '../domain.js';
import type { AlarmManager } from '../alarms/AlarmManager.js';
import type { SupportLog } from '../supportLog/SupportLog.js';
import type { NodeRegistry } from '../platform/NodeRegistry.js';
import type { LiveStatus } from '../status/LiveStatus.js';
import { isTls } from '../http/webSecurity.js';
import { systemClock, type Clock } from '../../shared/time/Clock.js';
import type { BackplaneBroker } from '../platform/BackplaneBroker.js';

export const SESSION_COOKIE = 'om_session';

export interface ServerServices {
  dom: Domain;
  status: LiveStatus;
  registry: NodeRegistry;
  /** Absent in contexts tests build without alarms; the alarm procedures then refuse. */
  alarms?: AlarmManager;
  /** The support log; absent in contexts tests build without it (its procedures then refuse). */
  supportLog?: SupportLog;
  /** Drives the live views' session rechecks; default the system clock (tests move a ManualClock). */
  clock?: Clock;
  /** Backplanes between nodes (issue 14); absent in contexts tests build without them (none are listed then). */
  backplanes?: BackplaneBroker;
}

export interface Context extends ServerServices {
  admin: Admin | null;
  sessionToken: string | undefined;
  /** The client's address and port (for the login history and sign-in throttling). */
  client?: { address: string; port: number | undefined };
  /** The request came over HTTPS: the session cookie is then marked Secure. */
  secure?: boolean;
  /** Sets or clears the session cookie (HTTP requests only; WebSocket contexts cannot). */
  setCookie: (value: string) => void;
  /** Made once for a whole WebSocket connection: its session is checked again on every call. */
  viaWebSocket?: boolean;
}

export async function createContext(services: ServerServices, req: IncomingMessage, setCookie: (value: string) => void = () => {}): Promise<Context> {
  const token = parseCookie(req.headers.cookie ?? '')[SESSION_COOKIE];
  const admin = await sessionAdmin(services.dom, token);
  return {
    ...services,
    admin,
    sessionToken: token,
    setCookie,
    secure: isTls(req),
    client: { address: req.socket.remoteAddress ?? '', port: req.socket.remotePort },
  };
}

const TRPC_CODE = {
  BAD_REQUEST: 'BAD_REQUEST',
  UNAUTHORIZED: 'UNAUTHORIZED',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  CONFLICT: 'CONFLICT',
  TOO_MANY_REQUESTS: 'TOO_MANY_REQUESTS',
  INTERNAL: 'INTERNAL_SERVER_ERROR',
} as const;

const t = initTRPC.context<Context>().create({
  errorFormatter({ shape, error }) {
    const cause = error.cause;
    const fields = cause instanceof ZodError ? fieldErrors(cause.issues) : cause instanceof AppError ? cause.fields : undefined;
    // No stack (it names our files) in any mode; a failure of ours says only which request it was.
    const data: typeof shape.data & { stack?: string } = { ...shape.data };
    delete data.stack;
    if (error.code === 'INTERNAL_SERVER_ERROR' && !(cause instanceof AppError)) {
      return { ...shape, message: INTERNAL_ERROR_MESSAGE, data: { ...data, fields: null, requestId: errorRequestId(error) } };
    }
    return { ...shape, message: cause instanceof ZodError ? 'Validation failed' : shape.message, data: { ...data, fields: fields ?? null } };
  },
});

/** Maps the domain's AppError once, for every procedure. */
const domainErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok && result.error.cause instanceof AppError) {
    const cause = result.error.cause;
    throw new TRPCError({ code: TRPC_CODE[cause.code], message: cause.message, cause });
  }
  return result;
});

export const router = t.router;
export const publicProcedure = t.procedure.use(domainErrors);

/** Signed in to the console, with "May use web interface". */
export const adminProcedure = publicProcedure.use(async ({ ctx: given, next }) => {
  // A WebSocket outlives sign-out and the idle timeout: its calls are not trusted to the session it opened with.
  const ctx = given.viaWebSocket ? { ...given, admin: await sessionAdmin(given.dom, given.sessionToken) } : given;
  if (!ctx.admin) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'Sign in first.' });
  if (!ctx.admin.mayUseWeb) throw new TRPCError({ code: 'FORBIDDEN', message: 'This account may not use the web interface.' });
  // Changes made from the console are logged under the signed-in administrator's name.
  return next({ ctx: { ...ctx, admin: ctx.admin, dom: { ...ctx.dom, actor: ctx.admin.username } } });
});

/** Signed in, and the administrator's roles allow `action` in `area`; otherwise FORBIDDEN "Access denied". */
export const permittedProcedure = (area: PermissionArea, action: PermissionAction) =>
  adminProcedure.use(({ ctx, next }) => {
    if (!allows(ctx.admin.permissions, area, action)) throw new TRPCError({ code: 'FORBIDDEN', message: ACCESS_DENIED });
    return next();
  });

/** How often an open subscription checks that its console session still stands (sign-out, idle timeout, expiry). */
export const SESSION_RECHECK_MS = 5_000;

/**
 * The events of a live view while its console session stands: yields `value()` at once and after each
 * `event` of `emitter`; ends with UNAUTHORIZED once the session is signed out, idle too long or expired
 * (checked without counting as activity, so an open live view does not keep a session alive).
 */
export async function* whileSignedIn<T>(
  ctx: Context,
  signal: AbortSignal | undefined,
  emitter: EventEmitter,
  event: string,
  value: () => T | Promise<T>,
): AsyncGenerator<T> {
  if (signal?.aborted) return;
  const ended = new AbortController();
  const clock = ctx.clock ?? systemClock;
  const timer = clock.setInterval(() => {
    sessionAdmin(ctx.dom, ctx.sessionToken, { touch: false }).then(
      (admin) => admin || ended.abort(),
      () => {},
    );
  }, SESSION_RECHECK_MS);
  timer.unref();
  // Listening starts before the first value so that no change is missed; the finally below detaches it
  // however the subscription ends (its signal, the session, or a consumer that simply stops: createCaller).
  const changes = on(emitter, event, { signal: signal ? AbortSignal.any([signal, ended.signal]) : ended.signal });
  try {
    yield await value();
    for (;;) {
      try {
        if ((await changes.next()).done) return;
      } catch (err) {
        if (ended.signal.aborted) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'Your session has ended. Sign in again.' });
        if (signal?.aborted) return;
        throw err;
      }
      yield await value();
    }
  } finally {
    clock.clearInterval(timer);
    await changes.return?.();
  }
}
