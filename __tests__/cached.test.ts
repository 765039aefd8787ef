import { describe, expect, it } from '@jest/globals';
import { createCache, defaultCache } from '../lib/cache.js';
import { cached } from '../lib/cached.js';
import { CacheKeyError } from '../lib/errors.js';
import type { MemoryStore } from '../lib/stores/memory.js';
import { deferred, flush } from './helpers/deferred.js';
import { brokenStore, RecordingStore } from './helpers/test-stores.js';

const quiet = { warn() {}, error() {} };
const memoryCache = () => createCache({ store: { type: 'memory' }, logger: quiet });

/** A counted origin: `runs` says how often it ran. */
function counted<A extends unknown[], R>(body: (...args: A) => R): ((...args: A) => Promise<Awaited<R>>) & { runs: number } {
  const origin = Object.assign(
    async (...args: A): Promise<Awaited<R>> => {
      origin.runs++;
      return await body(...args);
    },
    { runs: 0 },
  );
  return origin;
}

describe('read-through', () => {
  it('runs the origin on a miss and answers the next call from the cache', async () => {
    const cache = memoryCache();
    const origin = counted((id: number) => ({ id, name: `user ${id}` }));
    const getUser = cached(origin, { cache, name: 'getUser' });
    expect(await getUser(1)).toEqual({ id: 1, name: 'user 1' });
    expect(await getUser(1)).toEqual({ id: 1, name: 'user 1' });
    expect(origin.runs).toBe(1);
    expect(getUser.stats).toMatchObject({ hits: 1, misses: 1 });
  });

  it('keeps different arguments apart', async () => {
    const origin = counted((id: number) => id * 10);
    const f = cached(origin, { cache: memoryCache(), name: 'f' });
    expect([await f(1), await f(2), await f(1), await f(2)]).toEqual([10, 20, 10, 20]);
    expect(origin.runs).toBe(2);
  });

  it('stores a copy: mutating a returned object does not change what the next call gets', async () => {
    const f = cached(async () => ({ list: [1] }), { cache: memoryCache(), name: 'copy' });
    const first = await f();
    first.list.push(2);
    expect(await f()).toEqual({ list: [1] });
  });

  it('wraps synchronous functions too, answering with a promise', async () => {
    const f = cached((a: number, b: number) => a + b, { cache: memoryCache(), name: 'add' });
    const pending = f(1, 2);
    expect(pending).toBeInstanceOf(Promise);
    expect(await pending).toBe(3);
  });

  it('writes under keyFor(...args), with the envelope around JSON', async () => {
    const cache = memoryCache();
    const f = cached(async (id: number) => ({ id }), { cache, name: 'getThing' });
    await f(7);
    expect(f.keyFor(7)).toBe('getThing:7');
    expect((cache.store as MemoryStore).get('getThing:7')).toMatch(/^s1\|json\|\d+\|\|[\w-]{8}\.[\w-]{8}\|\{"id":7\}$/);
  });

  it('reads with one get per hit and writes with one set per miss', async () => {
    const store = new RecordingStore();
    const f = cached(async (id: number) => id, { cache: createCache({ store }), name: 'f', ttl: 1000 });
    await f(1);
    await f(1);
    expect(store.log).toEqual(['get f:1', 'set f:1 1000', 'get f:1']);
  });
});

describe('null and undefined results', () => {
  it.each<[string, unknown]>([
    ['null', null],
    ['undefined', undefined],
    ['0', 0],
    ['an empty string', ''],
    ['false', false],
  ])('treats a cached %s as a hit', async (_what, value) => {
    const origin = counted(() => value);
    const f = cached(origin, { cache: memoryCache(), name: 'f' });
    expect(await f()).toBe(value);
    expect(await f()).toBe(value);
    expect(origin.runs).toBe(1);
    expect(f.stats).toMatchObject({ hits: 1, misses: 1 });
  });
});

describe('origin errors', () => {
  it('propagate unchanged and are not cached', async () => {
    const error = new RangeError('database down');
    let fail = true;
    const origin = counted(() => {
      if (fail) throw error;
      return 'ok';
    });
    const f = cached(origin, { cache: memoryCache(), name: 'f' });
    await expect(f()).rejects.toBe(error);
    await expect(f()).rejects.toBe(error);
    fail = false;
    expect(await f()).toBe('ok');
    expect(origin.runs).toBe(3);
    expect(f.stats.errors).toBe(0);
  });

  it('propagate a thrown non-Error value unchanged', async () => {
    const f = cached(
      async () => {
        throw 'plain string';
      },
      { cache: memoryCache(), name: 'f' },
    );
    await expect(f()).rejects.toBe('plain string');
  });
});

