/**
 * The cross-process miss lock through cached(), in one process: two caches on one store stand for
 * two processes (each cache has its own single-flight, and on Redis its own connection). Run once on
 * a real redis-server and once on a memory store the two caches share. No sleeps asserted: origins
 * wait on promises the test settles, and expiries are waited for by polling the store.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { cached, createCache, type Cache, type Clock, type Logger } from '../../lib/index.js';
import { lockKeyOf } from '../../lib/locks.js';
import { MemoryStore } from '../../lib/stores/memory.js';
import { RedisStore } from '../../lib/stores/redis.js';
import type { Store } from '../../lib/stores/store.js';
import { deferred, flush } from '../helpers/deferred.js';
import { fakeClock } from '../helpers/fake-clock.js';
import { isRecordKey } from '../helpers/test-stores.js';
import { startRedis, waitUntil, type TestRedis } from '../helpers/redis-server.js';

let redis: TestRedis;

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.stop();
});

/**
 * A store that counts what it is asked about entries and locks, around a real one (Redis or memory);
 * invalidation records (read once per process) are passed through uncounted.
 */
class CountingStore implements Store {
  readonly name: string;
  readonly calls = { get: 0, set: 0, setIfAbsent: 0, deleteIfEquals: 0 };

  constructor(readonly inner: Store) {
    this.name = inner.name;
  }

  get(key: string) {
    if (!isRecordKey(key)) this.calls.get++;
    return this.inner.get(key);
  }

  set(key: string, value: string | Uint8Array, ttlMs: number | undefined) {
    if (!isRecordKey(key)) this.calls.set++;
    return this.inner.set(key, value, ttlMs);
  }

  delete(key: string) {
    return this.inner.delete(key);
  }

  getMany(keys: readonly string[]) {
    return this.inner.getMany!(keys);
  }

  setIfAbsent(key: string, value: string | Uint8Array, ttlMs: number) {
    if (!isRecordKey(key)) this.calls.setIfAbsent++;
    return this.inner.setIfAbsent!(key, value, ttlMs);
  }

  deleteIfEquals(key: string, value: string | Uint8Array) {
    if (!isRecordKey(key)) this.calls.deleteIfEquals++;
    return this.inner.deleteIfEquals!(key, value);
  }
}

/** A logger that keeps what it is given. */
function recordingLogger(): Logger & { kinds: unknown[] } {
  const kinds: unknown[] = [];
  const record = (fields: Record<string, unknown>): void => {
    kinds.push(fields.kind);
  };
  return { kinds, warn: record, error: record };
}

interface Topology {
  /** A store for one "process": separate connections to one Redis, or one shared memory store. */
  store(): Store;
  reset(): Promise<void>;
}

let shared = new MemoryStore();
const topologies: Array<[string, Topology]> = [
  [
    'redis',
    {
      store: () => new RedisStore({ url: redis.url }),
      reset: async () => {
        await redis.admin.flushAll();
      },
    },
  ],
  [
    'a shared memory store',
    {
      store: () => shared,
      reset: async () => {
        shared = new MemoryStore();
      },
    },
  ],
];

