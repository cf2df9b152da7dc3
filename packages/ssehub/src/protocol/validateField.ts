import { InvalidFieldError } from '../errors.js';

// CR and LF would end the field (and could start a forged one); NUL makes browsers drop an id.
const FORBIDDEN_IN_FIELD = /[\r\n\0]/;

/** Throws {@link InvalidFieldError} unless `value` can travel as a single `id:` or `event:` line. */
export function assertSingleLineField(field: 'id' | 'event', value: string): void {
  if (typeof value !== 'string') {
    throw new InvalidFieldError(field, `expected a string, got ${typeof value}`);
  }
  if (FORBIDDEN_IN_FIELD.test(value)) {
    throw new InvalidFieldError(field, 'must not contain CR, LF or NUL');
  }
}

/** Throws {@link InvalidFieldError} unless `value` is a valid `retry:` value. */
export function assertRetry(value: number): void {
  // The spec only accepts ASCII digits, so the number must print without sign, dot or exponent.
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new InvalidFieldError('retry', `must be a non-negative integer, got ${String(value)}`);
  }
}
