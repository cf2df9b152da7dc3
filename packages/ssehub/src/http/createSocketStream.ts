import { DEFAULT_MAX_LAST_EVENT_ID_LENGTH, readLastEventId } from '../protocol/lastEventId.js';
import { queryLastEventId, type StreamOptions } from '../stream/createStream.js';
import { SseStream } from '../stream/SseStream.js';
import type { SocketRequest } from './requestHead.js';
import { openSocketSink } from './SocketSink.js';

/** Starts an event stream on a socket the SSE server read a request head from. */
export function createSocketStream(request: SocketRequest, options: StreamOptions = {}): SseStream {
  const claim = readLastEventId(
    request.headers['last-event-id'],
    queryLastEventId(request.url),
    options.maxLastEventIdLength ?? DEFAULT_MAX_LAST_EVENT_ID_LENGTH,
  );
  return new SseStream((events) => openSocketSink(request.socket, events, options.headers), claim, options);
}
