/**
 * cachette on Redis Sentinel through node-redis' own `createSentinel`, on a real topology (a primary,
 * a replica and 3 sentinels from `helpers/sentinel.ts`, started once for the file): the shared
 * behaviour of every topology (`helpers/topology-suite.ts`: hits, sliding TTL, stale serving, the
 * lock, the breaker, invalidate / refresh / keyFor, many()) on the `sentinel` store option, and what
 * only Sentinel has: the option's refusals, credentials in nodeClientOptions, a sentinel object you
 * pass in, a replayed `SET NX` that finds its own token, and calls under load through a forced
 * failover and then a SIGKILLed primary. Waits are bounded polls on states; the failover figures go
 * to `.scratch/topology-figures.txt` (git-ignored; a green run prints nothing).
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { createSentinel } from 'redis';
import { cached, createCache, type Cache, type CacheConfig } from '../../lib/index.js';
import { RedisStore } from '../../lib/stores/redis.js';
import { freePorts, waitFor } from '../helpers/redis-process.js';
import { startSentinel, type SentinelDataNode, type TestSentinel } from '../helpers/sentinel.js';
import { configError } from '../helpers/throws.js';
import { dataNode, topologySuite, type DataNode } from '../helpers/topology-suite.js';

const LIMIT_MS = 90_000;
const FIGURES = join(__dirname, '..', '..', '.scratch', 'topology-figures.txt');
const PASSWORD = 'sentinel-secret-4f1c';

function figure(line: string): void {
  mkdirSync(join(FIGURES, '..'), { recursive: true });
  appendFileSync(FIGURES, `${new Date().toISOString()} ${line}\n`);
}

/** A logger that keeps every line (a green run stays quiet). */
function recordingLogger() {
  const lines: Array<{ object: unknown; message: string | undefined }> = [];
  const record = (object: unknown, message?: string) => void lines.push({ object, message });
  return { lines, warn: record, error: record };
}

let sentinel: TestSentinel;
let dataNodes: Map<SentinelDataNode, DataNode>;
const opened: Cache[] = [];

/** An ACL user on both data nodes (ACLs are not replicated), for the credentials of nodeClientOptions. */
const USER = 'cachette';
const credentials = { username: USER, password: PASSWORD };

beforeAll(async () => {
  sentinel = await startSentinel();
  dataNodes = new Map([sentinel.primary, sentinel.replica].map((node) => [node, dataNode(`${node.host}:${node.port}`, node.inspect)]));
  for (const node of [sentinel.primary, sentinel.replica]) {
    await node.inspect.sendCommand(['ACL', 'SETUSER', USER, 'on', `>${PASSWORD}`, '~*', '+@all']);
  }
}, LIMIT_MS);
afterAll(async () => {
  await sentinel?.stop();
});
beforeEach(async () => {
  await sentinel.primary.inspect.flushAll();
});
afterEach(async () => {
  for (const cache of opened.splice(0)) await cache.close();
});

function sentinelCache(extra: Partial<CacheConfig> = {}, nodeClientOptions?: Record<string, unknown>): Cache {
  const cache = createCache({
    store: { type: 'redis', sentinel: { name: sentinel.name, sentinelRootNodes: sentinel.sentinelRootNodes, ...(nodeClientOptions ? { nodeClientOptions } : {}) } },
    logger: recordingLogger(),
    ...extra,
  });
  opened.push(cache);
  return cache;
}