describe('single-flight', () => {
  it('runs the origin once for N concurrent calls and gives all of them the same value', async () => {
    const gate = deferred<{ id: number }>();
    const origin = counted(() => gate.promise);
    const f = cached(origin, { cache: memoryCache(), name: 'f' });
    const calls = Array.from({ length: 10 }, () => f());
    await flush();
    expect(origin.runs).toBe(1);
    const value = { id: 1 };
    gate.resolve(value);
    const results = await Promise.all(calls);
    for (const result of results) expect(result).toBe(value);
    expect(f.stats).toMatchObject({ misses: 10, coalesced: 9, hits: 0 });
    expect(await f()).toEqual(value);
    expect(origin.runs).toBe(1);
  });

  it('gives every waiter the same rejection, and runs the origin again afterwards', async () => {
    const gate = deferred<number>();
    const origin = counted(() => gate.promise);
    const f = cached(origin, { cache: memoryCache(), name: 'f' });
    const calls = Array.from({ length: 5 }, () => f());
    await flush();
    const error = new Error('origin failed');
    gate.reject(error);
    const settled = await Promise.allSettled(calls);
    expect(settled.map((s) => (s.status === 'rejected' ? s.reason : s.value))).toEqual(Array(5).fill(error));
    for (const s of settled) expect(s.status === 'rejected' && s.reason).toBe(error);
    expect(origin.runs).toBe(1);
    await expect(f()).rejects.toBe(error); // the gate stays rejected: a new run, a new rejection
    expect(origin.runs).toBe(2);
  });

  it('does not share runs between different arguments', async () => {
    const gate = deferred<void>();
    const origin = counted(async (id: number) => {
      await gate.promise;
      return id;
    });
    const f = cached(origin, { cache: memoryCache(), name: 'f' });
    const calls = [f(1), f(2), f(1), f(2)];
    await flush();
    expect(origin.runs).toBe(2);
    gate.resolve();
    expect(await Promise.all(calls)).toEqual([1, 2, 1, 2]);
  });
});

describe('invalidate, refresh, keyFor, original', () => {
  it('invalidate removes the entry, resolves true, and the next call misses', async () => {
    const origin = counted((id: number) => id);
    const f = cached(origin, { cache: memoryCache(), name: 'f' });
    await f(1);
    expect(await f.invalidate(1)).toBe(true);
    expect(await f.invalidate(1)).toBe(false);
    expect(await f.invalidate(2)).toBe(false);
    await f(1);
    expect(origin.runs).toBe(2);
  });

  it('invalidate rejects when the store cannot delete, and counts the error', async () => {
    const f = cached(async (id: number) => id, { cache: createCache({ store: brokenStore(), logger: quiet }), name: 'f' });
    await expect(f.invalidate(1)).rejects.toThrow('store unreachable');
    expect(f.stats.errors).toBe(1);
  });

  it('refresh runs the origin even on a cached entry, stores and returns the fresh value', async () => {
    let version = 1;
    const origin = counted((id: number) => ({ id, version }));
    const f = cached(origin, { cache: memoryCache(), name: 'f' });
    await f(1);
    version = 2;
    expect(await f.refresh(1)).toEqual({ id: 1, version: 2 });
    expect(await f(1)).toEqual({ id: 1, version: 2 });
    expect(origin.runs).toBe(2);
    expect(f.stats).toMatchObject({ refreshes: 1, hits: 1, misses: 1 });
  });

  it('refresh waits for its write even when the function does not', async () => {
    const cache = memoryCache();
    const f = cached(async () => 'v', { cache, name: 'f', waitForWrite: false });
    await f.refresh();
    expect(cache.pendingWrites).toBe(0);
    expect((cache.store as MemoryStore).get('f')).toBeDefined();
  });

  it('keyFor gives the exact store key, namespace included', async () => {
    const cache = createCache({ store: { type: 'memory' }, namespace: 'app' });
    const f = cached(async (id: number, region?: string) => `${id}${region}`, { cache, name: 'getUser' });
    expect(f.keyFor(42)).toBe('app:getUser:42');
    expect(f.keyFor(42, 'eu')).toBe('app:getUser:42:eu');
    await f(42, 'eu');
    expect((cache.store as MemoryStore).get(f.keyFor(42, 'eu'))).toBeDefined();
  });

  it('keyFor throws a CacheKeyError for arguments without an encoding', () => {
    const f = cached(async (value: unknown) => value, { cache: memoryCache(), name: 'f' });
    expect(() => f.keyFor(Symbol('s'))).toThrow(CacheKeyError);
  });

  it('original is the wrapped function, unchanged and uncached', async () => {
    const origin = counted((id: number) => id);
    const f = cached(origin, { cache: memoryCache(), name: 'f' });
    expect(f.original).toBe(origin);
    await f.original(1);
    await f.original(1);
    expect(origin.runs).toBe(2);
    expect(f.stats).toMatchObject({ hits: 0, misses: 0 });
  });

  it('takes its name from the function, and shows it as its own name', () => {
    async function loadProfile(id: number): Promise<number> {
      return id;
    }
    const f = cached(loadProfile, { cache: memoryCache() });
    expect(f.keyFor(1)).toBe('loadProfile:1');
    expect(f.name).toBe('loadProfile');
    expect(cached(loadProfile, { cache: memoryCache(), name: 'profile' }).keyFor(1)).toBe('profile:1');
  });
});

