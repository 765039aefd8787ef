/**
 * Invalidation by tag and by clearing, on the memory store: `tags` (fixed and per call),
 * `cache.invalidateTags()` hard and `{ stale: true }`, `f.clear()`, `cache.clear()`, what a hit
 * costs, the race of an origin with an invalidation, lost records, abandoned runs, and refusals.
 * The same behaviour on real Redis topologies (`helpers/topology-suite.ts`) and across processes
 * (`integration/invalidation-multiprocess.test.ts`).
 */
import { describe, expect, it } from '@jest/globals';
import { cached, CacheConfigError, CacheUnavailableError, createCache, type Cache } from '../lib/index.js';
import { encodeEntry } from '../lib/entry.js';
import { jsonSerializer } from '../lib/serializers/json.js';
import { MemoryStore } from '../lib/stores/memory.js';
import type { Store } from '../lib/stores/store.js';
import { deferred, flush } from './helpers/deferred.js';
import { fakeClock } from './helpers/fake-clock.js';
import { rejection } from './helpers/throws.js';

/** A memory store that records the name of every operation. */
class CountingStore extends MemoryStore {
  readonly ops: string[] = [];
  #inMany = false;
  override get(key: string) {
    if (!this.#inMany) this.ops.push('get');
    return super.get(key);
  }
  // The engine's single read of a memory store (the payload with its decoded entry): one get.
  override getDerived<T>(key: string, derive: (payload: string | Uint8Array) => T) {
    this.ops.push('get');
    return super.getDerived(key, derive);
  }
  override getMany(keys: readonly string[]) {
    this.ops.push('getMany');
    this.#inMany = true;
    try {
      return super.getMany(keys);
    } finally {
      this.#inMany = false;
    }
  }
  override set(key: string, value: string | Uint8Array, ttlMs: number | undefined) {
    this.ops.push('set');
    super.set(key, value, ttlMs);
  }
}

function recordingLogger() {
  const lines: Array<{ fields: Record<string, unknown>; message: string }> = [];
  return { lines, warn: (fields: Record<string, unknown>, message: string) => void lines.push({ fields, message }), error() {} };
}

/** An origin that counts its runs and answers `{ id, run }`. */
function counter() {
  let runs = 0;
  const origin = async (id: number) => ({ id, run: ++runs });
  return { origin, runs: () => runs };
}

function memoryCache(extra: { namespace?: string; store?: Store; clearPollInterval?: number } = {}): Cache {
  return createCache({ namespace: 'app', store: extra.store ?? new MemoryStore(), ...extra });
}

describe('tags and invalidateTags()', () => {
  it('invalidates every entry carrying a tag, of every function, and nothing else', async () => {
    const cache = memoryCache();
    const products = counter();
    const prices = counter();
    const getProduct = cached(products.origin, { cache, name: 'product', tags: (id: number) => [`product:${id}`, 'catalog'] });
    const getPrice = cached(prices.origin, { cache, name: 'price', tags: ['catalog'] });
    await Promise.all([getProduct(1), getProduct(2), getPrice(1)]);
    expect(await getProduct(1)).toEqual({ id: 1, run: 1 });

    await cache.invalidateTags(['product:1']);
    expect(await getProduct(1)).toEqual({ id: 1, run: 3 }); // gone: recomputed
    expect(await getProduct(2)).toEqual({ id: 2, run: 2 }); // other tag: still a hit
    expect(await getPrice(1)).toEqual({ id: 1, run: 1 });

    await cache.invalidateTags(['catalog']);
    expect(await getProduct(2)).toEqual({ id: 2, run: 4 });
    expect(await getPrice(1)).toEqual({ id: 1, run: 2 });
    expect(getProduct.stats).toMatchObject({ hits: 2, misses: 4, errors: 0 });
  });

  it('keeps an untagged hit at one store command, and a tagged hit at two (entry and tag records together)', async () => {
    const store = new CountingStore();
    const cache = memoryCache({ store });
    const plain = cached(counter().origin, { cache, name: 'plain' });
    const tagged = cached(counter().origin, { cache, name: 'tagged', tags: (id: number) => [`a:${id}`, 'b'] });
    await plain(1);
    await tagged(1);
    store.ops.length = 0;
    await plain(1);
    expect(store.ops).toEqual(['get']);
    store.ops.length = 0;
    await tagged(1);
    expect(store.ops.sort()).toEqual(['get', 'getMany']);
    expect(tagged.stats.hits).toBe(1);
  });

  it('never serves as fresh the value of an origin that started before the invalidation and finished after it', async () => {
    const cache = memoryCache();
    const gate = deferred<void>();
    let runs = 0;
    const f = cached(
      async (id: number) => {
        const run = ++runs;
        if (run === 1) await gate.promise;
        return { id, run };
      },
      { cache, name: 'f', tags: ['t'] },
    );
    const before = f(1);
    await flush();
    await cache.invalidateTags(['t']);
    // A call after the invalidation does not join the run that started before it.
    const after = f(1);
    gate.resolve();
    expect(await before).toEqual({ id: 1, run: 1 }); // its own caller still gets it
    expect(await after).toEqual({ id: 1, run: 2 });
    expect(await f(1)).toEqual({ id: 1, run: 2 }); // the newer value is the one stored
    expect(runs).toBe(2);
  });

  it('does not let a write that started before the invalidation make its value fresh, even with nobody joining', async () => {
    const store = new MemoryStore();
    const cache = memoryCache({ store });
    const gate = deferred<void>();
    let runs = 0;
    const f = cached(
      async () => {
        runs++;
        if (runs === 1) await gate.promise;
        return runs;
      },
      { cache, name: 'f', tags: ['t'] },
    );
    const first = f();
    await flush();
    await cache.invalidateTags(['t']);
    gate.resolve();
    expect(await first).toBe(1);
    expect(await f()).toBe(2);
  });

  it('stamps before the origin runs: another cache’s invalidation during the run makes its write stale for everyone', async () => {
    // Two caches on one store stand for two processes: the invalidating one cannot abandon the other's run.
    const store = new MemoryStore();
    const writer = memoryCache({ store });
    const invalidator = memoryCache({ store });
    const gate = deferred<void>();
    let runs = 0;
    const origin = async () => {
      runs++;
      if (runs === 1) await gate.promise;
      return runs;
    };
    const onWriter = cached(origin, { cache: writer, name: 'f', tags: ['t'] });
    const onOther = cached(origin, { cache: invalidator, name: 'f', tags: ['t'] });
    const first = onWriter();
    await flush();
    await invalidator.invalidateTags(['t']);
    gate.resolve();
    expect(await first).toBe(1); // written, with the stamps read before the invalidation
    expect(await writer.close()).toBeUndefined();
    expect(await onOther()).toBe(2);
    expect(await onWriter()).toBe(2);
    expect(runs).toBe(2);
  });

  it('treats a lost tag record (evicted, expired, deleted) as gone, never as fresh again', async () => {
    const store = new MemoryStore();
    const cache = memoryCache({ store });
    const { origin, runs } = counter();
    const f = cached(origin, { cache, name: 'f', tags: ['t'] });
    await f(1);
    expect(store.delete('app:tag|t')).toBe(true);
    expect(await f(1)).toEqual({ id: 1, run: 2 });
    expect(await f(1)).toEqual({ id: 1, run: 2 }); // a new record: hits again
    expect(runs()).toBe(2);
  });

  it('expires with { stale: true }: served stale while one refresh runs under staleWhileRevalidate', async () => {
    const clock = fakeClock();
    const cache = createCache({ namespace: 'app', clock });
    let runs = 0;
    const gate = deferred<void>();
    const f = cached(
      async () => {
        runs++;
        if (runs === 2) await gate.promise;
        return `v${runs}`;
      },
      { cache, name: 'f', ttl: '1h', staleWhileRevalidate: '1m', tags: ['t'] },
    );
    expect(await f()).toBe('v1');
    await cache.invalidateTags(['t'], { stale: true });
    expect(await f()).toBe('v1'); // stale, refreshing
    expect(await f()).toBe('v1'); // still stale: one refresh only
    expect(runs).toBe(2);
    gate.resolve();
    await cache.close(); // waits for the refresh's write
    expect(f.stats).toMatchObject({ stale: 2, hits: 0 });
  });

  it('after the stale refresh lands, serves the new value as fresh', async () => {
    const cache = memoryCache();
    let runs = 0;
    const f = cached(async () => `v${++runs}`, { cache, name: 'f', ttl: '1h', staleWhileRevalidate: '1m', tags: ['t'] });
    await f();
    await cache.invalidateTags(['t'], { stale: true });
    expect(await f()).toBe('v1');
    await cache.close();
    expect(await f()).toBe('v2');
    expect(f.stats).toMatchObject({ stale: 1, hits: 1 });
  });

  it('expires with { stale: true } as a fallback under staleIfError only, and as a miss without stale windows', async () => {
    const logger = recordingLogger();
    const cache = createCache({ namespace: 'app', logger });
    let fail = false;
    let runs = 0;
    const fallback = cached(
      async () => {
        runs++;
        if (fail) throw new Error('origin down');
        return `v${runs}`;
      },
      { cache, name: 'fallback', ttl: '1h', staleIfError: '1h', tags: ['t'] },
    );
    const plain = counter();
    const noWindow = cached(plain.origin, { cache, name: 'plain', ttl: '1h', tags: ['t'] });
    await fallback();
    await noWindow(1);
    await cache.invalidateTags(['t'], { stale: true });
    fail = true;
    expect(await fallback()).toBe('v1'); // origin failed: the expired value answers
    fail = false;
    expect(await fallback()).toBe('v3'); // origin works: a miss
    expect(await noWindow(1)).toEqual({ id: 1, run: 2 });
    expect(logger.lines.map((line) => line.fields.kind)).toEqual(['origin']);
  });

  it('after a hard invalidation, an entry expired before is gone even under staleWhileRevalidate', async () => {
    const cache = memoryCache();
    let runs = 0;
    const f = cached(async () => `v${++runs}`, { cache, name: 'f', ttl: '1h', staleWhileRevalidate: '1h', tags: ['t'] });
    await f();
    await cache.invalidateTags(['t'], { stale: true });
    await cache.invalidateTags(['t']);
    expect(await f()).toBe('v2');
    expect(f.stats.stale).toBe(0);
  });

  it('leaves a call uncached, counted and logged once, when the tags function throws or returns no list', async () => {
    const logger = recordingLogger();
    const cache = createCache({ namespace: 'app', logger });
    const { origin, runs } = counter();
    const f = cached(origin, {
      cache,
      name: 'f',
      tags: (id: number) => {
        if (id === 1) throw new Error('secret-argument-1');
        return id === 2 ? (['ok', 42] as unknown as string[]) : ['ok'];
      },
    });
    expect(await f(1)).toEqual({ id: 1, run: 1 });
    expect(await f(1)).toEqual({ id: 1, run: 2 });
    expect(await f(2)).toEqual({ id: 2, run: 3 });
    expect(await f(3)).toEqual({ id: 3, run: 4 });
    expect(await f(3)).toEqual({ id: 3, run: 4 });
    expect(runs()).toBe(4);
    expect(f.stats.errors).toBeGreaterThanOrEqual(3);
    expect(logger.lines.every((line) => line.fields.kind === 'tags')).toBe(true);
    expect(JSON.stringify(logger.lines.map((l) => l.message))).not.toContain('secret-argument-1');
  });

  it('works with a binary serializer: stamps in the header of a Buffer entry, invalidation included', async () => {
    const bytes = {
      name: 'bytes',
      binary: true,
      serialize: (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8'),
      deserialize: (raw: string | Uint8Array) => JSON.parse(Buffer.from(raw as Uint8Array).toString('utf8')) as unknown,
    };
    const store = new MemoryStore();
    const cache = createCache({ namespace: 'app', store, serializer: bytes });
    const { origin, runs } = counter();
    const f = cached(origin, { cache, name: 'f', ttl: '1h', staleWhileRevalidate: '1h', tags: ['t'] });
    await f(1);
    expect(await f(1)).toEqual({ id: 1, run: 1 });
    expect(Buffer.isBuffer(store.get(f.keyFor(1)))).toBe(true);
    await cache.invalidateTags(['t'], { stale: true });
    expect(await f(1)).toEqual({ id: 1, run: 1 }); // stale, refreshing
    await cache.close();
    expect(await f(1)).toEqual({ id: 1, run: 2 });
    await cache.invalidateTags(['t']);
    expect(await f(1)).toEqual({ id: 1, run: 3 });
    expect(runs()).toBe(3);
  });

  it('refuses bad tags and options with a CacheConfigError naming the field', async () => {
    const cache = memoryCache();
    expect(() => cached(async () => 1, { cache, name: 'f', tags: [''] })).toThrow(/tags: tag 0 must have 1 to 256 characters/);
    expect(() => cached(async () => 1, { cache, name: 'f', tags: 'catalog' as unknown as string[] })).toThrow(/tags: expected an array of tags or a function/);
    expect(() => cached(async () => 1, { cache, name: 'f', tags: Array.from({ length: 65 }, (_, i) => `t${i}`) })).toThrow(/at most 64 tags/);
    expect((await rejection(cache.invalidateTags([1 as unknown as string]))).field).toBe('tags');
    expect((await rejection(cache.invalidateTags('t' as unknown as string[]))).field).toBe('tags');
    expect((await rejection(cache.invalidateTags(['t'], { stale: 'yes' as unknown as boolean }))).field).toBe('options.stale');
    expect((await rejection(cache.invalidateTags(['t'], { hard: true } as never))).field).toBe('options.hard');
    await expect(cache.invalidateTags([])).resolves.toBeUndefined();
  });
});

describe('f.clear() and cache.clear()', () => {
  it('f.clear() invalidates every entry of one function and no other', async () => {
    const cache = memoryCache();
    const a = counter();
    const b = counter();
    const fa = cached(a.origin, { cache, name: 'a' });
    const fb = cached(b.origin, { cache, name: 'b' });
    await Promise.all([fa(1), fa(2), fb(1)]);
    await fa.clear();
    expect(await fa(1)).toEqual({ id: 1, run: 3 });
    expect(await fa(2)).toEqual({ id: 2, run: 4 });
    expect(await fb(1)).toEqual({ id: 1, run: 1 });
  });

  it('cache.clear() invalidates every function under the namespace, not a function with its own namespace', async () => {
    const store = new MemoryStore();
    const cache = memoryCache({ store });
    const a = counter();
    const other = counter();
    const fa = cached(a.origin, { cache, name: 'a' });
    const elsewhere = cached(other.origin, { cache, name: 'x', namespace: 'other' });
    await fa(1);
    await elsewhere(1);
    store.set('app:not-cachette', 'theirs', undefined);
    await cache.clear();
    expect(await fa(1)).toEqual({ id: 1, run: 2 });
    expect(await elsewhere(1)).toEqual({ id: 1, run: 1 });
    expect(store.get('app:not-cachette')).toBe('theirs');
  });

  it('refuses cache.clear() without a namespace, naming the field', async () => {
    const cache = createCache({});
    const error = await rejection(cache.clear());
    expect(error).toBeInstanceOf(CacheConfigError);
    expect(error.field).toBe('namespace');
  });

  it('clears with { stale: true }: served stale under staleWhileRevalidate', async () => {
    const cache = memoryCache();
    let runs = 0;
    const f = cached(async () => `v${++runs}`, { cache, name: 'f', ttl: '1h', staleWhileRevalidate: '1m' });
    await f();
    await f.clear({ stale: true });
    expect(await f()).toBe('v1');
    await cache.close();
    expect(await f()).toBe('v2');
  });

  it('another cache on the same store sees a clear() at its next poll, and its own clear() at once', async () => {
    const store = new MemoryStore();
    const writer = memoryCache({ store, clearPollInterval: 2 ** 31 - 1 });
    const reader = memoryCache({ store, clearPollInterval: 2 ** 31 - 1 });
    const { origin, runs } = counter();
    const onWriter = cached(origin, { cache: writer, name: 'f' });
    const onReader = cached(origin, { cache: reader, name: 'f' });
    await onWriter(1);
    expect(await onReader(1)).toEqual({ id: 1, run: 1 });
    await onWriter.clear();
    expect(await onReader(1)).toEqual({ id: 1, run: 1 }); // not polled yet: within the bound
    expect(await onWriter(1)).toEqual({ id: 1, run: 2 }); // at once in the process that cleared
    await reader.generations.poll();
    expect(await onReader(1)).toEqual({ id: 1, run: 2 });
    expect(runs()).toBe(2);
    await writer.close();
    await reader.close();
  });

  it('reports a failed re-read of the generations, but not one the store skipped (breaker open, store closed)', async () => {
    const logger = recordingLogger();
    const store = new MemoryStore();
    const cache = createCache({ namespace: 'app', store, logger, clearPollInterval: 10 });
    const f = cached(counter().origin, { cache, name: 'f' });
    await f(1);
    const polled = (): Promise<void> =>
      new Promise((resolve) => {
        store.getMany = () => {
          resolve();
          throw failure;
        };
      });
    let failure: Error = new CacheUnavailableError('cachette: memory skipped', 'memory');
    await polled();
    await flush();
    expect(logger.lines).toEqual([]);
    failure = new Error('store down');
    await polled();
    await flush();
    expect(logger.lines.map((line) => [line.fields.kind, line.message])).toEqual([['read', 'cachette: re-reading the clear generations failed; the last ones read stay in use']]);
    await cache.close();
  });

  it('never takes back a clear() with a poll that read the generation before it', async () => {
    const store = new MemoryStore();
    const cache = memoryCache({ store });
    const { origin } = counter();
    const f = cached(origin, { cache, name: 'f' });
    await f(1);
    const gate = deferred<void>();
    const original = store.getMany.bind(store);
    store.getMany = (keys) => {
      const values = original(keys);
      return gate.promise.then(() => values) as never;
    };
    const polling = cache.generations.poll();
    store.getMany = original;
    await f.clear();
    gate.resolve();
    await polling;
    expect(await f(1)).toEqual({ id: 1, run: 2 });
    await cache.close();
  });

  it('reads an entry written by 0.3 (no stamps) as a miss', async () => {
    const store = new MemoryStore();
    const cache = memoryCache({ store });
    const { origin } = counter();
    const f = cached(origin, { cache, name: 'f' });
    store.set(f.keyFor(1), encodeEntry(jsonSerializer, { id: 1, run: 0 }, Date.now(), 60_000) as string, 60_000);
    expect(await f(1)).toEqual({ id: 1, run: 1 });
    expect(await f(1)).toEqual({ id: 1, run: 1 });
  });
});
