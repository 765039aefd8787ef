import { describe, expect, it } from '@jest/globals';
import { createCache } from '../lib/cache.js';
import { cached } from '../lib/cached.js';
import { createStats } from '../lib/stats.js';

describe('createStats', () => {
  it('starts every counter at zero', () => {
    const stats = createStats();
    expect(stats).toMatchObject({ hits: 0, misses: 0, bypasses: 0, refreshes: 0, coalesced: 0, errors: 0 });
    expect(Object.values(stats).every((count) => count === 0)).toBe(true);
  });

  it('gives each caller its own counters', () => {
    const a = createStats();
    const b = createStats();
    a.hits++;
    expect(b.hits).toBe(0);
  });
});

describe('stats of a cached function', () => {
  it('counts hits, misses, bypasses and refreshes, read live', async () => {
    const cache = createCache({ store: { type: 'memory' } });
    const f = cached(async (id: number) => id * 2, { cache, name: 'double' });
    const stats = f.stats;
    await f(1); // miss
    await f(1); // hit
    await f(1); // hit
    await f(2); // miss
    await f(1, { bypassCache: true });
    await f(1, { forceRefresh: true });
    await f.refresh(2);
    await f(3, { cacheRead: false }); // a miss that skips the read
    expect(stats).toMatchObject({ hits: 2, misses: 3, bypasses: 1, refreshes: 2, coalesced: 0, errors: 0 });
    await f(1);
    expect(stats.hits).toBe(3);
  });

  it('keeps separate counters per function, even on one cache', async () => {
    const cache = createCache({ store: { type: 'memory' } });
    const f = cached(async () => 1, { cache, name: 'one', sharedContext: 'shared' });
    const g = cached(async () => 2, { cache, name: 'two', sharedContext: 'shared' });
    await f();
    await g(); // a hit on f's entry
    expect(f.stats).toMatchObject({ hits: 0, misses: 1 });
    expect(g.stats).toMatchObject({ hits: 1, misses: 0 });
  });

  it('counts cache-layer failures in errors, not origin failures', async () => {
    const cache = createCache({ store: { type: 'memory' }, logger: { warn() {}, error() {} } });
    const fail = cached(
      async () => {
        throw new Error('origin');
      },
      { cache, name: 'fail' },
    );
    await expect(fail()).rejects.toThrow('origin');
    expect(fail.stats.errors).toBe(0);
    const handler = cached(async () => ({ run: () => 10 }), { cache, name: 'handler' }); // a function cannot be stored
    expect((await handler()).run()).toBe(10);
    expect(handler.stats.errors).toBe(1);
  });
});
