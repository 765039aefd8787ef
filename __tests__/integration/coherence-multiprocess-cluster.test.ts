/**
 * The in-process tier across 3 real processes on a real Redis Cluster (3 masters, one replica each,
 * started once for the file): the shared `helpers/coherence-suite.ts`, whose children connect with
 * `store: { type: 'redis', cluster: { rootNodes } }`, each with one tracking connection per master.
 * The last test kills a master with SIGKILL and starts it again as a replica afterwards.
 */
import { builtWith } from '../helpers/build.js';
import { startCluster } from '../helpers/cluster.js';
import { coherenceSuite } from '../helpers/coherence-suite.js';

const cluster = builtWith(startCluster);

coherenceSuite('a Redis Cluster', () => ({
  store: () => ({ type: 'redis', cluster: { rootNodes: cluster().rootNodes } }),
  masters: () => cluster().masters().map((master) => master.inspect),
  ownerOf: async (key) => (await cluster().masterOf(key)).inspect,
  async flushAll() {
    for (const master of cluster().masters()) await master.inspect.flushAll();
  },
  async killOwnerOf(key) {
    const dead = await cluster().masterOf(key);
    await cluster().sigkill(dead);
    await cluster().waitForFailover(dead);
    return () => cluster().start(dead);
  },
}));
