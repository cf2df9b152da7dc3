import { validateHeaderName, validateHeaderValue } from 'node:http';

/**
 * Throws as node:http would (`ERR_INVALID_HTTP_TOKEN`, `ERR_INVALID_CHAR`) for a header that
 * could smuggle a line break into a response head.
 */
export function assertValidHeaders(headers: Readonly<Record<string, string>>): void {
  for (const name of Object.keys(headers)) {
    validateHeaderName(name);
    validateHeaderValue(name, headers[name] as string);
  }
}
