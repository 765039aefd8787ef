/**
 * The Redis store on a real redis-server: the shared store contract, then what only Redis has
 * (binary payloads, lazy connect, closing only what it opened).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createClient } from 'redis';
import { CacheStoreError } from '../../lib/errors.js';
import { RedisStore } from '../../lib/stores/redis.js';
import { toPayloads } from '../../lib/stores/redis-replies.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { runStoreContract } from '../../lib/testing/index.js';

let redis: TestRedis;

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.stop();
});

runStoreContract('RedisStore', async () => {
  await redis.admin.flushAll();
  const store = new RedisStore({ url: redis.url });
  return {
    store,
    inspectTtl: async (key) => {
      const pttl = await redis.admin.pTTL(key);
      return pttl === -2 ? undefined : pttl === -1 ? Infinity : pttl;
    },
    cleanup: () => store.close(),
  };
}, { describe, it }, { capabilities: ['getAndExpire', 'getMany', 'setIfAbsent', 'deleteIfEquals', 'replaceIfEquals'] });

describe('RedisStore', () => {
  it('opens its connection lazily, on first use', async () => {
    const store = new RedisStore({ host: redis.host, port: redis.port });
    expect(store.client.isOpen).toBe(false);
    await store.set('lazy', 'value', 1000);
    expect(store.client.isReady).toBe(true);
    expect(await store.get('lazy')).toBe('value');
    await store.close();
    expect(store.client.isOpen).toBe(false);
  });

  it('reads Buffers when asked to, for binary serializers', async () => {
    const store = new RedisStore({ url: redis.url, binary: true });
    const bytes = Buffer.from([0, 255, 124, 10, 200]);
    await store.set('binary', bytes, undefined);
    const read = await store.get('binary');
    expect(Buffer.isBuffer(read)).toBe(true);
    expect(Buffer.compare(read as Buffer, bytes)).toBe(0);
    await store.close();
  });

  it('does not close a client it was given', async () => {
    const client = createClient({ url: redis.url });
    await client.connect();
    const store = new RedisStore({ client });
    await store.set('byo', 'value', 1000);
    await store.close();
    expect(client.isReady).toBe(true);
    expect(await client.get('byo')).toBe('value');
    await client.close();
  });

  it('fails operations after close instead of reconnecting', async () => {
    const store = new RedisStore({ url: redis.url });
    await store.set('closed', 'value', 1000);
    await store.close();
    await expect(store.get('closed')).rejects.toMatchObject({ name: 'CacheUnavailableError', message: expect.stringContaining('closed') });
  });
});

describe('RedisStore getMany', () => {
  it('reads Buffers in one MGET on a binary store, and sends nothing for no keys', async () => {
    const store = new RedisStore({ url: redis.url, binary: true });
    await store.set('gm-1', Buffer.from([1, 2]), 60_000);
    await redis.admin.configResetStat();
    expect(await store.getMany([])).toEqual([]);
    const read = await store.getMany(['gm-1', 'gm-absent']);
    expect(Buffer.isBuffer(read[0])).toBe(true);
    expect([...(read[0] as Buffer)]).toEqual([1, 2]);
    expect(read[1]).toBeUndefined();
    expect(await redis.admin.info('commandstats')).toMatch(/^cmdstat_mget:calls=1,/m);
    await store.close();
  });

  it('fails with a CacheStoreError on an MGET reply of the wrong shape, never passing it on', () => {
    expect(toPayloads(2)(['a', null])).toEqual(['a', undefined]);
    expect(() => toPayloads(2)(['a'])).toThrow(CacheStoreError);
    expect(() => toPayloads(2)('OK')).toThrow(CacheStoreError);
  });
});

describe('RedisStore lock capabilities', () => {
  it('takes a lock with SET NX PX and releases it with one script, sent whole only when Redis lacks it', async () => {
    const store = new RedisStore({ url: redis.url });
    await redis.admin.scriptFlush();
    await redis.admin.configResetStat();
    expect(await store.setIfAbsent('lock-cmds', 'token', 5000)).toBe(true);
    expect(await store.deleteIfEquals('lock-cmds', 'token')).toBe(true); // NOSCRIPT → EVAL
    expect(await store.setIfAbsent('lock-cmds', 'token', 5000)).toBe(true);
    expect(await store.deleteIfEquals('lock-cmds', 'token')).toBe(true); // EVALSHA
    const stats = await redis.admin.info('commandstats');
    const calls = (name: string): number => Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
    expect(calls('set')).toBe(2);
    expect(calls('eval')).toBe(1);
    expect(calls('evalsha')).toBeGreaterThanOrEqual(1);
    await store.close();
  });

  it('compares binary payloads byte for byte', async () => {
    const store = new RedisStore({ url: redis.url, binary: true });
    const token = Buffer.from([0, 255, 124, 1]);
    expect(await store.setIfAbsent('lock-bin', token, 5000)).toBe(true);
    expect(await store.deleteIfEquals('lock-bin', Buffer.from([0, 255, 124, 2]))).toBe(false);
    expect(await store.deleteIfEquals('lock-bin', token)).toBe(true);
    expect(await redis.admin.exists('lock-bin')).toBe(0);
    await store.close();
  });

  it('bounds both by the operation timeout when Redis stops answering', async () => {
    const store = new RedisStore({ url: redis.url, opTimeoutMs: 100 });
    expect(await store.setIfAbsent('lock-frozen', 'token', 60_000)).toBe(true);
    redis.freeze();
    try {
      await expect(store.setIfAbsent('lock-frozen-2', 'token', 60_000)).rejects.toMatchObject({ name: 'CacheTimeoutError' });
      await expect(store.deleteIfEquals('lock-frozen', 'token')).rejects.toMatchObject({ name: 'CacheTimeoutError' });
    } finally {
      redis.thaw();
    }
    await store.close();
  });

  it('fails both after close', async () => {
    const store = new RedisStore({ url: redis.url });
    await store.close();
    await expect(store.setIfAbsent('lock-closed', 'token', 1000)).rejects.toMatchObject({ name: 'CacheUnavailableError' });
    await expect(store.deleteIfEquals('lock-closed', 'token')).rejects.toMatchObject({ name: 'CacheUnavailableError' });
  });
});