describe('store.sentinel config', () => {
  const base = () => ({ name: 'mymaster', sentinelRootNodes: [{ host: '127.0.0.1', port: 26379 }] });

  it('names the field at fault', () => {
    expect(configError(() => createCache({ store: { type: 'redis', sentinel: { ...base(), name: '' } } }))).toMatchObject({ field: 'store.sentinel.name' });
    expect(configError(() => createCache({ store: { type: 'redis', sentinel: { ...base(), sentinelRootNodes: [] } } })).message).toBe(
      'cachette: store.sentinel.sentinelRootNodes: must list at least one sentinel',
    );
    expect(
      configError(() => createCache({ store: { type: 'redis', sentinel: { ...base(), sentinelRootNodes: [{ host: 'h', port: 0 }] } } })),
    ).toMatchObject({ field: 'store.sentinel.sentinelRootNodes.0.port' });
    expect(configError(() => createCache({ store: { type: 'redis', sentinel: { ...base(), nodeClientOptions: 'x' } } } as never))).toMatchObject({
      field: 'store.sentinel.nodeClientOptions',
    });
    expect(configError(() => createCache({ store: { type: 'redis', sentinel: { ...base(), masterPoolSize: 2 } } } as never)).message).toBe(
      'cachette: store.sentinel.masterPoolSize: is not a known option',
    );
  });

  it('is not combinable with url, client or socket fields, and never shows a password', () => {
    const url = configError(() => createCache({ store: { type: 'redis', url: `redis://:${PASSWORD}@h:1`, sentinel: base() } } as never));
    expect(url).toMatchObject({ field: 'store.sentinel' });
    expect(url.message).toContain('cannot be combined with url');
    const password = configError(() => createCache({ store: { type: 'redis', password: PASSWORD, sentinel: base() } } as never));
    expect(password).toMatchObject({ field: 'store.password' });
    expect(password.message).toContain('sentinel.nodeClientOptions');
    for (const error of [url, password]) expect(JSON.stringify({ ...error, message: error.message })).not.toContain(PASSWORD);
  });
});

describe('Sentinel clients and credentials', () => {
  it('misses, then hits from the primary, connected in RESP2 as the user of nodeClientOptions', async () => {
    let runs = 0;
    const f = cached(async (id: number) => ({ id, run: ++runs }), { cache: sentinelCache({}, credentials), name: 'f', ttl: '1m' });
    expect(await f(1)).toEqual({ id: 1, run: 1 });
    expect(await f(1)).toEqual({ id: 1, run: 1 });
    expect(f.stats).toMatchObject({ hits: 1, misses: 1, errors: 0 });
    expect(await sentinel.primary.inspect.get(f.keyFor(1))).toContain('"run":1');
    const clients = String(await sentinel.primary.inspect.sendCommand(['CLIENT', 'LIST']));
    expect(clients).toMatch(new RegExp(`user=${USER} .*resp=2`));
  });

  it('refuses a wrong password in connect() without showing it, and calls fail open', async () => {
    const logger = recordingLogger();
    const wrong = `${PASSWORD}-wrong`;
    const cache = sentinelCache({ logger, breaker: false }, { username: USER, password: wrong });
    const error = await cache.connect().then(
      () => undefined,
      (failure: Error) => failure,
    );
    expect(error?.message).toMatch(/^cachette: could not connect to redis: .*WRONGPASS/);
    const f = cached(async (id: number) => ({ id }), { cache, name: 'f', ttl: '1m' });
    expect(await f(1)).toEqual({ id: 1 });
    const seen = JSON.stringify([error?.message, String(error?.stack), (error?.cause as Error | undefined)?.message, logger.lines.map((l) => [l.message, String((l.object as { err?: unknown }).err)])]);
    expect(seen).not.toContain(PASSWORD);
  });

  it('takes a sentinel object you created, connects it and never closes it', async () => {
    const client = createSentinel({ name: sentinel.name, sentinelRootNodes: sentinel.sentinelRootNodes, RESP: 2 });
    client.on('error', () => {});
    try {
      const cache = createCache({ store: { type: 'redis', client }, logger: recordingLogger() });
      const f = cached(async (id: number) => ({ id }), { cache, name: 'f', ttl: '1m', lock: true });
      await cache.connect();
      expect(cache.health()).toMatchObject({ connection: 'ready', ok: true });
      await f(1);
      expect(await f(1)).toEqual({ id: 1 });
      expect(await f.many([[1], [2]])).toEqual([{ id: 1 }, { id: 2 }]);
      expect(f.stats).toMatchObject({ hits: 2, misses: 2, errors: 0 });
      await cache.close();
      expect(client.isOpen).toBe(true);
      expect(await client.get(f.keyFor(2))).toContain('"id":2');
    } finally {
      await client.destroy();
    }
  });

  it('reports an error the sentinel emits as a string (its observing client\'s) as an Error', async () => {
    const client = createSentinel({ name: sentinel.name, sentinelRootNodes: sentinel.sentinelRootNodes, RESP: 2 });
    client.on('error', () => {});
    try {
      const logger = recordingLogger();
      const cache = createCache({ store: { type: 'redis', client }, logger });
      await cache.connect();
      // What node-redis' RedisSentinel emits when the client observing a sentinel fails.
      client.emit('error', 'obseve client error: Error: Socket closed unexpectedly');
      const reported = logger.lines.map((line) => (line.object as { err?: unknown }).err);
      expect(reported).toHaveLength(1);
      expect(reported[0]).toBeInstanceOf(Error);
      expect((reported[0] as Error).message).toBe('obseve client error: Error: Socket closed unexpectedly');
      await cache.close();
    } finally {
      await client.destroy();
    }
  });

  it('connect() and health() follow the sentinel client, and close() closes the one it created', async () => {
    const cache = sentinelCache();
    expect(cache.health()).toMatchObject({ connection: 'idle' });
    await cache.connect();
    expect(cache.health()).toMatchObject({ connection: 'ready', ok: true });
    const client = (cache.store as RedisStore).client;
    await cache.close();
    expect(client.isOpen).toBe(false);
  });

  it('counts a SET NX that finds its own token (a write node-redis replayed) as taken, and another token as not', async () => {
    const store = new RedisStore({ sentinel: { name: sentinel.name, sentinelRootNodes: sentinel.sentinelRootNodes } });
    try {
      await store.connect();
      await sentinel.primary.inspect.set('k|lock', 'token-mine', { expiration: { type: 'PX', value: 60_000 } });
      expect(await store.setIfAbsent('k|lock', 'token-mine', 1_000)).toBe(true);
      expect(await store.setIfAbsent('k|lock', 'token-other', 1_000)).toBe(false);
      expect(await store.setIfAbsent('k2|lock', 'token-new', 1_000)).toBe(true);
      expect(await sentinel.primary.inspect.get('k|lock')).toBe('token-mine');
    } finally {
      await store.close();
    }
  });
});

