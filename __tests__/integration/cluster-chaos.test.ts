/**
 * Chaos on a real Redis Cluster (3 masters, one replica each): one master SIGKILLed under 64 cached
 * calls in flight over keys spread across every master's slots. A dead master must cost only the hits
 * of its own slots: every call answers, with the right value; the other masters' keys keep hitting
 * during the outage (counted per key group, not timed); once its replica is promoted, hits resume on
 * the dead master's slots. Waits are bounded polls on counts and states.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { cached, CacheTimeoutError, createCache, type Cache, type CachedFunction, type CacheStats } from '../../lib/index.js';
import { keySlot } from '../../lib/stores/redis-cluster.js';
import { valueFor } from '../helpers/chaos-load.js';
import { startCluster, type ClusterNode, type TestCluster } from '../helpers/cluster.js';
import { waitFor } from '../helpers/redis-process.js';

const LIMIT_MS = 60_000;
const FIGURES = join(__dirname, '..', '..', '.scratch', 'cluster-figures.txt');

/** Measured figures go to a git-ignored file: a green run prints nothing. */
function figure(line: string): void {
  mkdirSync(join(FIGURES, '..'), { recursive: true });
  appendFileSync(FIGURES, `${new Date().toISOString()} ${line}\n`);
}
const IN_FLIGHT = 64;
const KEYS_PER_MASTER = 150;

let cluster: TestCluster;
let cache: Cache;
const failures: unknown[] = [];

beforeAll(async () => {
  cluster = await startCluster();
  // Redis' default (yes) makes every node refuse every key with CLUSTERDOWN from the moment a master
  // is marked failed until its replica is promoted: no client can hit then. `no` keeps the covered
  // slots serving, which is what a cache wants (see docs/guides/cluster-and-sentinel.md).
  for (const node of cluster.nodes) await node.inspect.configSet('cluster-require-full-coverage', 'no');
  cache = createCache({
    store: { type: 'redis', cluster: { rootNodes: cluster.rootNodes } },
    namespace: 'chaos',
    logger: { warn: (fields: unknown) => void failures.push(fields), error: (fields: unknown) => void failures.push(fields) },
  });
  await cache.connect();
}, LIMIT_MS);
afterAll(async () => {
  await cache?.close();
  await cluster?.stop();
});

type Fn = CachedFunction<(id: number) => Promise<{ id: number; v: string }>>;

/** One key group per master: its own cached function, and ids whose keys live in that master's slots. */
interface Group {
  readonly master: ClusterNode;
  readonly fn: Fn;
  readonly ids: number[];
}

function servedBy(master: ClusterNode, key: string): boolean {
  const slot = keySlot(key);
  return master.slots.some(([from, to]) => from <= slot && slot <= to);
}

function delta(after: CacheStats, before: CacheStats): { hits: number; reads: number } {
  const hits = after.hits - before.hits;
  // Every call that read is a hit or a miss (a failed or skipped read counts a miss too).
  const reads = hits + (after.misses - before.misses);
  return { hits, reads };
}

