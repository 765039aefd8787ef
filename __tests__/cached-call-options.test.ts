import { describe, expect, it } from '@jest/globals';
import { createCache } from '../lib/cache.js';
import { cached, isCallOptions } from '../lib/cached.js';
import type { MemoryStore } from '../lib/stores/memory.js';
import { deferred, flush, isSettled, type Deferred } from './helpers/deferred.js';
import { GatedStore } from './helpers/test-stores.js';

const quiet = { warn() {}, error() {} };
const memoryCache = () => createCache({ store: { type: 'memory' }, logger: quiet });

/**
 * An origin that records the exact arguments of every run and returns `value(...args)` (default: a
 * run counter). `value`'s declared parameters become the origin's `length`, as the rule reads it.
 */
function recorder<A extends unknown[]>(value?: (...args: A) => unknown): { runs: unknown[][]; origin: (...args: A) => Promise<unknown> } {
  const runs: unknown[][] = [];
  const origin = async (...args: A): Promise<unknown> => {
    runs.push(args);
    return value ? value(...args) : runs.length;
  };
  Object.defineProperty(origin, 'length', { value: value?.length ?? 0 });
  return { runs, origin };
}

describe('isCallOptions (the trailing-argument rule)', () => {
  it('accepts a plain object whose own keys are all call-option names, at any position', () => {
    const all = { bypassCache: true, forceRefresh: false, ttl: '5m', cacheRead: true, cacheWrite: true, waitForWrite: false };
    expect(isCallOptions(all, 0, 2)).toBe(true);
    expect(isCallOptions({ ttl: 1 }, 1, 2)).toBe(true);
    expect(isCallOptions({ bypassCache: true }, 3, 2)).toBe(true);
  });

  it('rejects a plain object with a key that is not a call-option name, among the declared parameters', () => {
    expect(isCallOptions({ ttl: 1, region: 'eu' }, 1, 2)).toBe(false);
    expect(isCallOptions({ id: 1 }, 0, 1)).toBe(false);
  });

  it('counts {} as call options only after every declared parameter', () => {
    expect(isCallOptions({}, 1, 2)).toBe(false);
    expect(isCallOptions({}, 2, 2)).toBe(true);
    expect(isCallOptions({}, 0, 0)).toBe(true);
  });

  it('accepts an object without a prototype', () => {
    expect(isCallOptions(Object.assign(Object.create(null) as object, { ttl: 5 }), 1, 1)).toBe(true);
  });

  it('never takes class instances, arrays or other values for call options', () => {
    class Options {
      bypassCache = true;
    }
    expect(isCallOptions(new Options(), 1, 1)).toBe(false);
    expect(isCallOptions(Object.create({ ttl: 1 }) as object, 1, 1)).toBe(false);
    expect(isCallOptions([], 1, 1)).toBe(false);
    expect(isCallOptions(Object.assign([], { ttl: 1 }), 1, 1)).toBe(false);
    expect(isCallOptions(new Date(), 1, 1)).toBe(false);
    for (const value of [null, undefined, 'ttl', 5, true, () => 1]) expect(isCallOptions(value, 1, 1)).toBe(false);
  });
});

describe('call options at run time', () => {
  it('takes early options for a function with an optional parameter, and passes only the arguments on', async () => {
    const { runs, origin } = recorder((id: number, region?: string) => `${id}:${region}`);
    const f = cached(origin, { cache: memoryCache(), name: 'f' });
    await f(1, { bypassCache: true });
    expect(runs).toEqual([[1]]);
    expect(f.stats.bypasses).toBe(1);
  });

  it('takes options after every argument', async () => {
    const cache = memoryCache();
    const { runs, origin } = recorder((id: number, region?: string) => `${id}:${region}`);
    const f = cached(origin, { cache, name: 'f' });
    expect(await f(1, 'eu', { ttl: '5m' })).toBe('1:eu');
    expect(runs).toEqual([[1, 'eu']]);
    expect((cache.store as MemoryStore).ttlOf(f.keyFor(1, 'eu'))).toBeGreaterThan(0);
  });

  it('passes {} to the function when a declared parameter is still open', async () => {
    const { runs, origin } = recorder((id: number, filter?: object) => [id, filter]);
    const f = cached(origin, { cache: memoryCache(), name: 'f' });
    await f(1, {});
    expect(runs).toEqual([[1, {}]]);
    expect(f.keyFor(1, {})).toBe('f:1:{}');
  });

  it('treats a trailing {} after every declared parameter as empty options', async () => {
    const { runs, origin } = recorder((id: number) => id);
    const f = cached(origin, { cache: memoryCache(), name: 'f' });
    await f(1);
    await (f as unknown as (...args: unknown[]) => Promise<unknown>)(1, {});
    expect(runs).toEqual([[1]]);
    expect(f.stats.hits).toBe(1);
  });

  it('passes a trailing object with other keys, a class instance or an array to the function', async () => {
    class Filter {
      constructor(readonly ttl: number) {}
      toJSON(): unknown {
        return { ttl: this.ttl };
      }
    }
    const { runs, origin } = recorder((id: number, extra?: unknown) => [id, extra]);
    const f = cached(origin, { cache: memoryCache(), name: 'f' });
    await f(1, { ttl: 5, region: 'eu' });
    await f(2, new Filter(5));
    await f(3, ['ttl']);
    expect(runs).toEqual([
      [1, { ttl: 5, region: 'eu' }],
      [2, new Filter(5)],
      [3, ['ttl']],
    ]);
  });

  it('callWith takes the options first and never inspects the arguments', async () => {
    const { runs, origin } = recorder((query: { ttl?: number }) => query.ttl);
    const f = cached(origin, { cache: memoryCache(), name: 'f' });
    expect(await f.callWith({}, { ttl: 5 })).toBe(5);
    expect(await f.callWith({ bypassCache: true }, { ttl: 5 })).toBe(5);
    expect(runs).toEqual([[{ ttl: 5 }], [{ ttl: 5 }]]);
    expect(f.stats).toMatchObject({ misses: 1, bypasses: 1 });
  });
});

