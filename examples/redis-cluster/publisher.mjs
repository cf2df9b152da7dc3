// A payments service: it holds no connection, yet reaches each user on whichever hub the user
// is connected to, through the same Redis as the hubs (createPublisher from ssehub/redis).
// Started by run.mjs; on its own:
//   REDIS_URL=redis://127.0.0.1:6379 node examples/redis-cluster/publisher.mjs
import { createPublisher } from 'ssehub/redis';

/** @type {import('ssehub/redis').Publisher<import('./events.mjs').Events>} */
const publisher = createPublisher({ redis: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', prefix: process.env.SSEHUB_PREFIX });

/** @type {Array<[string, import('./events.mjs').Events['transaction']]>} */
const updates = [
  ['ada', { id: 't1', status: 'pending', amount: 42.5 }],
  ['grace', { id: 't2', status: 'pending', amount: 120 }],
  ['ada', { id: 't1', status: 'settled', amount: 42.5 }],
  ['ada', { id: 't3', status: 'pending', amount: 9.99 }],
  ['grace', { id: 't2', status: 'failed', amount: 120 }],
  ['grace', { id: 't4', status: 'settled', amount: 7 }],
];

for (const [user, transaction] of updates) {
  // Resolves once Redis has the event in its log, with the id the browser will see.
  await publisher.toUser(user).send('transaction', transaction);
  console.log(`publisher → ${user}: ${transaction.id} ${transaction.status}`);
}
await publisher.close();
