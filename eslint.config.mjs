// ESLint reads this file; the configuration and the linter's dependencies are in tools/eslint/
// (`npm run lint` installs them there when missing).
export { default } from './tools/eslint/config.mjs';
