import { adminLogRouter } from './routers/adminLog.router.js';
import { authRouter } from './routers/auth.router.js';
import { locationRouter, nodeRouter } from './routers/platform.router.js';
import { statusRouter } from './routers/status.router.js';
import { vmrRouter } from './routers/vmr.router.js';
import { router } from './trpc.js';

export const appRouter = router({
  auth: authRouter,
  vmr: vmrRouter,
  location: locationRouter,
  node: nodeRouter,
  status: statusRouter,
  adminLog: adminLogRouter,
});
export type AppRouter = typeof appRouter;
