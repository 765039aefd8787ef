import { describe, expect, it } from '@jest/globals';
import { createCache } from '../lib/cache.js';
import { cached } from '../lib/cached.js';
import { MAX_TTL_MS } from '../lib/defaults.js';
import { FunctionStamps } from '../lib/invalidation.js';
import { write, type FunctionContext } from '../lib/engine.js';
import { createStats } from '../lib/stats.js';
import type { MemoryStore } from '../lib/stores/memory.js';
import { fakeClock } from './helpers/fake-clock.js';
import { stampsOf } from './helpers/stamps.js';
import { RecordingStore } from './helpers/test-stores.js';

const quiet = { warn() {}, error() {} };

/** A memory cache on a clock the test moves, and a handle on its store. */
function clockedCache() {
  const clock = fakeClock();
  const cache = createCache({ clock, store: { type: 'memory' }, logger: quiet });
  return { clock, cache, store: cache.store as MemoryStore };
}

/** An origin counting its runs, returning `{ id, run }`. */
function counter() {
  const state = { runs: 0 };
  const origin = async (id: number) => ({ id, run: ++state.runs });
  return { state, origin };
}

describe('the function ttl', () => {
  it('serves an entry until its ttl has passed, then runs the origin again', async () => {
    const { clock, cache } = clockedCache();
    const { state, origin } = counter();
    const f = cached(origin, { cache, name: 'f', ttl: '30s' });
    await f(1);
    clock.advance(29_999);
    expect(await f(1)).toEqual({ id: 1, run: 1 });
    clock.advance(2);
    expect(await f(1)).toEqual({ id: 1, run: 2 });
    expect(state.runs).toBe(2);
    expect(f.stats).toMatchObject({ hits: 1, misses: 2 });
  });

  it('reads a number as milliseconds', async () => {
    const { cache, store } = clockedCache();
    const f = cached(counter().origin, { cache, name: 'f', ttl: 1500 });
    await f(1);
    expect(store.ttlOf(f.keyFor(1))).toBe(1500);
  });

  it('stores without expiry when no ttl is given, or Infinity', async () => {
    const { clock, cache, store } = clockedCache();
    const none = cached(counter().origin, { cache, name: 'none' });
    const infinite = cached(counter().origin, { cache, name: 'infinite', ttl: Infinity });
    await none(1);
    await infinite(1);
    expect(store.ttlOf(none.keyFor(1))).toBe(Infinity);
    expect(store.ttlOf(infinite.keyFor(1))).toBe(Infinity);
    clock.advance(365 * 86_400_000);
    await none(1);
    expect(none.stats.hits).toBe(1);
  });

  it('stores nothing with a ttl of 0', async () => {
    const { cache, store } = clockedCache();
    const { state, origin } = counter();
    const f = cached(origin, { cache, name: 'f', ttl: 0 });
    await f(1);
    await f(1);
    expect(state.runs).toBe(2);
    expect(store.size).toBe(0);
  });

  it('records the clock time and the ttl in the entry header', async () => {
    const { clock, cache, store } = clockedCache();
    const f = cached(async () => 'v', { cache, name: 'f', ttl: '1m' });
    await f();
    expect(store.get('f')).toBe(`s1|json|${clock.now()}|60000|${await stampsOf(cache, 'f')}|"v"`);
  });
});