describe('a binary RedisStore on Sentinel', () => {
  it('reads Buffers with GET, GETEX and MGET, and compares a Buffer lock token', async () => {
    const store = new RedisStore({ sentinel: { name: sentinel.name, sentinelRootNodes: sentinel.sentinelRootNodes }, binary: true });
    try {
      const bytes = Buffer.from([0, 255, 124, 10, 200]);
      await store.set('bin', bytes, 60_000);
      for (const read of [await store.get('bin'), await store.getAndExpire('bin', 120_000), (await store.getMany(['bin', 'none']))[0]]) {
        expect(Buffer.isBuffer(read)).toBe(true);
        expect(Buffer.compare(read as Buffer, bytes)).toBe(0);
      }
      expect(await sentinel.primary.inspect.pTTL('bin')).toBeGreaterThan(60_000);
      const token = Buffer.from([9, 0, 9]);
      expect(await store.setIfAbsent('bin|lock', token, 60_000)).toBe(true);
      expect(await store.setIfAbsent('bin|lock', token, 60_000)).toBe(true); // its own token: a replay
      expect(await store.setIfAbsent('bin|lock', Buffer.from([9, 0, 8]), 60_000)).toBe(false);
      expect(await store.deleteIfEquals('bin|lock', token)).toBe(true);
    } finally {
      await store.close();
    }
  });
});

topologySuite('Sentinel', () => ({
  owners: 1,
  store: () => ({ type: 'redis', sentinel: { name: sentinel.name, sentinelRootNodes: sentinel.sentinelRootNodes } }),
  async unreachableStore() {
    const ports = await freePorts(2);
    return { type: 'redis', sentinel: { name: sentinel.name, sentinelRootNodes: ports.map((port) => ({ host: '127.0.0.1', port })) } };
  },
  ownerOf: async () => dataNodes.get(sentinel.primary)!,
  owningNodes: () => [dataNodes.get(sentinel.primary)!],
}));

