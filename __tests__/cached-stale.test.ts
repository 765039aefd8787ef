/**
 * Stale serving and refresh-ahead on the memory store with an injected clock: stale-while-revalidate,
 * stale-if-error, XFetch early refresh, and the c2 envelope that carries what they need.
 */
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { cached, createCache, MemoryStore } from '../lib/index.js';
import { decodeEntry, encodeEntry } from '../lib/entry.js';
import { jsonSerializer } from '../lib/serializers/json.js';
import { deferred, flush } from './helpers/deferred.js';
import { fakeClock } from './helpers/fake-clock.js';
import { stampsOf } from './helpers/stamps.js';

const quiet = { warn() {}, error() {} };

function setup() {
  const clock = fakeClock();
  const store = new MemoryStore({ clock });
  const cache = createCache({ store, clock, logger: quiet });
  return { clock, store, cache };
}

afterEach(() => {
  jest.restoreAllMocks();
});

describe('staleWhileRevalidate', () => {
  it('serves the stale value at once and refreshes it once in the background', async () => {
    const { clock, cache } = setup();
    let version = 0;
    const gate = deferred<void>();
    let gated = false;
    const getPrice = cached(
      async (id: number) => {
        version++;
        if (gated) await gate.promise;
        return { id, version };
      },
      { cache, name: 'getPrice', ttl: '10s', staleWhileRevalidate: '1m' },
    );
    expect(await getPrice(1)).toEqual({ id: 1, version: 1 });
    clock.advance(15_000); // past the ttl, inside the stale window
    gated = true;
    const stale = await Promise.all([getPrice(1), getPrice(1), getPrice(1)]);
    expect(stale).toEqual([{ id: 1, version: 1 }, { id: 1, version: 1 }, { id: 1, version: 1 }]);
    expect(version).toBe(2); // one background refresh for three stale reads
    gate.resolve();
    await flush();
    await flush();
    expect(await getPrice(1)).toEqual({ id: 1, version: 2 });
    expect(getPrice.stats).toMatchObject({ hits: 1, misses: 1, stale: 3, errors: 0 });
  });

  it('keeps entries ttl + window in the store and marks them c2', async () => {
    const { store, cache } = setup();
    const getPrice = cached(async (id: number) => ({ id }), { cache, name: 'getPrice', ttl: '10s', staleWhileRevalidate: '50s' });
    await getPrice(1);
    expect(store.ttlOf(getPrice.keyFor(1))).toBe(60_000);
    expect(String(store.get(getPrice.keyFor(1)))).toMatch(/^s2\|json\|\d+\|10000\|50000\|\d+\|[\w-]{8}\.[\w-]{8}\|\{"id":1\}$/);
  });

  it('treats an entry past ttl + window as a miss', async () => {
    const { clock, cache } = setup();
    let runs = 0;
    const f = cached(async () => ++runs, { cache, name: 'f', ttl: 1000, staleWhileRevalidate: 1000 });
    await f();
    clock.advance(2500);
    expect(await f()).toBe(2);
  });

  it('reports a failed background refresh and keeps the stale value', async () => {
    const { clock, cache } = setup();
    let fail = false;
    const f = cached(
      async () => {
        if (fail) throw new Error('origin down');
        return 'ok';
      },
      { cache, name: 'f', ttl: 1000, staleWhileRevalidate: 60_000 },
    );
    await f();
    clock.advance(2000);
    fail = true;
    expect(await f()).toBe('ok');
    await flush();
    expect(f.stats.errors).toBe(1);
    expect(await f()).toBe('ok');
  });

  it('needs a ttl', () => {
    expect(() => cached(async () => 1, { name: 'f', staleWhileRevalidate: '1m' })).toThrow('staleWhileRevalidate: needs a ttl');
  });
});

