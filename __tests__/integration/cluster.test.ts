/**
 * cachette on a real Redis Cluster (3 masters, one replica each, started once for the file): the
 * `cluster` store option and a cluster object as `client`, keys routed by slot, hits and misses on
 * every master, sliding TTL (PTTL), the cross-process lock whose two keys live in different slots,
 * invalidate and refresh, `many()` with one MGET per slot and one round trip per master, and
 * credentials given once reaching every node.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { createCluster } from 'redis';
import { cached, CacheConfigError, createCache, RedisStore, type Cache } from '../../lib/index.js';
import { lockKeyOf } from '../../lib/locks.js';
import { keySlot } from '../../lib/stores/redis-cluster.js';
import { deferred } from '../helpers/deferred.js';
import { findSecret } from '../helpers/secrets.js';
import { startCluster, type ClusterNode, type TestCluster } from '../helpers/cluster.js';
import { waitFor } from '../helpers/redis-process.js';

const LIMIT_MS = 60_000;
const quiet = { warn() {}, error() {} };

let cluster: TestCluster;
const opened: Cache[] = [];

beforeAll(async () => {
  cluster = await startCluster();
}, LIMIT_MS);
afterAll(async () => {
  await cluster?.stop();
});
afterEach(async () => {
  for (const cache of opened.splice(0)) await cache.close();
});

function clusterCache(namespace: string): Cache {
  const cache = createCache({ store: { type: 'redis', cluster: { rootNodes: cluster.rootNodes } }, namespace, logger: quiet });
  opened.push(cache);
  return cache;
}

function masterFor(key: string): ClusterNode {
  const slot = keySlot(key);
  const master = cluster.masters().find((node) => node.slots.some(([from, to]) => from <= slot && slot <= to));
  if (!master) throw new Error(`no master serves slot ${slot}`);
  return master;
}

/** Calls of `command` and socket reads (round trips) each master has served since the last CONFIG RESETSTAT. */
async function served(command: string): Promise<Map<ClusterNode, { calls: number; reads: number }>> {
  const out = new Map<ClusterNode, { calls: number; reads: number }>();
  for (const master of cluster.masters()) {
    const stats = String(await master.inspect.info('commandstats'));
    const calls = Number(new RegExp(`^cmdstat_${command}:calls=(\\d+)`, 'm').exec(stats)?.[1] ?? 0);
    const reads = Number(/^total_reads_processed:(\d+)/m.exec(String(await master.inspect.info('stats')))?.[1]);
    out.set(master, { calls, reads });
  }
  return out;
}

