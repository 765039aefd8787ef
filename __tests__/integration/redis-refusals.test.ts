/**
 * Redis that is up but refuses writes: full (`maxmemory` with `noeviction`: `OOM`) or a read-only
 * replica (`READONLY`). Reads still serve hits, writes fail open and are counted in stats.errors,
 * and the circuit breaker stays closed: a refusal is an answer, not an outage.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'redis';
import { RedisMemoryServer } from 'redis-memory-server';
import { cached, createCache as createCacheOf, type Cache, type CacheConfig, type Logger } from '../../lib/index.js';
import { startRedis, waitUntil, type TestRedis } from '../helpers/redis-server.js';

let redis: TestRedis;

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.stop();
});
beforeEach(async () => {
  await redis.admin.flushAll();
});
afterEach(async () => {
  await Promise.all(caches.splice(0).map((cache) => cache.close()));
});

const caches: Cache[] = [];
function createCache(config: CacheConfig): Cache {
  const cache = createCacheOf(config);
  caches.push(cache);
  return cache;
}

function recordingLogger(): Logger & { lines: Array<{ kind: unknown; err: unknown }> } {
  const lines: Array<{ kind: unknown; err: unknown }> = [];
  const record = (fields: Record<string, unknown>): void => {
    lines.push({ kind: fields.kind, err: fields.err });
  };
  return { lines, warn: record, error: record };
}

/** The message of the reply that refused a failed write, e.g. `OOM command not allowed …`. */
function refusalOf(line: { err: unknown }): string {
  return String((line.err as Error & { cause?: Error }).cause?.message);
}

describe('a full Redis (maxmemory reached, noeviction)', () => {
  afterEach(async () => {
    await redis.admin.configSet({ maxmemory: '0', 'maxmemory-policy': 'noeviction' });
    await redis.admin.flushAll();
  });

  it('serves hits (sliding TTL included), fails writes open and counts them, and keeps the breaker closed', async () => {
    const logger = recordingLogger();
    const cache = createCache({ store: { type: 'redis', url: redis.url }, logger });
    let runs = 0;
    const getUser = cached(async (id: number) => ({ id, run: ++runs }), { cache, name: 'getUser', ttl: '1h' });
    await getUser(1); // stored while there is room

    // Fill Redis until it refuses writes: a limit just above what it holds now, then 16 KB values.
    const used = Number(/^used_memory:(\d+)/m.exec(await redis.admin.info('memory'))?.[1]);
    await redis.admin.configSet({ maxmemory: String(used + 1024 * 1024), 'maxmemory-policy': 'noeviction' });
    const filler = 'x'.repeat(16 * 1024);
    let refused = '';
    for (let i = 0; i < 1000 && refused === ''; i++) {
      await redis.admin.set(`filler:${i}`, filler).catch((error: Error) => {
        refused = error.message;
      });
    }
    expect(refused).toMatch(/^OOM /);

    for (let i = 0; i < 10; i++) expect(await getUser(1)).toEqual({ id: 1, run: 1 });
    expect(await getUser(1, { ttl: '2h' })).toEqual({ id: 1, run: 1 }); // GETEX is not refused when full
    expect(await redis.admin.pTTL(getUser.keyFor(1))).toBeGreaterThan(3_600_000);

    const misses = await Promise.all(Array.from({ length: 10 }, (_, i) => getUser(100 + i)));
    expect(misses).toEqual(Array.from({ length: 10 }, (_, i) => ({ id: 100 + i, run: expect.any(Number) })));
    expect(getUser.stats).toMatchObject({ hits: 11, misses: 11, errors: 10, skipped: 0 });
    expect(logger.lines.map((line) => line.kind)).toEqual(Array(10).fill('write'));
    expect(refusalOf(logger.lines[0]!)).toMatch(/^OOM /);
    expect(cache.health()).toEqual({ store: 'redis', state: 'closed', consecutiveFailures: 0, opens: 0, connection: 'ready', ok: true });
    expect(await redis.admin.exists(getUser.keyFor(100))).toBe(0);

    // Room again: the next miss is stored.
    await redis.admin.configSet({ maxmemory: '0' });
    await getUser(200);
    expect(await redis.admin.exists(getUser.keyFor(200))).toBe(1);
  }, 30_000);
});

describe('a read-only replica', () => {
  let replica: RedisMemoryServer;
  let replicaUrl: string;
  let replicaDir: string;

  beforeAll(async () => {
    // Without this the primary waits 5 s for more replicas before its first (diskless) full sync.
    await redis.admin.configSet('repl-diskless-sync-delay', '0');
    // The replica loads the primary's data from the socket and works in a temporary folder: it leaves no dump.rdb behind.
    replicaDir = mkdtempSync(join(tmpdir(), 'cachette-replica-'));
    const args = ['--replicaof', redis.host, String(redis.port), '--repl-diskless-load', 'swapdb', '--dir', replicaDir];
    replica = await RedisMemoryServer.create({ instance: { args } });
    replicaUrl = `redis://${await replica.getHost()}:${await replica.getPort()}`;
  });
  afterAll(async () => {
    await replica.stop();
    rmSync(replicaDir, { recursive: true, force: true });
  });

  it('serves what the primary stored, fails writes open and counts them, and keeps the breaker closed', async () => {
    // The primary's writer and the replica's reader: one function, same keys.
    const primary = createCache({ store: { type: 'redis', url: redis.url } });
    const logger = recordingLogger();
    const onReplica = createCache({ store: { type: 'redis', url: replicaUrl }, logger });
    let runs = 0;
    const origin = async (id: number) => ({ id, run: ++runs });
    const write = cached(origin, { cache: primary, name: 'getUser', ttl: '1h' });
    const getUser = cached(origin, { cache: onReplica, name: 'getUser', ttl: '1h' });
    await write(1);

    const inspect = createClient({ url: replicaUrl });
    await inspect.connect();
    try {
      await waitUntil(async () => (await inspect.exists(getUser.keyFor(1))) === 1);
      for (let i = 0; i < 10; i++) expect(await getUser(1)).toEqual({ id: 1, run: 1 });
      expect(getUser.stats).toMatchObject({ hits: 10, misses: 0, errors: 0 });

      const misses = await Promise.all(Array.from({ length: 10 }, (_, i) => getUser(100 + i)));
      expect(misses.map((m) => m.id)).toEqual(Array.from({ length: 10 }, (_, i) => 100 + i));
      expect(getUser.stats).toMatchObject({ misses: 10, errors: 10, skipped: 0 });
      expect(logger.lines.map((line) => line.kind)).toEqual(Array(10).fill('write'));
      expect(refusalOf(logger.lines[0]!)).toMatch(/^READONLY /);

      // A per-call ttl on a hit needs GETEX, which a replica refuses: the first such call is a miss
      // (read refused, origin, write refused); from then on the store reads with GET, and hits are served.
      expect(await getUser(1, { ttl: '2h' })).toMatchObject({ id: 1 });
      expect(getUser.stats).toMatchObject({ hits: 10, errors: 12 });
      for (let i = 0; i < 5; i++) expect(await getUser(1, { ttl: '2h' })).toEqual({ id: 1, run: 1 });
      expect(getUser.stats).toMatchObject({ hits: 15, errors: 12, skipped: 0 });

      expect(onReplica.health()).toEqual({ store: 'redis', state: 'closed', consecutiveFailures: 0, opens: 0, connection: 'ready', ok: true });
      expect(await inspect.exists(getUser.keyFor(100))).toBe(0);
    } finally {
      await inspect.close();
    }
  }, 30_000);
});