describe('staleIfError', () => {
  it('serves a stale value when the origin throws, and the error when there is none', async () => {
    const { clock, cache } = setup();
    let fail = false;
    const f = cached(
      async (id: number) => {
        if (fail) throw new Error('origin down');
        return { id };
      },
      { cache, name: 'f', ttl: 1000, staleIfError: '1h' },
    );
    await f(1);
    clock.advance(5000);
    fail = true;
    expect(await f(1)).toEqual({ id: 1 });
    await expect(f(2)).rejects.toThrow('origin down');
    expect(f.stats).toMatchObject({ staleIfError: 1, misses: 3, errors: 1 });
  });

  it('does not serve values older than the window', async () => {
    const { clock, cache } = setup();
    let fail = false;
    const f = cached(
      async () => {
        if (fail) throw new Error('origin down');
        return 'v';
      },
      { cache, name: 'f', ttl: 1000, staleIfError: 1000 },
    );
    await f();
    clock.advance(2500);
    fail = true;
    await expect(f()).rejects.toThrow('origin down');
  });
});

describe('refreshAhead (XFetch)', () => {
  it('refreshes a fresh entry early when the draw says so, and never when it is far from expiry', async () => {
    const { clock, cache } = setup();
    let runs = 0;
    const f = cached(
      async () => {
        runs++;
        clock.advance(100); // the origin "takes" 100 ms: recorded as the compute time
        return runs;
      },
      { cache, name: 'f', ttl: 10_000, refreshAhead: true },
    );
    await f();
    // U = 0.5: 100 · 1 · ln 2 ≈ 69 ms of look-ahead
    jest.spyOn(Math, 'random').mockReturnValue(0.5);
    expect(await f()).toBe(1); // 9.9 s left: no refresh
    await flush();
    expect(runs).toBe(1);
    clock.advance(9_950); // the entry was written after the 100 ms compute: 50 ms left < 69 ms
    expect(await f()).toBe(1); // still served fresh...
    await flush();
    expect(runs).toBe(2); // ...and refreshed in the background
    expect(f.stats).toMatchObject({ hits: 2, earlyRefreshes: 1 });
    expect(await f()).toBe(2);
  });
});

describe('the envelope', () => {
  it('reads a c1 entry with stale options on, judged by its own ttl', async () => {
    const { clock, store, cache } = setup();
    const f = cached(async () => 'new', { cache, name: 'f', ttl: 1000, staleWhileRevalidate: 5000 });
    store.set(f.keyFor(), encodeEntry(jsonSerializer, 'old', clock.now(), 1000, undefined, await stampsOf(cache, f.keyFor())) as string, 1000);
    expect(await f()).toBe('old');
    expect(f.stats.hits).toBe(1);
  });

  it('reads an entry written before 0.4 (no invalidation stamps) as a miss: a clear() may have passed it', async () => {
    const { clock, store, cache } = setup();
    const f = cached(async () => 'new', { cache, name: 'f', ttl: 1000 });
    store.set(f.keyFor(), encodeEntry(jsonSerializer, 'old', clock.now(), 1000) as string, 1000);
    expect(await f()).toBe('new');
    expect(await f()).toBe('new');
    expect(f.stats).toMatchObject({ hits: 1, misses: 1 });
  });

  it('round-trips the c2 fields', () => {
    const encoded = encodeEntry(jsonSerializer, { a: 1 }, 1000, 5000, { staleMs: 60_000, computeMs: 42 });
    expect(encoded).toBe('c2|json|1000|5000|60000|42|{"a":1}');
    expect(decodeEntry(jsonSerializer, encoded)).toEqual({ value: { a: 1 }, createdAt: 1000, ttlMs: 5000, staleMs: 60_000, computeMs: 42 });
    expect(decodeEntry(jsonSerializer, Buffer.from(encoded))).toEqual({ value: { a: 1 }, createdAt: 1000, ttlMs: 5000, staleMs: 60_000, computeMs: 42 });
    expect(decodeEntry(jsonSerializer, 'c2|json|1000|5000|x|42|{}')).toBeUndefined();
    expect(decodeEntry(jsonSerializer, encodeEntry(jsonSerializer, undefined, 1, 2, { staleMs: 3, computeMs: 4 }))).toEqual({
      value: undefined,
      createdAt: 1,
      ttlMs: 2,
      staleMs: 3,
      computeMs: 4,
    });
  });
});
