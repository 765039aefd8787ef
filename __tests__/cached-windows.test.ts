/**
 * The edges of an entry's life, to the millisecond, on an injected clock: where fresh ends, where
 * `staleWhileRevalidate` ends and where `staleIfError` ends; and an `invalidate()` that lands while
 * the origin is still running.
 *
 * The store here keeps every entry forever, so what is judged at each edge is the engine's reading of
 * the entry's own header (createdAt + ttl + window), not the store's expiry.
 */
import { describe, expect, it } from '@jest/globals';
import { cached, createCache } from '../lib/index.js';
import type { Store } from '../lib/stores/store.js';
import { deferred, flush } from './helpers/deferred.js';
import { fakeClock } from './helpers/fake-clock.js';
import { isRecordKey } from './helpers/test-stores.js';

const quiet = { warn() {}, error() {} };

/** A store that ignores TTLs: entries stay until deleted. */
function keepingStore(): Store & { readonly entries: Map<string, string | Uint8Array> } {
  const entries = new Map<string, string | Uint8Array>();
  return {
    name: 'keeping',
    entries,
    get: (key) => entries.get(key),
    set: (key, value) => void entries.set(key, value),
    delete: (key) => entries.delete(key),
  };
}

function setup() {
  const clock = fakeClock();
  const store = keepingStore();
  const cache = createCache({ store, clock, logger: quiet });
  return { clock, store, cache };
}

/** An origin answering `v1`, `v2` … in order, or throwing while `failing` is set. */
function versions() {
  const state = { runs: 0, failing: false };
  const origin = async (): Promise<string> => {
    state.runs++;
    if (state.failing) throw new Error('origin down');
    return `v${state.runs}`;
  };
  return { state, origin };
}

const TTL = 1000;
const WINDOW = 1000;

describe('the end of fresh', () => {
  it('serves an entry aged ttl − 1 ms as a hit', async () => {
    const { clock, cache } = setup();
    const { state, origin } = versions();
    const f = cached(origin, { cache, name: 'f', ttl: TTL, staleWhileRevalidate: WINDOW });
    await f();
    clock.advance(TTL - 1);
    expect(await f()).toBe('v1');
    expect(f.stats).toMatchObject({ hits: 1, stale: 0, misses: 1 });
    expect(state.runs).toBe(1);
  });

  it('judges an entry aged exactly ttl as stale, not fresh', async () => {
    const { clock, cache } = setup();
    const { state, origin } = versions();
    const f = cached(origin, { cache, name: 'f', ttl: TTL, staleWhileRevalidate: WINDOW });
    await f();
    clock.advance(TTL);
    expect(await f()).toBe('v1');
    await flush();
    expect(f.stats).toMatchObject({ hits: 0, stale: 1, misses: 1 });
    expect(state.runs).toBe(2); // the background refresh
  });
});

describe('the end of staleWhileRevalidate', () => {
  it('serves an entry aged ttl + window − 1 ms as stale', async () => {
    const { clock, cache } = setup();
    const { origin } = versions();
    const f = cached(origin, { cache, name: 'f', ttl: TTL, staleWhileRevalidate: WINDOW, staleIfError: 5 * WINDOW });
    await f();
    clock.advance(TTL + WINDOW - 1);
    expect(await f()).toBe('v1');
    expect(f.stats).toMatchObject({ stale: 1, misses: 1 });
  });

  it('does not serve an entry aged exactly ttl + window: the origin answers', async () => {
    const { clock, cache } = setup();
    const { state, origin } = versions();
    // A longer staleIfError keeps the entry readable past the stale window, so only the window's edge decides.
    const f = cached(origin, { cache, name: 'f', ttl: TTL, staleWhileRevalidate: WINDOW, staleIfError: 5 * WINDOW });
    await f();
    clock.advance(TTL + WINDOW);
    expect(await f()).toBe('v2');
    expect(f.stats).toMatchObject({ stale: 0, misses: 2, hits: 0 });
    expect(state.runs).toBe(2);
  });
});

describe('the end of staleIfError', () => {
  it('answers a failing origin with an entry aged ttl + window − 1 ms', async () => {
    const { clock, cache } = setup();
    const { state, origin } = versions();
    const f = cached(origin, { cache, name: 'f', ttl: TTL, staleIfError: WINDOW });
    await f();
    clock.advance(TTL + WINDOW - 1);
    state.failing = true;
    expect(await f()).toBe('v1');
    expect(f.stats).toMatchObject({ staleIfError: 1, errors: 1 });
  });

  it('gives the origin error for an entry aged exactly ttl + window', async () => {
    const { clock, cache } = setup();
    const { state, origin } = versions();
    const f = cached(origin, { cache, name: 'f', ttl: TTL, staleIfError: WINDOW });
    await f();
    clock.advance(TTL + WINDOW);
    state.failing = true;
    await expect(f()).rejects.toThrow('origin down');
    expect(f.stats).toMatchObject({ staleIfError: 0, errors: 0, misses: 2 });
  });
});

describe('invalidate() while the origin runs', () => {
  it('does not write the result that started before the invalidation', async () => {
    const { cache, store } = setup();
    const gate = deferred<void>();
    let runs = 0;
    const f = cached(
      async (id: number) => {
        const run = ++runs;
        if (run === 1) await gate.promise;
        return `${id}:v${run}`;
      },
      { cache, name: 'f', ttl: TTL },
    );
    const first = f(1);
    await flush();
    expect(await f.invalidate(1)).toBe(false);
    gate.resolve();
    expect(await first).toBe('1:v1'); // its caller still gets the answer it waited for
    expect([...store.entries.keys()].filter((key) => !isRecordKey(key))).toEqual([]);
    expect(await f(1)).toBe('1:v2');
    expect(await f(1)).toBe('1:v2');
    expect(runs).toBe(2);
  });

  it('starts a new run for a call made after the invalidation instead of joining the old one', async () => {
    const { cache } = setup();
    const gate = deferred<void>();
    let runs = 0;
    const f = cached(
      async () => {
        const run = ++runs;
        if (run === 1) await gate.promise;
        return `v${run}`;
      },
      { cache, name: 'f', ttl: TTL },
    );
    const before = f();
    await flush();
    await f.invalidate();
    const after = f();
    gate.resolve();
    expect(await after).toBe('v2');
    expect(await before).toBe('v1');
    expect(await f()).toBe('v2');
    expect(f.stats).toMatchObject({ coalesced: 0, hits: 1 });
  });
});
