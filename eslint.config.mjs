// ESLint with typescript-eslint's type-checked rules, for the daemon, the helper and the dashboard
// (`npm run lint`, part of `npm test`). Where a rule is tuned, the reason is beside it.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import tseslint from 'typescript-eslint';

const root = path.dirname(fileURLToPath(import.meta.url));

export default tseslint.config(
  { ignores: ['dist/**', 'ui/dist/**', 'node_modules/**', 'test/**', 'bench/**', 'deploy/**', 'bin/**', '*.mjs', 'ui/vite.config.ts'] },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: root } },
    rules: {
      // A leading underscore marks what is left out on purpose (a destructured field dropped, an unused parameter).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      // Steps, undo functions and handlers satisfy Promise-returning interfaces; an async function without an
      // await is clearer there than a Promise.resolve() wrapper.
      '@typescript-eslint/require-await': 'off',
      // Preact's event attributes take async handlers whose promise is handled inside them.
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { attributes: false } }],
    },
  },
  {
    // Kysely's documented migration signature: a migration must not depend on today's schema types.
    files: ['src/db/migrations/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