describe.each(topologies)('the miss lock on %s', (_label, topology) => {
  const opened: Cache[] = [];

  beforeEach(async () => {
    await Promise.all(opened.splice(0).map((cache) => cache.close()));
    await topology.reset();
  });
  afterAll(async () => {
    await Promise.all(opened.splice(0).map((cache) => cache.close()));
    await (shared as MemoryStore).close();
  });

  /** One "process": a cache of its own on the shared backing store, counting store calls. */
  function startProcess(logger: Logger = recordingLogger(), clock?: Clock): { cache: Cache; store: CountingStore; logger: Logger } {
    const store = new CountingStore(topology.store());
    const cache = createCache({ store, namespace: 'lock', logger, ...(clock ? { clock } : {}) });
    opened.push(cache);
    // A cache does not own a store it is given: close the Redis connection with the cache.
    const close = cache.close.bind(cache);
    cache.close = async () => {
      await close();
      if (store.inner instanceof RedisStore) await store.inner.close();
    };
    return { cache, store, logger };
  }

  it('runs the origin once for two processes missing together; the waiter takes the value and writes nothing', async () => {
    const a = startProcess();
    const b = startProcess();
    const gate = deferred<void>();
    let runs = 0;
    const origin = async (id: number) => {
      runs++;
      await gate.promise;
      return { id, run: runs };
    };
    const fa = cached(origin, { cache: a.cache, name: 'user', ttl: '1m', lock: true });
    const fb = cached(origin, { cache: b.cache, name: 'user', ttl: '1m', lock: true });

    const first = fa(7);
    await waitUntil(() => runs === 1);
    const second = Promise.all([fb(7), fb(7), fb(7)]);
    await waitUntil(() => fb.stats.lockWaits === 1);
    gate.resolve();

    expect(await first).toEqual({ id: 7, run: 1 });
    expect(await second).toEqual([{ id: 7, run: 1 }, { id: 7, run: 1 }, { id: 7, run: 1 }]);
    expect(runs).toBe(1);
    expect(a.store.calls.set).toBe(1);
    expect(b.store.calls.set).toBe(0);
    expect(b.store.calls.setIfAbsent).toBeGreaterThanOrEqual(1); // one attempt per poll, however many callers
    expect(fa.stats).toMatchObject({ misses: 1, lockWaits: 0, lockTakeovers: 0, lockTimeouts: 0, errors: 0 });
    expect(fb.stats).toMatchObject({ misses: 3, coalesced: 2, lockWaits: 1, lockTakeovers: 0, lockTimeouts: 0, errors: 0 });
    expect(await a.store.get(lockKeyOf(fa.keyFor(7)))).toBeUndefined(); // released once the call returned
  });

  it('makes one lock attempt per process and key, however many callers miss together', async () => {
    const a = startProcess();
    let runs = 0;
    const f = cached(async (id: number) => ({ id, run: ++runs }), { cache: a.cache, name: 'user', lock: true });
    const results = await Promise.all(Array.from({ length: 50 }, () => f(1)));
    expect(new Set(results.map((r) => r.run))).toEqual(new Set([1]));
    expect(a.store.calls).toEqual({ get: 51, set: 1, setIfAbsent: 1, deleteIfEquals: 1 }); // 50 reads + the lock's read
    expect(f.stats).toMatchObject({ misses: 50, coalesced: 49 });
  });

  it('leaves the hit path alone: one read, no lock', async () => {
    const a = startProcess();
    const f = cached(async (id: number) => id, { cache: a.cache, name: 'n', lock: true });
    await f(1);
    const before = { ...a.store.calls };
    expect(await f(1)).toBe(1);
    expect(a.store.calls).toEqual({ ...before, get: before.get + 1 });
  });

  it('takes no lock for forced refreshes, bypasses and cacheRead: false', async () => {
    const a = startProcess();
    let runs = 0;
    const f = cached(async (id: number) => ({ id, run: ++runs }), { cache: a.cache, name: 'n', lock: true });
    await f(1, { forceRefresh: true });
    await f(1, { bypassCache: true });
    await f(1, { cacheRead: false });
    await f.refresh(1);
    expect(runs).toBe(4);
    expect(a.store.calls.setIfAbsent).toBe(0);
  });

  it('lets a waiter take over when the holder releases after its origin failed', async () => {
    const a = startProcess();
    const b = startProcess();
    const gate = deferred<void>();
    let runs = 0;
    const fa = cached(
      async (id: number) => {
        runs++;
        await gate.promise;
        throw new Error(`origin failed for ${id}`);
      },
      { cache: a.cache, name: 'user', lock: true },
    );
    const fb = cached(async (id: number) => ({ id, from: 'b', run: ++runs }), { cache: b.cache, name: 'user', lock: true });

    const failing = fa(3);
    await waitUntil(() => runs === 1);
    const waiting = fb(3);
    await waitUntil(() => fb.stats.lockWaits === 1);
    gate.resolve();

    await expect(failing).rejects.toThrow('origin failed for 3');
    expect(await waiting).toEqual({ id: 3, from: 'b', run: 2 });
    expect(fb.stats).toMatchObject({ lockWaits: 1, lockTakeovers: 1, lockTimeouts: 0 });
    expect(await fb(3)).toEqual({ id: 3, from: 'b', run: 2 }); // b stored it
  });

  it('takes over a lock whose holder is gone once it expires', async () => {
    const b = startProcess();
    const f = cached(async (id: number) => ({ id, by: 'b' }), { cache: b.cache, name: 'user', lock: { wait: '30s' } });
    // What a crashed holder leaves behind: its lock, no value.
    expect(await b.store.setIfAbsent(lockKeyOf(f.keyFor(9)), 'dead-holder', 300)).toBe(true);

    expect(await f(9)).toEqual({ id: 9, by: 'b' });
    expect(f.stats).toMatchObject({ lockWaits: 1, lockTakeovers: 1, lockTimeouts: 0, errors: 0 });
    expect(await b.store.get(lockKeyOf(f.keyFor(9)))).toBeUndefined();
  });

  it('runs the origin itself when the wait bound passes, and stores its value (fail-open)', async () => {
    const b = startProcess();
    let runs = 0;
    const f = cached(async (id: number) => ({ id, run: ++runs }), { cache: b.cache, name: 'user', lock: { wait: 50, pollInterval: 5 } });
    await b.store.setIfAbsent(lockKeyOf(f.keyFor(4)), 'slow-holder', 60_000);

    expect(await f(4)).toEqual({ id: 4, run: 1 });
    expect(f.stats).toMatchObject({ lockWaits: 1, lockTakeovers: 0, lockTimeouts: 1 });
    expect(await f(4)).toEqual({ id: 4, run: 1 });
    expect(await b.store.get(lockKeyOf(f.keyFor(4)))).toBe('slow-holder'); // someone else's lock: untouched
  });

  it('with wait: 0, runs the origin at once when the lock is held', async () => {
    const b = startProcess();
    const f = cached(async (id: number) => id * 10, { cache: b.cache, name: 'user', lock: { wait: 0 } });
    await b.store.setIfAbsent(lockKeyOf(f.keyFor(5)), 'holder', 60_000);
    expect(await f(5)).toBe(50);
    expect(f.stats).toMatchObject({ lockWaits: 1, lockTimeouts: 1 });
  });

  it('never lets a holder whose lock expired delete the next holder’s lock; each returns its own fresh value', async () => {
    const logger = recordingLogger();
    const a = startProcess(logger);
    const b = startProcess();
    const gateA = deferred<void>();
    const gateB = deferred<void>();
    let started = 0;
    const fa = cached(
      async (id: number) => {
        started++;
        await gateA.promise;
        return { id, by: 'a' };
      },
      { cache: a.cache, name: 'user', lock: { ttl: 100 } },
    );
    const fb = cached(
      async (id: number) => {
        started++;
        await gateB.promise;
        return { id, by: 'b' };
      },
      { cache: b.cache, name: 'user', lock: { ttl: 60_000 } },
    );
    const lockKey = lockKeyOf(fa.keyFor(2));

    const late = fa(2);
    await waitUntil(() => started === 1);
    await waitUntil(async () => (await a.store.get(lockKey)) === undefined); // a's lock expired mid-origin
    const next = fb(2);
    await waitUntil(() => started === 2); // b took the lock and runs its origin
    const bToken = await b.store.get(lockKey);
    expect(bToken).toBeDefined();

    gateA.resolve();
    expect(await late).toEqual({ id: 2, by: 'a' });
    expect(await a.store.get(lockKey)).toBe(bToken); // a's release compared tokens and left b's lock
    expect(logger.kinds).toContain('lock');
    expect(fa.stats.errors).toBe(0);

    gateB.resolve();
    expect(await next).toEqual({ id: 2, by: 'b' });
    expect(await b.store.get(lockKey)).toBeUndefined();
    expect(await fb(2)).toEqual({ id: 2, by: 'b' });
  });

  it('releases the lock after a background write (waitForWrite: false), as tracked work close() waits for', async () => {
    const a = startProcess();
    const f = cached(async (id: number) => id, { cache: a.cache, name: 'n', lock: true, waitForWrite: false });
    expect(await f(8)).toBe(8);
    await waitUntil(() => a.cache.pendingWrites === 0);
    expect(a.store.calls.deleteIfEquals).toBe(1);
    expect(await a.store.get(lockKeyOf(f.keyFor(8)))).toBeUndefined();
    expect(await f(8)).toBe(8);
    expect(f.stats.hits).toBe(1);
  });

  it('lets each process run the origin when nothing gets stored (ttl 0): the lock cannot share a value', async () => {
    const a = startProcess();
    const b = startProcess();
    const gate = deferred<void>();
    let runs = 0;
    const origin = async () => {
      runs++;
      await gate.promise;
      return 'uncacheable';
    };
    const fa = cached(origin, { cache: a.cache, name: 'u', ttl: 0, lock: true });
    const fb = cached(origin, { cache: b.cache, name: 'u', ttl: 0, lock: true });
    const first = fa();
    await waitUntil(() => runs === 1);
    const second = fb();
    await waitUntil(() => fb.stats.lockWaits === 1);
    gate.resolve();
    expect(await Promise.all([first, second])).toEqual(['uncacheable', 'uncacheable']);
    expect(runs).toBe(2);
    expect(fb.stats.lockTakeovers).toBe(1);
  });

  it('answers with the value the holder wrote between the miss and the lock attempt', async () => {
    const a = startProcess();
    let runs = 0;
    const f = cached(async (id: number) => ({ id, run: ++runs }), { cache: a.cache, name: 'user', lock: true });
    const other = cached(async (id: number) => ({ id, run: -1 }), { cache: createCache({ store: a.store.inner, namespace: 'lock' }), name: 'user' });
    // The holder finished and released just before this process's attempt: its read missed, its SET NX wins.
    const read = a.store.get.bind(a.store);
    a.store.get = (key: string) => {
      const result = read(key);
      a.store.get = read;
      return Promise.resolve(result).then(async (raw) => {
        await other(1);
        await flush();
        return raw;
      });
    };
    expect(await f(1)).toEqual({ id: 1, run: -1 });
    expect(runs).toBe(0);
    expect(a.store.calls.set).toBe(0);
    expect(await a.store.inner.get(lockKeyOf(f.keyFor(1)))).toBeUndefined();
  });

  it('refreshes a stale entry once across processes (staleWhileRevalidate)', async () => {
    const clock = fakeClock();
    const a = startProcess(recordingLogger(), clock);
    const b = startProcess(recordingLogger(), clock);
    const gate = deferred<void>();
    let runs = 0;
    const origin = async (id: number) => {
      const run = ++runs;
      if (run > 1) await gate.promise;
      return { id, run };
    };
    const options = { name: 'price', ttl: 1000, staleWhileRevalidate: '1m', lock: true } as const;
    const fa = cached(origin, { cache: a.cache, ...options });
    const fb = cached(origin, { cache: b.cache, ...options });
    expect(await fa(1)).toEqual({ id: 1, run: 1 });

    clock.advance(1500); // stale, within the window: both serve it and refresh in the background
    expect(await fa(1)).toEqual({ id: 1, run: 1 });
    expect(await fb(1)).toEqual({ id: 1, run: 1 });
    await waitUntil(() => fa.stats.lockWaits + fb.stats.lockWaits === 1);
    gate.resolve();
    await waitUntil(() => a.cache.flights.size === 0 && b.cache.flights.size === 0);

    expect(runs).toBe(2);
    expect(await fa(1)).toEqual({ id: 1, run: 2 });
    expect(await fb(1)).toEqual({ id: 1, run: 2 });
    expect(fa.stats.stale + fb.stats.stale).toBe(2);
    expect(fa.stats.lockTakeovers + fb.stats.lockTakeovers).toBe(0);
  });
});
