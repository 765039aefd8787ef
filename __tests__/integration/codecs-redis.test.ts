/**
 * Codecs and compression on a real Redis: compressed entries round-trip as bytes, and a deploy that
 * changes the codec or turns compression on works: other codecs' entries are misses, then overwritten.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { createCache } from '../../lib/cache.js';
import { cached } from '../../lib/cached.js';
import type { CacheConfig } from '../../lib/config/cache-config.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';

const big = { rows: Array.from({ length: 60 }, (_, i) => ({ id: i, at: `2024-01-${String((i % 28) + 1).padStart(2, '0')}`, note: 'repeated words compress well' })) };

describe('codecs in Redis', () => {
  let redis: TestRedis;
  const opened: Array<ReturnType<typeof createCache>> = [];
  const failures: unknown[] = [];
  const logger = { warn: (fields: unknown) => void failures.push(fields), error: (fields: unknown) => void failures.push(fields) };
  const redisCache = (config: Omit<CacheConfig, 'store'>) => {
    const cache = createCache({ store: { type: 'redis', url: redis.url }, namespace: 'codecs', logger, ...config });
    opened.push(cache);
    return cache;
  };
  /** A function cached by `cache` whose origin runs are counted in `runs`. */
  const counted = (cache: ReturnType<typeof createCache>, runs: { n: number }, value: unknown) =>
    cached(
      async (id: number) => {
        runs.n++;
        return { id, value };
      },
      { cache, name: 'item' },
    );

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((cache) => cache.close()));
    await redis.admin.flushAll();
    expect(failures.splice(0)).toEqual([]);
  });
  afterAll(async () => {
    await redis.stop();
  });

  it('stores a large json value deflated, as bytes, and serves it back', async () => {
    const cache = redisCache({ compression: { threshold: 512 } });
    const runs = { n: 0 };
    const f = counted(cache, runs, big);
    await f(1);
    const raw = await redis.admin.get('codecs:item:1');
    expect(raw).toMatch(/^s1\|json\+df\|/);
    expect(Buffer.byteLength(raw as string)).toBeLessThan(JSON.stringify(big).length / 3);
    expect(await f(1)).toEqual({ id: 1, value: big });
    expect(runs.n).toBe(1);
    expect(f.stats).toMatchObject({ hits: 1, misses: 1, errors: 0 });
  });

  it('stores a large msgpack value compressed, as bytes, and serves it back with its types', async () => {
    const cache = redisCache({ serializer: 'msgpack', compression: { threshold: 256, algorithm: 'brotli' } });
    const runs = { n: 0 };
    const value = { ...big, at: new Date(11), ids: new Set([1n, 2n]) };
    const f = counted(cache, runs, value);
    await f(1);
    const raw = await redis.admin.get('codecs:item:1');
    expect(raw).toMatch(/^s1\|msgpack\+br\|/);
    expect(await f(1)).toEqual({ id: 1, value });
    expect(runs.n).toBe(1);
    expect(f.stats).toMatchObject({ hits: 1, misses: 1, errors: 0 });
  });

  it('switches between msgpack and json: each reads the other one\'s entries as misses', async () => {
    const packed = redisCache({ serializer: 'msgpack', compression: { threshold: 256 } });
    const json = redisCache({});
    const runs = { n: 0 };
    const a = counted(packed, runs, big);
    const b = counted(json, runs, big);
    await a(1);
    expect(await redis.admin.get('codecs:item:1')).toMatch(/^s1\|msgpack\+df\|/);
    expect(await b(1)).toEqual({ id: 1, value: big });
    expect(await b(1)).toEqual({ id: 1, value: big });
    expect(runs.n).toBe(2);
    expect(await a(1)).toEqual({ id: 1, value: big });
    expect(runs.n).toBe(3);
    expect(await redis.admin.get('codecs:item:1')).toMatch(/^s1\|msgpack\+df\|/);
    expect(a.stats.errors + b.stats.errors).toBe(0);
  });

  it('reads entries written before compression was turned on, and a process without it rewrites compressed ones', async () => {
    const before = redisCache({});
    const after = redisCache({ compression: { threshold: 512 } });
    const runs = { n: 0 };
    const old = counted(before, runs, big);
    const compressed = counted(after, runs, big);
    await old(1);
    expect(await compressed(1)).toEqual({ id: 1, value: big }); // the uncompressed entry is a hit
    expect(runs.n).toBe(1);
    await compressed(2);
    expect(await redis.admin.get('codecs:item:2')).toMatch(/^s1\|json\+df\|/);
    // Read as text, the compressed bytes are lost: a miss for the old process, which writes plain JSON.
    expect(await old(2)).toEqual({ id: 2, value: big });
    expect(runs.n).toBe(3);
    expect(await redis.admin.get('codecs:item:2')).toMatch(/^s1\|json\|/);
    expect(await compressed(2)).toEqual({ id: 2, value: big });
    expect(runs.n).toBe(3);
    expect(old.stats.errors + compressed.stats.errors).toBe(0);
  });

  it('switches codec in a rolling deploy: each reads the other one\'s entries as misses and overwrites them', async () => {
    const json = redisCache({});
    const rich = redisCache({ serializer: 'rich' });
    const runs = { n: 0 };
    const value = { when: new Date(7), pattern: 'a+' };
    const a = counted(json, runs, value);
    const b = counted(rich, runs, value);
    await a(1);
    expect(await redis.admin.get('codecs:item:1')).toMatch(/^s1\|json\+t\|/);
    expect(await b(1)).toEqual({ id: 1, value });
    expect(runs.n).toBe(2);
    expect(await redis.admin.get('codecs:item:1')).toMatch(/^s1\|rich\|/);
    expect(await b(1)).toEqual({ id: 1, value });
    expect(runs.n).toBe(2);
    expect(await a(1)).toEqual({ id: 1, value });
    expect(runs.n).toBe(3);
    expect(a.stats).toMatchObject({ hits: 0, misses: 2, errors: 0 });
    expect(b.stats).toMatchObject({ hits: 1, misses: 1, errors: 0 });
  });
});
