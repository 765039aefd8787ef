/**
 * `f.many()` on the memory store: the shared suite, the read through `getMany`, and the per-key
 * fallback for a store without it.
 */
import { describe, expect, it } from '@jest/globals';
import { cached, createCache, type Cache } from '../lib/index.js';
import { MemoryStore } from '../lib/stores/memory.js';
import type { Store } from '../lib/stores/store.js';
import { isSettled } from './helpers/deferred.js';
import { manySuite } from './helpers/many-suite.js';
import { GatedStore, isRecordKey } from './helpers/test-stores.js';

const quiet = { warn() {}, error() {} };

/** A memory store that counts what it is asked, by method. */
class CountingStore extends MemoryStore {
  readonly calls: Record<string, number> = {};
  #count(method: string): void {
    this.calls[method] = (this.calls[method] ?? 0) + 1;
  }
  get total(): number {
    return Object.values(this.calls).reduce((a, b) => a + b, 0);
  }
  // Invalidation records (read once per process) are not counted: these tests count entry operations.
  override get(key: string) {
    if (!isRecordKey(key)) this.#count('get');
    return super.get(key);
  }
  override getMany(keys: readonly string[]) {
    if (!keys.every(isRecordKey)) this.#count('getMany');
    return keys.map((key) => super.get(key));
  }
  override getAndExpire(key: string, ttlMs: number) {
    this.#count('getAndExpire');
    return super.getAndExpire(key, ttlMs);
  }
  override set(key: string, value: string | Uint8Array, ttlMs: number | undefined) {
    if (!isRecordKey(key)) this.#count('set');
    super.set(key, value, ttlMs);
  }
}

let current: CountingStore;
manySuite('memory', () => ({
  cache(): Cache {
    current = new CountingStore();
    return createCache({ store: current, logger: quiet });
  },
  ttlOf: async (key) => current.ttlOf(key),
  operations: async () => current.total,
}));

describe('f.many() reads', () => {
  it('reads every item with one getMany', async () => {
    const store = new CountingStore();
    const f = cached(async (id: number) => id, { cache: createCache({ store, logger: quiet }), name: 'f', ttl: '1m' });
    await f.many([[1], [2], [3]]);
    expect(store.calls).toEqual({ getMany: 1, set: 3 });
    expect(await f.many([[1], [2], [3]])).toEqual([1, 2, 3]);
    expect(store.calls).toEqual({ getMany: 2, set: 3 });
    expect(f.stats).toMatchObject({ hits: 3, misses: 3 });
  });

  it('reads with getAndExpire per key when a per-call ttl extends the hits', async () => {
    const store = new CountingStore();
    const f = cached(async (id: number) => id, { cache: createCache({ store, logger: quiet }), name: 'f', ttl: '1m' });
    await f.many([[1], [2]], { ttl: '1h' });
    expect(store.calls).toEqual({ getAndExpire: 2, set: 2 });
  });

  it('falls back to get per key on a store without getMany', async () => {
    const inner = new MemoryStore();
    let gets = 0;
    const store: Store = {
      name: 'plain',
      get: (key) => {
        if (!isRecordKey(key)) gets++;
        return inner.get(key);
      },
      set: (key, value, ttlMs) => inner.set(key, value, ttlMs),
      delete: (key) => inner.delete(key),
    };
    const f = cached(async (id: number) => id, { cache: createCache({ store, logger: quiet }), name: 'f', ttl: '1m' });
    expect(await f.many([[1], [2]])).toEqual([1, 2]);
    expect(await f.many([[1], [2], [3]])).toEqual([1, 2, 3]);
    expect(gets).toBe(5);
    expect(f.stats).toMatchObject({ hits: 2, misses: 3 });
  });

  it('answers every item from the origin when getMany fails, counting a read and a write error per item and reporting each failure', async () => {
    const lines: unknown[] = [];
    const logger = { warn: (fields: unknown) => void lines.push(fields), error: (fields: unknown) => void lines.push(fields) };
    const store = new MemoryStore();
    store.getMany = () => {
      throw new Error('store down');
    };
    const f = cached(async (id: number) => id * 2, { cache: createCache({ store, logger }), name: 'f', ttl: '1m' });
    expect(await f.many([[1], [2], [3]])).toEqual([2, 4, 6]);
    // The reads fail, and so do the writes: their invalidation records cannot be read either.
    expect(f.stats).toMatchObject({ misses: 3, errors: 6 });
    expect(lines.map((line) => (line as { kind: string }).kind)).toEqual(['read', 'write', 'write', 'write']);
  });

  it('treats a getMany answer of the wrong length as a failed read', async () => {
    const store = new MemoryStore();
    const f = cached(async (id: number) => id, { cache: createCache({ store, logger: quiet }), name: 'f', ttl: '1m' });
    await f.many([[1], [2]]);
    store.getMany = () => [store.get(f.keyFor(2))];
    expect(await f.many([[1], [2]])).toEqual([1, 2]);
    expect(f.stats).toMatchObject({ hits: 0, misses: 4, errors: 2 });
  });

  it('judges each item like a single call: a stale entry is served and refreshed in the background', async () => {
    let now = 1_700_000_000_000;
    const clock = { now: () => now };
    const cache = createCache({ store: new MemoryStore({ clock }), clock, logger: quiet });
    let version = 0;
    const f = cached(async (id: number) => ({ id, version: ++version }), { cache, name: 'f', ttl: '10s', staleWhileRevalidate: '1m' });
    await f(1);
    now += 20_000;
    expect(await f.many([[1], [2]])).toEqual([
      { id: 1, version: 1 },
      { id: 2, version: 3 }, // the background refresh of 1 started first, while judging the read
    ]);
    expect(f.stats).toMatchObject({ stale: 1, misses: 2 });
    expect(await f(1)).toEqual({ id: 1, version: 2 });
  });
});

