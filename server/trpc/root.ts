import { adminLogRouter } from './routers/adminLog.router.js';
import { supportLogRouter } from './routers/supportLog.router.js';
import { alarmRouter } from './routers/alarm.router.js';
import { administrationRouter } from './routers/administration.router.js';
import { authRouter } from './routers/auth.router.js';
import { backupRouter } from './routers/backup.router.js';
import { commandRouter } from './routers/command.router.js';
import { configRouter } from './routers/config.router.js';
import { historyRouter } from './routers/history.router.js';
import { bulkRouter } from './routers/bulk.router.js';
import { certificateRouter } from './routers/certificate.router.js';
import { nodeRouter } from './routers/platform.router.js';
import { regexTesterRouter } from './routers/regexTester.router.js';
import { statusRouter } from './routers/status.router.js';
import { themeRouter } from './routers/theme.router.js';
import { router } from './trpc.js';

export const appRouter = router({
  auth: authRouter,
  config: configRouter,
  node: nodeRouter,
  status: statusRouter,
  alarm: alarmRouter,
  adminLog: adminLogRouter,
  supportLog: supportLogRouter,
  regexTester: regexTesterRouter,
  certificate: certificateRouter,
  backup: backupRouter,
  theme: themeRouter,
  bulk: bulkRouter,
  administration: administrationRouter,
  history: historyRouter,
  command: commandRouter,
});
export type AppRouter = typeof appRouter;
