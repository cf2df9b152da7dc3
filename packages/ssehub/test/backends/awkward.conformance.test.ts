/**
 * The conformance suite against a backend that is asynchronous everywhere, delivers out of order
 * and loses some deliveries: the backend-level promises it keeps are checked as far as it keeps
 * them, and every hub-level promise must hold in full.
 */
import { AwkwardBackend } from '../support/AwkwardBackend.js';
import { describeBackend } from './conformance.js';

describeBackend('AwkwardBackend', {
  make: (options) => new AwkwardBackend({ ...(options?.history === undefined ? {} : { history: options.history }), lossRate: 0.1 }),
  share: (backend) => backend,
  restart: () => new AwkwardBackend({ lossRate: 0.1 }),
  exact: false,
});
