/**
 * Tags and clearing across real processes on a real Redis Cluster (3 masters, one replica each,
 * started once for the file): the shared `helpers/invalidation-suite.ts`, whose children connect with
 * `store: { type: 'redis', cluster: { rootNodes } }`. The entries, the tag records and the clear
 * generations it uses live on different masters; each is read, deleted or expired on its own master.
 */
import { expect, it } from '@jest/globals';
import { builtWith } from '../helpers/build.js';
import { startCluster } from '../helpers/cluster.js';
import { invalidationSuite } from '../helpers/invalidation-suite.js';

const cluster = builtWith(startCluster);

it('spreads the keys the suite uses over all 3 masters, a tag record apart from its entries', async () => {
  const owner = async (key: string): Promise<number> => (await cluster().masterOf(key)).port;
  const entries = await Promise.all([1, 2, 3, 5, 6].map((id) => owner(`inv:tagged:${id}`)));
  const records = await Promise.all(['inv:tag|all', 'inv|gen', 'epoch'].map(owner));
  expect(new Set([...entries, ...records]).size).toBe(3);
  expect(entries.some((port) => port !== records[0])).toBe(true);
});

invalidationSuite('a Redis Cluster', () => ({
  store: () => ({ type: 'redis', cluster: { rootNodes: cluster().rootNodes } }),
  ownerOf: async (key) => (await cluster().masterOf(key)).inspect,
  async flushAll() {
    for (const master of cluster().masters()) await master.inspect.flushAll();
  },
}));
