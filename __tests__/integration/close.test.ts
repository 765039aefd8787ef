/**
 * cache.close() on a real Redis and on a peer that never answers: every waiting call settles from
 * the origin, close() itself ends, calls made afterwards answer from the origin without errors or
 * a log line each, and a client you own gets back exactly the listeners it had.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server, type Socket } from 'node:net';
import { createClient } from 'redis';
import { CacheUnavailableError, cached, createCache, type Logger } from '../../lib/index.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';

let redis: TestRedis;
/** Accepts connections and never answers (a hung proxy, a host gone silent). */
let silent: Server;
let silentPort: number;
const sockets = new Set<Socket>();

beforeAll(async () => {
  redis = await startRedis();
  silent = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  silentPort = (silent.address() as { port: number }).port;
});
afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => silent.close(resolve));
  await redis.stop();
});

function recordingLogger(): Logger & { lines: Array<{ kind: unknown; message: string }> } {
  const lines: Array<{ kind: unknown; message: string }> = [];
  const record = (fields: Record<string, unknown>, message: string): void => {
    lines.push({ kind: fields.kind, message });
  };
  return { lines, warn: record, error: record };
}

describe('close() while the first connection hangs', () => {
  it('settles every waiting call from the origin, and close() ends', async () => {
    const logger = recordingLogger();
    // An operation timeout far longer than the test: only close() can settle the waiting calls.
    const cache = createCache({ store: { type: 'redis', host: '127.0.0.1', port: silentPort, opTimeout: '10m' }, logger });
    let runs = 0;
    const load = cached(async (id: number) => ({ id, run: ++runs }), { cache, name: 'load' });
    const waiting = [load(1), load(2), load(3)];
    await new Promise((resolve) => setImmediate(resolve));
    expect(cache.health().connection).toBe('connecting');
    await cache.close();
    expect(await Promise.all(waiting)).toEqual([
      { id: 1, run: 1 },
      { id: 2, run: 2 },
      { id: 3, run: 3 },
    ]);
    expect(load.stats).toMatchObject({ misses: 3, errors: 0, skipped: 6 });
    expect(logger.lines.map((line) => line.kind)).toEqual(['closed']);
    expect(cache.health().connection).toBe('closed');
  });

  it('settles calls waiting on a client you own that hangs, and leaves the client open', async () => {
    const client = createClient({ socket: { host: '127.0.0.1', port: silentPort, reconnectStrategy: false } });
    client.on('error', () => {});
    const cache = createCache({ store: { type: 'redis', client, opTimeout: '10m' }, logger: recordingLogger() });
    const load = cached(async (id: number) => id * 10, { cache, name: 'load' });
    const waiting = [load(1), load(2)];
    await new Promise((resolve) => setImmediate(resolve));
    await cache.close();
    expect(await Promise.all(waiting)).toEqual([10, 20]);
    expect(load.stats.errors).toBe(0);
    expect(client.isOpen).toBe(true);
    client.destroy();
  });
});

describe('connect() on a peer that never answers', () => {
  it('rejects once the connect timeout (4 × opTimeout, at least 1 s) has passed, and calls still answer', async () => {
    const cache = createCache({ store: { type: 'redis', host: '127.0.0.1', port: silentPort, opTimeout: 50 }, logger: recordingLogger() });
    await expect(cache.connect()).rejects.toMatchObject({
      name: 'CacheStoreError',
      message: 'cachette: could not connect to redis: Error: no answer within 1000 ms',
    });
    const load = cached(async (id: number) => id, { cache, name: 'load' });
    expect(await load(4)).toBe(4);
    await cache.close();
  });
});

describe('calls after close()', () => {
  it('answer from the origin with no Redis round trip, no error and one log line for the cache', async () => {
    const logger = recordingLogger();
    const cache = createCache({ store: { type: 'redis', url: redis.url }, logger });
    let runs = 0;
    const load = cached(async (id: number) => ({ id, run: ++runs }), { cache, name: 'load', ttl: '1m' });
    await load(1);
    expect(await load(1)).toEqual({ id: 1, run: 1 });
    await cache.close();
    for (let i = 0; i < 5; i++) expect(await load(1)).toEqual({ id: 1, run: 2 + i });
    expect(load.stats).toMatchObject({ hits: 1, misses: 6, errors: 0, skipped: 10 });
    expect(logger.lines).toEqual([
      { kind: 'closed', message: 'cachette: redis was used after cache.close(); calls go straight to the origin (counted in stats.skipped)' },
    ]);
    expect(cache.health()).toMatchObject({ state: 'closed', connection: 'closed' });
  });

  it('make invalidate() reject with a CacheUnavailableError that says the cache was closed', async () => {
    const cache = createCache({ store: { type: 'redis', url: redis.url }, logger: recordingLogger() });
    const load = cached(async (id: number) => id, { cache, name: 'load' });
    await load(1);
    await cache.close();
    const error = await load.invalidate(1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CacheUnavailableError);
    expect((error as Error).message).toBe('cachette: redis skipped: the cache was closed (cache.close() was called)');
    await expect(cache.connect()).rejects.toMatchObject({ name: 'CacheStoreError' });
  });
});

describe('a client you own', () => {
  it('gets back exactly the listeners it had once each cache on it is closed (1,000 caches, no MaxListenersExceededWarning)', async () => {
    const client = createClient({ url: redis.url });
    client.on('error', () => {});
    await client.connect();
    const baseline = { error: client.listenerCount('error'), ready: client.listenerCount('ready') };
    const warnings: string[] = [];
    const onWarning = (warning: Error): void => {
      warnings.push(warning.name);
    };
    process.on('warning', onWarning);
    try {
      const used = createCache({ store: { type: 'redis', client }, logger: recordingLogger() });
      const load = cached(async (id: number) => id, { cache: used, name: 'load' });
      await load(1);
      expect(client.listenerCount('error')).toBe(baseline.error + 1);
      await used.close();
      for (let i = 0; i < 1_000; i++) await createCache({ store: { type: 'redis', client }, logger: recordingLogger() }).close();
      await new Promise((resolve) => setImmediate(resolve));
      expect({ error: client.listenerCount('error'), ready: client.listenerCount('ready') }).toEqual(baseline);
      expect(warnings).toEqual([]);
      expect(client.isReady).toBe(true);
    } finally {
      process.off('warning', onWarning);
      await client.close();
    }
  });
});
