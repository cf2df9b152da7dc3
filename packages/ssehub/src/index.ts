/**
 * ssehub: Server-Sent Events for Node.js — spec-exact encoding, single streams with
 * backpressure, and a typed hub of clients, users and rooms with resume without loss.
 * @module
 */

export type { Backend, BackendHead, BackendMessage, MessageDraft, Target } from './backends/Backend.js';
export { MemoryBackend } from './backends/MemoryBackend.js';
export {
  ClientNotFoundError,
  ConnectionRefusedError,
  HubClosedError,
  InvalidDataError,
  InvalidFieldError,
  SseHubError,
  type SseHubErrorCode,
  StreamClosedError,
} from './errors.js';
export { createSseServer, type SocketHub, SseServer, type SseServerOptions } from './http/createSseServer.js';
export type { SocketRequest } from './http/requestHead.js';
export { Audience, type SendOptions } from './hub/Audience.js';
export { Client } from './hub/Client.js';
export { formatEventId, parseEventId } from './hub/eventId.js';
export type { HistoryOptions, HistoryStats, ResetReason } from './hub/History.js';
export { createHub, Hub, type HubCounters, type HubStats } from './hub/Hub.js';
export type { BadgeUpdate, HelperEvents, NewItem, Notification } from './hub/helperEvents.js';
export {
  type ClientInit,
  type ConnectRequest,
  type DisconnectReason,
  type EventMap,
  type EventName,
  type HubOptions,
  type Logger,
  type PublishInfo,
  type Refusal,
  refuse,
} from './hub/types.js';
export * from './protocol/index.js';
export { createNodeStream, createWebStream, type StreamOptions } from './stream/createStream.js';
export { canSetTcpUserTimeout } from './stream/DeadPeerGuard.js';
export { SSE_HEADERS } from './stream/headers.js';
export type { NodeRequest, NodeResponse } from './stream/NodeSink.js';
export { type OverflowPolicy, SseStream, type StreamQueueOptions } from './stream/SseStream.js';
export { type Producer, type ServeOptions, serve, serveFunction } from './stream/serve.js';
