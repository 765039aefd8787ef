/**
 * cache.health() for every kind of store, and how calls count operations an open breaker skipped:
 * in stats.skipped, never as errors, never logged.
 */
import { describe, expect, it } from '@jest/globals';
import { CacheUnavailableError, MemoryStore, cached, createCache, type Logger, type Store, type StoreHealth } from '../lib/index.js';

function recordingLogger(): Logger & { kinds: unknown[] } {
  const kinds: unknown[] = [];
  const record = (fields: Record<string, unknown>): void => {
    kinds.push(fields.kind);
  };
  return { kinds, warn: record, error: record };
}

/** A store whose breaker is open: every operation is skipped. */
function skippingStore(): Store & { health(): StoreHealth } {
  const skipped = (): Promise<never> => Promise.reject(new CacheUnavailableError('cachette: open', 'skipping'));
  return {
    name: 'skipping',
    get: skipped,
    set: skipped,
    delete: skipped,
    health: () => ({ store: 'skipping', state: 'open', consecutiveFailures: 5, openedAt: 1, opens: 1 }),
  };
}

describe('cache.health()', () => {
  it('reports a memory store as closed, with nothing counted', () => {
    expect(createCache().health()).toEqual({ store: 'memory', state: 'closed', consecutiveFailures: 0, opens: 0, connection: 'ready', ok: true });
  });

  it('reports a store of your own as closed unless it implements health()', () => {
    expect(createCache({ store: new MemoryStore() }).health()).toMatchObject({ store: 'memory', state: 'closed' });
    expect(createCache({ store: skippingStore() }).health()).toEqual({ store: 'skipping', state: 'open', consecutiveFailures: 5, openedAt: 1, opens: 1, connection: 'ready', ok: false });
  });
});

describe('operations skipped by an open breaker', () => {
  it('count in stats.skipped (read and write of a miss), not in errors, and are not logged', async () => {
    const logger = recordingLogger();
    const cache = createCache({ store: skippingStore(), logger });
    let runs = 0;
    const f = cached(async (id: number) => ({ id, run: ++runs }), { cache, name: 'f' });
    expect(await f(1)).toEqual({ id: 1, run: 1 });
    expect(await f(1)).toEqual({ id: 1, run: 2 });
    expect(await f(2, { waitForWrite: false })).toEqual({ id: 2, run: 3 });
    await cache.close();
    expect(f.stats).toMatchObject({ hits: 0, misses: 3, errors: 0, skipped: 6 });
    expect(logger.kinds).toEqual([]);
  });

  it('make invalidate() reject, counted as skipped', async () => {
    const cache = createCache({ store: skippingStore(), logger: recordingLogger() });
    const f = cached(async (id: number) => id, { cache, name: 'f' });
    await expect(f.invalidate(1)).rejects.toBeInstanceOf(CacheUnavailableError);
    expect(f.stats).toMatchObject({ errors: 0, skipped: 1 });
  });
});

describe('cache.health().ok, for a readiness check', () => {
  it('is false before the first connection, true once Redis answers, false after close()', async () => {
    // No server needed for the first and last states: 'idle' before use, 'closed' after close().
    const cache = createCache({ store: { type: 'redis', url: 'redis://127.0.0.1:1' } });
    expect(cache.health()).toMatchObject({ state: 'closed', connection: 'idle', ok: false });
    await cache.close();
    expect(cache.health()).toMatchObject({ state: 'closed', connection: 'closed', ok: false });
  });

  it('is true for a memory store until the cache is closed', async () => {
    const cache = createCache();
    expect(cache.health().ok).toBe(true);
    await cache.close();
    expect(cache.health().ok).toBe(false);
  });

  it('is false while a breaker of your own store skips it, even with the connection ready', () => {
    expect(createCache({ store: skippingStore() }).health()).toMatchObject({ state: 'open', connection: 'ready', ok: false });
  });
});
