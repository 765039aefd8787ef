/**
 * Freshness when time or the stored entry is not what the reader expects: entries from a deploy with
 * a stale window read by one without, creation times ahead of the reader's clock, a clock that
 * returns NaN, and a per-call ttl of 0 on a stale-window entry. Injected clock: nothing sleeps.
 */
import { describe, expect, it } from '@jest/globals';
import { cached, createCache, MemoryStore, type Cache } from '../lib/index.js';
import { encodeEntry } from '../lib/entry.js';
import { jsonSerializer } from '../lib/serializers/json.js';
import { flush } from './helpers/deferred.js';
import { fakeClock } from './helpers/fake-clock.js';
import { stampsOf } from './helpers/stamps.js';

function setup() {
  const clock = fakeClock();
  const store = new MemoryStore({ clock });
  const kinds: unknown[] = [];
  const logger = { warn: (fields: Record<string, unknown>) => void kinds.push(fields.kind), error() {} };
  const cache = createCache({ store, clock, logger });
  return { clock, store, cache, kinds };
}

/** An origin counting its runs, returning `run <n>`. */
function counter() {
  const state = { runs: 0 };
  return { state, origin: async () => `run ${++state.runs}` };
}

describe('an entry stored with a stale window, read by a function without one', () => {
  it('is fresh until its own ttl, then a miss for that reader (not fresh for the whole window)', async () => {
    const { clock, cache } = setup();
    const writer = cached(async () => 'old', { cache, name: 'f', ttl: 1000, staleWhileRevalidate: '1h' });
    const { state, origin } = counter();
    const reader = cached(origin, { cache, name: 'f', ttl: 1000 });
    await writer();
    clock.advance(999);
    expect(await reader()).toBe('old');
    clock.advance(1);
    expect(await reader()).toBe('run 1');
    expect(state.runs).toBe(1);
    expect(reader.stats).toMatchObject({ hits: 1, misses: 1, stale: 0 });
  });

  it('is still judged by its ttl when the reader has no ttl at all', async () => {
    const { clock, cache } = setup();
    const writer = cached(async () => 'old', { cache, name: 'f', ttl: 1000, staleIfError: '1h' });
    const reader = cached(counter().origin, { cache, name: 'f' });
    await writer();
    clock.advance(5000);
    expect(await reader()).toBe('run 1');
  });
});

describe('a per-call ttl of 0 on a hit', () => {
  it('leaves an entry with a stale window as it is', async () => {
    const { clock, store, cache } = setup();
    const f = cached(counter().origin, { cache, name: 'f', ttl: '10s', staleWhileRevalidate: '50s' });
    await f();
    clock.advance(1000);
    expect(await f({ ttl: 0 })).toBe('run 1');
    expect(store.ttlOf(f.keyFor())).toBe(59_000);
  });
});

describe('an entry created ahead of the reader’s clock', () => {
  async function storeAhead(cache: Cache, key: string, now: number, aheadMs: number): Promise<void> {
    const payload = encodeEntry(jsonSerializer, 'ahead', now + aheadMs, 1000, { staleMs: 3_600_000, computeMs: 0 }, await stampsOf(cache, key)) as string;
    (cache.store as MemoryStore).set(key, payload, 3_601_000);
  }

  it('counts as just written when it is at most 1 s ahead (clock skew between processes)', async () => {
    const { clock, cache, kinds } = setup();
    const { state, origin } = counter();
    const f = cached(origin, { cache, name: 'f', ttl: 1000, staleWhileRevalidate: '1h' });
    await storeAhead(cache, f.keyFor(), clock.now(), 1000);
    expect(await f()).toBe('ahead');
    expect(f.stats).toMatchObject({ hits: 1, stale: 0, errors: 0 });
    expect(state.runs).toBe(0);
    expect(kinds).toEqual([]);
  });

  it.each([
    ['', false],
    [' (with the miss lock, which reads the entry again)', true],
  ])('counts as expired when it is further ahead: served stale and refreshed, reported as kind clock%s', async (_lock, lock) => {
    const { clock, cache, kinds } = setup();
    const { state, origin } = counter();
    const f = cached(origin, { cache, name: 'f', ttl: 1000, staleWhileRevalidate: '1h', lock });
    await storeAhead(cache, f.keyFor(), clock.now(), 1001);
    expect(await f()).toBe('ahead');
    expect(f.stats).toMatchObject({ hits: 0, stale: 1, errors: 1 });
    await flush();
    expect(state.runs).toBe(1);
    expect(await f()).toBe('run 1'); // the refresh wrote an entry with a time this clock trusts
    expect(kinds).toEqual(['clock']);
  });

  it('is a miss for a function without a stale window, so a skewed writer cannot keep it fresh', async () => {
    const { clock, cache } = setup();
    const { state, origin } = counter();
    const f = cached(origin, { cache, name: 'f', ttl: 1000, refreshAhead: true });
    await storeAhead(cache, f.keyFor(), clock.now(), 86_400_000);
    expect(await f()).toBe('run 1');
    expect(state.runs).toBe(1);
  });
});

describe('a clock set back while the origin runs', () => {
  it('stores a readable entry (no negative compute time), served as a hit', async () => {
    let now = 1_700_000_000_000;
    const clock = { now: () => now };
    const cache = createCache({ store: new MemoryStore({ clock }), clock });
    let runs = 0;
    const f = cached(
      async () => {
        runs++;
        now -= 5000; // NTP steps the wall clock back during the call
        return 'v';
      },
      { cache, name: 'f', ttl: '1h', refreshAhead: true },
    );
    expect(await f()).toBe('v');
    expect(await f()).toBe('v');
    expect(runs).toBe(1);
    expect(f.stats).toMatchObject({ hits: 1, misses: 1, errors: 0 });
  });
});

describe('a clock that returns an invalid time', () => {
  it.each([
    ['NaN', NaN],
    ['a negative time', -5],
    ['a time of 17 digits', 1e16],
  ])('falls back to Date.now when it returns %s, reporting it once, and entries still hit', async (_what, reading) => {
    const kinds: unknown[] = [];
    const messages: string[] = [];
    const clock = { now: () => reading };
    const cache = createCache({
      store: { type: 'memory' },
      clock,
      logger: { warn: (fields) => void (kinds.push(fields.kind), messages.push(String((fields.err as Error).message))), error() {} },
    });
    const { state, origin } = counter();
    const f = cached(origin, { cache, name: 'f', ttl: '1h', staleIfError: '1h' });
    expect(await f()).toBe('run 1');
    expect(await f()).toBe('run 1');
    expect(await f()).toBe('run 1');
    expect(state.runs).toBe(1);
    expect(f.stats).toMatchObject({ hits: 2, misses: 1, errors: 0 });
    expect(kinds).toEqual(['clock']);
    expect(messages[0]).toMatch(/^clock\.now\(\) returned /);
  });

  it('keeps a valid clock exactly as it reads, 0 included', async () => {
    const clock = fakeClock(0);
    const cache = createCache({ store: new MemoryStore({ clock }), clock });
    expect(cache.clock.now()).toBe(0);
    clock.advance(5);
    expect(cache.clock.now()).toBe(5);
  });
});
