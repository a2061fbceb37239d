/** Where the linter's executable is installed (tools/eslint/node_modules/.bin/eslint). */
export const eslintBin: string;
/** Installs the linter's dependencies in tools/eslint/ when missing. */
export function ensureLintTools(): void;