describe('bypassCache', () => {
  it('skips the read and the write, and counts a bypass', async () => {
    const { runs, origin } = recorder();
    const f = cached(origin, { cache: memoryCache(), name: 'f' });
    expect(await f()).toBe(1);
    expect(await f({ bypassCache: true })).toBe(2);
    expect(await f()).toBe(1); // the cached entry was neither read nor replaced
    expect(runs).toHaveLength(2);
    expect(f.stats).toMatchObject({ bypasses: 1, hits: 1, misses: 1, refreshes: 0 });
  });

  it('writes when cacheWrite: true is also given', async () => {
    const { origin } = recorder();
    const f = cached(origin, { cache: memoryCache(), name: 'f' });
    await f();
    expect(await f({ bypassCache: true, cacheWrite: true })).toBe(2);
    expect(await f()).toBe(2);
  });

  it('wins over forceRefresh: nothing is written', async () => {
    const { origin } = recorder();
    const f = cached(origin, { cache: memoryCache(), name: 'f' });
    await f();
    expect(await f({ bypassCache: true, forceRefresh: true })).toBe(2);
    expect(await f()).toBe(1);
    expect(f.stats).toMatchObject({ bypasses: 1, refreshes: 0 });
  });

  it('runs the origin itself instead of joining a run in flight', async () => {
    const gate = deferred<void>();
    const { runs, origin } = recorder(() => gate.promise);
    const f = cached(origin, { cache: memoryCache(), name: 'f' });
    const plain = f();
    const bypass = f({ bypassCache: true });
    await flush();
    expect(runs).toHaveLength(2);
    gate.resolve();
    await Promise.all([plain, bypass]);
  });
});

describe('forceRefresh', () => {
  it('skips the read, runs the origin, stores the fresh value and counts a refresh', async () => {
    const { runs, origin } = recorder();
    const f = cached(origin, { cache: memoryCache(), name: 'f' });
    await f();
    expect(await f({ forceRefresh: true })).toBe(2);
    expect(await f()).toBe(2);
    expect(runs).toHaveLength(2);
    expect(f.stats).toMatchObject({ refreshes: 1, hits: 1, misses: 1 });
  });

  it('leaves the entry alone with cacheWrite: false', async () => {
    const { origin } = recorder();
    const f = cached(origin, { cache: memoryCache(), name: 'f' });
    await f();
    expect(await f({ forceRefresh: true, cacheWrite: false })).toBe(2);
    expect(await f()).toBe(1);
  });

  it('stores with the per-call ttl', async () => {
    const cache = memoryCache();
    const f = cached(async () => 'v', { cache, name: 'f', ttl: '1h' });
    await f({ forceRefresh: true, ttl: '5s' });
    expect((cache.store as MemoryStore).ttlOf('f')).toBeLessThanOrEqual(5000);
  });

  it('lets concurrent plain misses join the refresh run', async () => {
    const gate = deferred<string>();
    const { runs, origin } = recorder(() => gate.promise);
    const f = cached(origin, { cache: memoryCache(), name: 'f' });
    const refresh = f({ forceRefresh: true });
    await flush();
    const plain = f();
    await flush();
    gate.resolve('fresh');
    expect(await Promise.all([refresh, plain])).toEqual(['fresh', 'fresh']);
    expect(runs).toHaveLength(1);
    expect(f.stats.coalesced).toBe(1);
  });

  it('keeps the refreshed value when an older run in flight finishes after it', async () => {
    const gates: Deferred<string>[] = [];
    const f = cached(
      () => {
        const gate = deferred<string>();
        gates.push(gate);
        return gate.promise;
      },
      { cache: memoryCache(), name: 'f' },
    );
    const older = f(); // a miss: run 1 reads the source now
    await flush();
    const refresh = f({ forceRefresh: true }); // run 2 reads the source later
    await flush();
    gates[1]!.resolve('new');
    expect(await refresh).toBe('new');
    gates[0]!.resolve('old');
    expect(await older).toBe('old');
    expect(await f()).toBe('new');
  });
});