describe('the cluster store option', () => {
  it('names the field in refusals and never shows a password', () => {
    const attempt = (cluster: unknown): CacheConfigError => {
      try {
        createCache({ store: { type: 'redis', cluster } as never });
      } catch (error) {
        expect(error).toBeInstanceOf(CacheConfigError);
        return error as CacheConfigError;
      }
      throw new Error('accepted');
    };
    expect(attempt({ rootNodes: [] }).message).toContain('store.cluster.rootNodes: must name at least one node');
    expect(attempt({ rootNodes: [{ url: 'http://h:1' }] }).message).toContain('store.cluster.rootNodes.0.url: must start with redis://');
    expect(attempt({ rootNodes: [{ url: 'redis://h:1' }], defaults: { password: 5 } }).message).toContain('store.cluster.defaults.password: expected a string, received number');
    expect(attempt({ rootNodes: [{ url: 'redis://h:1' }], useReplicas: 'yes' }).message).toContain('store.cluster.useReplicas: expected a boolean');
    expect(attempt({ rootNodes: [{ url: 'redis://h:1' }], defaults: { db: 1 } }).message).toContain('store.cluster.defaults');
    const secret = attempt({ rootNodes: [{ url: 'redis://:hunter2-secret@h:1/x' }] });
    expect(secret.message).toContain('store.cluster.rootNodes.0.url');
    expect(JSON.stringify({ message: secret.message, issues: secret.issues })).not.toContain('hunter2');
    expect(() => createCache({ store: { type: 'redis', url: 'redis://h:1', cluster: { rootNodes: [{ url: 'redis://h:1' }] } } as never })).toThrow(
      'store.cluster: cannot be combined with url',
    );
    const sentinel = { name: 'mymaster', sentinelRootNodes: [{ host: 'h', port: 26379 }] };
    expect(() => createCache({ store: { type: 'redis', sentinel, cluster: { rootNodes: [{ url: 'redis://h:1' }] } } as never })).toThrow(
      'store.cluster: cannot be combined with sentinel',
    );
  });

  it('takes the passwords of root URLs, defaults and a cluster you pass out of connection errors', () => {
    const seen: string[] = [];
    const record = (error: Error): void => void seen.push(`${error.message} ${String(error.stack)}`);
    const own = new RedisStore({
      cluster: { rootNodes: [{ url: 'redis://:root-pw-31@127.0.0.1:1' }], defaults: { password: 'defaults-pw-47' } },
      onConnectionError: record,
    });
    const client = createCluster({ rootNodes: [{ url: 'redis://:byo-root-pw-59@127.0.0.1:1' }], defaults: { password: 'byo-defaults-pw-83' } });
    const yours = new RedisStore({ client: client as never, onConnectionError: record });
    const emit = (store: RedisStore, text: string): void => void (store.client as unknown as { emit(event: string, error: Error): void }).emit('error', new Error(text));
    emit(own, 'echo root-pw-31 and defaults-pw-47');
    emit(yours, 'echo byo-root-pw-59 and byo-defaults-pw-83');
    expect(seen).toHaveLength(2);
    for (const secret of ['root-pw-31', 'defaults-pw-47', 'byo-root-pw-59', 'byo-defaults-pw-83']) expect(seen.join('\n')).not.toContain(secret);
    expect(seen[0]).toContain('echo [redacted] and [redacted]');
  });

  it('computes the slot of every key as the cluster does, hash tags included', async () => {
    const node = cluster.masters()[0]!;
    for (const key of ['', 'a', 'app:user:42', '{u1}:a', 'x{u1}y', '{}a', 'a{}{b}', 'é{ü}', 'k|lock']) {
      expect(keySlot(key)).toBe(Number(await node.inspect.clusterKeySlot(key)));
    }
  });

  it('accepts a cluster object you created as client, and leaves it open', async () => {
    const client = createCluster({ rootNodes: cluster.rootNodes, defaults: { disableOfflineQueue: true } });
    client.on('error', () => {});
    const cache = createCache({ store: { type: 'redis', client: client as never }, namespace: 'byo', logger: quiet });
    const f = cached(async (id: number) => ({ id }), { cache, name: 'f', ttl: '1m' });
    const ids = [1, 2, 3, 4, 5, 6, 7, 8, 9];
    await Promise.all(ids.map((id) => f(id)));
    expect(await Promise.all(ids.map((id) => f(id)))).toEqual(ids.map((id) => ({ id })));
    expect(f.stats).toMatchObject({ hits: 9, misses: 9, errors: 0 });
    expect(await f.many(ids.map((id) => [id] as [number]))).toEqual(ids.map((id) => ({ id })));
    expect(f.stats).toMatchObject({ hits: 18, errors: 0 });
    await cache.close();
    expect(client.isOpen).toBe(true);
    expect(await client.get(f.keyFor(1))).toContain('"id":1');
    client.destroy();
  });
});

