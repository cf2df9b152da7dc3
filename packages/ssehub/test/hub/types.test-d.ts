import { describe, expectTypeOf, it } from 'vitest';
import {
  type Audience,
  type BadgeUpdate,
  type Client,
  createHub,
  type EventName,
  type Hub,
  type NewItem,
  type Notification,
  refuse,
} from '../../src/index.js';

type Events = {
  chat: { from: string; text: string };
  typing: { user: string };
  count: number;
};

type Meta = { role: 'admin' | 'member'; tabs: number };

const hub = createHub<Events, Meta>({
  authenticate: () => ({ userId: 'u', metadata: { role: 'admin', tabs: 1 } }),
});

describe('typed events', () => {
  it('createHub carries the event map and metadata types', () => {
    expectTypeOf(hub).toEqualTypeOf<Hub<Events, Meta>>();
    expectTypeOf(hub.toAll()).toEqualTypeOf<Audience<Events>>();
    expectTypeOf(hub.toRoom('r').toUser('u').toClient('c')).toEqualTypeOf<Audience<Events>>();
    expectTypeOf<EventName<Events>>().toEqualTypeOf<'chat' | 'typing' | 'count'>();
  });

  it('send accepts known events with their payloads and resolves with the id', () => {
    expectTypeOf(hub.toRoom('r').send('chat', { from: 'a', text: 'hi' })).toEqualTypeOf<Promise<string>>();
    expectTypeOf(hub.toAll().send('count', 1)).toEqualTypeOf<Promise<string>>();
    expectTypeOf(hub.broadcast('typing', { user: 'a' })).toEqualTypeOf<Promise<string>>();
    expectTypeOf(hub.toUser('u').send('chat', { from: 'a', text: 'hi' }, { history: false })).toEqualTypeOf<Promise<string>>();
  });

  it('sending an unknown event name is a compile error', () => {
    // @ts-expect-error 'nope' is not an event of the map
    hub.toAll().send('nope', { from: 'a', text: 'hi' });
    // @ts-expect-error 'message' is not an event of the map either
    hub.toRoom('r').send('message', 'x');
    // @ts-expect-error broadcast is typed the same way
    hub.broadcast('nope', 1);
    // @ts-expect-error hub.publish checks the name too
    hub.publish({ event: 'nope', data: 1, target: { all: true } });
  });

  it('sending a wrong payload type is a compile error', () => {
    // @ts-expect-error text must be a string
    hub.toAll().send('chat', { from: 'a', text: 1 });
    // @ts-expect-error from is missing
    hub.toAll().send('chat', { text: 'hi' });
    // @ts-expect-error count carries a number
    hub.toAll().send('count', '1');
    // @ts-expect-error the payload of another event
    hub.toAll().send('typing', { from: 'a', text: 'hi' });
    // @ts-expect-error broadcast checks payloads too
    hub.broadcast('count', { n: 1 });
  });

  it('hub.publish types data by the event name, and takes any data without one', () => {
    expectTypeOf(hub.publish({ data: { any: 'thing' }, target: { rooms: ['r'] } })).toEqualTypeOf<Promise<string>>();
    expectTypeOf(hub.publish({ event: 'chat', data: { from: 'a', text: 'hi' }, target: { users: ['u'] }, history: false })).toEqualTypeOf<
      Promise<string>
    >();
    // @ts-expect-error the payload of chat is an object
    hub.publish({ event: 'chat', data: 'raw', target: { users: ['u'] } });
    // @ts-expect-error unknown event
    hub.publish({ event: 'nope', data: 1, target: { all: true } });
    expectTypeOf(hub.publishMany([{ event: 'count', data: 2, target: { all: true } }])).toEqualTypeOf<Promise<string[]>>();
  });

  it('Client#send is typed by the same map', () => {
    const client = hub.getClient('c') as Client<Events, Meta>;
    expectTypeOf(client.send('typing', { user: 'x' })).toEqualTypeOf<Promise<string>>();
    // @ts-expect-error unknown event
    client.send('nope', {});
    // @ts-expect-error wrong payload
    client.send('typing', { user: 1 });
  });

  it('a hub without an event map accepts any event name and payload', () => {
    const loose = createHub();
    expectTypeOf(loose.toAll().send('anything', { at: 'all' })).toEqualTypeOf<Promise<string>>();
    expectTypeOf(loose.toAll().send('other', 42)).toEqualTypeOf<Promise<string>>();
  });
});

