/**
 * Smoke tests of the multi-node topology helpers with node-redis' own clients (not cachette yet):
 * a 3-master Redis Cluster with one replica each (`helpers/cluster.ts`) and a Sentinel setup of a
 * primary, a replica and 3 sentinels (`helpers/sentinel.ts`), all real processes started from the
 * system binaries. Waits are bounded polls on states, never on time; each test appends its start and
 * failover durations to `.scratch/topology-figures.txt` (a green run prints nothing; the file is
 * git-ignored).
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createCluster, createSentinel } from 'redis';
import { startCluster, type ClusterNode, type TestCluster } from '../helpers/cluster.js';
import { waitFor } from '../helpers/redis-process.js';
import { startSentinel, type TestSentinel } from '../helpers/sentinel.js';

/** Bounds for one hook or test: generous, a healthy run needs a fraction. */
const LIMIT_MS = 60_000;
const FIGURES = join(__dirname, '..', '..', '.scratch', 'topology-figures.txt');

function figure(line: string): void {
  mkdirSync(join(FIGURES, '..'), { recursive: true });
  appendFileSync(FIGURES, `${new Date().toISOString()} ${line}\n`);
}

async function timed<T>(what: string, run: () => Promise<T>): Promise<T> {
  const started = Date.now();
  const result = await run();
  figure(`${what}: ${Date.now() - started} ms`);
  return result;
}

describe('a 3-master Redis Cluster with one replica each', () => {
  let cluster: TestCluster;
  let client: ReturnType<typeof createCluster>;

  beforeAll(async () => {
    cluster = await timed('cluster start (6 nodes, create, agreed)', () => startCluster());
    client = createCluster({ rootNodes: cluster.rootNodes, defaults: { disableOfflineQueue: true } });
    client.on('error', () => {
      // the failover test kills a master on purpose
    });
    await client.connect();
  }, LIMIT_MS);
  afterAll(async () => {
    client?.destroy();
    await cluster?.stop();
  });

  /** `perMaster` keys on each master, found with `masterOf`. */
  async function keysOnEveryMaster(prefix: string, perMaster: number): Promise<Map<ClusterNode, string[]>> {
    const byMaster = new Map<ClusterNode, string[]>();
    for (let i = 0; [...byMaster.values()].filter((keys) => keys.length >= perMaster).length < 3; i++) {
      if (i === 10_000) throw new Error(`masterOf named only ${byMaster.size} masters for 10,000 keys`);
      const key = `${prefix}:${i}`;
      const owner = await cluster.masterOf(key);
      const keys = byMaster.get(owner) ?? [];
      if (keys.length < perMaster) keys.push(key);
      byMaster.set(owner, keys);
    }
    return byMaster;
  }

  it('starts 3 masters, each serving slots and followed by one attached replica', () => {
    const masters = cluster.masters();
    expect(masters).toHaveLength(3);
    expect(masters.flatMap((m) => m.slots).reduce((n, [from, to]) => n + to - from + 1, 0)).toBe(16384);
    for (const master of masters) {
      expect(cluster.nodes.filter((n) => n.role === 'replica' && n.masterId === master.id)).toHaveLength(1);
    }
  });

  it('stores each key through the cluster client on the master masterOf names', async () => {
    const byMaster = await keysOnEveryMaster('smoke', 4);
    expect(new Set(byMaster.keys())).toEqual(new Set(cluster.masters()));
    for (const [master, keys] of byMaster) {
      for (const key of keys) {
        await client.set(key, `value of ${key}`);
        expect(await client.get(key)).toBe(`value of ${key}`);
        expect(await master.inspect.get(key)).toBe(`value of ${key}`);
      }
    }
  });

  it('promotes the replica of a SIGKILLed master, and the client writes to it afterwards', async () => {
    const byMaster = await keysOnEveryMaster('failover', 1);
    const [dead, deadKeys] = [...byMaster][0]!;
    const [healthy, healthyKeys] = [...byMaster][1]!;
    const [deadKey, healthyKey] = [deadKeys[0]!, healthyKeys[0]!];
    await client.set(healthyKey, 'before');
    const replica = cluster.nodes.find((n) => n.role === 'replica' && n.masterId === dead.id)!;

    await cluster.sigkill(dead);
    // Keys on the other masters keep working while one master is down.
    expect(await client.get(healthyKey)).toBe('before');
    const promoted = await timed('cluster failover (SIGKILL of a master until its replica serves its slots everywhere)', () =>
      cluster.waitForFailover(dead),
    );
    expect(promoted).toBe(replica);
    expect(promoted.role).toBe('master');
    expect(await cluster.masterOf(deadKey)).toBe(promoted);
    await expect(cluster.masterOf(healthyKey)).resolves.toBe(healthy);

    // The client finds the new master by itself (bounded: it may first try the dead node).
    await waitFor('the cluster client to write to the promoted master', async () => (await client.set(deadKey, 'after')) === 'OK', 30_000);
    expect(await promoted.inspect.get(deadKey)).toBe('after');

    await timed('cluster restart of the killed master until it rejoins as a replica', () => cluster.start(dead));
    const replication = String(await dead.inspect.info('replication'));
    expect(replication).toContain('role:slave');
    expect(replication).toContain(`master_port:${promoted.port}`);
    expect(replication).toContain('master_link_status:up');
  }, LIMIT_MS);
});

describe('Sentinel: a primary, a replica and 3 sentinels', () => {
  let sentinel: TestSentinel;
  let client: ReturnType<typeof createSentinel>;

  beforeAll(async () => {
    sentinel = await timed('sentinel start (2 data nodes, 3 sentinels, agreed)', () => startSentinel());
    client = createSentinel({ name: sentinel.name, sentinelRootNodes: sentinel.sentinelRootNodes });
    client.on('error', () => {
      // the failover test changes the primary on purpose
    });
    await client.connect();
  }, LIMIT_MS);
  afterAll(async () => {
    await client?.destroy();
    await sentinel?.stop();
  });

  it('writes through the sentinel client to the primary, and to the new primary after a failover', async () => {
    const before = sentinel.primary;
    await client.set('smoke', 'before');
    expect(await client.get('smoke')).toBe('before');
    expect(await before.inspect.get('smoke')).toBe('before');

    const after = await timed('sentinel failover (SENTINEL FAILOVER until all sentinels agree)', () => sentinel.failover());
    expect(after).not.toBe(before);
    expect(sentinel.primary).toBe(after);
    expect(sentinel.replica).toBe(before);

    await waitFor('the sentinel client to write to the new primary', async () => (await client.set('smoke', 'after')) === 'OK', 30_000);
    expect(await after.inspect.get('smoke')).toBe('after');
    expect(String(await after.inspect.info('replication'))).toContain('role:master');
  }, LIMIT_MS);
});
