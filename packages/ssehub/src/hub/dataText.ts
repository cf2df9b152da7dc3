import { InvalidDataError } from '../errors.js';

/**
 * The `data:` text of an event: a string as it is, anything else as JSON (`undefined` as no
 * data). A value JSON cannot encode is refused with an {@link InvalidDataError}.
 */
export function dataText(data: unknown): string {
  if (typeof data === 'string') return data;
  try {
    return JSON.stringify(data) ?? '';
  } catch (error) {
    // V8 overflows its stack on deep nesting: say so, rather than "Maximum call stack size exceeded".
    const reason = error instanceof RangeError ? 'it is nested too deeply' : (error as Error).message;
    throw new InvalidDataError(reason, { cause: error });
  }
}