describe('typed metadata', () => {
  it('get and set are typed by the metadata type', () => {
    const client = hub.getClient('c') as Client<Events, Meta>;
    expectTypeOf(client.metadata).toEqualTypeOf<Meta>();
    expectTypeOf(client.get('role')).toEqualTypeOf<'admin' | 'member'>();
    expectTypeOf(client.get('tabs')).toEqualTypeOf<number>();
    expectTypeOf(client.set('tabs', 2)).toEqualTypeOf<Client<Events, Meta>>();
    client.set('role', 'member').set('tabs', 3);
    // @ts-expect-error 'guest' is not a role
    client.set('role', 'guest');
    // @ts-expect-error tabs is a number
    client.set('tabs', '2');
    // @ts-expect-error unknown key
    client.get('nope');
    // @ts-expect-error unknown key
    client.set('nope', 1);
  });

  it('authenticate must return metadata of that type; hooks and the registry see it', () => {
    createHub<Events, Meta>({
      // @ts-expect-error tabs must be a number
      authenticate: () => ({ metadata: { role: 'admin', tabs: 'one' } }),
    });
    createHub<Events, Meta>({
      authenticate: async (req) => (req.url.searchParams.has('x') ? refuse(401, 'no') : { metadata: { role: 'member', tabs: 0 } }),
      onConnect: (client) => {
        expectTypeOf(client).toEqualTypeOf<Client<Events, Meta>>();
        expectTypeOf(client.get('role')).toEqualTypeOf<'admin' | 'member'>();
      },
      onDisconnect: (client, reason) => {
        expectTypeOf(client.metadata).toEqualTypeOf<Meta>();
        expectTypeOf(reason).toEqualTypeOf<'client' | 'closed' | 'slow' | 'stalled' | 'evicted' | 'hub-closed'>();
      },
    });
    expectTypeOf(hub.getClient('c')).toEqualTypeOf<Client<Events, Meta> | undefined>();
    expectTypeOf(hub.clients.get('c')).toEqualTypeOf<Client<Events, Meta> | undefined>();
  });
});

describe('helper events', () => {
  it('notify, updateBadge and newItem take their payload types', () => {
    const audience = hub.toUser('u');
    expectTypeOf(audience.notify).parameter(0).toEqualTypeOf<Notification>();
    expectTypeOf(audience.updateBadge).parameter(0).toEqualTypeOf<BadgeUpdate>();
    expectTypeOf(audience.newItem).parameter(0).toEqualTypeOf<NewItem>();
    expectTypeOf(audience.notify({ title: 'Hi', message: 'there', level: 'warning', url: '/x' })).toEqualTypeOf<Promise<string>>();
    expectTypeOf(audience.updateBadge({ badge: 'inbox', count: 2 })).toEqualTypeOf<Promise<string>>();
    expectTypeOf(audience.newItem({ type: 'post', id: 'p1', item: { any: 'thing' } })).toEqualTypeOf<Promise<string>>();
    // Extra fields are allowed on every helper payload.
    audience.notify({ title: 'Hi', icon: 'bell' });
  });

  it('wrong helper payloads are compile errors', () => {
    const audience = hub.toAll();
    // @ts-expect-error a notification needs a title
    audience.notify({ message: 'no title' });
    // @ts-expect-error level is one of info/success/warning/error
    audience.notify({ title: 'x', level: 'fatal' });
    // @ts-expect-error count is a number
    audience.updateBadge({ badge: 'inbox', count: '2' });
    // @ts-expect-error badge is required
    audience.updateBadge({ count: 2 });
    // @ts-expect-error id is required
    audience.newItem({ type: 'post' });
    // @ts-expect-error id is a string
    audience.newItem({ type: 'post', id: 1 });
  });
});