describe('cached() on a cluster', () => {
  it('misses, stores each entry on the master of its slot, then hits on every master', async () => {
    const cache = clusterCache('hits');
    let runs = 0;
    const f = cached(async (id: number) => ({ id, run: ++runs }), { cache, name: 'f', ttl: '1m' });
    const ids = Array.from({ length: 30 }, (_, i) => i);
    const masters = new Set(ids.map((id) => masterFor(f.keyFor(id))));
    expect(masters.size).toBe(3);
    const first = await Promise.all(ids.map((id) => f(id)));
    expect(await Promise.all(ids.map((id) => f(id)))).toEqual(first);
    expect(runs).toBe(30);
    expect(f.stats).toMatchObject({ hits: 30, misses: 30, errors: 0 });
    for (const id of ids) expect(await masterFor(f.keyFor(id)).inspect.get(f.keyFor(id))).toContain(`"id":${id}`);
  });

  it('slides the TTL of a hit with a per-call ttl (GETEX on the key\'s master)', async () => {
    const cache = clusterCache('ttl');
    const f = cached(async (id: number) => ({ id }), { cache, name: 'f', ttl: '10s' });
    const ids = [1, 2, 3, 4, 5, 6];
    await Promise.all(ids.map((id) => f(id)));
    for (const id of ids) expect(await masterFor(f.keyFor(id)).inspect.pTTL(f.keyFor(id))).toBeLessThanOrEqual(10_000);
    await Promise.all(ids.map((id) => f(id, { ttl: '10m' })));
    expect(f.stats.hits).toBe(6);
    for (const id of ids) expect(await masterFor(f.keyFor(id)).inspect.pTTL(f.keyFor(id))).toBeGreaterThan(500_000);
  });

  it('invalidates and refreshes an entry on its master', async () => {
    const cache = clusterCache('inv');
    let version = 0;
    const f = cached(async (id: number) => ({ id, version: ++version }), { cache, name: 'f', ttl: '1m' });
    await f(1);
    const master = masterFor(f.keyFor(1));
    expect(await f.invalidate(1)).toBe(true);
    expect(await master.inspect.exists(f.keyFor(1))).toBe(0);
    expect(await f(1)).toEqual({ id: 1, version: 2 });
    expect(await f.refresh(1)).toEqual({ id: 1, version: 3 });
    expect(await master.inspect.get(f.keyFor(1))).toContain('"version":3');
    expect(await f(1)).toEqual({ id: 1, version: 3 });
  });

  it('runs the origin once across two processes with the lock, its key in another slot than the entry\'s', async () => {
    const a = clusterCache('lock');
    const b = clusterCache('lock');
    const gate = deferred<void>();
    let runs = 0;
    const origin = async (id: number) => {
      runs++;
      await gate.promise;
      return { id, run: runs };
    };
    const fa = cached(origin, { cache: a, name: 'user', ttl: '1m', lock: true });
    const fb = cached(origin, { cache: b, name: 'user', ttl: '1m', lock: true });
    let id = 0;
    while (keySlot(lockKeyOf(fa.keyFor(id))) === keySlot(fa.keyFor(id)) || masterFor(lockKeyOf(fa.keyFor(id))) === masterFor(fa.keyFor(id))) id++;
    const lockMaster = masterFor(lockKeyOf(fa.keyFor(id)));

    const first = fa(id);
    await waitFor('the lock', async () => (await lockMaster.inspect.exists(lockKeyOf(fa.keyFor(id)))) === 1, LIMIT_MS);
    const second = Promise.all([fb(id), fb(id)]);
    await waitFor('a lock wait', async () => fb.stats.lockWaits === 1, LIMIT_MS);
    gate.resolve();
    expect(await first).toEqual({ id, run: 1 });
    expect(await second).toEqual([
      { id, run: 1 },
      { id, run: 1 },
    ]);
    expect(runs).toBe(1);
    expect(fb.stats).toMatchObject({ lockTimeouts: 0, lockTakeovers: 0, errors: 0 });
    // Released by the compare-and-delete script (one key: its own slot).
    expect(await lockMaster.inspect.exists(lockKeyOf(fa.keyFor(id)))).toBe(0);
  });

  it('reads many() with one MGET per slot, in one round trip per master, and only the misses reach the origin', async () => {
    const cache = clusterCache('many');
    let runs = 0;
    const f = cached(async (id: number) => ({ id, run: ++runs }), { cache, name: 'f', ttl: '1m' });
    const ids = Array.from({ length: 60 }, (_, i) => i);
    await Promise.all(ids.slice(0, 40).map((id) => f(id)));
    const results = await f.many(ids.map((id) => [id] as [number]));
    expect(results.map((r) => r.id)).toEqual(ids);
    expect(runs).toBe(60);
    expect(f.stats).toMatchObject({ hits: 40, misses: 60, errors: 0 });

    // All hits now: the reads alone.
    for (const master of cluster.masters()) await master.inspect.configResetStat();
    expect(await f.many(ids.map((id) => [id] as [number]))).toEqual(results);
    expect(runs).toBe(60);
    const counted = await served('mget');
    let commands = 0;
    for (const [master, { calls, reads }] of counted) {
      const slots = new Set(ids.map((id) => f.keyFor(id)).filter((key) => masterFor(key) === master).map(keySlot));
      expect(calls).toBe(slots.size);
      // One socket read for all of this master's MGETs (`served`'s two INFO commands are the other two).
      expect(reads - 2).toBe(1);
      commands += calls;
    }
    expect(commands).toBeGreaterThan(40); // random keys: about one slot, so one MGET, per item
  });

  it('serves a stale entry and replaces it in the background', async () => {
    let now = 1_700_000_000_000;
    const cache = createCache({ store: { type: 'redis', cluster: { rootNodes: cluster.rootNodes } }, namespace: 'stale', logger: quiet, clock: { now: () => now } });
    opened.push(cache);
    let version = 0;
    const f = cached(async (id: number) => ({ id, version: ++version }), { cache, name: 'f', ttl: '10s', staleWhileRevalidate: '1m' });
    await f(1);
    now += 20_000;
    expect(await f(1)).toEqual({ id: 1, version: 1 });
    const master = masterFor(f.keyFor(1));
    await waitFor('the background refresh', async () => String(await master.inspect.get(f.keyFor(1))).includes('"version":2'), LIMIT_MS);
    expect(await f(1)).toEqual({ id: 1, version: 2 });
    expect(f.stats).toMatchObject({ stale: 1, hits: 1, misses: 1, errors: 0 });
  });
});

