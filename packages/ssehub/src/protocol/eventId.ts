/**
 * Event ids are `<epoch>-<seq>`: the epoch names one unbroken sequence of the backend, the
 * seq orders events within it. Parsing is strict because the value comes back from clients.
 */

const EVENT_ID = /^([A-Za-z0-9]{1,32})-(0|[1-9][0-9]{0,15})$/;

/** Formats the SSE id of the event at `seq` in `epoch`. */
export function formatEventId(epoch: string, seq: number): string {
  return `${epoch}-${seq}`;
}

/** Parses an id made by {@link formatEventId}; `undefined` for anything else. */
export function parseEventId(id: string): { epoch: string; seq: number } | undefined {
  const match = EVENT_ID.exec(id);
  if (match === null) return undefined;
  const seq = Number(match[2]);
  return Number.isSafeInteger(seq) ? { epoch: match[1] as string, seq } : undefined;
}