describe('a ttl computed from the result', () => {
  type User = { id: number; premium: boolean };
  const loadUser = async (id: number): Promise<User> => ({ id, premium: id === 1 });

  it('keeps premium users 60 s and others 20 s', async () => {
    const { clock, cache, store } = clockedCache();
    let runs = 0;
    const getUser = cached(async (id: number) => (runs++, loadUser(id)), {
      cache,
      name: 'getUser',
      ttl: (user) => (user.premium ? '60s' : '20s'),
    });
    await getUser(1);
    await getUser(2);
    expect(store.ttlOf(getUser.keyFor(1))).toBe(60_000);
    expect(store.ttlOf(getUser.keyFor(2))).toBe(20_000);
    clock.advance(20_001);
    await getUser(1); // still cached
    await getUser(2); // expired
    expect(runs).toBe(3);
  });

  it('receives the result and the arguments', async () => {
    const { cache } = clockedCache();
    const seen: unknown[] = [];
    const f = cached(async (id: number, region: string) => `${id}@${region}`, {
      cache,
      name: 'f',
      ttl: (result, args) => {
        seen.push([result, args]);
        return 1000;
      },
    });
    await f(7, 'eu');
    expect(seen).toEqual([['7@eu', [7, 'eu']]]);
  });

  it('means no expiry when it returns undefined', async () => {
    const { cache, store } = clockedCache();
    const f = cached(async () => 'v', { cache, name: 'f', ttl: () => undefined });
    await f();
    expect(store.ttlOf('f')).toBe(Infinity);
  });

  it.each<[string, () => never]>([
    [
      'throws',
      () => {
        throw new Error('ttl broke');
      },
    ],
    ['returns something that is not a duration', () => '5 minutes' as never],
    ['returns a negative number', () => -1 as never],
  ])('keeps the result out of the cache, and counts an error, when it %s', async (_what, ttl) => {
    const { cache, store } = clockedCache();
    const { state, origin } = counter();
    const f = cached(origin, { cache, name: 'f', ttl });
    expect(await f(1)).toEqual({ id: 1, run: 1 });
    expect(await f(1)).toEqual({ id: 1, run: 2 });
    expect(state.runs).toBe(2);
    expect(f.stats.errors).toBe(2);
    expect(store.size).toBe(0);
  });
});

describe('the longest ttl', () => {
  it('is 10^15 ms', () => {
    expect(MAX_TTL_MS).toBe(1e15);
  });

  it.each([MAX_TTL_MS + 1, 1e16])('keeps a result whose ttl function returns %d ms out of the cache, counted and reported as kind ttl', async (ttl) => {
    const kinds: unknown[] = [];
    const cache = createCache({ store: { type: 'memory' }, logger: { warn: (fields) => void kinds.push(fields.kind), error() {} } });
    const { state, origin } = counter();
    const f = cached(origin, { cache, name: 'f', ttl: () => ttl });
    expect(await f(1)).toEqual({ id: 1, run: 1 });
    expect(await f(1)).toEqual({ id: 1, run: 2 });
    expect(state.runs).toBe(2);
    expect(f.stats).toMatchObject({ errors: 2, hits: 0 });
    expect(kinds).toEqual(['ttl', 'ttl']);
    expect((cache.store as MemoryStore).size).toBe(0);
  });

  it('caches a result whose ttl function returns exactly it, or Infinity, and serves it as a hit', async () => {
    const { cache, store } = clockedCache();
    const under = cached(counter().origin, { cache, name: 'under', ttl: () => MAX_TTL_MS });
    const forever = cached(counter().origin, { cache, name: 'forever', ttl: () => Infinity });
    await under(1);
    await forever(1);
    expect(await under(1)).toEqual({ id: 1, run: 1 });
    expect(await forever(1)).toEqual({ id: 1, run: 1 });
    expect(store.ttlOf(forever.keyFor(1))).toBe(Infinity);
    expect(under.stats).toMatchObject({ hits: 1, errors: 0 });
  });

  it('refuses at write time a per-call ttl that got past validation', async () => {
    const { cache, store } = clockedCache();
    const ctx: FunctionContext = {
      origin: () => 'v',
      name: 'f',
      cache,
      store: cache.store,
      ttlMs: undefined,
      ttlFn: undefined,
      skipCache: undefined,
      updateTtlOnHit: true,
      waitForWrite: true,
      stats: createStats(),
      swrMs: 0,
      staleIfErrorMs: 0,
      refreshBeta: undefined,
      softMs: undefined,
      hardMs: undefined,
      staleWindowMs: 0,
      extras: false,
      stamps: new FunctionStamps(cache.generations, ['f|gen']),
    };
    await write(ctx, 'k', 'v', [], 1e16, 0, 'stamps');
    expect(store.size).toBe(0);
    expect(ctx.stats.errors).toBe(1);
  });
});

