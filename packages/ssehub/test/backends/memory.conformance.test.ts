import { MemoryBackend } from '../../src/index.js';
import { describeBackend } from './conformance.js';

describeBackend('MemoryBackend', {
  make: (options) => new MemoryBackend(options?.history === undefined ? {} : { history: options.history }),
  share: (backend) => backend,
  restart: () => new MemoryBackend(),
  exact: true,
});
