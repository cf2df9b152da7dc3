import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';

/** The engine's garbage collector, for tests that prove memory is released (no flag needed at start). */
export function exposeGc(): () => void {
  v8.setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}