describe('a per-call ttl', () => {
  it('is the stored ttl on a miss, over the function ttl', async () => {
    const { clock, cache, store } = clockedCache();
    const { state, origin } = counter();
    const f = cached(origin, { cache, name: 'f', ttl: '1h' });
    await f(1, { ttl: '5s' });
    expect(store.ttlOf(f.keyFor(1))).toBe(5000);
    clock.advance(5001);
    await f(1);
    expect(state.runs).toBe(2);
  });

  it('is used instead of a ttl function on a miss', async () => {
    const { cache, store } = clockedCache();
    let asked = 0;
    const f = cached(counter().origin, { cache, name: 'f', ttl: () => (asked++, '1h') });
    await f(1, { ttl: 2500 });
    expect(store.ttlOf(f.keyFor(1))).toBe(2500);
    expect(asked).toBe(0);
  });

  it('extends a live entry on a hit, in the read itself', async () => {
    const { clock, store: memory } = clockedCache();
    const store = new RecordingStore(memory);
    const cache = createCache({ store, logger: quiet });
    const { state, origin } = counter();
    const f = cached(origin, { cache, name: 'f', ttl: '5s' });
    await f(1);
    clock.advance(4000);
    expect(await f(1, { ttl: '1m' })).toEqual({ id: 1, run: 1 });
    expect(memory.ttlOf(f.keyFor(1))).toBe(60_000);
    expect(store.log).toEqual(['get f:1', 'set f:1 5000', 'getAndExpire f:1 60000']);
    clock.advance(59_000);
    await f(1);
    expect(state.runs).toBe(1);
  });

  it('does not extend a hit when updateTtlOnHit is false', async () => {
    const { clock, cache, store } = clockedCache();
    const { state, origin } = counter();
    const f = cached(origin, { cache, name: 'f', ttl: '5s', updateTtlOnHit: false });
    await f(1);
    clock.advance(4000);
    expect(await f(1, { ttl: '1m' })).toEqual({ id: 1, run: 1 });
    expect(store.ttlOf(f.keyFor(1))).toBe(1000);
    clock.advance(1001);
    await f(1);
    expect(state.runs).toBe(2);
  });

  it('removes the expiry of a live entry with Infinity', async () => {
    const { clock, cache, store } = clockedCache();
    const { state, origin } = counter();
    const f = cached(origin, { cache, name: 'f', ttl: '5s' });
    await f(1);
    await f(1, { ttl: Infinity });
    expect(store.ttlOf(f.keyFor(1))).toBe(Infinity);
    clock.advance(86_400_000);
    await f(1);
    expect(state.runs).toBe(1);
  });

  it('stores nothing on a miss with ttl 0, and leaves a hit as it was', async () => {
    const { cache, store } = clockedCache();
    const { state, origin } = counter();
    const f = cached(origin, { cache, name: 'f', ttl: '5s' });
    await f(1, { ttl: 0 });
    expect(store.size).toBe(0);
    await f(1);
    await f(1, { ttl: 0 });
    expect(store.ttlOf(f.keyFor(1))).toBe(5000);
    expect(state.runs).toBe(2);
  });

  it('creates no entry when the read with extension misses', async () => {
    const { cache, store } = clockedCache();
    const f = cached(counter().origin, { cache, name: 'f', ttl: '5s' });
    expect(await f(1, { ttl: '1m', cacheWrite: false })).toEqual({ id: 1, run: 1 });
    expect(store.ttlOf(f.keyFor(1))).toBeUndefined();
  });
});
