// Lint, and the layering rule: imports point inwards (hosts -> engine facade -> engine parts).
//   src/**        the engine: never imports electron, main/, renderer/, cli/, web/.
//   src/api/contract/**  pure (runs in the renderer too): zod and other contract files only.
//   cli/, web/, main/  hosts: reach the engine only through src/api/ (the facade), never its parts.
//   renderer/**   the React app: only type imports of src/api/contract, nothing else from src/.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

const engineParts = ['**/src/store/**', '**/src/library/**', '**/src/media/**', '**/src/vision/**', '**/src/learn/**', '**/src/export/**', '**/src/util/**'];

export default tseslint.config(
  { ignores: ['node_modules/**', 'out/**', 'dist/**', 'release/**', 'resources/models/**', 'test/artifacts/**', 'test-results/**', '.tmp-*/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['src/**'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [{ name: 'electron', message: 'The engine (src/) never imports Electron.' }],
        patterns: [{ group: ['**/main/**', '**/renderer/**', '**/cli/**', '**/web/**', 'electron/*'], message: 'The engine (src/) never imports a host.' }],
      }],
    },
  },
  {
    files: ['src/api/contract/**'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [{ name: 'electron', message: 'The contract is pure.' }],
        patterns: [{ group: ['node:*', '../engine*', '../*.ts', ...engineParts, '**/main/**', '**/renderer/**'], message: 'The API contract is pure: it runs in the renderer too.' }],
      }],
    },
  },
  {
    files: ['cli/**', 'web/**', 'main/**'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{ group: engineParts, message: 'Hosts reach the engine only through the facade in src/api/.' }, { group: ['**/renderer/**'], message: 'Hosts do not import renderer code.' }],
      }],
    },
  },
  {
    files: ['renderer/**'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'no-restricted-imports': ['error', {
        paths: [{ name: 'electron', message: 'The sandboxed renderer never imports Electron; use window.sift.' }],
        patterns: [
          { group: ['node:*', '**/main/**', '**/cli/**', '**/web/**', ...engineParts, '**/src/api/engine*', '**/src/api/*.ts'], message: 'The renderer reaches the engine only through the typed API (window.sift).' },
        ],
      }],
    },
  },
);
