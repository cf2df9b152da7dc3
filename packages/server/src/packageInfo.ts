/**
 * Where the package lives. This file sits one level below the package root both as source
 * (`src/packageInfo.ts`) and bundled (`dist/cli.js`), so the same relative paths work in tests
 * and in the built command.
 * @module
 */

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = new URL('../', import.meta.url);

/** The static pages served at `/`, `/dashboard` and `/assets/`. */
export const PUBLIC_DIR: string = fileURLToPath(new URL('public/', root));

/** The version of the `ssehub` command, from its package.json. */
export const VERSION: string = (JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { version: string }).version;
