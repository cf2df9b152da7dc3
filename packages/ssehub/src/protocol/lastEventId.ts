/**
 * What a client claimed as its last seen event id. The value is untrusted input: `present`
 * with an `undefined` value means the client sent one that was refused (too long).
 */
export interface LastEventIdClaim {
  /** The id, when the client sent one that fits the length limit. */
  readonly value: string | undefined;
  /** Whether the client sent any id at all (header or query). */
  readonly present: boolean;
}

/** Default maximum length of a Last-Event-ID, in UTF-16 code units. */
export const DEFAULT_MAX_LAST_EVENT_ID_LENGTH = 256;

const NONE: LastEventIdClaim = Object.freeze({ value: undefined, present: false });

/**
 * Reads the Last-Event-ID a reconnecting client sends: the `Last-Event-ID` header (browsers)
 * or, when absent, the `lastEventId` query parameter (for clients that cannot set headers).
 * Over-long values are refused rather than truncated: a truncated id would point elsewhere.
 */
export function readLastEventId(
  header: string | undefined,
  query: string | null | undefined,
  maxLength = DEFAULT_MAX_LAST_EVENT_ID_LENGTH,
): LastEventIdClaim {
  const raw = header !== undefined && header !== '' ? header : (query ?? undefined);
  if (raw === undefined || raw === '') return NONE;
  if (raw.length > maxLength) return { value: undefined, present: true };
  return { value: raw, present: true };
}
