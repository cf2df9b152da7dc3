/** Compiles the C load client into bench/.build/ when its source is newer than the binary. */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const SOURCE = fileURLToPath(new URL('../client/sseload.c', import.meta.url));
const BUILD_DIR = fileURLToPath(new URL('../.build/', import.meta.url));
export const CLIENT_BINARY = `${BUILD_DIR}sseload`;

export function buildClient() {
  if (existsSync(CLIENT_BINARY) && statSync(CLIENT_BINARY).mtimeMs > statSync(SOURCE).mtimeMs) return CLIENT_BINARY;
  mkdirSync(BUILD_DIR, { recursive: true });
  execFileSync('gcc', ['-O2', '-Wall', '-Wextra', '-Werror', '-o', CLIENT_BINARY, SOURCE], { stdio: 'inherit' });
  return CLIENT_BINARY;
}
