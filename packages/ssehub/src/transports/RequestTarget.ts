/**
 * The URL and query of a request, read from its target (`/events?user=ada`, or an absolute
 * `http://host/events?…`) only when asked for: the query alone costs a fraction of a URL parse,
 * and most connections are decided on the query.
 */
export abstract class RequestTarget {
  #url: URL | undefined;
  #query: URLSearchParams | undefined;

  /** The request target as sent. */
  protected abstract get target(): string;

  get url(): URL {
    this.#url ??= new URL(this.target, 'http://localhost');
    return this.#url;
  }

  get query(): URLSearchParams {
    if (this.#query === undefined) {
      const target = this.target;
      const mark = target.indexOf('?');
      this.#query = this.#url?.searchParams ?? new URLSearchParams(mark === -1 ? '' : target.slice(mark + 1));
    }
    return this.#query;
  }
}
