import { describe, expect, it } from '@jest/globals';
import { Cache, createCache } from '../lib/cache.js';
import { cached } from '../lib/cached.js';
import { jsonSerializer } from '../lib/serializers/json.js';
import type { Serializer } from '../lib/serializers/serializer.js';
import { MemoryStore } from '../lib/stores/memory.js';
import { RedisStore } from '../lib/stores/redis.js';
import type { Store } from '../lib/stores/store.js';
import { isSettled } from './helpers/deferred.js';
import { fakeClock } from './helpers/fake-clock.js';
import { GatedStore } from './helpers/test-stores.js';

describe('createCache', () => {
  it('returns a Cache on a bounded memory store with the JSON serializer by default', () => {
    const cache = createCache();
    expect(cache).toBeInstanceOf(Cache);
    expect(cache.store).toBeInstanceOf(MemoryStore);
    expect(cache.serializer).toBe(jsonSerializer);
    expect(cache.namespace).toBeUndefined();
    expect(cache.pendingWrites).toBe(0);
  });

  it('returns synchronously for a redis store, without connecting', async () => {
    const cache = createCache({ store: { type: 'redis', url: 'redis://127.0.0.1:1' } });
    expect(cache.store).toBeInstanceOf(RedisStore);
    expect((cache.store as RedisStore).client.isOpen).toBe(false);
    await cache.close();
  });

  it('uses a Store object as given', async () => {
    const store = new GatedStore();
    const cache = createCache({ store, namespace: 'app' });
    expect(cache.store).toBe(store);
    expect(cache.namespace).toBe('app');
  });

  it('stamps entries with the injected clock', async () => {
    const clock = fakeClock(1_234_567);
    const cache = createCache({ clock });
    const f = cached(async () => 1, { cache, name: 'f' });
    await f();
    expect((cache.store as MemoryStore).get('f')).toMatch(/^s1\|json\|1234567\|\|[\w-]{8}\.[\w-]{8}\|1$/);
  });
});

describe('an injected clock', () => {
  it('answers hits with a clock that reads fractional milliseconds, such as performance.now()', async () => {
    const cache = createCache({ clock: { now: () => 1000.5 } });
    let runs = 0;
    const f = cached(async () => ++runs, { cache, name: 'f', ttl: '1m' });
    await f();
    expect(await f()).toBe(1);
    expect(runs).toBe(1);
    expect(f.stats).toMatchObject({ hits: 1, misses: 1 });
  });
});

describe('a custom serializer', () => {
  it('encodes and decodes every entry of the cache', async () => {
    const calls: string[] = [];
    const reversed: Serializer = {
      name: 'reversed',
      serialize: (value) => (calls.push('serialize'), JSON.stringify(value).split('').reverse().join('')),
      deserialize: (raw) => (calls.push('deserialize'), JSON.parse(String(raw).split('').reverse().join(''))),
    };
    const cache = createCache({ serializer: reversed });
    const f = cached(async () => ({ a: 1 }), { cache, name: 'f' });
    expect(await f()).toEqual({ a: 1 });
    expect(await f()).toEqual({ a: 1 });
    expect(calls).toEqual(['serialize', 'deserialize']);
    expect((cache.store as MemoryStore).get('f')).toMatch(/^s1\|reversed\|\d+\|\|[\w-]{8}\.[\w-]{8}\|}1:"a"{$/);
  });

  it('works end to end with a binary serializer', async () => {
    const bytes: Serializer = {
      name: 'bytes',
      binary: true,
      serialize: (value) => Buffer.from(JSON.stringify(value), 'utf8'),
      deserialize: (raw) => JSON.parse((raw as Buffer).toString('utf8')),
    };
    const cache = createCache({ serializer: bytes });
    let runs = 0;
    const f = cached(async (id: number) => ({ id, name: 'é', run: ++runs }), { cache, name: 'f' });
    await f(1);
    expect(await f(1)).toEqual({ id: 1, name: 'é', run: 1 });
    expect(Buffer.isBuffer((cache.store as MemoryStore).get(f.keyFor(1)))).toBe(true);
  });

  it('treats entries of another serializer as misses and overwrites them', async () => {
    const store = new MemoryStore();
    const other: Serializer = { name: 'other', serialize: (v) => JSON.stringify(v), deserialize: (r) => JSON.parse(String(r)) };
    let runs = 0;
    const write = cached(async () => `v${++runs}`, { cache: createCache({ store, serializer: other }), name: 'f' });
    const read = cached(async () => `v${++runs}`, { cache: createCache({ store }), name: 'f' });
    await write();
    expect(await read()).toBe('v2');
    expect(await read()).toBe('v2');
    expect(read.stats).toMatchObject({ misses: 1, hits: 1, errors: 0 });
  });
});

describe('close()', () => {
  it('empties the memory store it created', async () => {
    const cache = createCache();
    await cached(async () => 1, { cache, name: 'f' })();
    expect((cache.store as MemoryStore).size).toBe(1);
    await cache.close();
    expect((cache.store as MemoryStore).size).toBe(0);
  });

  it('leaves a store it was given open', async () => {
    let closed = 0;
    const inner = new MemoryStore();
    const store: Store = {
      name: 'mine',
      get: (key) => inner.get(key),
      set: (key, value, ttl) => inner.set(key, value, ttl),
      delete: (key) => inner.delete(key),
      close: async () => {
        closed++;
      },
    };
    await createCache({ store }).close();
    expect(closed).toBe(0);
  });

  it('waits for background writes and returns the same promise when called again', async () => {
    const store = new GatedStore();
    const cache = createCache({ store });
    await cached(async () => 1, { cache, name: 'f', waitForWrite: false })();
    const first = cache.close();
    expect(cache.close()).toBe(first);
    expect(await isSettled(first)).toBe(false);
    store.release();
    await first;
    expect(cache.pendingWrites).toBe(0);
  });

  it('waits for writes that a call is still awaiting', async () => {
    const store = new GatedStore();
    const cache = createCache({ store });
    const call = cached(async () => 1, { cache, name: 'f' })();
    await isSettled(call);
    expect(store.waiting).toBe(1);
    const closing = cache.close();
    expect(await isSettled(closing)).toBe(false);
    store.release();
    await Promise.all([call, closing]);
    expect(store.inner.get('f')).toBeDefined();
  });
});
