import { defineConfig } from 'tsup';

// One executable bundle of this package's code; ssehub, pino, jose, zod and prom-client stay
// imports resolved from node_modules at run time.
export default defineConfig({
  entry: { cli: 'src/cli.ts' },
  format: ['esm'],
  platform: 'node',
  target: 'node20',
  clean: true,
  sourcemap: true,
  splitting: false,
});
