/**
 * ssehub: Server-Sent Events for Node.js — spec-exact encoding, single streams with
 * backpressure, and a typed hub of clients, users and rooms with resume without loss.
 *
 * Layers, each importing only those before it: `protocol` (bytes on the wire, runtime-neutral)
 * → `stream` (one connection) → `transports` (node:http, Web, ssehub's own socket server) →
 * `hub`; `backends` (the ordered log hubs share) sit beside the transports.
 * @module
 */

export type {
  Backend,
  BackendEvents,
  BackendListener,
  BackendMessage,
  LogPosition,
  LogRead,
  LogStats,
  MessageDraft,
  Target,
  UnreadableReason,
} from './backends/Backend.js';
export { MemoryBackend, type MemoryBackendOptions } from './backends/MemoryBackend.js';
export type { HistoryOptions } from './backends/MemoryLog.js';
export {
  BackendError,
  ClientNotFoundError,
  ConnectionRefusedError,
  HubClosedError,
  InvalidDataError,
  InvalidFieldError,
  SseHubError,
  type SseHubErrorCode,
  StreamClosedError,
} from './errors.js';
export type { Audience, SendOptions } from './hub/Audience.js';
export type {
  BuiltinEvents,
  ConnectedEventData,
  EvictedEventData,
  ResetEventData,
  ResetReason,
} from './hub/builtinEvents.js';
export type { Client } from './hub/Client.js';
export { createHub, type HistoryStats, Hub, type HubCounters, type HubStats, type PublishMessage } from './hub/Hub.js';
export type { BadgeUpdate, HelperEvents, NewItem, Notification } from './hub/helperEvents.js';
export {
  type ClientInit,
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
export type { Sink, SinkEvents } from './stream/Sink.js';
export { type OverflowPolicy, SseStream, type StreamListener, type StreamQueueOptions } from './stream/SseStream.js';
export { type Producer, type ServeOptions, serve, serveFunction } from './stream/serve.js';
export type { Answer, Connection, ConnectRequest } from './transports/Connection.js';
export { NodeConnection } from './transports/node/NodeConnection.js';
export {
  type ConnectionAcceptor,
  createSseServer,
  SseServer,
  type SseServerOptions,
} from './transports/socket/createSseServer.js';
export type { SocketRequest } from './transports/socket/requestHead.js';
export { WebConnection } from './transports/web/WebConnection.js';