describe('skipCache', () => {
  it('keeps results it accepts out of the cache, and still returns them', async () => {
    const seen: unknown[] = [];
    const origin = counted((id: number) => ({ id, empty: id === 0 }));
    const f = cached(origin, {
      cache: memoryCache(),
      name: 'f',
      skipCache: (result, args) => {
        seen.push([result.id, args]);
        return result.empty;
      },
    });
    expect(await f(0)).toEqual({ id: 0, empty: true });
    expect(await f(0)).toEqual({ id: 0, empty: true });
    await f(1);
    await f(1);
    expect(origin.runs).toBe(3);
    expect(seen).toEqual([
      [0, [0]],
      [0, [0]],
      [1, [1]],
    ]);
  });

  it('does not cache, and counts an error, when skipCache throws', async () => {
    const origin = counted(() => 'v');
    const f = cached(origin, {
      cache: memoryCache(),
      name: 'f',
      skipCache: () => {
        throw new Error('hook broke');
      },
    });
    expect(await f()).toBe('v');
    expect(await f()).toBe('v');
    expect(origin.runs).toBe(2);
    expect(f.stats.errors).toBe(2);
  });
});

describe('cache-layer failures fail open', () => {
  it.each([
    ['rejects', brokenStore()],
    ['throws synchronously', brokenStore({ sync: true })],
  ])('answers from the origin when the store %s, counting each failure', async (_how, store) => {
    const origin = counted((id: number) => id);
    const f = cached(origin, { cache: createCache({ store, logger: quiet }), name: 'f' });
    expect(await f(1)).toBe(1);
    expect(await f(1, { ttl: '1m' })).toBe(1);
    expect(origin.runs).toBe(2);
    expect(f.stats).toMatchObject({ errors: 4, misses: 2, hits: 0 });
  });

  it('treats corrupt bytes under our header as a miss, counts it, and overwrites them', async () => {
    const cache = memoryCache();
    const store = cache.store as MemoryStore;
    const origin = counted(() => ({ ok: true }));
    const f = cached(origin, { cache, name: 'f' });
    store.set(f.keyFor(), 'c1|json|1700000000000||{"truncated":', undefined);
    expect(await f()).toEqual({ ok: true });
    expect(f.stats).toMatchObject({ errors: 1, misses: 1 });
    expect(await f()).toEqual({ ok: true });
    expect(origin.runs).toBe(1);
    expect(f.stats.hits).toBe(1);
  });

  it('treats foreign bytes as a miss and overwrites them', async () => {
    const cache = memoryCache();
    const origin = counted(() => 'mine');
    const f = cached(origin, { cache, name: 'f' });
    (cache.store as MemoryStore).set(f.keyFor(), 'written by another program', undefined);
    expect(await f()).toBe('mine');
    expect(await f()).toBe('mine');
    expect(origin.runs).toBe(1);
    expect(f.stats).toMatchObject({ errors: 0, misses: 1, hits: 1 });
  });

  it('returns a result the serializer cannot encode, without caching it', async () => {
    const origin = counted(() => ({ at: new URL('https://example.com/') })); // a class instance: refused
    const f = cached(origin, { cache: memoryCache(), name: 'f' });
    expect((await f()).at).toBeInstanceOf(URL);
    expect((await f()).at).toBeInstanceOf(URL);
    expect(origin.runs).toBe(2);
    expect(f.stats.errors).toBe(2);
  });
});

describe('the default cache', () => {
  it('is one process-wide memory cache used when no cache option is given', async () => {
    const origin = counted((id: number) => id);
    const first = cached(origin, { name: 'defaultShared' });
    const second = cached(async (id: number) => -id, { name: 'defaultShared' });
    expect(await first(5)).toBe(5);
    expect(await second(5)).toBe(5); // the same key on the same default cache: a hit
    expect(origin.runs).toBe(1);
    expect(defaultCache()).toBe(defaultCache());
    expect(defaultCache().store.name).toBe('memory');
    expect((defaultCache().store as MemoryStore).get('defaultShared:5')).toBeDefined();
  });

  it('has no namespace', () => {
    expect(cached(async (id: number) => id, { name: 'plain' }).keyFor(1)).toBe('plain:1');
  });
});