it(
  'keeps hitting on the healthy masters while one is killed, answers every call right, and hits again on its slots after failover',
  async () => {
    const origin = async (id: number): Promise<{ id: number; v: string }> => {
      await new Promise((resolve) => setImmediate(resolve));
      return valueFor(id);
    };
    const groups: Group[] = cluster.masters().map((master, g) => {
      const fn = cached(origin, { cache, name: `group${g}`, ttl: '10m' });
      const ids: number[] = [];
      for (let id = 0; ids.length < KEYS_PER_MASTER; id++) if (servedBy(master, fn.keyFor(id))) ids.push(id);
      return { master, fn, ids };
    });
    // Keys spread over the slots: each group's keys span its master's whole range.
    for (const group of groups) expect(new Set(group.ids.map((id) => keySlot(group.fn.keyFor(id)))).size).toBeGreaterThan(KEYS_PER_MASTER / 2);
    for (const group of groups) await Promise.all(group.ids.map((id) => group.fn(id)));
    // many() over one key of each master: the dead master's item must not cost the other two their hits.
    const mixed = cached(origin, { cache, name: 'mixed', ttl: '10m' });
    const mixedIds = groups.map((group) => {
      const ids: number[] = [];
      for (let id = 0; ids.length < KEYS_PER_MASTER / 3; id++) if (servedBy(group.master, mixed.keyFor(id))) ids.push(id);
      return ids;
    });
    await Promise.all(mixedIds.flat().map((id) => mixed(id)));

    let running = true;
    let inFlight = 0;
    let settled = 0;
    const bad: Array<{ group: number; id: number; outcome: string }> = [];
    let idle: (() => void) | undefined;
    let seq = 0;
    const launch = (): void => {
      if (seq % 8 === 7) {
        const ids = mixedIds.map((ids) => ids[Math.floor(seq / 8) % ids.length]!);
        seq++;
        inFlight++;
        mixed.many(ids.map((id) => [id] as [number])).then(
          (values) => finish(-1, ids[0]!, JSON.stringify(values) === JSON.stringify(ids.map(valueFor)) ? undefined : 'wrong'),
          () => finish(-1, ids[0]!, 'rejected'),
        );
        return;
      }
      const g = seq % groups.length;
      const group = groups[g]!;
      const id = group.ids[Math.floor(seq / groups.length) % group.ids.length]!;
      seq++;
      inFlight++;
      group.fn(id).then(
        (value) => finish(g, id, JSON.stringify(value) === JSON.stringify(valueFor(id)) ? undefined : 'wrong'),
        () => finish(g, id, 'rejected'),
      );
    };
    const finish = (group: number, id: number, outcome: string | undefined): void => {
      inFlight--;
      settled++;
      if (outcome !== undefined) bad.push({ group, id, outcome });
      if (running) launch();
      else if (inFlight === 0) idle?.();
    };
    const snapshot = (): CacheStats[] => [...groups.map((group) => ({ ...group.fn.stats })), { ...mixed.stats }];
    for (let i = 0; i < IN_FLIGHT; i++) launch();
    await waitFor('calls before the fault', async () => settled >= 2_000, LIMIT_MS);

    const [dead, ...healthy] = groups as [Group, ...Group[]];
    const beforeFault = snapshot();
    await cluster.sigkill(dead.master);
    await cluster.waitForFailover(dead.master);
    const duringFault = snapshot();
    const duringHealth = cache.health();
    // The outage has lasted: the killed master's keys failed open meanwhile.
    const deadDelta = delta(duringFault[0]!, beforeFault[0]!);
    expect(deadDelta.reads).toBeGreaterThan(100);

    // After failover the promoted replica serves those slots: its keys hit again.
    const afterFailover = snapshot();
    await waitFor('hits on the dead master\'s slots', async () => dead.fn.stats.hits - afterFailover[0]!.hits >= 200, LIMIT_MS);
    running = false;
    if (inFlight > 0) await new Promise<void>((resolve) => (idle = resolve));

    const rates = healthy.map((_, i) => delta(duringFault[i + 1]!, beforeFault[i + 1]!));
    const mixedRate = delta(duringFault[groups.length]!, beforeFault[groups.length]!);
    figure(`cluster chaos: ${settled} calls, ${bad.length} bad; healthy masters during the outage ${rates.map((r) => `${r.hits}/${r.reads}`).join(', ')}; dead master ${deadDelta.hits}/${deadDelta.reads}; many() items ${mixedRate.hits}/${mixedRate.reads}`);
    expect(bad).toEqual([]);
    // health(): the dead master's breaker opened, and once its slots have a new master, all is well again.
    expect(duringHealth.opens).toBeGreaterThanOrEqual(1);
    expect(cache.health()).toMatchObject({ store: 'redis', state: 'closed', connection: 'ready', ok: true });
    for (const { hits, reads } of rates) {
      expect(reads).toBeGreaterThan(500);
      expect(hits / reads).toBeGreaterThanOrEqual(0.9);
    }
    // many() items: the two healthy masters' thirds keep hitting (at least 90 % of 2/3).
    expect(mixedRate.reads).toBeGreaterThan(300);
    expect(mixedRate.hits / mixedRate.reads).toBeGreaterThanOrEqual(0.9 * (2 / 3));
    // The killed master's reads failed open during the outage; its failures were reported.
    expect(deadDelta.hits / deadDelta.reads).toBeLessThan(0.9);
    expect(failures.length).toBeGreaterThan(0);
    // …at once: none waited for the dead node (node-redis' offline queue) until the operation timeout.
    expect(failures.filter((fields) => (fields as { err?: unknown }).err instanceof CacheTimeoutError)).toEqual([]);
  },
  LIMIT_MS * 2,
);
