/**
 * A legitimate publisher that keeps publishing while an attack runs, through the witness's
 * ledger: events published during the attack must reach the witness like any others.
 */
import { sleep } from './rawConnection.js';
import type { Witness } from './witness.js';

export class LegitTraffic {
  #running = true;
  #published = 0;
  readonly #loop: Promise<void>;
  // A failed publish is kept for stop() to throw, not left as an unhandled rejection meanwhile.
  #failure: unknown;

  private constructor(witness: Witness, everyMs: number) {
    this.#loop = this.#run(witness, everyMs).catch((error: unknown) => {
      this.#failure = error;
    });
  }

  /** Publishes an event every `everyMs` until stopped. */
  static start(witness: Witness, everyMs = 100): LegitTraffic {
    return new LegitTraffic(witness, everyMs);
  }

  async #run(witness: Witness, everyMs: number): Promise<void> {
    while (this.#running) {
      await witness.publish(`during the attack #${++this.#published}`);
      if (this.#running) await sleep(everyMs);
    }
  }

  /** Stops after the publish in flight; resolves with how many were published. */
  async stop(): Promise<number> {
    this.#running = false;
    await this.#loop;
    if (this.#failure !== undefined) throw this.#failure;
    return this.#published;
  }
}