describe('cacheRead and cacheWrite', () => {
  it('cacheRead: false runs the origin over a cached entry, writes the result and counts a miss', async () => {
    const { origin } = recorder();
    const f = cached(origin, { cache: memoryCache(), name: 'f' });
    await f();
    expect(await f({ cacheRead: false })).toBe(2);
    expect(await f()).toBe(2);
    expect(f.stats).toMatchObject({ misses: 2, hits: 1 });
  });

  it('cacheWrite: false answers a hit from the cache and never writes a miss', async () => {
    const cache = memoryCache();
    const { origin } = recorder();
    const f = cached(origin, { cache, name: 'f' });
    expect(await f({ cacheWrite: false })).toBe(1);
    expect((cache.store as MemoryStore).get('f')).toBeUndefined();
    await f();
    expect(await f({ cacheWrite: false })).toBe(2);
    expect(f.stats.hits).toBe(1);
  });

  it('cacheRead: false with cacheWrite: false only runs the origin', async () => {
    const { origin } = recorder();
    const f = cached(origin, { cache: memoryCache(), name: 'f' });
    await f();
    expect(await f({ cacheRead: false, cacheWrite: false })).toBe(2);
    expect(await f()).toBe(1);
  });
});

describe('waitForWrite', () => {
  it('by default returns only after the write has finished', async () => {
    const store = new GatedStore();
    const f = cached(async () => 'v', { cache: createCache({ store }), name: 'f' });
    const call = f();
    expect(await isSettled(call)).toBe(false);
    expect(store.waiting).toBe(1);
    store.release();
    expect(await call).toBe('v');
  });

  it('with waitForWrite: false returns first, and cache.close() waits for the write', async () => {
    const store = new GatedStore();
    const cache = createCache({ store });
    const f = cached(async () => 'v', { cache, name: 'f' });
    expect(await f({ waitForWrite: false })).toBe('v');
    expect(cache.pendingWrites).toBe(1);
    const closing = cache.close();
    expect(await isSettled(closing)).toBe(false);
    store.release();
    await closing;
    expect(cache.pendingWrites).toBe(0);
    expect(store.inner.get('f')).toBeDefined();
  });

  it('takes the function default, which a call can override', async () => {
    const store = new GatedStore();
    const f = cached(async (id: number) => id, { cache: createCache({ store }), name: 'f', waitForWrite: false });
    expect(await f(1)).toBe(1);
    expect(store.waiting).toBe(1);
    const waited = f(2, { waitForWrite: true });
    expect(await isSettled(waited)).toBe(false);
    store.release();
    store.release();
    expect(await waited).toBe(2);
  });

  it('counts and logs a failed background write, without an unhandled rejection', async () => {
    const store = new GatedStore();
    const warned: string[] = [];
    const cache = createCache({ store, logger: { warn: (fields) => warned.push(String(fields.kind)), error() {} } });
    const f = cached(async () => 'v', { cache, name: 'f' });
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => {
      unhandled.push(reason);
    };
    process.on('unhandledRejection', onUnhandled);
    try {
      expect(await f({ waitForWrite: false })).toBe('v');
      store.fail(new Error('write lost'));
      await cache.close();
      await flush();
      expect(f.stats.errors).toBe(1);
      expect(warned).toEqual(['write']);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});

describe('a function whose own last parameter has call-option names', () => {
  interface PageInit {
    signal?: AbortSignal;
    timeout?: number;
  }

  it('takes a direct { signal } or { timeout } as call options, never as its argument; callWith passes it on', async () => {
    const seen: unknown[] = [];
    const gate = deferred<string>();
    const getPage = cached(
      async (url: string, init?: PageInit) => {
        seen.push(init);
        return gate.promise.then((body) => `${url}:${body}`);
      },
      // A signal has no key encoding: the url alone is the key.
      { cache: memoryCache(), name: 'getPage', keyBuilder: (url) => url },
    );
    const controller = new AbortController();
    const aborted = getPage('a', { signal: controller.signal });
    const timed = getPage('b', { timeout: 60_000 });
    const own = getPage.callWith({}, 'c', { signal: controller.signal, timeout: 5 });
    await flush();
    expect(seen).toHaveLength(3);
    expect(seen.slice(0, 2)).toEqual([undefined, undefined]);
    expect((seen[2] as PageInit).signal).toBe(controller.signal);
    expect((seen[2] as PageInit).timeout).toBe(5);
    // The signal is the caller's: it stops this call's wait, and the function never saw it.
    controller.abort(new Error('stop'));
    await expect(aborted).rejects.toThrow('stop');
    gate.resolve('ok');
    expect(await timed).toBe('b:ok');
    expect(await own).toBe('c:ok');
  });
});
