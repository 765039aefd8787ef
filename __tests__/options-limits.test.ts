import { describe, expect, it } from '@jest/globals';
import { MemoryStore, cached, createCache, type RedisStore } from '../lib/index.js';
import { configError } from './helpers/throws.js';

describe('option limits', () => {
  it.each([0, Infinity, '30d', -1])('rejects an opTimeout a timer cannot hold: %p', (opTimeout) => {
    const error = configError(() => createCache({ store: { type: 'redis', url: 'redis://localhost', opTimeout: opTimeout as never } }));
    expect(error.field).toBe('store.opTimeout');
    expect(error.message).toContain('store.opTimeout: must be a positive duration');
  });

  it('accepts an opTimeout up to 2^31-1 ms, and derives no timer Node cannot hold from it', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error): void => void warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const cache = createCache({ store: { type: 'redis', url: 'redis://localhost', opTimeout: 2 ** 31 - 1 } });
      const client = (cache.store as RedisStore).client as unknown as { options: { socket: { connectTimeout: number } } };
      // The connect timeout follows opTimeout (4×, at least 1 s), capped at what a timer holds.
      expect(client.options.socket.connectTimeout).toBe(2 ** 31 - 1);
      await cache.close();
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.map((w) => w.name)).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('passes a short opTimeout on: the connect timeout is 4× it, at least 1 s', async () => {
    const short = createCache({ store: { type: 'redis', url: 'redis://localhost', opTimeout: '100ms' } });
    const long = createCache({ store: { type: 'redis', url: 'redis://localhost', opTimeout: '2s' } });
    const connectTimeout = (cache: typeof short): number =>
      ((cache.store as RedisStore).client as unknown as { options: { socket: { connectTimeout: number } } }).options.socket.connectTimeout;
    expect([connectTimeout(short), connectTimeout(long)]).toEqual([1000, 8000]);
    await Promise.all([short.close(), long.close()]);
  });

  it('names an anonymous function after its sharedContext or fixed key', () => {
    const cache = createCache();
    expect(cached(async (id: number) => id, { cache, sharedContext: 'user' }).keyFor(1)).toBe('user:1');
    expect(cached(async () => 1, { cache, key: 'config' }).keyFor()).toBe('config');
    expect(configError(() => cached(async () => 1, { cache })).field).toBe('name');
  });

  it('accepts a Store object that carries a type property of its own', async () => {
    const store = Object.assign(new MemoryStore(), { type: 'lru' });
    const cache = createCache({ store });
    const f = cached(async (id: number) => ({ id }), { cache, name: 'f' });
    await f(1);
    await f(1);
    expect(f.stats).toMatchObject({ hits: 1, misses: 1 });
  });
});
