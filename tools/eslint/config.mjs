// The project's ESLint configuration (the root eslint.config.mjs re-exports it). It lives beside the
// linter's own dependencies (tools/eslint/package.json) so its imports resolve there.
import js from '@eslint/js';
import reactHooks from 'eslint-plugin-react-hooks';
import tseslint from 'typescript-eslint';
import { boundaries } from './boundaries.mjs';

const openmeet = { rules: { boundaries } };

export default tseslint.config(
  { ignores: ['**/.*/**', '**/node_modules/**', 'dist/**', 'data/**', 'test-results/**', 'playwright-report/**', 'db/migrations/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.{ts,tsx,mjs}'],
    plugins: { openmeet },
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: 'module',
      globals: {
        console: 'readonly',
        process: 'readonly',
        Buffer: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        fetch: 'readonly',
      },
    },
    rules: {
      'openmeet/boundaries': 'error',
      // A cast through unknown silences the type checker: parse with zod, or fix the type.
      'no-restricted-syntax': [
        'error',
        {
          selector: 'TSAsExpression > TSAsExpression.expression[typeAnnotation.type="TSUnknownKeyword"]',
          message: 'No type assertions through unknown (`as unknown as`): parse the value (zod) or fix the type.',
        },
      ],
      // Long functions are a smell a reviewer would point at; a warning, not a failure.
      'max-lines-per-function': ['warn', { max: 80, skipBlankLines: true, skipComments: true }],
      // A leading underscore says "deliberately unused" (an interface's parameter, a field left out of a copy).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
      // TypeScript checks undefined names itself (and knows the DOM and Node globals).
      'no-undef': 'off',
    },
  },
  {
    files: ['web/**/*.{ts,tsx}'],
    plugins: { 'react-hooks': reactHooks },
    rules: reactHooks.configs.recommended.rules,
  },
);
