#!/usr/bin/env node
// The `sift` command: runs the TypeScript CLI host (cli/main.ts) through tsx.
import { register } from 'tsx/esm/api';

register();
await import('../cli/main.ts');