describe('credentials on a cluster', () => {
  const password = 'cluster-pass-7f3a';
  afterAll(async () => {
    for (const node of cluster.nodes) {
      await node.inspect.configSet('requirepass', '');
      await node.inspect.configSet('masterauth', '');
    }
  });

  it('gives the password of the first root URL to every discovered node, and never shows it in an error', async () => {
    for (const node of cluster.nodes) {
      await node.inspect.configSet('masterauth', password); // the inspection clients stay authenticated
      await node.inspect.configSet('requirepass', password);
    }
    const [first] = cluster.rootNodes;
    const withPassword = first!.url.replace('redis://', `redis://:${password}@`);
    const cache = createCache({ store: { type: 'redis', cluster: { rootNodes: [{ url: withPassword }] } }, namespace: 'auth', logger: quiet });
    opened.push(cache);
    await cache.connect();
    const f = cached(async (id: number) => ({ id }), { cache, name: 'f', ttl: '1m' });
    const ids = Array.from({ length: 12 }, (_, i) => i);
    expect(new Set(ids.map((id) => masterFor(f.keyFor(id)))).size).toBe(3);
    await Promise.all(ids.map((id) => f(id)));
    await Promise.all(ids.map((id) => f(id)));
    expect(f.stats).toMatchObject({ hits: 12, misses: 12, errors: 0 });

    const wrong = createCache({
      store: { type: 'redis', cluster: { rootNodes: [{ url: first!.url }], defaults: { password: 'not-the-password-9c1e' } } },
      namespace: 'auth',
      logger: quiet,
    });
    opened.push(wrong);
    const refused = await wrong.connect().then(
      () => undefined,
      (error: unknown) => error as Error,
    );
    expect(refused).toBeInstanceOf(Error);
    expect(refused?.message).toContain('wrong password or user');
    expect(findSecret(refused, 'not-the-password-9c1e')).toEqual([]);
  });
});
