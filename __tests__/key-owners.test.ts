import { describe, expect, it } from '@jest/globals';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createCache, defaultCache } from '../lib/cache.js';
import { cached } from '../lib/cached.js';
import { CacheConfigError } from '../lib/errors.js';
import { thrown } from './helpers/throws.js';

const memoryCache = (namespace?: string) => createCache({ store: { type: 'memory' }, namespace });

/** A new function named `load` each time, as two modules (or a factory) would make. */
function makeLoad(table: string): (id: number) => Promise<string> {
  return async function load(id: number): Promise<string> {
    return `${table}:${id}`;
  };
}

describe('two different functions with the same name on one cache', () => {
  it('refuses the second load with a CacheConfigError on name that says to set name', () => {
    const cache = memoryCache('app');
    const users = cached(makeLoad('users'), { cache });
    const error = thrown(() => cached(makeLoad('orders'), { cache }));
    expect(error).toBeInstanceOf(CacheConfigError);
    expect((error as CacheConfigError).field).toBe('name');
    expect((error as Error).message).toBe(
      'cachette: name: another function already uses the keys "app:load…" on this cache, and this one is also named "load"; ' +
        "they would read each other's entries. Give each function its own name option (or the same name on purpose to share entries)",
    );
    expect(users.keyFor(1)).toBe('app:load:1');
  });

  it('refuses two bound methods (bound get) and two minified functions (a)', () => {
    const cache = memoryCache();
    class Repo {
      constructor(readonly table: string) {}
      async get(id: number): Promise<string> {
        return `${this.table}:${id}`;
      }
    }
    const users = new Repo('users');
    const orders = new Repo('orders');
    cached(users.get.bind(users), { cache });
    expect(thrown(() => cached(orders.get.bind(orders), { cache }))).toBeInstanceOf(CacheConfigError);
    const minified = (body: () => Promise<number>) => Object.defineProperty(body, 'name', { value: 'a' });
    cached(minified(async () => 1), { cache });
    expect(thrown(() => cached(minified(async () => 2), { cache }))).toBeInstanceOf(CacheConfigError);
  });

  it('refuses them on the default process-wide cache too', () => {
    const first = makeLoad('one');
    Object.defineProperty(first, 'name', { value: 'loadOnDefaultCache' });
    const second = makeLoad('two');
    Object.defineProperty(second, 'name', { value: 'loadOnDefaultCache' });
    const wrapped = cached(first);
    expect(wrapped.keyFor(1)).toBe('loadOnDefaultCache:1');
    expect(thrown(() => cached(second))).toBeInstanceOf(CacheConfigError);
    expect(thrown(() => cached(second, { cache: defaultCache() }))).toBeInstanceOf(CacheConfigError);
  });

  it('keeps the entries apart once each has its own name', async () => {
    const cache = memoryCache();
    const users = cached(makeLoad('users'), { cache, name: 'loadUser' });
    const orders = cached(makeLoad('orders'), { cache, name: 'loadOrder' });
    expect([await users(1), await orders(1)]).toEqual(['users:1', 'orders:1']);
  });
});

describe('what stays allowed', () => {
  it('wraps the same function twice, with other options too', () => {
    const cache = memoryCache();
    const load = makeLoad('users');
    const short = cached(load, { cache, ttl: '1s' });
    const long = cached(load, { cache, ttl: '1h' });
    expect(long.keyFor(1)).toBe(short.keyFor(1));
  });

  it('lets functions share a head on purpose through sharedContext, key or the same explicit name', () => {
    const cache = memoryCache();
    cached(makeLoad('a'), { cache, sharedContext: 'users' });
    cached(makeLoad('b'), { cache, sharedContext: 'users' });
    cached(makeLoad('a'), { cache, key: 'settings' });
    cached(makeLoad('b'), { cache, key: 'settings' });
    const one = cached(makeLoad('a'), { cache, name: 'shared' });
    const two = cached(makeLoad('b'), { cache, name: 'shared' });
    expect(two.keyFor(1)).toBe(one.keyFor(1));
  });

  it('still refuses a function that only has its own name where an explicit one already holds the head', () => {
    const cache = memoryCache();
    cached(makeLoad('a'), { cache, name: 'load' });
    expect(thrown(() => cached(makeLoad('b'), { cache }))).toBeInstanceOf(CacheConfigError);
    cached(makeLoad('c'), { cache, sharedContext: 'ctx' });
    const named = Object.defineProperty(makeLoad('d'), 'name', { value: 'ctx' });
    expect(thrown(() => cached(named, { cache }))).toBeInstanceOf(CacheConfigError);
  });

  it('lets an explicit name join a head that a function took by its own name', () => {
    const cache = memoryCache();
    const first = cached(makeLoad('a'), { cache });
    const second = cached(makeLoad('b'), { cache, name: 'load' });
    expect(second.keyFor(1)).toBe(first.keyFor(1));
  });

  it('allows the same name on another cache, namespace, keyPrefix or version', () => {
    const cache = memoryCache('app');
    cached(makeLoad('a'), { cache });
    cached(makeLoad('b'), { cache: memoryCache('app') });
    cached(makeLoad('c'), { cache, namespace: 'other' });
    cached(makeLoad('d'), { cache, keyPrefix: 'p' });
    const v2 = cached(makeLoad('e'), { cache, version: 2 });
    expect(v2.keyFor(1)).toBe('app:load:v2:1');
  });
});

describe('no leak', () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;

  it('frees a head once the function that held it is collected', async () => {
    const cache = memoryCache();
    (() => {
      cached(makeLoad('gone'), { cache });
    })();
    const tryWrap = (): ReturnType<typeof cached<(id: number) => Promise<string>>> | undefined => {
      try {
        return cached(makeLoad('next'), { cache });
      } catch {
        return undefined;
      }
    };
    expect(tryWrap()).toBeUndefined(); // not collected yet: still refused
    // The count of live functions drops in a finalization callback. V8 runs those as tasks after a
    // collection, one dirty registry per task, and a turn of setImmediate lets only one such task run
    // (500 dirty registries: 8 turns ran 8 callbacks, one 5 ms timer ran 499). In a full run this worker
    // holds many registries (one per Cache), so ours may come many tasks later: wait on timers.
    let next = tryWrap();
    for (let attempt = 0; next === undefined && attempt < 200; attempt++) {
      if (attempt % 10 === 0) gc();
      await new Promise((resolve) => setTimeout(resolve, 5));
      next = tryWrap();
    }
    expect(await next?.(1)).toBe('next:1');
    // Each gc() is a full collection of the worker's heap, slow on a loaded machine (20 of them passed
    // jest's default 5 s in full runs): the attempts, not the time, bound this test.
  }, 60_000);
});
