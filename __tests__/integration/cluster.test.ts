/**
 * cachette on a real Redis Cluster (3 masters, one replica each, started once for the file): the
 * shared behaviour of every topology (`helpers/topology-suite.ts`: hits, sliding TTL, stale serving,
 * the lock, the breaker, invalidate / refresh / keyFor, many()) on the `cluster` store option, and
 * what only a cluster has: the option's refusals, a cluster object as `client`, slots computed as
 * the cluster does, `many()` with one MGET per slot and one round trip per master, and credentials
 * given once reaching every node. A dead master is `cluster-chaos.test.ts`'s.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { createCluster } from 'redis';
import { cached, CacheConfigError, createCache, RedisStore, type Cache } from '../../lib/index.js';
import { keySlot } from '../../lib/stores/redis-cluster.js';
import { findSecret } from '../helpers/secrets.js';
import { startCluster, type ClusterNode, type TestCluster } from '../helpers/cluster.js';
import { freePorts, waitFor } from '../helpers/redis-process.js';
import { dataNode, topologySuite, type DataNode } from '../helpers/topology-suite.js';

const LIMIT_MS = 60_000;
const quiet = { warn() {}, error() {} };

let cluster: TestCluster;
let dataNodes: Map<ClusterNode, DataNode>;
const opened: Cache[] = [];

beforeAll(async () => {
  cluster = await startCluster();
  dataNodes = new Map(cluster.nodes.map((node) => [node, dataNode(`${node.host}:${node.port}`, node.inspect)]));
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
    for (const key of ['', 'a', 'app:user:42', '{u1}:a', 'x{u1}y', '{}a', 'a{}{b}', 'é{ü}', 'k|lock', 'é{a}', 'a{', 'ns:tag|product:42', 'ns:f|gen']) {
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

describe('many() on a cluster', () => {
  it('reads many() with one command per slot (GET for one key, MGET for several), in one round trip per master, and only the misses reach the origin', async () => {
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
    const mgets = await served('mget');
    const gets = await served('get');
    let commands = 0;
    for (const [master, { calls, reads }] of mgets) {
      const keys = ids.map((id) => f.keyFor(id)).filter((key) => masterFor(key) === master);
      const perSlot = new Map<number, number>();
      for (const key of keys) perSlot.set(keySlot(key), (perSlot.get(keySlot(key)) ?? 0) + 1);
      const single = [...perSlot.values()].filter((n) => n === 1).length;
      // One GET per slot holding one of the keys, one MGET per slot holding several.
      expect(gets.get(master)?.calls).toBe(single);
      expect(calls).toBe(perSlot.size - single);
      // One socket read for all of this master's reads (`served`'s INFO commands are the others:
      // two before the GET counts were taken, four after).
      expect(reads - 2).toBe(1);
      commands += calls + single;
    }
    expect(commands).toBeGreaterThan(40); // random keys: about one slot, so one command, per item
  });

});

topologySuite('Cluster', () => ({
  owners: 3,
  store: () => ({ type: 'redis', cluster: { rootNodes: cluster.rootNodes } }),
  async unreachableStore() {
    const ports = await freePorts(2);
    return { type: 'redis', cluster: { rootNodes: ports.map((port) => ({ url: `redis://127.0.0.1:${port}` })) } };
  },
  ownerOf: async (key) => dataNodes.get(await cluster.masterOf(key))!,
  owningNodes: () => cluster.masters().map((master) => dataNodes.get(master)!),
}));

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

describe('the in-process tier on a cluster with useReplicas', () => {
  it('fills the tier from masters only: a lagging replica could answer with a value older than an announced change', async () => {
    const replicaGets = async (): Promise<number> => {
      let calls = 0;
      for (const node of cluster.nodes.filter((n) => n.role === 'replica')) calls += Number(/^cmdstat_get:calls=(\d+)/m.exec(String(await node.inspect.info('commandstats')))?.[1] ?? 0);
      return calls;
    };
    const store = { type: 'redis' as const, cluster: { rootNodes: cluster.rootNodes, useReplicas: true } };
    // Without the tier, useReplicas does read from replicas (so the count below can tell). node-redis
    // lists a replica only once it is online when the cluster is discovered: new caches until one does.
    let readsReplicas = false;
    for (let attempt = 0; attempt < 40 && !readsReplicas; attempt++) {
      const plain = createCache({ store, namespace: 'plain-replicas', logger: quiet });
      opened.push(plain);
      const g = cached(async (id: number) => ({ id }), { cache: plain, name: 'g', ttl: '1m' });
      const start = await replicaGets();
      for (let round = 0; round < 2; round++) for (let id = 0; id < 12; id++) await g(id);
      readsReplicas = (await replicaGets()) > start;
      if (!readsReplicas) await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(readsReplicas).toBe(true);

    const cache = createCache({ store, namespace: 'tier-replicas', logger: quiet, l1: { maxEntries: 100 } });
    opened.push(cache);
    await cache.connect();
    let runs = 0;
    const f = cached(async (id: number) => ({ id, run: ++runs }), { cache, name: 'f', ttl: '1m' });
    for (let id = 0; id < 12; id++) await f(id);
    await waitFor('the tier ready', async () => cache.health().l1?.state === 'ready', 10_000);
    const before = await replicaGets();
    for (let round = 0; round < 50 && cache.health().l1?.entries !== 12; round++) {
      for (let id = 0; id < 12; id++) await f(id);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(cache.health().l1?.entries).toBe(12);
    expect(await replicaGets()).toBe(before);
    expect(runs).toBe(12);
  });
});
