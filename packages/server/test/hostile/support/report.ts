/**
 * Measured values of the hostile suite, printed when HOSTILE_REPORT is set (the figures of
 * docs/reliability.md come from such a run); silent otherwise.
 */
export function report(caseName: string, values: Record<string, unknown>): void {
  if (process.env.HOSTILE_REPORT === undefined) return;
  process.stdout.write(`[hostile] ${caseName}: ${JSON.stringify(values)}\n`);
}
