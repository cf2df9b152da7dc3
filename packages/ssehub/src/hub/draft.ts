import type { MessageDraft, Target } from '../backends/Backend.js';
import { assertSingleLineField } from '../protocol/validateField.js';
import { dataText } from './dataText.js';

/** Throws `TypeError` unless `target` is an object of string lists. */
export function assertTarget(target: Target): void {
  if (typeof target !== 'object' || target === null) throw new TypeError('A target must be an object');
  for (const list of [target.clients, target.users, target.rooms]) {
    if (list === undefined) continue;
    if (!Array.isArray(list) || !list.every((name) => typeof name === 'string')) {
      throw new TypeError('Target ids and room names must be arrays of strings');
    }
  }
}

/**
 * An event checked and encoded for a backend: throws (`InvalidFieldError`, `InvalidDataError`,
 * `TypeError`) before anything is published.
 */
export function makeDraft(target: Target, event: string | undefined, data: unknown, history: boolean): MessageDraft {
  assertTarget(target);
  if (event !== undefined) assertSingleLineField('event', event);
  return { event, data: dataText(data), target, history };
}
