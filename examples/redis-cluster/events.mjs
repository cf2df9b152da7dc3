/**
 * The events the services send to users, typed once for the hubs and the publisher:
 * `createHub<Events>` / `createPublisher<Events>` (here as JSDoc) check every `send`.
 * @typedef {{ transaction: { id: string, status: 'pending' | 'settled' | 'failed', amount: number } }} Events
 */
export {};
