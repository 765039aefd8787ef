/**
 * The cross-process lock on a real Redis Cluster (3 masters, one replica each, started once for the
 * file): 4 Node children (__tests__/helpers/lock-cluster-child.mjs) run the built package with
 * `store: { type: 'redis', cluster: { rootNodes } }` and all miss the same keys at once, some of whose
 * `<key>|lock` lives on another master than `<key>`. The children report every origin run to this
 * process, which counts them across all four. Counts and states only, never times.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import { cached, createCache } from '../../lib/index.js';
import { lockKeyOf } from '../../lib/locks.js';
import { ensureBuilt } from '../helpers/build.js';
import { Child } from '../helpers/child-process.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';

const script = join(__dirname, '..', 'helpers', 'lock-cluster-child.mjs');
const PROCESSES = 4;
const CALLS = 50;
const LIMIT_MS = 120_000;

interface Done {
  type: 'done';
  values: Record<string, number>;
  errors: string[];
  stats: Record<string, number>;
}

type Message = { type: 'ready' } | { type: 'missed' } | { type: 'computing'; id: number } | Done;

let cluster: TestCluster;
const children: Array<Child<Message>> = [];

beforeAll(async () => {
  await ensureBuilt();
  cluster = await startCluster();
}, LIMIT_MS);
afterAll(async () => {
  await keys.close();
  await cluster?.stop();
});
afterEach(async () => {
  await Promise.all(children.splice(0).map((child) => child.kill()));
});

/** The data key of `getReport(id)` in the children's namespace, built by the same library. */
const keys = createCache({ store: { type: 'memory' }, namespace: 'mpc' });
const keyOf = (id: number): string => cached(async (n: number) => n, { cache: keys, name: 'getReport' }).keyFor(id);

describe('the miss lock across real processes on a Redis Cluster', () => {
  it(`runs the origin exactly once per key for ${PROCESSES} processes × ${CALLS} concurrent calls per key, lock keys on other masters`, async () => {
    // Three keys whose lock key is served by another master than the key, and one on the same master.
    const split: number[] = [];
    const same: number[] = [];
    for (let id = 1; split.length < 3 || same.length < 1; id++) {
      const key = keyOf(id);
      const onOther = (await cluster.masterOf(key)).port !== (await cluster.masterOf(lockKeyOf(key))).port;
      if (onOther && split.length < 3) split.push(id);
      if (!onOther && same.length < 1) same.push(id);
    }
    const ids = [...split, ...same];

    const runs = new Map<number, number>();
    let missed = 0;
    const group: Array<Child<Message>> = [];
    const onMessage = (message: Message): void => {
      if (message.type === 'computing') runs.set(message.id, (runs.get(message.id) ?? 0) + 1);
      // The origins answer only once all four processes have seen every one of their calls miss,
      // so that all of them really compete for each lock.
      if (message.type === 'missed' && ++missed === PROCESSES) for (const child of group) child.send('release');
    };
    const env = { LOCK_ROOT_NODES: JSON.stringify(cluster.rootNodes), LOCK_IDS: JSON.stringify(ids), LOCK_CALLS: String(CALLS) };
    for (let i = 0; i < PROCESSES; i++) group.push(new Child<Message>(script, env, onMessage));
    children.push(...group);
    await Promise.all(group.map((child) => child.next('ready')));
    for (const child of group) child.send('go');
    const done = await Promise.all(group.map((child) => child.next('done')));

    expect(missed).toBe(PROCESSES);
    expect(Object.fromEntries(runs)).toEqual(Object.fromEntries(ids.map((id) => [id, 1]))); // once per key, across all processes
    const values = new Map<string, number>();
    for (const d of done) {
      expect(d.errors).toEqual([]);
      for (const [value, count] of Object.entries(d.values)) values.set(value, (values.get(value) ?? 0) + count);
    }
    // Every call, in every process, got the one value of its key.
    expect([...values.values()]).toEqual(ids.map(() => PROCESSES * CALLS));
    expect([...values.keys()].map((v) => (JSON.parse(v) as { id: number }).id).sort()).toEqual([...ids].sort());

    for (const id of ids) {
      const key = keyOf(id);
      const value = [...values.keys()].find((v) => (JSON.parse(v) as { id: number }).id === id)!;
      expect(await (await cluster.masterOf(key)).inspect.get(key)).toContain(value); // the holder's value is the entry
      expect(await (await cluster.masterOf(lockKeyOf(key))).inspect.exists(lockKeyOf(key))).toBe(0); // released
    }

    const total = (name: string): number => done.reduce((sum, d) => sum + (d.stats[name] ?? 0), 0);
    expect(total('misses')).toBe(PROCESSES * CALLS * ids.length);
    expect(total('coalesced')).toBe(PROCESSES * (CALLS - 1) * ids.length); // one lock attempt per process and key…
    expect(total('lockWaits')).toBe((PROCESSES - 1) * ids.length); // …and every process but the holder waited
    expect(total('lockTakeovers')).toBe(0);
    expect(total('lockTimeouts')).toBe(0);
    expect(total('errors')).toBe(0);
  }, LIMIT_MS);
});