describe('failover under load', () => {
  const KEYS = 40;
  const IN_FLIGHT = 48;

  it(
    'keeps answering through SENTINEL FAILOVER and a SIGKILLed primary: no failed call, no wrong value, and hits resume',
    async () => {
      const logger = recordingLogger();
      const cache = sentinelCache({ logger }, credentials);
      const f = cached(async (key: number) => `value-of-${key}`, { cache, name: 'load', ttl: '10m', lock: true });

      let served = 0;
      let failed = 0;
      let wrong = 0;
      let running = true;
      const worker = async (): Promise<void> => {
        for (let i = 0; running; i++) {
          const key = Math.floor(Math.random() * KEYS);
          try {
            const value = await f(key);
            served++;
            if (value !== `value-of-${key}`) wrong++;
          } catch {
            failed++;
          }
          // Let timers and I/O in between rounds (a fully cached round resolves in microtasks).
          if (i % 4 === 3) await new Promise((resolve) => setImmediate(resolve));
        }
      };
      const load = Array.from({ length: IN_FLIGHT }, () => worker());

      /** Wait (bounded) until hits come back, counted from now on; resolves to the ms it took. */
      const hitsResume = async (what: string): Promise<number> => {
        const started = Date.now();
        const before = f.stats.hits;
        await waitFor(`hits to resume after ${what}`, async () => f.stats.hits - before >= 100, 60_000, 20);
        return Date.now() - started;
      };
      const phase = async (what: string, hurt: () => Promise<void>) => {
        const start = { served, failed, wrong, ...f.stats };
        await hurt();
        const resumedMs = await hitsResume(what);
        const stats = f.stats;
        const figures = {
          served: served - start.served,
          failed: failed - start.failed,
          wrong: wrong - start.wrong,
          resumedMs,
          hits: stats.hits - start.hits,
          errors: stats.errors - start.errors,
          skipped: stats.skipped - start.skipped,
          lockTimeouts: stats.lockTimeouts - start.lockTimeouts,
        };
        figure(`sentinel ${what} under ${IN_FLIGHT} calls in flight: ${JSON.stringify(figures)}`);
        return figures;
      };

      try {
        await hitsResume('warm-up');
        const forced = await phase('SENTINEL FAILOVER', async () => {
          await sentinel.failover();
        });
        // The new primary serves the writes and the hits, reached with the same credentials.
        await waitFor('a write on the new primary', async () => (await sentinel.primary.inspect.dbSize()) >= 1, 30_000);
        expect(String(await sentinel.primary.inspect.sendCommand(['CLIENT', 'LIST']))).toContain(`user=${USER} `);

        const killed = sentinel.primary;
        const next = sentinel.replica;
        const sigkilled = await phase('SIGKILL of the primary', async () => {
          await sentinel.sigkill(killed);
          await waitFor(
            'the sentinels to promote the replica',
            async () => {
              for (const s of sentinel.sentinels) {
                const address = (await s.inspect.sendCommand(['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', sentinel.name])) as string[];
                if (Number(address[1]) !== next.port) return false;
              }
              return String(await next.inspect.info('replication')).includes('role:master');
            },
            60_000,
          );
        });
        const start = f.stats.misses;
        await f.invalidate(KEYS + 1);
        expect(await f(KEYS + 1)).toBe(`value-of-${KEYS + 1}`);
        expect(f.stats.misses).toBe(start + 1);
        await waitFor('the write of the new key on the promoted primary', async () => (await next.inspect.exists(f.keyFor(KEYS + 1))) === 1, 10_000);

        for (const figures of [forced, sigkilled]) {
          expect(figures.served).toBeGreaterThan(0);
          expect(figures).toMatchObject({ failed: 0, wrong: 0 });
        }
        expect(JSON.stringify(logger.lines)).not.toContain(PASSWORD);
      } finally {
        running = false;
        await Promise.all(load);
      }
      expect({ failed, wrong }).toEqual({ failed: 0, wrong: 0 });
    },
    LIMIT_MS * 2,
  );
});