describe('the batch option', () => {
  it('must be a function', () => {
    expect(() => cached(async (id: number) => id, { name: 'f', batch: 5 as never })).toThrow(expect.objectContaining({ code: 'CACHE_ERR_CONFIG', field: 'batch' }));
  });
});

describe('f.many() call options that change waiting', () => {
  it('rejects at once with the reason of an aborted signal, without a read or a run', async () => {
    const store = new CountingStore();
    let runs = 0;
    const f = cached(async (id: number) => ++runs + id, { cache: createCache({ store, logger: quiet }), name: 'f' });
    const controller = new AbortController();
    controller.abort(new Error('gone'));
    await expect(f.many([[1], [2]], { signal: controller.signal })).rejects.toThrow('gone');
    expect(store.total).toBe(0);
    expect(runs).toBe(0);
  });

  it('resolves before the writes with waitForWrite: false, and after them by default', async () => {
    const store = new GatedStore();
    const f = cached(async (id: number) => id, { cache: createCache({ store, logger: quiet }), name: 'f', ttl: '1m' });
    expect(await f.many([[1], [2]], { waitForWrite: false })).toEqual([1, 2]);
    expect(store.waiting).toBe(2);
    store.release();
    store.release();
    const waiting = f.many([[3], [4]]);
    expect(await isSettled(waiting)).toBe(false);
    expect(store.waiting).toBe(2);
    store.release();
    store.release();
    expect(await waiting).toEqual([3, 4]);
  });

  it('gives the batch the this many() was called with (as refresh() does), and a copy of the argument lists', async () => {
    const seen: unknown[] = [];
    const f = cached(async (id: number) => id, {
      name: 'f',
      cache: createCache({ store: new MemoryStore(), logger: quiet }),
      batch(this: unknown, argsList) {
        seen.push(this);
        argsList[0]![0] = 99; // must not change what the caller passed
        return argsList.map(([id]) => id);
      },
    });
    const owner = { name: 'owner' };
    const list: Array<[number]> = [[1]];
    expect(await f.many.call(owner, list)).toEqual([99]);
    expect(await f.many([[2]])).toEqual([99]);
    expect(seen).toEqual([owner, undefined]); // f.many(…): f itself is not passed on
    expect(list).toEqual([[1]]);
  });
});
