import type { MessageDraft, Target } from '../backends/Backend.js';
import { assertSingleLineField } from '../protocol/validateField.js';
import { dataText } from './dataText.js';
import type { HistoryPolicy } from './HistoryPolicy.js';

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

/** An event described as data (`publish`, `publishMany`): its target, name, data and history choice. */
interface DescribedEvent {
  readonly target: Target;
  readonly event?: string | undefined;
  readonly data: unknown;
  readonly history?: boolean | undefined;
}

/** Drafts of described events, every one checked first: throws before anything is published. */
export function draftsOf(messages: readonly DescribedEvent[], policy: HistoryPolicy): MessageDraft[] {
  return messages.map((message) => {
    const options = message.history === undefined ? undefined : { history: message.history };
    return makeDraft(message.target, message.event, message.data, policy.keeps(message.event, message.target, options));
  });
}
